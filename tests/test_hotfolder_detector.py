"""When a dropped file is complete, as the detector decides it from events and looks."""

from __future__ import annotations

import os
from pathlib import Path

from faxprint.hotfolder.detector import WHOLE_JSON_BYTES, Detector


def _polling(root: Path) -> Detector:
    return Detector(root, [], stable_seconds=2.0, closes=False)


def test_a_polled_ticket_holding_whole_json_is_taken_at_the_first_look(tmp_path: Path) -> None:
    detector = _polling(tmp_path)
    ticket = tmp_path / "job.fax.json"
    ticket.write_text('{"to": ["5556465589"]}\n')
    detector.note(ticket, now=100.0, kind="created")
    assert [c.name for c in detector.ready(100.0)] == ["job.fax.json"]


def test_a_ticket_cut_short_waits_until_it_has_not_changed(tmp_path: Path) -> None:
    detector = _polling(tmp_path)
    ticket = tmp_path / "job.fax.json"
    ticket.write_text('{"to": ["5556465589"], "cover_te')  # the writer is not done
    detector.note(ticket, now=100.0, kind="created")
    assert detector.ready(100.5) == []
    assert [c.name for c in detector.ready(102.0)] == ["job.fax.json"]  # then its job refuses it


def test_json_that_is_no_object_or_too_large_waits_as_well(tmp_path: Path) -> None:
    detector = _polling(tmp_path)
    for name, text in (
        ("list.fax.json", '["5556465589"]'),
        (
            "large.fax.json",
            '{"to": ["5556465589"], "cover_text": "' + "x" * WHOLE_JSON_BYTES + '"}',
        ),
    ):
        (tmp_path / name).write_text(text)
        detector.note(tmp_path / name, now=100.0, kind="created")
    assert detector.ready(100.5) == []
    assert len(detector.ready(102.0)) == 2


def test_a_ticket_being_written_waits_for_its_close_even_if_it_parses(tmp_path: Path) -> None:
    detector = Detector(tmp_path, [], stable_seconds=2.0, closes=True)
    ticket = tmp_path / "job.fax.json"
    ticket.write_text('{"to": ["5556465589"]}')
    detector.note(ticket, now=100.0, kind="modified")  # inotify: written, not closed yet
    assert detector.ready(100.5) == []
    detector.note(ticket, now=100.6, kind="closed")
    assert [c.name for c in detector.ready(100.6)] == ["job.fax.json"]


def test_a_ticket_that_is_a_link_or_a_fifo_is_never_read(tmp_path: Path) -> None:
    detector = _polling(tmp_path)
    target = tmp_path / "elsewhere.json"
    target.write_text('{"to": ["5556465589"]}')
    (tmp_path / "link.fax.json").symlink_to(target)
    os.mkfifo(tmp_path / "pipe.fax.json")
    for name in ("link.fax.json", "pipe.fax.json"):
        detector.note(tmp_path / name, now=100.0, kind="created")
    assert detector.ready(100.5) == []  # no hang on the FIFO, the link not followed


def test_a_file_whose_times_were_set_after_closing_is_not_taken_for_one_being_written(
    tmp_path: Path,
) -> None:
    detector = Detector(tmp_path, ["scans"], stable_seconds=2.0, closes=True)
    (tmp_path / "scans").mkdir()
    scan = tmp_path / "scans" / "page.pdf"
    scan.write_bytes(b"%PDF-1.4\n%%EOF\n")
    detector.note(scan, now=100.0, kind="created")
    detector.note(scan, now=100.0, kind="modified")
    detector.note(scan, now=100.0, kind="closed")
    os.utime(scan, (1_000_000, 1_000_000))  # as shutil.copy2 and touch -r do, after closing
    detector.note(scan, now=100.1, kind="attrib")
    assert detector.ready(100.5) == []  # changed: it must keep still for stable_seconds
    assert [c.name for c in detector.ready(102.2)] == ["page.pdf"]


def test_a_ticket_nested_too_deep_is_no_crash(tmp_path: Path) -> None:
    detector = _polling(tmp_path)
    ticket = tmp_path / "deep.fax.json"
    ticket.write_text('{"to": ' + "[" * 20000 + "]" * 20000 + "}")
    detector.note(ticket, now=100.0, kind="created")
    assert detector.ready(100.5) == []  # waits; its job refuses it once claimed


def test_a_document_is_seen_being_written_only_with_evidence_of_it(tmp_path: Path) -> None:
    # inotify: written and not closed since; a file that merely appeared (a link, a
    # rename, a touch) is not "being written", whatever its age.
    watched = Detector(tmp_path, [], stable_seconds=2.0, closes=True)
    open_one, linked, touched = (tmp_path / n for n in ("open.pdf", "linked.pdf", "touched.pdf"))
    for path in (open_one, linked, touched):
        path.write_bytes(b"%PDF-1.4\n")
    watched.note(open_one, now=100.0, kind="modified")
    watched.note(linked, now=100.0, kind="created")
    watched.note(touched, now=100.0, kind="attrib")
    assert [watched.writing(p, 100.1) for p in (open_one, linked, touched)] == [True, False, False]
    watched.note(open_one, now=101.0, kind="closed")
    assert not watched.writing(open_one, 101.0)
    # polling: changed within the last stable_seconds
    polled = _polling(tmp_path)
    polled.note(open_one, now=100.0)
    assert not polled.writing(open_one, 100.5)  # one look: no change seen yet
    open_one.write_bytes(b"%PDF-1.4\n% more\n")
    polled.scan(101.0)
    assert polled.writing(open_one, 101.5)
    assert not polled.writing(open_one, 103.5)  # unchanged for stable_seconds since


def test_a_file_open_for_writing_stays_so_when_a_look_sees_it_grown(tmp_path: Path) -> None:
    # The writer's next chunk came between two events: the entry is made anew for the new
    # size, and must still say the file is open (found by review: it said it was not).
    watched = Detector(tmp_path, [], stable_seconds=2.0, closes=True)
    path = tmp_path / "open.pdf"
    path.write_bytes(b"%PDF-1.4\n")
    watched.note(path, now=100.0, kind="modified")
    path.write_bytes(b"%PDF-1.4\n% more\n")
    assert watched.ready(100.5) == [] and watched.writing(path, 100.5)
    path.write_bytes(b"%PDF-1.4\n% more\n% and more\n")
    assert not watched.stable(path, 101.0) and watched.writing(path, 101.0)
