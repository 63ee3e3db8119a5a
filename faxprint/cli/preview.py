"""``faxprint preview``: a contact sheet of the pages that would be faxed, as a PNG
(:mod:`faxprint.sheets` draws it)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_USAGE, say
from faxprint.errors import DocumentError
from faxprint.text import printable

DPI = {"low": 98, "high": 196}  # faxprint.sheets.DPI, kept here so --help stays light


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="FILE|JOB",
        help="PDFs, or a hot-folder job whose documents are kept (done/, failed/, held/)",
    )  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, default=Path("preview.png"),
                        help="the PNG to write (default: preview.png)")  # fmt: skip
    parser.add_argument(
        "--resolution", choices=sorted(DPI), default="low", type=str.lower,
        help="the fax resolution to show: low (98 dpi) or high (196 dpi)",
    )  # fmt: skip
    parser.add_argument("--columns", type=int, default=4, help="pages per row (default 4)")
    parser.add_argument("--folder", type=Path, help="the hot folder, for a JOB")
    parser.add_argument("--cover", metavar="NAME",
                        help="show faxprint's own cover NAME first, as it is sent")  # fmt: skip
    parser.add_argument("--to", action="append", default=[], metavar="NUMBER|NAME",
                        help="the recipient the cover names (with --cover)")  # fmt: skip
    parser.add_argument("--cover-text", default="", metavar="TEXT", help="the cover's text")


def run(args: argparse.Namespace, config: ConfigSource) -> int:
    """Render the preview; print where it is and how many pages it shows."""
    from faxprint.sheets import contact_sheet

    if args.columns < 1:
        return say("--columns must be at least 1", EX_USAGE)
    found = [_documents(name, args, config) for name in args.files]
    paths = [path for paths, _ in found for path in paths]
    with tempfile.TemporaryDirectory(prefix="faxprint-preview-") as work:
        if args.cover:
            paths.insert(0, _cover(args, config, paths, Path(work)))
        sheet = contact_sheet(
            paths, args.output, resolution=args.resolution, columns=args.columns,
            private=any(kept for _, kept in found),  # someone's fax: the sheet is this user's
        )  # fmt: skip
    print(
        f"faxprint: {sheet.path}: {sheet.pages} page{'s' * (sheet.pages != 1)} at "
        f"{DPI[args.resolution]} dpi ({args.resolution}), {sheet.columns} x {sheet.rows}, "
        f"{sheet.width} x {sheet.height} pixels"
    )
    return 0


def _cover(args: argparse.Namespace, config: ConfigSource, paths: list[Path],
           work: Path) -> Path:  # fmt: skip
    """The own cover ``--cover`` names, drawn for the first ``--to`` as it is sent."""
    from faxprint import documents
    from faxprint.covering import Covers
    from faxprint.errors import TicketError
    from faxprint.ticket import Ticket

    if not args.to:
        raise TicketError("--cover needs --to NUMBER|NAME: the recipient the cover names")
    settings = config.load()
    ticket = Ticket.build(args.to[:1], cover=args.cover, cover_text=args.cover_text)
    inspected = [documents.inspect(path) for path in paths]
    rendered = Covers(settings.covers).drawn(ticket, inspected, paths[0].stem if paths else "")
    if rendered is None:
        raise TicketError(f"{printable(args.cover)} is not one of faxprint's covers (the "
                          "service draws its own; `faxprint covers` lists ours)")  # fmt: skip
    for note in rendered.notes():
        print(f"faxprint: {note}")
    (work / "cover.pdf").write_bytes(rendered.data)
    return work / "cover.pdf"


def _documents(
    name: str, args: argparse.Namespace, config: ConfigSource
) -> tuple[list[Path], bool]:
    """The file ``name``, or the kept documents of the hot-folder job ``name`` (True)."""
    path = Path(name)
    if path.exists():
        return [path], False
    from faxprint.hotfolder.held import kept_documents
    from faxprint.hotfolder.settings import from_table
    from faxprint.journal import open_journal

    settings = config.load()
    if not settings.has_journal:
        raise DocumentError(f"{printable(name)}: no such file (and no journal to find a job in)")
    with open_journal(settings) as journal:
        found = [job for job in journal.find(name) if job.source == "hotfolder"]
    folder = args.folder or from_table(settings.hotfolder).path
    if len(found) != 1 or folder is None:
        raise DocumentError(
            f"{printable(name)}: no such file, nor one hot-folder job (whose documents are "
            "kept) in the journal" + ("" if folder else "; give --folder")
        )
    return kept_documents(Path(folder), found[0].title, found[0].documents), True


COMMANDS = (
    Command(
        "preview", run, _arguments,
        help="a PNG contact sheet of the pages a fax would send",
        description="Lay the pages of PDFs (or of a hot-folder job whose documents are "
        "kept) out on one PNG, rendered in black and white at the fax's resolution (98 dpi "
        "low, 196 dpi high): what is hard to read here is hard to read on the recipient's "
        "fax. Only PDFs can be previewed: the service renders other formats itself.",
    ),
)  # fmt: skip
