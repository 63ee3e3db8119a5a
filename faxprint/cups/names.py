"""The names a printer job's documents are faxed under (the service's documents' too)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from faxprint.documents import DocumentSource
from faxprint.text import printable


def document_sources(
    paths: Sequence[Path], title: str, supplied: Sequence[str]
) -> list[DocumentSource]:
    """Name each document as its sender did (``document-name-supplied``), else after the
    job's title; the extension is the one its data calls for (cupsd filtered it)."""
    names = [Path(n.replace("\\", "/")) for n in supplied]
    if len(names) != len(paths):  # a document gave no output: names would shift
        base = Path(title.replace("\\", "/"))
        numbered = len(paths) > 1
        stem = base.stem.strip() or "fax"
        names = [
            Path(f"{stem}{f'-{n}' if numbered else ''}{base.suffix}")
            for n in range(1, len(paths) + 1)
        ]
    return [
        DocumentSource(path, f"{name.stem.strip() or 'fax'}{_extension(path, name.suffix)}")
        for name, path in zip(names, paths, strict=True)
    ]


def _extension(path: Path, suffix: str) -> str:
    with path.open("rb") as stream:
        if stream.read(5) == b"%PDF-":
            return ".pdf"
    return suffix if suffix and suffix.lower() != ".pdf" else ".txt"


def nothing_from_cupsd(content_type: str) -> str:
    """Say why a job brought no document: cupsd's filters made nothing of it."""
    given = printable(content_type, limit=60) or "the job's data"
    return (
        f"no document to fax: cupsd's filters made nothing of {given} (a filter failed: "
        "see cupsd's error_log for this job), or the job was empty"
    )
