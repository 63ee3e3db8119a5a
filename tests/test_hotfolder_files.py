"""Ticket files and [hotfolder] settings: pure parsing, no folders."""

from __future__ import annotations

import pytest

from faxprint.errors import ConfigError, TicketError
from faxprint.hotfolder import ticketfile
from faxprint.hotfolder.settings import FolderDefaults, from_table


def test_a_full_ticket() -> None:
    parsed = ticketfile.parse(
        b'{"to": ["5556465589|John Doe", "5555568552"], "cover": "Default", "cover_text": "Invoice 42",'
        b' "resolution": "high", "send_at": "2026-12-01T09:00:00+01:00",'
        b' "documents": ["invoice42.pdf", "terms.docx"], "account": "sales"}'
    )
    assert parsed == ticketfile.TicketFile(
        to=("5556465589|John Doe", "5555568552"),
        cover="Default",
        cover_text="Invoice 42",
        resolution="high",
        send_at="2026-12-01T09:00:00+01:00",
        account="sales",
        documents=("invoice42.pdf", "terms.docx"),
    )


def test_only_to_is_required_and_may_be_one_string() -> None:
    assert ticketfile.parse(b'{"to": "5556465589"}') == ticketfile.TicketFile(to=("5556465589",))


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b"{}", 'needs "to"'),
        (b'{"to": []}', 'needs "to"'),
        (b'{"to": [5556465589]}', 'needs "to"'),
        (b'{"to": "1", "cover": 3}', '"cover" must be a string'),
        (b'{"to": "1", "documents": "a.pdf"}', "must be a list of file names"),
        (b'{"to": "1", "documents": []}', "is empty"),
        (b'{"to": "1", "documents": ["a/b.pdf"]}', "plain file name"),
        (b'{"to": "1", "documents": [".hidden"]}', "plain file name"),
        (b'{"to": "1", "documents": ["x.fax.json"]}', "is a ticket"),
        (b'{"to": "1", "extra": 1}', "unknown keys: extra"),
        (b'{"to": "1", "documents": [' + b",".join([b'"a"'] * 101) + b"]}", "at most 100"),
        (b" " * (1024 * 1024 + 1), "larger than 1024 KiB"),
    ],
)
def test_bad_tickets_say_what_to_fix(data: bytes, complaint: str) -> None:
    with pytest.raises(TicketError, match=complaint):
        ticketfile.parse(data)


def test_settings_with_folder_defaults() -> None:
    settings = from_table(
        {
            "path": "/srv/fax",
            "concurrency": 2,
            "polling": True,
            "folders": {"accounting": {"to": "5556465589|Accounting", "resolution": "low"}},
        }
    )
    assert settings.concurrency == 2 and settings.polling
    assert settings.folders == {
        "accounting": FolderDefaults(to=("5556465589|Accounting",), resolution="low")
    }
    assert from_table({}).max_document_bytes == 100 * 1024 * 1024


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ({"colour": 1}, "unknown setting colour"),
        ({"concurrency": 0}, "must be > 0"),
        ({"concurrency": "many"}, "invalid literal"),
        ({"folders": {"../up": {"to": ["1"]}}}, "one plain name"),
        ({"folders": {"processing": {"to": ["1"]}}}, "reserved"),
        ({"folders": {"a": {"cover": "None"}}}, "to must be a list"),
        ({"folders": {"a": {"to": ["1"], "x": 1}}}, "unknown setting x"),
    ],
)
def test_bad_settings_are_config_errors(table: dict[str, object], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        from_table(table)
