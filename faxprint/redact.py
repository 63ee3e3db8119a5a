"""Secrets kept out of every text that comes back from a service.

Proxies, firewalls, captive portals and broken services answer with error pages that
quote what they were sent: the posted form, the headers. faxprint shows a service's text
to people (a job's status, which every local user can read with ``lpstat``), logs it and
keeps it in the journal, so every such text passes through a :class:`Redactor` first: the
account's secrets (password, client secret, JWT, tokens), in every form a page may quote
them (as sent, URL-encoded, HTML- or JSON-escaped, base64, the Basic header), are
replaced by ``[hidden]``; so is what is left of one at a cut. :func:`service_text` also
strips markup and cuts a text to one short line.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

HIDDEN = "[hidden]"
MIN_SECRET = 4  # shorter values are no secret worth the name, and would hide every word
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.I | re.S)
_BLANKS = re.compile(r"\s+")


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
        text = pattern.sub(HIDDEN, text)
        return self._cut_end(text)

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
        for form in (f.lower() for f in self._forms):
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
        encoded = base64.b64encode(value).decode()
        forms |= {encoded, encoded.rstrip("="), base64.urlsafe_b64encode(value).decode()}
    return {form for form in forms if len(form) >= MIN_SECRET}


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
