"""``faxprint preview``: a contact sheet of the pages that would be faxed, as a PNG
(:mod:`faxprint.sheets` draws it)."""

from __future__ import annotations

import argparse
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


def run(args: argparse.Namespace, config: ConfigSource) -> int:
    """Render the preview; print where it is and how many pages it shows."""
    from faxprint.sheets import contact_sheet

    if args.columns < 1:
        return say("--columns must be at least 1", EX_USAGE)
    found = [_documents(name, args, config) for name in args.files]
    sheet = contact_sheet(
        [path for paths, _ in found for path in paths], args.output,
        resolution=args.resolution, columns=args.columns,
        private=any(kept for _, kept in found),  # someone's fax: the sheet is for this user
    )  # fmt: skip
    print(
        f"faxprint: {sheet.path}: {sheet.pages} page{'s' * (sheet.pages != 1)} at "
        f"{DPI[args.resolution]} dpi ({args.resolution}), {sheet.columns} x {sheet.rows}, "
        f"{sheet.width} x {sheet.height} pixels"
    )
    return 0


def _documents(
    name: str, args: argparse.Namespace, config: ConfigSource
) -> tuple[list[Path], bool]:
    """The file ``name``, or the kept documents of the hot-folder job ``name`` (True)."""
    path = Path(name)
    if path.exists():
        return [path], False
    from faxprint.hotfolder.held import kept_documents
    from faxprint.hotfolder.settings import from_table
    from faxprint.journal import Journal

    settings = config.load()
    if not Path(settings.journal).exists():
        raise DocumentError(f"{printable(name)}: no such file (and no journal to find a job in)")
    with Journal(settings.journal) as journal:
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
