"""Work for the service, written down: what a queued item asks for, and its documents in
their own folder beside the journal (``queue/``), both kept until it is settled.

Everything an item needs is in the journal and its folder, so a service killed at any
moment, or not running at all, loses nothing: the next one to run takes the item up.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from faxprint.cups.names import document_sources
from faxprint.cups.options import option_values
from faxprint.documents import DocumentSource
from faxprint.journal import WorkItem
from faxprint.link import handoff
from faxprint.link.handoff import print_spec
from faxprint.outcome import Kind, Source
from faxprint.ticket import Ticket


def queue_folder(journal: Path) -> Path:
    """Where queued items keep their documents (as private as the journal's folder)."""
    return journal.parent / "queue"


def new_folder(journal: Path) -> Path:
    """A fresh, private folder for one item's documents, the journal folder's owner's
    (root's commands leave nothing the service, running as lp, cannot read)."""
    root = queue_folder(journal)
    root.mkdir(mode=0o700, exist_ok=True)
    folder = root / secrets.token_hex(8)
    folder.mkdir(mode=0o700)
    for made in (root, folder):
        _give_to_owner(made, journal.parent)
    return folder


def _give_to_owner(path: Path, folder: Path) -> None:
    if os.geteuid() == 0:
        owner = folder.stat()
        os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)


def remove_folder(folder: str) -> None:
    """Remove a settled item's documents (only what lies in a queue folder)."""
    path = Path(folder)
    if folder and path.parent.name == "queue":
        shutil.rmtree(path, ignore_errors=True)


#: A settled item's folder is renamed so before its row goes: a kill between the two
#: leaves a folder known to be garbage (:func:`sweep`), never one nothing names.
GONE = ".gone-"


def retire_folder(folder: str) -> str:
    """Rename a settled item's documents' folder out of use; return its new path ("" when
    there is none in a queue folder)."""
    path = Path(folder)
    if not folder or path.parent.name != "queue":
        return ""
    gone = path.with_name(GONE + path.name)
    try:
        path.rename(gone)
    except FileNotFoundError:
        return ""
    return str(gone)


def sweep(journal: Path) -> int:
    """Remove the folders of settled items a killed service left behind; how many."""
    root = queue_folder(journal)
    found = list(root.glob(GONE + "*")) if root.is_dir() else []
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return len(found)


def lane(source: Source) -> str:
    """Whose turn an item waits for: one lane per user of each way in."""
    return handoff.lane(str(source.kind), source.user)


@dataclass(frozen=True)
class FaxSpec:
    """A fax ready to send: its ticket, documents (in the item's folder) and source."""

    ticket: Ticket
    documents: tuple[DocumentSource, ...]
    source: Source
    release: bool = False  # a person released it (a printer job released from hold)

    def item(self, key: str, account: str, folder: Path) -> WorkItem:
        data = {
            "ticket": _ticket_data(self.ticket),
            "documents": [[d.path.name, d.name or d.path.name] for d in self.documents],
            "source": [str(self.source.kind), self.source.user, self.source.title],
            "release": self.release,
        }
        return WorkItem(key, "fax", account, lane(self.source), json.dumps(data), str(folder))

    @classmethod
    def of(cls, item: WorkItem) -> FaxSpec:
        data = json.loads(item.spec)
        folder = Path(item.folder)
        kind, user, title = data["source"]
        return cls(
            _ticket(data["ticket"]),
            tuple(DocumentSource(folder / name, shown) for name, shown in data["documents"]),
            Source(Kind(kind), user=user, title=title),
            bool(data.get("release")),
        )


@dataclass(frozen=True)
class PrintSpec:
    """A printer job handed over by the backend (:mod:`faxprint.link.handoff` writes
    it), to plan into faxes."""

    options: str
    job_id: str
    printer: str
    user: str
    title: str
    documents: tuple[str, ...]  # the spooled files in the item's folder, in order
    content_type: str = ""

    def item(self, key: str, account: str, folder: Path) -> WorkItem:
        spec = print_spec(options=self.options, job_id=self.job_id, printer=self.printer,
                          user=self.user, title=self.title, documents=list(self.documents),
                          content_type=self.content_type)  # fmt: skip
        return WorkItem(key, "print", account, lane(Source(Kind.CUPS, user=self.user)), spec,
                        str(folder))  # fmt: skip

    @classmethod
    def of(cls, item: WorkItem) -> PrintSpec:
        data = json.loads(item.spec)
        return cls(str(data["options"]), str(data["job_id"]), str(data["printer"]),
                   str(data["user"]), str(data["title"]),
                   tuple(str(name) for name in data["documents"]),
                   str(data.get("content_type", "")))  # fmt: skip

    def sources(self, folder: Path) -> list[DocumentSource]:
        """The documents, named as the printer names them."""
        supplied = option_values(self.options, "document-name-supplied")
        return document_sources([folder / name for name in self.documents], self.title, supplied)


def _ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {
        "to": [recipient.text() for recipient in ticket.recipients],
        "cover": ticket.cover,
        "cover_text": ticket.cover_text,
        "resolution": ticket.resolution.value if ticket.resolution else None,
        "send_at": ticket.send_at.isoformat() if ticket.send_at else None,
    }


def _ticket(data: dict[str, Any]) -> Ticket:
    send_at = data.get("send_at")
    return Ticket.build(
        data["to"], cover=data.get("cover"), cover_text=data.get("cover_text"),
        resolution=data.get("resolution"),
        send_at=datetime.fromisoformat(send_at) if send_at else None,
    )  # fmt: skip


def copy_documents(sources: Sequence[DocumentSource], folder: Path) -> tuple[DocumentSource, ...]:
    """Copy documents into an item's folder: the item keeps them whatever happens to the
    originals, readable by the service."""
    copied = []
    for number, source in enumerate(sources, 1):
        target = folder / f"document-{number}{source.path.suffix}"
        shutil.copyfile(source.path, target)
        os.chmod(target, 0o600)
        _give_to_owner(target, folder)
        copied.append(DocumentSource(target, source.name or source.path.name))
    return tuple(copied)
