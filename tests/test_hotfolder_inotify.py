"""The hot folder's inotify observer, on real folders: what each kind of drop reports."""

from __future__ import annotations

import os
import queue
from pathlib import Path

from inotify_simple import flags

from faxprint.hotfolder.inotify import InotifyObserver

Events = queue.Queue[tuple[Path, str]]


def _next(events: Events, path: Path, until: str = "") -> list[str]:
    """Collect the kinds reported for ``path`` until a final one (moved, closed, deleted,
    or ``until``)."""
    kinds: list[str] = []
    while not kinds or kinds[-1] not in ("moved", "closed", "deleted", until):
        seen, kind = events.get(timeout=10)
        if seen == path:
            kinds.append(kind)
    return kinds


def test_each_way_of_dropping_a_file_is_reported(tmp_path: Path) -> None:
    folder, outside = tmp_path / "drop", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    events: Events = queue.Queue()
    observer = InotifyObserver([folder], events)
    observer.start()
    try:
        (outside / "a.pdf").write_bytes(b"%PDF-1.4")
        os.rename(outside / "a.pdf", folder / "a.pdf")  # moved in from elsewhere
        assert _next(events, folder / "a.pdf") == ["moved"]

        with (folder / "b.pdf").open("wb") as stream:  # written in place
            stream.write(b"%PDF-1.4")
            stream.flush()
        assert _next(events, folder / "b.pdf") == ["created", "modified", "closed"]

        os.utime(folder / "b.pdf", (1_000_000, 1_000_000))  # times set, no data written
        assert _next(events, folder / "b.pdf", until="attrib") == ["attrib"]
        os.rename(folder / "b.pdf", outside / "b.pdf")  # claimed: gone at once
        assert _next(events, folder / "b.pdf") == ["deleted"]
        (folder / "sub").mkdir()  # folders are no drops: nothing is reported for them
        (folder / "c.pdf").write_bytes(b"x")
        seen = []
        while not seen or seen[-1] != (folder / "c.pdf", "closed"):
            seen.append(events.get(timeout=10))
        assert all(path != folder / "sub" for path, _ in seen)
    finally:
        observer.stop()
        observer.join(timeout=10)
    assert not observer.is_alive()


def test_the_thread_ends_when_a_watched_folder_disappears(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    observer = InotifyObserver([folder], queue.Queue())
    observer.start()
    folder.rmdir()
    observer.join(timeout=10)
    assert not observer.is_alive()  # the service sees it dead and starts a new one


def test_an_overflow_asks_for_a_rescan(tmp_path: Path) -> None:
    events: Events = queue.Queue()
    observer = InotifyObserver([tmp_path], events)
    try:
        assert observer._handle(-1, flags.Q_OVERFLOW, "")
        assert events.get_nowait() == (Path(), "overflow")
    finally:
        observer.stop()
        observer.run()  # returns at once (stopping) and closes the descriptor


def test_an_overflow_makes_the_service_look_at_every_file(tmp_path: Path) -> None:
    from faxprint import config as configuration
    from faxprint.hotfolder.service import HotFolder
    from faxprint.hotfolder.settings import from_table
    from tests.support.configs import hot_folder_config

    settings = configuration.load(
        hot_folder_config(tmp_path, "http://127.0.0.1:9/faxapi.asp"), env={}
    )
    root = tmp_path / "drop"
    root.mkdir()
    service = HotFolder(settings, from_table(settings.hotfolder), root)
    (root / "missed.fax.json").write_text('{"to": ["5556465589"]}')  # its events were lost
    assert service.detector.ready(100.0) == []
    service._note(Path(), "overflow", 100.0)
    assert [c.name for c in service.detector.ready(100.0)] == ["missed.fax.json"]
