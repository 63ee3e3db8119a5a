"""Address books as other programs export them: vCard (``.vcf``, what Outlook, Google and
Apple write) and CSV (a header row naming the columns).

vCard: one entry per card with a fax number (``TEL`` with type ``FAX``; the preferred one,
else the first), named by ``FN`` (else ``N``), with ``ORG`` as its company and
``CATEGORIES`` as its groups. Versions 2.1 (``TEL;WORK;FAX``, quoted-printable values in a
named charset, as Outlook writes them), 3.0 and 4.0 are read; folded lines are unfolded.
CSV: the columns are found by their header, whatever their order: a name (``name``, or
``first name`` and ``last name``), a fax number (``fax``, ``number``, Outlook's ``business
fax``, Google's ``phone N - type`` of a fax with its ``phone N - value``), a company and
groups (``group``, ``groups``, ``categories``, Google's ``group membership``).
"""

from __future__ import annotations

import csv
import io
import quopri
import re
from collections.abc import Iterator
from pathlib import Path

from faxprint.errors import DocumentError
from faxprint.journal import Contact

MAX_FILE = 64 * 1024 * 1024
MAX_ENTRIES = 100_000


def read(path: Path) -> list[Contact]:
    """Read an address book file (by its extension: .vcf/.vcard or .csv)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE + 1)
    except OSError as exc:
        raise DocumentError(f"{path}: {exc.strerror}") from None
    if len(data) > MAX_FILE:
        raise DocumentError(f"{path.name}: over {MAX_FILE // 1048576} MB; split it")
    if path.suffix.lower() in (".vcf", ".vcard") or data.lstrip()[:11].upper() == b"BEGIN:VCARD":
        entries = list(_vcards(data, path.name))
    elif path.suffix.lower() == ".csv":
        entries = list(_csv_rows(_text(data, path.name), path.name))
    else:
        raise DocumentError(f"{path.name}: give a .vcf (vCard) or .csv file")
    if len(entries) > MAX_ENTRIES:
        raise DocumentError(f"{path.name}: {len(entries)} entries; at most {MAX_ENTRIES} at once")
    return entries


def _text(data: bytes, name: str, line: int | None = None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = line if line is not None else data[: exc.start].count(b"\n") + 1
        raise DocumentError(f"{name}: line {where} is not UTF-8 text; save the file as UTF-8"
                            ) from None  # fmt: skip


# -- vCard ----------------------------------------------------------------------------

_PROPERTY = re.compile(rb"^(?:[A-Za-z0-9-]+\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[^:]*)?):"
                       rb"(?P<value>.*)$", re.DOTALL)  # fmt: skip


def _vcards(data: bytes, name: str) -> Iterator[Contact]:
    card: list[tuple[bytes, bytes, bytes, int]] = []
    inside = False
    for number, line in _unfolded(data):
        match = _PROPERTY.match(line)
        if match is None:
            continue
        key = match["name"].upper()
        if key == b"BEGIN" and match["value"].strip().upper() == b"VCARD":
            card, inside = [], True
        elif key == b"END" and inside:
            inside = False
            if (entry := _card(card, name)) is not None:
                yield entry
        elif inside:
            card.append((key, match["params"], match["value"], number))


def _unfolded(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Logical lines (a line starting with a blank continues the one before; a
    quoted-printable value ending in ``=`` continues on the next line)."""
    current, start = b"", 0
    for number, raw in enumerate(data.splitlines(), 1):
        soft = current.endswith(b"=") and b"QUOTED-PRINTABLE" in current.split(b":", 1)[0].upper()
        if raw[:1] in (b" ", b"\t") and current:
            current = (current[:-1] if soft else current) + raw[1:]
        elif soft:
            current = current[:-1] + raw
        else:
            if current:
                yield start, current
            current, start = raw, number
    if current:
        yield start, current


