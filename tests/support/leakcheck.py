"""A pytest plugin that fails the session when the test password turns up where it must not.

The tests give faxprint one distinctive password (tests.support.secrets.TEST_PASSWORD),
and a REST app's client secret and JWT (TEST_CLIENT_SECRET, TEST_JWT). This plugin looks
for each of them

* in every test report: captured stdout, stderr and log sections, and failure text;
* in every file under the session's basetemp, at the end of the session;
* in the private cupsd's folder (logs, error_log, job spool, printers.conf) and in the
  backend's ``/tmp/faxprint-root-*`` folder (config, journals), just before the fixtures
  that made them remove them.

Configs and password files (``*.toml``, ``*.secret``) may hold it, as long as other users
cannot read them. Anything else that holds it is a leak. Leaks are listed at the end
(where, byte offset; never the password itself) and the session exits with status 1.

Load it with ``pytest_plugins`` (tests/conftest.py does) or ``-p tests.support.leakcheck``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.secrets import TEST_CLIENT_SECRET, TEST_JWT, TEST_PASSWORD

NEEDLES = tuple(secret.encode("ascii") for secret in (TEST_PASSWORD, TEST_CLIENT_SECRET, TEST_JWT))
#: Files meant to hold a password: configs and password files.
SECRET_FILES = (".toml", ".secret")
#: Fixtures whose folders are removed at their teardown: how to find the folder.
FOLDER_FIXTURES: dict[str, Callable[[Any], Path]] = {
    "cupsd": lambda server: Path(server.dir),
    "faxprint_root": Path,
}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Leak:
    """The password found somewhere it must not be."""

    where: str
    offsets: tuple[int, ...] = ()
    why: str = "holds the test password"

    def __str__(self) -> str:
        if not self.offsets:
            return f"{self.where}: {self.why}"
        more = f" (and {len(self.offsets) - 1} more)" if len(self.offsets) > 1 else ""
        return f"{self.where}: {self.why} at byte {self.offsets[0]}{more}"


def offsets_in(data: bytes) -> list[int]:
    """Return where the password starts in data."""
    found = []
    for needle in NEEDLES:
        start = data.find(needle)
        while start != -1:
            found.append(start)
            start = data.find(needle, start + 1)
    return sorted(found)


def offsets_in_file(path: Path) -> list[int]:
    """Return where a secret starts in a file, read in chunks that overlap.

    The overlap is one byte shorter than the longest secret, so every match is seen; a
    shorter one seen twice is counted once.
    """
    found: set[int] = set()
    overlap = max(len(needle) for needle in NEEDLES) - 1
    with path.open("rb") as stream:
        base, tail = 0, b""
        while chunk := stream.read(_CHUNK):
            data = tail + chunk
            found.update(base + offset for offset in offsets_in(data))
            tail = data[-overlap:]
            base += len(data) - len(tail)
    return sorted(found)


def _files(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    for folder, _, names in os.walk(root):  # os.walk never follows links to folders
        for name in names:
            path = Path(folder) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                yield path, info


def scan_tree(root: Path) -> list[Leak]:
    """Return the files under root that leak the password."""
    leaks = []
    for path, info in _files(root):
        try:
            found = offsets_in_file(path)
        except OSError as exc:
            leaks.append(Leak(str(path), why=f"cannot be checked ({exc.strerror})"))
            continue
        if not found:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if path.suffix not in SECRET_FILES:
            leaks.append(Leak(str(path), tuple(found)))
        elif mode & stat.S_IROTH:
            why = f"holds the test password and other users can read it (mode {mode:04o})"
            leaks.append(Leak(str(path), why=why))
    return leaks


def scan_report(report: pytest.TestReport) -> list[Leak]:
    """Return the parts of a test report that show the password."""
    parts = [*report.sections, ("failure text", report.longreprtext)]
    return [
        Leak(f"{report.nodeid} ({title})", tuple(found), why="shows the test password")
        for title, text in parts
        if (found := offsets_in(text.encode("utf-8", "surrogateescape")))
    ]


class LeakCheck:
    """The plugin's state and hooks: what was found so far, and the folders scanned."""

    def __init__(self) -> None:
        self.leaks: list[Leak] = []
        self.scanned: set[Path] = set()
        self.basetemp: Path | None = None

    def scan_folder(self, root: Path) -> None:
        """Look through every regular file under root, once (links are not followed)."""
        if root in self.scanned or not root.is_dir():
            return
        self.scanned.add(root)
        self.leaks += scan_tree(root)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A teardown report repeats the sections of the call: count each leak once.
        self.leaks += [leak for leak in scan_report(report) if leak not in self.leaks]

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> Iterator[Any]:
        """Scan a fixture's folder just before its own teardown removes it."""
        value = yield
        folder_of = FOLDER_FIXTURES.get(fixturedef.argname)
        if folder_of is not None:
            folder = folder_of(value)
            # Finalizers run last in, first out: this one runs before the fixture's teardown.
            request.addfinalizer(lambda: self.scan_folder(folder))
        return value

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.basetemp is not None:
            self.scan_folder(self.basetemp)
        if self.leaks and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.leaks:
            return
        terminalreporter.section("the test password leaked", red=True, bold=True)
        for leak in self.leaks:
            terminalreporter.line(str(leak), red=True)
        terminalreporter.line(f"leak check failed: {len(self.leaks)} leak(s)", red=True, bold=True)


PLUGIN_NAME = "faxprint-leakcheck"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(LeakCheck(), PLUGIN_NAME)


@pytest.fixture(scope="session", autouse=True)
def _leakcheck_basetemp(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Note the session's basetemp: every file in it is scanned at the session's end."""
    plugin = pytestconfig.pluginmanager.get_plugin(PLUGIN_NAME)
    assert isinstance(plugin, LeakCheck)
    plugin.basetemp = tmp_path_factory.getbasetemp()
