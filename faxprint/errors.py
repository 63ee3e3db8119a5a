"""The exceptions faxprint raises, split by what the caller does next.

::

    FaxPrintError
    ├── PermanentError              do not retry: tell someone what to change
    │   ├── InputError              the sender must fix the job
    │   │   ├── TicketError         recipient, cover, resolution or send time
    │   │   ├── DocumentError       missing, unreadable, empty, damaged, encrypted
    │   │   └── SettleError         a retry or cancel that cannot be done as asked
    │   ├── RejectedError           the service refused the job's data (codes 3, 4)
    │   ├── AccountError            the admin must act (codes 1, 2)
    │   └── ConfigError             configuration unreadable, invalid or unsafe
    ├── TransientError              not sent; safe to try again later
    │   ├── ServiceUnavailable      network error, timeout before the upload ended, 5xx
    │   ├── ServiceError            code 5: the service says it did not accept the fax
    │   └── JournalError            the journal cannot be read or written right now
    ├── UncertainError              the upload ended but no answer came: maybe sent
    └── CancelledError              the job was cancelled while it was being sent

Every error carries its context as keyword attributes (``code``, ``excerpt``, ...), and
its message is written for the person who has to act. No message ever contains a
password: errors are built from values that never hold one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Self


class FaxPrintError(Exception):
    """Base of every error faxprint raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.excerpt = excerpt
        self.retry_after = retry_after  # seconds the service asked to wait (429 Retry-After)

    def hiding(self, redact: Callable[[str], str]) -> Self:
        """Return this error with ``redact`` applied to its texts (the same error when
        they hold nothing to hide)."""
        message, excerpt = redact(self.message), redact(self.excerpt)
        if (message, excerpt) == (self.message, self.excerpt):
            return self
        hidden = copy.copy(self)
        hidden.message, hidden.excerpt, hidden.args = message, excerpt, (message,)
        return hidden


class PermanentError(FaxPrintError):
    """Trying again cannot help; a person must change something."""


class InputError(PermanentError):
    """The job itself is wrong: the sender must fix it."""


class TicketError(InputError):
    """A recipient, cover page, resolution or send time is invalid."""


class DocumentError(InputError):
    """A document cannot be faxed: missing, unreadable, empty, damaged or encrypted."""


class SettleError(InputError):
    """A person's retry or cancel cannot be done as asked (the job was accepted, is being
    sent, is not where it should be); the message says why and what to do instead."""


class RejectedError(PermanentError):
    """The service refused the job's data (no recipients, no fax data)."""


class AccountError(PermanentError):
    """The account cannot send: wrong credentials or faxing prohibited. The admin must act."""


class ConfigError(PermanentError):
    """The configuration cannot be read, is invalid, or is unsafe."""


class TransientError(FaxPrintError):
    """The fax was certainly not accepted; sending it again later is safe."""


class ServiceUnavailable(TransientError):
    """The service could not be reached, or failed before the upload ended."""


class ServiceError(TransientError):
    """The service answered with a generic error or with something that is no answer."""


class JournalError(TransientError):
    """The journal cannot be read or written (locked too long, disk full, damaged)."""


class UncertainError(FaxPrintError):
    """The whole upload reached the service but its answer was lost: it may have been sent."""


class CancelledError(FaxPrintError):
    """The job was cancelled (SIGTERM) while it was being sent."""