def _card(properties: list[tuple[bytes, bytes, bytes, int]], name: str) -> Contact | None:
    values: dict[bytes, str] = {}
    faxes: list[tuple[bool, str]] = []
    for key, params, raw, line in properties:
        value = _value(params, raw, name, line)
        upper = params.upper()
        if key == b"TEL" and b"FAX" in upper:
            faxes.append((b"PREF" in upper, value.strip()))
        elif key in (b"FN", b"N", b"ORG", b"CATEGORIES") and key not in values:
            values[key] = value
    if not faxes:
        return None
    full = values.get(b"FN", "").strip() or _from_n(values.get(b"N", ""))
    fax = next((number for preferred, number in faxes if preferred), faxes[0][1])
    company = values.get(b"ORG", "").split(";")[0].strip()
    groups = tuple(g.strip() for g in _split(values.get(b"CATEGORIES", ""), ",") if g.strip())
    return Contact(full or company, fax.removeprefix("tel:"), company, groups)


def _value(params: bytes, raw: bytes, name: str, line: int) -> str:
    upper = params.upper()
    data = quopri.decodestring(raw) if b"QUOTED-PRINTABLE" in upper else raw
    charset = re.search(rb"CHARSET=([A-Za-z0-9_-]+)", params, re.IGNORECASE)
    if charset:
        try:
            return data.decode(charset[1].decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            raise DocumentError(f"{name}: line {line} is not in its charset "
                                f"{charset[1].decode('ascii', 'replace')}") from None  # fmt: skip
    return _unescape(_text(data, name, line))


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\,;nN])", lambda m: "\n" if m[1] in "nN" else m[1], text)


def _split(text: str, separator: str) -> list[str]:
    return re.split(rf"(?<!\\){re.escape(separator)}", text)


def _from_n(text: str) -> str:
    """``N:Doe;Jane;;;`` as ``Jane Doe``."""
    parts = [part.strip() for part in _split(text, ";")]
    family, given = [*parts, "", ""][:2]
    return " ".join(part for part in (given, family) if part)


# -- CSV ------------------------------------------------------------------------------

_NAME = ("name", "full name", "display name", "contact")
_FAX = ("fax", "fax number", "number", "business fax", "home fax", "other fax", "fax_number")
_COMPANY = ("company", "organization", "organisation", "organization 1 - name")
_GROUPS = ("group", "groups", "categories", "group membership", "labels")


def _csv_rows(text: str, name: str) -> Iterator[Contact]:
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = {field.strip().casefold(): field for field in reader.fieldnames or ()}
    except csv.Error as exc:
        raise DocumentError(f"{name}: not CSV ({exc})") from None
    if not any(key in header for key in (*_NAME, "first name", "given name")):
        raise DocumentError(f"{name}: its first line names no name column (name, first name)")
    try:
        for row in reader:
            entry = _row({k.strip().casefold(): (v or "") for k, v in row.items() if k}, header)
            if entry is not None:
                yield entry
    except csv.Error as exc:
        raise DocumentError(f"{name}: line {reader.line_num}: {exc}") from None


def _row(row: dict[str, str], header: dict[str, str]) -> Contact | None:
    full = _first(row, _NAME) or " ".join(
        part for part in (_first(row, ("first name", "given name")),
                          _first(row, ("last name", "family name"))) if part
    )  # fmt: skip
    fax = _first(row, _FAX) or _google_fax(row)
    if not fax:
        return None
    groups = [g.strip() for g in re.split(r"[;,]|:::", _first(row, _GROUPS)) if g.strip()]
    groups = [g.lstrip("* ") for g in groups if g.strip("* ").casefold() != "mycontacts"]
    company = _first(row, _COMPANY)
    return Contact(full or company, fax, company, tuple(g for g in groups if g))


def _first(row: dict[str, str], names: tuple[str, ...]) -> str:
    return next((row[n].strip() for n in names if row.get(n, "").strip()), "")


def _google_fax(row: dict[str, str]) -> str:
    """Google's ``Phone 1 - Type`` = ``Work Fax`` with its ``Phone 1 - Value``."""
    for key, value in row.items():
        if key.startswith("phone ") and key.endswith(" - type") and "fax" in value.casefold():
            number = row.get(key.replace(" - type", " - value"), "")
            return number.split(":::")[0].strip()
    return ""
