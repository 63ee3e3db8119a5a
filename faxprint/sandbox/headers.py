"""Header-value grammar the sandbox accepts: media types and Content-Disposition.

Parameters follow RFC 2045/2183 as RFC 7578 uses them: ``; name=value`` where the value
is a token or a quoted-string, and a quoted-string may hold quoted-pairs (``\\"``,
``\\\\``). Names are case-insensitive; a parameter given twice is an error. Optional
whitespace (SP, HTAB) is allowed around ``;`` and ``=``. Error messages give a column,
never the text itself, because a misframed part can put a secret where a header belongs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_TSPECIALS = frozenset('()<>@,;:\\"/[]?=')
_OWS = " \t"
# RFC 2046 section 5.1.1: bcharsnospace, plus space anywhere but last.
_BCHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")


class HeaderError(ValueError):
    """A header value that does not follow the grammar."""


@dataclass(frozen=True)
class HeaderValue:
    """A header's main value (lower-cased) and its parameters (names lower-cased)."""

    value: str
    params: Mapping[str, str]


def is_token(text: str) -> bool:
    """Tell whether text is a non-empty RFC 2045 token."""
    return bool(text) and all(_is_token_char(c) for c in text)


def parse_media_type(text: str) -> HeaderValue:
    """Parse ``type/subtype *(; param=value)``."""
    scanner = _Scanner(text)
    scanner.skip_ows()
    kind = scanner.token("media type")
    scanner.expect("/")
    subtype = scanner.token("media subtype")
    params = _parameters(scanner)
    return HeaderValue(f"{kind}/{subtype}".lower(), params)


def parse_disposition(text: str) -> HeaderValue:
    """Parse ``disposition-type *(; param=value)``."""
    scanner = _Scanner(text)
    scanner.skip_ows()
    kind = scanner.token("disposition type")
    params = _parameters(scanner)
    return HeaderValue(kind.lower(), params)


def check_boundary(boundary: str) -> None:
    """Raise HeaderError unless boundary is 1-70 RFC 2046 bchars, not ending in space."""
    if not 1 <= len(boundary) <= 70:
        raise HeaderError(f"boundary is {len(boundary)} characters; RFC 2046 allows 1 to 70")
    if any(c not in _BCHARS for c in boundary) or boundary.endswith(" "):
        raise HeaderError("boundary holds characters RFC 2046 does not allow")


def _is_token_char(char: str) -> bool:
    return 32 < ord(char) < 127 and char not in _TSPECIALS


def _parameters(scanner: _Scanner) -> dict[str, str]:
    params: dict[str, str] = {}
    while True:
        scanner.skip_ows()
        if scanner.at_end():
            return params
        scanner.expect(";")
        scanner.skip_ows()
        name = scanner.token("parameter name").lower()
        scanner.skip_ows()
        scanner.expect("=")
        scanner.skip_ows()
        if scanner.peek() == '"':
            value = scanner.quoted_string()
        else:
            value = scanner.token(f"value of parameter {name}")
        if name in params:
            raise HeaderError(f"parameter {name} given twice")
        params[name] = value


class _Scanner:
    """Walk a header value left to right."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0

    def at_end(self) -> bool:
        return self._pos >= len(self._text)

    def peek(self) -> str:
        return self._text[self._pos] if not self.at_end() else ""

    def skip_ows(self) -> None:
        while self.peek() and self.peek() in _OWS:
            self._pos += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise HeaderError(f"expected {char!r} at column {self._pos + 1}")
        self._pos += 1

    def token(self, what: str) -> str:
        start = self._pos
        while self.peek() and _is_token_char(self.peek()):
            self._pos += 1
        if self._pos == start:
            raise HeaderError(f"expected {what} at column {start + 1}")
        return self._text[start : self._pos]

    def quoted_string(self) -> str:
        start = self._pos
        self.expect('"')
        chars: list[str] = []
        while not self.at_end():
            char = self._text[self._pos]
            self._pos += 1
            if char == '"':
                return "".join(chars)
            if char == "\\":
                if self.at_end():
                    break
                char = self._text[self._pos]
                self._pos += 1
            chars.append(char)
        raise HeaderError(f"quoted string opened at column {start + 1} is not closed")
