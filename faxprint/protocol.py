"""Constants of the FaxOut protocol (RingCentral "Send Fax Web API").

Shared by the client transport and the sandbox server. Only names and numbers live
here: each side does its own encoding and parsing, so that a bug copied into both
cannot hide behind a passing test.
"""

from __future__ import annotations

from enum import IntEnum

USERNAME = "Username"
PASSWORD = "Password"
RECIPIENT = "Recipient"
COVERPAGE = "Coverpage"
COVERPAGETEXT = "Coverpagetext"
RESOLUTION = "Resolution"
SENDTIME = "Sendtime"
ATTACHMENT = "Attachment"

#: Field names in the order the client sends them (the order the spec lists them).
FIELD_ORDER = (
    USERNAME,
    PASSWORD,
    RECIPIENT,
    COVERPAGE,
    COVERPAGETEXT,
    RESOLUTION,
    SENDTIME,
    ATTACHMENT,
)

RESOLUTIONS = ("Low", "High")
COVER_NONE = "None"
COVER_DEFAULT = "Default"


class ResultCode(IntEnum):
    """The integer a FaxOut server answers with."""

    SUCCESSFUL = 0
    AUTHORIZATION_FAILED = 1
    FAXING_PROHIBITED = 2
    NO_RECIPIENTS = 3
    NO_FAX_DATA = 4
    GENERIC_ERROR = 5
