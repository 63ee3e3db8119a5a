"""Ticket files: ``NAME.fax.json`` beside the documents it sends.

::

    {"to": ["5556465589|John Doe", "5555568552"], "cover": "Default",
     "cover_text": "Invoice 42", "resolution": "high",
     "send_at": "2026-12-01T09:00:00+01:00", "documents": ["invoice42.pdf", "terms.docx"],
     "account": "default"}

Only ``to`` is required. ``documents`` defaults to the files in the ticket's folder whose
names start with ``NAME.``. A document name is one plain file name in the same folder:
no ``/``, no ``..``, no hidden files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from faxprint.errors import TicketError
from faxprint.text import printable, some

SUFFIX = ".fax.json"
MAX_TICKET_BYTES = 1024 * 1024
MAX_DOCUMENTS = 100
MAX_NAME_BYTES = 255  # NAME_MAX: no longer name can be a file in the folder
_KEYS = {"to", "cover", "cover_text", "resolution", "send_at", "documents", "account"}
_TEXT_KEYS = ("cover", "cover_text", "resolution", "send_at", "account")


@dataclass(frozen=True)
class TicketFile:
    """A parsed ticket file: what to send, and which documents (None: by name prefix)."""

    to: tuple[str, ...]
    cover: str | None = None
    cover_text: str | None = None
    resolution: str | None = None
    send_at: str | None = None
    account: str | None = None
    documents: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the ticket as the JSON object it was read from (documents resolved)."""
        data = {
            k: getattr(self, k) for k in ("cover", "cover_text", "resolution", "send_at", "account")
        }
        data = {k: v for k, v in data.items() if v is not None}
        data["to"] = list(self.to)
        if self.documents is not None:
            data["documents"] = list(self.documents)
        return data


def stem_of(name: str) -> str:
    """Return NAME for ``NAME.fax.json``."""
    return name[: -len(SUFFIX)]


def parse(data: bytes) -> TicketFile:
    """Read a ticket file's bytes; raise TicketError saying what is wrong."""
    if len(data) > MAX_TICKET_BYTES:
        raise TicketError(f"the ticket is larger than {MAX_TICKET_BYTES // 1024} KiB")
    try:
        # utf-8-sig: Windows editors start UTF-8 files with a byte order mark.
        raw = json.loads(data.decode("utf-8-sig"), object_pairs_hook=_once_each)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TicketError(f"the ticket is not valid JSON: {exc}") from None
    except ValueError:  # Python refuses integers of more than 4300 digits
        raise TicketError("the ticket is not valid JSON: a number in it is too long") from None
    except RecursionError:
        raise TicketError("the ticket is not valid JSON: it is nested too deeply") from None
    if not isinstance(raw, dict):
        raise TicketError('the ticket must be a JSON object like {"to": ["5556465589"]}')
    return from_mapping(raw)


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a key given twice: which of the two was meant (two
    "to" lists, say) only its writer knows, and JSON would silently keep the last."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise TicketError(f"the ticket gives {printable(key, limit=40)!r} twice; give it once")
        found[key] = value
    return found


def from_mapping(raw: Mapping[str, Any]) -> TicketFile:
    """Validate a ticket's JSON object."""
    unknown = sorted(printable(str(key), limit=40) for key in set(raw) - _KEYS)
    if unknown:
        raise TicketError(
            f"the ticket has unknown keys: {some(unknown, 5)} (known: {', '.join(sorted(_KEYS))})"
        )
    to = raw.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to or not all(isinstance(t, str) for t in to):
        raise TicketError(
            'the ticket needs "to": a list of fax numbers, each "NUMBER" or "NUMBER|NAME"'
        )
    for key in _TEXT_KEYS:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise TicketError(f'ticket key "{key}" must be a string')
    return TicketFile(
        to=tuple(to),
        documents=_documents(raw.get("documents")),
        **{key: raw.get(key) for key in _TEXT_KEYS},
    )


def _documents(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TicketError('ticket key "documents" must be a list of file names')
    if not value:
        raise TicketError('ticket key "documents" is empty; leave it out to send NAME.* files')
    if len(value) > MAX_DOCUMENTS:
        raise TicketError(f"a ticket may name at most {MAX_DOCUMENTS} documents")
    for name in value:
        check_name(name)
    return tuple(value)


RESERVED_NAMES = frozenset({"processing", "done", "failed", "held"})


def check_name(name: str) -> str:
    """Refuse document names that could reach outside the ticket's folder, or into faxprint's."""
    shown = printable(name, limit=60)
    if not name or "/" in name or "\\" in name or "\x00" in name or name.startswith("."):
        raise TicketError(
            f"document name '{shown}' must be a plain file name in the ticket's folder"
        )
    if name in RESERVED_NAMES:
        raise TicketError(f"document name '{shown}' is one of faxprint's folders")
    try:
        encoded = os.fsencode(name)
    except UnicodeError:
        raise TicketError("a document name cannot be written as a file name") from None
    if len(encoded) > MAX_NAME_BYTES:
        raise TicketError(f"document name '{shown}' is longer than a file name can be")
    if name.endswith(SUFFIX):
        raise TicketError(f"document name '{shown}' is a ticket, not a document")
    return name
