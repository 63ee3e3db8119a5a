"""Turn any text into the printable ASCII the FaxOut protocol demands."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from anyascii import anyascii

_SPACES = re.compile(r"[ \t]+")


def to_ascii(text: str, *, keep_newlines: bool = False) -> str:
    """Transliterate ``text`` to printable ASCII and drop control characters.

    ``José Müller`` becomes ``Jose Muller``; CJK and Cyrillic become their usual Latin
    spellings. Runs of blanks fold into one space. With ``keep_newlines`` line breaks
    survive (as ``\\r\\n``, the form HTTP bodies use); otherwise they become spaces.
    """
    text = unicodedata.normalize("NFC", text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cleaned = [_clean_line(line) for line in lines]
    if keep_newlines:
        return "\r\n".join(cleaned).strip("\r\n ")
    return " ".join(part for part in cleaned if part)


def _clean_line(line: str) -> str:
    ascii_text = anyascii(line)
    printable = "".join(ch if 32 <= ord(ch) < 127 else " " for ch in ascii_text)
    return _SPACES.sub(" ", printable).strip()


def printable(text: str, *, limit: int = 80) -> str:
    """Make ``text`` fit in one message line: escape what does not print, cut what is long.

    ``to_ascii`` is for the wire; this is for people: ``März.pdf`` stays ``März.pdf``,
    while a newline or an escape sequence in a file name shows as ``\\n`` or ``\\x1b`` and
    cannot forge a second status line or repaint a terminal.
    """
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text[:limit])
    return shown + "..." if len(text) > limit else shown


def some(items: Sequence[str], shown: int) -> str:
    """List the first ``shown`` items, and how many more there are: "a, b and 4 more"."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more
