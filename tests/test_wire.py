"""The socket's JSON (:mod:`faxprint.link.wire`), written and read through the json
module's C core, agrees with the json module on every message and refuses what json
refuses; the thin path imports neither re, enum, typing nor pathlib."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from faxprint.link import wire
from tests.conftest import REPO

MESSAGES = [
    {"op": "queued", "key": "cups:Fax:7:6f1c2a3b-0000", "release": False},
    {"event": "verdict", "exit": 0, "lines": ["INFO: Fax accepted for 1 recipient, 1 page"]},
    {"event": "fax", "status": "accepted", "pages": None, "recipients": 2, "message": ""},
    {"text": 'Grüße, Ελληνικά, 中文, \U0001f4e0, "quoted" \\ back\tslash\n\x00\x1f\x7f'},
    {"nested": {"a": [1, -2, 3.25, 1e300, True, False, None, [], {}]}, "": "empty key"},
    {"big": 2**70, "neg": -0.0, "small": 5e-324},
]


@pytest.mark.parametrize("message", MESSAGES)
def test_written_and_read_as_the_json_module_does(message: dict[str, object]) -> None:
    written = wire.dumps(message)
    assert written == json.dumps(message, separators=(",", ":"))  # ensure_ascii, compact
    assert wire.loads(written) == json.loads(written) == message
    spaced = json.dumps(message, indent=2, ensure_ascii=False)
    assert wire.loads(spaced.encode()) == message


@pytest.mark.parametrize(
    "line",
    [b"", b"not json", b'{"a": 1} trailing', b'{"a": NaN}', b'{"a": Infinity}', b"[1, 2",
     b'{"a": "\x01"}', b"\xff\xfe", b'{"a" 1}', b"[" * 100_000],
)  # fmt: skip
def test_garbage_is_refused_as_json_refuses_it(line: bytes) -> None:
    with pytest.raises((ValueError, RecursionError)):
        json.loads(line, parse_constant=_refuse)
    with pytest.raises(wire.WireError):
        wire.loads(line)


def _refuse(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), {1, 2}, b"bytes"])
def test_what_json_cannot_say_is_not_written(value: object) -> None:
    with pytest.raises(ValueError):
        wire.dumps({"a": value})


def test_the_thin_path_imports_no_heavy_module() -> None:
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import faxprint.cups.thin; "
             "print(sorted(m for m in ('re', 'enum', 'typing', 'pathlib', 'json', 'socket', "
             "'signal', 'sqlite3', 'contextlib', 'tomllib', 'shutil', 'requests', 'pypdf') "
             "if m in sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-S", "-c", probe, str(REPO)], capture_output=True,
                          text=True, check=True, cwd="/")  # fmt: skip
    assert done.stdout.strip() == "[]", done.stdout
