"""``faxprint covers check``: what a cover template offers, and how it looks filled.

It reads a fillable PDF (:mod:`faxprint.covers`), says which of faxprint's fields it
has and which it lacks (and any other fields, which stay empty), and renders it filled
with sample values as a PNG (``--builtin``: faxprint's own cover). Configuring covers
and sending them: :mod:`faxprint.covering`.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from faxprint.cli.base import Command, ConfigSource
from faxprint.cli.exits import EX_USAGE, say


def run_check(args: argparse.Namespace, config: ConfigSource) -> int:
    from faxprint import covers
    from faxprint.sheets import contact_sheet

    words = list(args.words)
    if words[:1] in (["list"], ["check"]):
        verb = words.pop(0)
        if (verb == "list") != (not words and not args.builtin):
            return say("covers list takes nothing; covers check takes a TEMPLATE or --builtin",
                       EX_USAGE)  # fmt: skip
    if len(words) > 1:
        return say("give one TEMPLATE", EX_USAGE)
    args.template = Path(words[0]) if words else None
    if args.template is None and not args.builtin:
        return run_list(config)
    if args.template is not None and args.builtin:
        return say("give a TEMPLATE or --builtin, not both", EX_USAGE)
    if args.template is not None:
        checked = covers.check_template(args.template)
        print(f"faxprint: {args.template}: fields {', '.join(checked.fields) or 'none'}")
        print(f"faxprint: lacks {', '.join(checked.lacking) or 'nothing'}")
        if checked.others:
            print(f"faxprint: other fields, left empty: {', '.join(checked.others)}")
        rendered = covers.fill(args.template, covers.SAMPLE)
    else:
        rendered = covers.builtin(covers.SAMPLE)
    with tempfile.TemporaryDirectory(prefix="faxprint-cover-") as work:
        filled = Path(work) / "cover.pdf"
        filled.write_bytes(rendered.data)
        sheet = contact_sheet([filled], args.output, resolution="high", columns=1)
    print(f"faxprint: {sheet.path}: filled with sample values, as the fax shows it "
          f"({sheet.width} x {sheet.height} pixels)")  # fmt: skip
    return 0


def run_list(config: ConfigSource) -> int:
    """List the covers: the built-in one, and each ``[covers.NAME]`` with what its template
    offers (or why it cannot be used); 1 when one cannot."""
    from faxprint import covers
    from faxprint.errors import DocumentError

    settings = config.load()
    print("faxprint: faxprint (built-in): needs no template")
    broken = 0
    for name, cover in sorted(settings.covers.items()):
        if not cover.template:
            print(f"faxprint: {name}: the built-in design, from {cover.from_name or '(no name)'}")
            continue
        try:
            checked = covers.check_template(Path(cover.template))
        except DocumentError as error:
            broken += 1
            print(f"faxprint: {name}: cannot be used: {error.message}")
            continue
        print(f"faxprint: {name}: {cover.template}: fields {', '.join(checked.fields)}")
    return 1 if broken else 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("words", nargs="*", metavar="[list | check] TEMPLATE",
                        help="list (the default), or check a fillable PDF of one page")  # fmt: skip
    parser.add_argument("--builtin", action="store_true", help="faxprint's own cover instead")
    parser.add_argument("-o", "--output", type=Path, default=Path("cover.png"),
                        help="the PNG to write (default cover.png)")  # fmt: skip


COMMANDS = (
    Command(
        "covers", run_check, _arguments,
        help="list the covers, or check a template: its fields, and a PNG of it filled",
        description="covers [list]: list the built-in cover and each [covers.NAME] of "
        "the config, checking their templates. covers [check] TEMPLATE: read a cover template (a "
        "fillable PDF of one page, with text fields named to_name, to_company, to_fax, "
        "from_name, from_company, from_fax, from_phone, from_email, subject, comments, "
        "pages, date), say which fields it has and lacks, and render it filled with sample "
        "values (--builtin: faxprint's own cover).",
    ),
)  # fmt: skip
