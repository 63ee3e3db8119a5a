"""The sandbox's store: one folder per accepted fax, and a log line per request.

Layout::

    STORE/requests.jsonl              one JSON object per request, accepted or not
    STORE/000001/fax.json             the fields in the order received, minus the password
    STORE/000001/attachments/01-<name> each Attachment's bytes, exactly as received
    STORE/.incoming-<hex>/            a request being received (renamed or removed)

A fax folder appears by one rename, so a reader never sees half of one. One server per
store: stale ``.incoming-*`` folders are removed when a store is opened.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from faxprint.protocol import (
    COVERPAGE,
    COVERPAGETEXT,
    PASSWORD,
    RECIPIENT,
    RESOLUTION,
    SENDTIME,
    USERNAME,
)
from faxprint.sandbox.intake import Submission
from faxprint.sandbox.rules import split_recipient

logger = logging.getLogger(__name__)

_FAX_FOLDER = re.compile(r"[0-9]{6,}")
_INCOMING = ".incoming-"
REQUEST_LOG = "requests.jsonl"


@dataclass(frozen=True)
class RequestRecord:
    """What the request log says about one request; never the password."""

    seq: int | None
    time: str
    code: int | None
    decided: int | None
    status: int | None
    reason: str
    username: str | None
    recipients: tuple[str, ...]
    attachments: int
    bytes: int
    fault: str | None
    in_flight: int

    def to_json(self) -> str:
        """Render the record as one JSON line, without the newline."""
        return json.dumps(asdict(self))


@dataclass(frozen=True)
class StoredFax:
    """An accepted fax on disk: its number, folder, and parsed fax.json."""

    seq: int
    path: Path
    record: dict[str, Any]


def safe_name(filename: str | None) -> str:
    """Reduce a client's filename to a harmless basename for the attachments folder."""
    base = re.split(r"[\\/]", filename or "")[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[:100]
    return cleaned or "attachment"


class Spool:
    """A fax folder under construction, hidden until the store commits it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._open = True

    def attachment_path(self, number: int, filename: str | None) -> Path:
        """Return where attachment number (1-based) is to be written."""
        folder = self.path / "attachments"
        folder.mkdir(exist_ok=True)
        return folder / f"{number:02d}-{safe_name(filename)}"

    def discard(self) -> None:
        """Remove the folder unless it was committed."""
        if self._open:
            self._open = False
            shutil.rmtree(self.path, ignore_errors=True)

    def committed(self) -> None:
        """Note that the folder now belongs to the store."""
        self._open = False


class Store:
    """Fax folders and the request log under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for stale in root.glob(_INCOMING + "*"):
            shutil.rmtree(stale, ignore_errors=True)
        self._lock = threading.Lock()
        self._next = max((int(path.name) for path in self._folders()), default=0) + 1

    def open_spool(self) -> Spool:
        """Create a hidden folder to receive one request's attachments."""
        path = self.root / f"{_INCOMING}{uuid.uuid4().hex}"
        path.mkdir()
        return Spool(path)

    def commit(self, spool: Spool, submission: Submission, received: str) -> int:
        """Write fax.json into the spool, publish it as the next fax folder, return its number."""
        with self._lock:
            seq = self._next
            document = fax_document(seq, received, submission, spool.path)
            text = json.dumps(document, indent=2) + "\n"
            (spool.path / "fax.json").write_text(text, encoding="ascii")
            os.rename(spool.path, self.root / f"{seq:06d}")
            spool.committed()
            self._next += 1
        return seq

    def log(self, record: RequestRecord) -> None:
        """Append a record to requests.jsonl."""
        line = record.to_json() + "\n"
        with self._lock, (self.root / REQUEST_LOG).open("a", encoding="ascii") as file:
            file.write(line)

    def faxes(self) -> list[StoredFax]:
        """Return the stored faxes, oldest first."""
        faxes = []
        for path in self._folders():
            record = json.loads((path / "fax.json").read_text(encoding="ascii"))
            faxes.append(StoredFax(int(path.name), path, record))
        return sorted(faxes, key=lambda fax: fax.seq)

    def count(self) -> int:
        """Return how many faxes are stored."""
        return len(self._folders())

    def _folders(self) -> list[Path]:
        return [
            path
            for path in self.root.iterdir()
            if path.is_dir() and _FAX_FOLDER.fullmatch(path.name)
        ]


def fax_document(seq: int, received: str, submission: Submission, folder: Path) -> dict[str, Any]:
    """Describe an accepted submission for fax.json; the password appears only as a flag."""
    fields: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    for part in submission.parts:
        if part.name == PASSWORD:
            continue
        if part.file is None:
            fields.append({"name": part.name, "value": part.value.decode("ascii")})
            continue
        attachment = {
            "filename": part.filename,
            "content_type": part.content_type,
            "size": part.file.size,
            "sha256": part.file.sha256,
            "stored_as": part.file.path.relative_to(folder).as_posix(),
        }
        attachments.append(attachment)
        fields.append({"name": part.name, **attachment})
    recipients = [split_recipient(value) for value in _texts(submission, RECIPIENT)]
    return {
        "seq": seq,
        "received": received,
        "username": _first(submission, USERNAME),
        "password_supplied": bool(submission.values(PASSWORD)),
        "recipients": [{"number": number, "name": name} for number, name in recipients],
        "coverpage": _first(submission, COVERPAGE),
        "coverpagetext": _first(submission, COVERPAGETEXT),
        "resolution": _first(submission, RESOLUTION),
        "sendtime": _first(submission, SENDTIME),
        "attachments": attachments,
        "fields": fields,
    }


def _texts(submission: Submission, name: str) -> list[str]:
    return [value.decode("ascii") for value in submission.values(name)]


def _first(submission: Submission, name: str) -> str | None:
    texts = _texts(submission, name)
    return texts[0] if texts else None
