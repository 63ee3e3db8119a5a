"""Secrets kept out of every text that comes back from a service.

Proxies, firewalls, captive portals and broken services answer with error pages that
quote what they were sent: the posted form, the headers. faxprint shows a service's text
to people (a job's status, which every local user can read with ``lpstat``), logs it and
keeps it in the journal, so every such text passes through a :class:`Redactor` first: the
account's secrets (password, client secret, JWT, tokens), in every form a page may quote
them (as sent, URL-encoded, HTML- or JSON-escaped, base64, the Basic header), are
replaced by ``[hidden]``; so is what is left of one at a cut. A secret in a form the text
cannot be mapped back from (encoded twice, split by markup or a line break, base64
within a longer base64 text) hides the whole text. :func:`service_text` also strips
markup and cuts a text to one short line.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus, unquote_plus
from urllib.parse import unquote as unquote_plain

HIDDEN = "[hidden]"
#: What a text becomes when a secret survives in it in a form that cannot be cut out.
QUOTED = "[a text that quotes a secret, hidden whole]"
MIN_SECRET = 4  # shorter values are no secret worth the name, and would hide every word
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.I | re.S)
_BLANKS = re.compile(r"\s+")
_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|/)")
_TAGS_AND_BLANKS = re.compile(r"<[^>]*>|\s+")


class Redactor:
    """Hide a set of secrets, which may grow (a new access token), in any text."""

    def __init__(self, secrets: Iterable[str] = (), *, users: Iterable[str] = ()) -> None:
        self._users = tuple(u for u in users if u)
        self._forms: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Hide ``secret`` too, in each form a service's page may quote it."""
        if len(secret) < MIN_SECRET:
            return
        with self._lock:
            before = len(self._forms)
            self._forms |= _forms(secret, self._users)
            if len(self._forms) != before:
                self._pattern = None

    def __call__(self, text: str) -> str:
        """Return ``text`` with every secret, and a secret's start at its end, hidden."""
        pattern = self._compiled()
        if pattern is None:
            return text
        shown = self._cut_end(pattern.sub(HIDDEN, text))
        if any(map(pattern.search, _decoded(shown))):  # a form not mapped back: hide it all
            return QUOTED
        return shown

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._forms:
                ordered = sorted(self._forms, key=len, reverse=True)  # longest wins
                self._pattern = re.compile("|".join(map(re.escape, ordered)), re.I)
            return self._pattern

    def _cut_end(self, text: str) -> str:
        """Hide the start of a secret left at the end of a text cut short."""
        lowered = text.lower()
        longest = 0
        with self._lock:
            forms = [f.lower() for f in self._forms]
        for form in forms:
            for size in range(
                min(len(form) - 1, len(lowered)), max(MIN_SECRET, longest + 1) - 1, -1
            ):
                if lowered.endswith(form[:size]):
                    longest = size
                    break
        return text[: len(text) - longest] + HIDDEN if longest else text


def _forms(secret: str, users: Iterable[str]) -> set[str]:
    raw = secret.encode()
    forms = {
        secret,
        secret.upper(),  # a page that shouts (and "ß" as "SS")
        secret.lower(),
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        html.escape(secret),
        html.escape(secret, quote=False),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    for value in (raw, *(f"{user}:{secret}".encode() for user in users)):
        forms |= set(_base64_forms(value))
    return {form for form in forms if len(form) >= MIN_SECRET}


def _base64_forms(value: bytes) -> Iterator[str]:
    """The base64 of ``value`` wherever it starts in a longer text (at each of the three
    offsets): the characters that ``value``'s bytes alone decide."""
    for offset in range(3):
        known = offset + len(value)
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + value + b"\0\0").decode()
            yield encoded[(offset * 4 + 2) // 3 : known * 4 // 3]
        if offset == 0:
            yield base64.b64encode(value).decode()  # as a whole, padding and all


def _decoded(text: str) -> Iterator[str]:
    """``text`` with what may hide a secret undone: URL encoding (twice, too; "+" read as
    a space, and as itself), HTML entities, JSON escapes, markup and line breaks."""
    for unquote in (unquote_plain, unquote_plus):
        variant = text
        for _ in range(3):
            variant = unquote(html.unescape(_JSON_ESCAPE.sub(_unescape, variant)))
        yield _TAGS_AND_BLANKS.sub("", variant)


def _unescape(match: re.Match[str]) -> str:
    code = match[1]
    return "/" if code == "/" else chr(int(code[1:], 16))


def service_text(body: bytes | str, redact: Redactor, limit: int = 120) -> str:
    """Make a service's answer fit to show: secrets hidden, markup stripped, one line of
    at most ``limit`` characters, nothing that could forge a status line."""
    text = body if isinstance(body, str) else body[: limit * 32].decode("utf-8", "replace")
    text = redact(text)  # before the markup goes: a tag may split a secret's forms
    text = html.unescape(_TAG.sub(" ", text))
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = redact(_BLANKS.sub(" ", text).strip())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for size in range(len(HIDDEN) - 1, 0, -1):  # a marker cut in two is shown whole
        if cut.endswith(HIDDEN[:size]):
            return cut[:-size] + HIDDEN
    return redact(cut.rstrip())
