"""Decide the FaxOut result code for a received request, with a reason a person can act on.

Checks run in a fixed order and the first failure decides: the multipart itself (5),
then the account (1, 2), the recipients (3, 5), the attachments (4, 5), and last the
options and field names (5). Field names are case-sensitive. Reasons never quote the
password.
"""

from __future__ import annotations

import datetime
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from faxprint.protocol import (
    ATTACHMENT,
    COVER_DEFAULT,
    COVER_NONE,
    COVERPAGE,
    COVERPAGETEXT,
    FIELD_ORDER,
    PASSWORD,
    RECIPIENT,
    RESOLUTION,
    RESOLUTIONS,
    SENDTIME,
    USERNAME,
    ResultCode,
)
from faxprint.sandbox.accounts import USERNAME_FORMAT, Account
from faxprint.sandbox.intake import Submission

DEFAULT_COVER_PAGES = ("Default", "None", "Confidential", "Urgent")

_NUMBER = re.compile(r"\+?[0-9]{3,20}")
_SENDTIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2}) ([0-9]{2}):([0-9]{2})")
_SINGLE = (COVERPAGE, COVERPAGETEXT, RESOLUTION, SENDTIME)
_SHOWN = 60


@dataclass(frozen=True)
class Decision:
    """The code a request earns and why."""

    code: ResultCode
    reason: str

    @property
    def accepted(self) -> bool:
        """Tell whether the fax was accepted."""
        return self.code is ResultCode.SUCCESSFUL


def show(value: bytes) -> str:
    """Quote a value for a reason, escaping what is not printable ASCII."""
    if len(value) > _SHOWN:
        return repr(value[:_SHOWN])[1:] + "..."
    return repr(value)[1:]


def split_recipient(value: str) -> tuple[str, str | None]:
    """Split an accepted ``<number>[|<name>]`` into number and name."""
    number, bar, name = value.partition("|")
    return number, (name if bar else None)


class Rules:
    """The sandbox's judgement: accounts, cover pages, and the FaxOut field rules."""

    def __init__(self, accounts: Mapping[str, Account], cover_pages: Iterable[str]) -> None:
        self._accounts = accounts
        self._cover_pages = tuple(cover_pages)

    def decide(self, submission: Submission) -> Decision:
        """Return the first failing check's decision, or acceptance."""
        if submission.error is not None:
            return _fail(f"Malformed multipart/form-data: {submission.error}")
        for check in (self._account, _recipients, _attachments, self._options):
            decision = check(submission)
            if decision is not None:
                return decision
        recipients = len(submission.values(RECIPIENT))
        files = submission.attachments
        size = sum(part.file.size for part in files if part.file is not None)
        return Decision(
            ResultCode.SUCCESSFUL,
            f"Accepted: {_count(recipients, 'recipient')}, {_count(len(files), 'attachment')}"
            f" ({size} bytes)",
        )

    def _account(self, submission: Submission) -> Decision | None:
        usernames = submission.values(USERNAME)
        passwords = submission.values(PASSWORD)
        if not usernames:
            return _deny("Username missing")
        if len(usernames) > 1:
            return _deny(f"Username given {len(usernames)} times")
        raw = usernames[0]
        if not raw.isascii() or not USERNAME_FORMAT.fullmatch(raw.decode("ascii")):
            return _deny(f"Username {show(raw)} is not <digits> or <digits>*<digits>")
        username = raw.decode("ascii")
        account = self._accounts.get(username)
        if account is None:
            return _deny(f"Username {username} is not an account on this sandbox")
        if len(passwords) > 1:
            return _deny(f"Password given {len(passwords)} times")
        if not passwords and account.password:
            return _deny(f"Password missing for {username}")
        supplied = passwords[0] if passwords else b""
        if not hmac.compare_digest(supplied, account.password.encode("ascii")):
            return _deny(f"Password for {username} is wrong")
        if account.prohibited:
            return Decision(
                ResultCode.FAXING_PROHIBITED, f"Faxing is prohibited for account {username}"
            )
        return None

    def _options(self, submission: Submission) -> Decision | None:
        for name in _SINGLE:
            count = len(submission.values(name))
            if count > 1:
                return _fail(f"{name} given {count} times")
        for part in submission.parts:
            if part.name not in FIELD_ORDER:
                return _fail(f"Unknown field {part.name!r}{_did_you_mean(part.name)}")
            if part.name != ATTACHMENT and part.filename is not None:
                return _fail(f"{part.name} has a filename parameter; only Attachment is a file")
        for name in _SINGLE:
            for value in submission.values(name):
                if not _printable(value, allow=b"\r\n\t" if name == COVERPAGETEXT else b""):
                    return _fail(f"{name} {show(value)} is not printable ASCII")
        return self._values(submission)

    def _values(self, submission: Submission) -> Decision | None:
        for value in submission.values(RESOLUTION):
            if value.decode("ascii") not in RESOLUTIONS:
                return _fail(f"Resolution {show(value)} is not Low or High")
        for value in submission.values(COVERPAGE):
            cover = value.decode("ascii")
            if cover not in (COVER_NONE, COVER_DEFAULT, "", *self._cover_pages):
                listed = ", ".join(self._cover_pages)
                return _fail(
                    f"Coverpage {show(value)} is not None, Default, empty or a cover page"
                    f" of this sandbox ({listed})"
                )
        for value in submission.values(SENDTIME):
            problem = _sendtime_problem(value.decode("ascii"))
            if problem:
                return _fail(f"Sendtime {show(value)} {problem}")
        return None


