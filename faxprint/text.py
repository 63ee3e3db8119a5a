"""Text as people gave it, made safe to carry: one clean form for tickets (``clean``),
printable ASCII for the FaxOut protocol's wire (``to_ascii``), and one line for messages
(``printable``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from anyascii import anyascii

_SPACES = re.compile(r" +")


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """Keep ``text`` as written but make it safe to carry anywhere: NFC, no control or
    format characters but the joiners (a right-to-left override could disguise a name,
    a zero width space hide a difference), runs of blanks
    folded into one space. With ``keep_newlines`` lines survive, joined by ``\\n``;
    otherwise they become spaces.

    ``José Müller`` stays ``José Müller``: a service that takes UTF-8 (RingCentral's REST
    API) gets it as written; :func:`to_ascii` folds it for one that does not.
    """
    lines = unicodedata.normalize("NFC", text).splitlines()
    return _join([_fold("".join(map(_visible, line))) for line in lines], "\n", keep_newlines)


def to_ascii(text: str, *, keep_newlines: bool = False) -> str:
    """Transliterate ``text`` to printable ASCII, as :func:`clean` keeps it otherwise.

    ``José Müller`` becomes ``Jose Muller``; CJK and Cyrillic become their usual Latin
    spellings. With ``keep_newlines`` line breaks survive as ``\\r\\n``, the form HTTP
    bodies use; otherwise they become spaces.
    """
    lines = clean(text, keep_newlines=True).split("\n")
    ascii_lines = [
        "".join(ch if " " <= ch <= "~" else " " for ch in anyascii(line)) for line in lines
    ]
    return _join([_fold(line) for line in ascii_lines], "\r\n", keep_newlines)


def _visible(ch: str) -> str:
    """Return ``ch``; a space for any blank; nothing for a control or format character
    but the joiners that Persian, Indic scripts and emoji need to be spelled right."""
    if ch.isspace():
        return " "
    return "" if unicodedata.category(ch)[0] == "C" and ch not in _JOINERS else ch


_JOINERS = "\u200c\u200d"  # zero width non-joiner, zero width joiner


def _fold(line: str) -> str:
    return _SPACES.sub(" ", line).strip()


def _join(lines: list[str], newline: str, keep_newlines: bool) -> str:
    if keep_newlines:
        return newline.join(lines).strip("\r\n ")
    return " ".join(line for line in lines if line)


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