def _recipients(submission: Submission) -> Decision | None:
    values = submission.values(RECIPIENT)
    if not values:
        return Decision(ResultCode.NO_RECIPIENTS, "No Recipient given")
    for number, value in enumerate(values, start=1):
        problem = _recipient_problem(value)
        if problem:
            return _fail(f"Recipient {number} {show(value)} is not <number>|<name>: {problem}")
    return None


def _recipient_problem(value: bytes) -> str | None:
    if not value.isascii():
        return "not ASCII"
    number, name = split_recipient(value.decode("ascii"))
    if not _NUMBER.fullmatch(number):
        return "the number must be an optional + and 3 to 20 digits"
    if name is not None and (b"|" in name.encode() or not _printable(name.encode())):
        return "the name must be printable ASCII without '|'"
    return None


def _attachments(submission: Submission) -> Decision | None:
    files = submission.attachments
    if not files:
        return Decision(ResultCode.NO_FAX_DATA, "No Attachment given")
    for number, part in enumerate(files, start=1):
        if part.filename is None:
            return _fail(f"Attachment {number} has no filename parameter")
        if not part.filename:
            return _fail(f"Attachment {number} has an empty filename")
        raw = part.filename.encode("utf-8", "surrogateescape")
        if not _printable(raw):
            return _fail(f"Attachment {number} filename {show(raw)} is not printable ASCII")
        if part.file is not None and part.file.size == 0:
            return Decision(
                ResultCode.NO_FAX_DATA, f"Attachment {number} {part.filename!r} is empty (0 bytes)"
            )
    return None


def _sendtime_problem(text: str) -> str | None:
    match = _SENDTIME.fullmatch(text)
    if not match:
        return "is not dd:mm:yy hh:mm"
    day, month, year, hour, minute = (int(group) for group in match.groups())
    try:
        # Naive on purpose: the spec says GMT, and only validity matters here.
        datetime.datetime(2000 + year, month, day, hour, minute)
    except ValueError:
        return "is not a valid date and time"
    return None


def _printable(value: bytes, allow: bytes = b"") -> bool:
    return all(32 <= byte < 127 or byte in allow for byte in value)


def _did_you_mean(name: str) -> str:
    for known in FIELD_ORDER:
        if known.lower() == name.lower():
            return f" (field names are case-sensitive: {known!r})"
    return ""


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _deny(reason: str) -> Decision:
    return Decision(ResultCode.AUTHORIZATION_FAILED, reason)


def _fail(reason: str) -> Decision:
    return Decision(ResultCode.GENERIC_ERROR, reason)
