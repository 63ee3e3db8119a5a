"""``faxprint sandbox``: options, accounts file, the run() entry point as a real process."""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from faxprint.sandbox import (
    DEFAULT_ACCOUNTS,
    Account,
    SandboxConfigError,
    SandboxServer,
    add_arguments,
    is_loopback,
    load_accounts,
    run,
)
from tests.support.helpers import wait_for

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (
    "import argparse, sys\n"
    "from faxprint.sandbox import add_arguments, run\n"
    "parser = argparse.ArgumentParser()\n"
    "add_arguments(parser)\n"
    "sys.exit(run(parser.parse_args(sys.argv[1:])))\n"
)
LISTENING = re.compile(
    r"faxprint sandbox listening on http://127\.0\.0\.1:(\d+)/faxapi\.asp \(store: (.+)\)\n"
)
#: The second start-up line: where the REST side is and its app's credentials.
REST_LINE = re.compile(
    r"REST API at http://127\.0\.0\.1:\d+ \(app sandbox-client, secret sandbox-secret,"
    r" JWT sandbox-jwt\)\n"
)
BODY = (
    b"--b\r\n"
    b'Content-Disposition: form-data; name="Username"\r\n\r\n15555550177\r\n'
    b"--b\r\n"
    b'Content-Disposition: form-data; name="Password"\r\n\r\nOwl-Quartz-77\r\n'
    b"--b\r\n"
    b'Content-Disposition: form-data; name="Recipient"\r\n\r\n5556465589\r\n'
    b"--b\r\n"
    b'Content-Disposition: form-data; name="Coverpage"\r\n\r\nMemo\r\n'
    b"--b\r\n"
    b'Content-Disposition: form-data; name="Attachment"; filename="a.txt"\r\n\r\nhi\r\n'
    b"--b--\r\n"
)
ACCOUNTS = '[accounts."15555550177"]\npassword = "Owl-Quartz-77"\n'


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults() -> None:
    assert vars(parse()) == {
        "host": "127.0.0.1",
        "port": 8025,
        "store": Path("faxprint-sandbox"),
        "accounts": None,
        "delay": 0.0,
        "faxout_rate": None,
        "cover_pages": None,
        "public": False,
    }


def test_options() -> None:
    args = parse(
        "--host",
        "::1",
        "--port",
        "0",
        "--store",
        "s",
        "--accounts",
        "a.toml",
        "--delay",
        "1.5",
        "--faxout-rate",
        "2/10",
        "--cover-pages",
        "Memo, Plain",
        "--public",
    )
    assert vars(args) == {
        "host": "::1",
        "port": 0,
        "store": Path("s"),
        "accounts": Path("a.toml"),
        "delay": 1.5,
        "faxout_rate": "2/10",
        "cover_pages": ("Memo", "Plain"),
        "public": True,
    }


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--port", "65536"], "argument --port: port 65536 is not 0-65535"),
        (["--port", "-1"], "argument --port: port -1 is not 0-65535"),
        (["--port", "http"], "argument --port: invalid _port value: 'http'"),
        (["--delay", "-1"], "argument --delay: -1 is not a number of seconds"),
        (["--delay", "nan"], "argument --delay: nan is not a number of seconds"),
        (["--cover-pages", "a,,b"], "argument --cover-pages: 'a,,b' has an empty cover page name"),
    ],
)
def test_bad_options(argv: list[str], error: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(*argv)
    assert caught.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f": error: {error}")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.8.7", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.1", False),
        ("2001:db8::1", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_public_address_needs_public(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(parse("--host", "192.0.2.1", "--store", str(tmp_path))) == 2
    assert capsys.readouterr() == (
        "",
        "faxprint sandbox: 192.0.2.1 is not a loopback address; the sandbox has well-known passwords,"
        " so listening there needs public=True (--public)\n",
    )
    with pytest.raises(SandboxConfigError):
        SandboxServer("192.0.2.1", store=tmp_path)


def test_a_busy_port_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run(parse("--port", str(port), "--store", str(tmp_path))) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"faxprint sandbox: cannot listen on 127.0.0.1:{port}: ")


def test_the_default_accounts() -> None:
    assert dict(DEFAULT_ACCOUNTS) == {
        "15555550100": Account("sandbox"),
        "15555550199": Account("sandbox", prohibited=True),
    }
    assert "sandbox" not in repr(DEFAULT_ACCOUNTS["15555550100"])


def test_an_accounts_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(
        '[accounts."15555550177"]\npassword = "a"\n'
        '[accounts."15555550177*12"]\npassword = "b"\nprohibited = true\n'
    )
    assert dict(load_accounts(path)) == {
        "15555550177": Account("a"),
        "15555550177*12": Account("b", prohibited=True),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "{path}: cannot read: No such file or directory"),
        (
            "[accounts",
            "{path}: not valid TOML: Expected ']' at the end of a table declaration (at end of document)",
        ),
        ("", '{path}: no accounts; add [accounts."<number>"] tables'),
        ("[other]\n", "{path}: unknown table or key 'other'"),
        (
            '[accounts."555-0100"]\npassword = "x"\n',
            "account '555-0100': a username is <digits> or <digits>*<digits>",
        ),
        ('[accounts."5550100"]\n', '{path}: [accounts."5550100"]: password must be a string'),
        (
            '[accounts."5550100"]\npassword = 1\n',
            '{path}: [accounts."5550100"]: password must be a string',
        ),
        (
            '[accounts."5550100"]\npassword = "x"\nprohibited = "yes"\n',
            '{path}: [accounts."5550100"]: prohibited must be true or false',
        ),
        (
            '[accounts."5550100"]\npassword = "x"\npasswd = "y"\n',
            "{path}: [accounts.\"5550100\"]: unknown key 'passwd'",
        ),
        (
            '[accounts."5550100"]\npassword = "caf\u00e9"\n',
            "account '5550100': the password must be ASCII",
        ),
        ('[accounts]\n"5550100" = 3\n', '{path}: [accounts."5550100"] must be a table'),
    ],
)
def test_bad_accounts_files(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "accounts.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SandboxConfigError) as caught:
        load_accounts(path)
    assert str(caught.value) == message.format(path=path)


def test_run_reports_a_bad_accounts_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.toml"
    assert run(parse("--accounts", str(missing), "--store", str(tmp_path))) == 2
    assert (
        capsys.readouterr().err
        == f"faxprint sandbox: {missing}: cannot read: No such file or directory\n"
    )


class Sandbox:
    """The sandbox as a separate process, started the way the CLI will start it."""

    def __init__(self, cwd: Path, *argv: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # If the line never comes, do not hang the test run: kill, and readline sees EOF.
        killer = threading.Timer(30, self.process.kill)
        killer.start()
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        rest = self.process.stdout.readline()  # both start-up lines, whatever the buffering
        killer.cancel()
        killer.join()
        match = LISTENING.fullmatch(line)
        assert match, (line, self.process.stderr.read() if self.process.stderr else "")
        assert REST_LINE.fullmatch(rest), rest
        self.port = int(match.group(1))
        self.store = Path(match.group(2))

    def post(self, body: bytes, timeout: float = 30) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(
                "POST",
                "/faxapi.asp",
                body=body,
                headers={"Content-Type": "multipart/form-data; boundary=b"},
            )
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def stop(self, signum: int) -> tuple[int, str, str]:
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=30)
        return self.process.returncode, out, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_serves_until_a_signal_and_exits_0(tmp_path: Path, signum: int) -> None:
    (tmp_path / "accounts.toml").write_text(ACCOUNTS)
    sandbox = Sandbox(
        tmp_path, "--port", "0", "--accounts", "accounts.toml", "--cover-pages", "Memo"
    )
    try:
        assert sandbox.store == tmp_path / "faxprint-sandbox"
        assert sandbox.post(BODY) == (200, b"0")
        assert sandbox.post(BODY.replace(b"Memo", b"Urgent")) == (200, b"5")
    finally:
        code, out, err = sandbox.stop(signum)
    assert (code, out) == (0, "")
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(
        "INFO FaxOut request: code 0, HTTP 200 as 000001: Accepted: 1 recipient, 1 attachment (2 bytes)"
    )
    assert (
        "Coverpage 'Urgent' is not None, Default, empty or a cover page of this sandbox (Memo)"
        in lines[1]
    )
    assert "Owl-Quartz-77" not in err
    assert (sandbox.store / "000001" / "attachments" / "01-a.txt").read_bytes() == b"hi"


def test_sigterm_lets_a_slow_request_finish(tmp_path: Path) -> None:
    (tmp_path / "accounts.toml").write_text(ACCOUNTS)
    store = tmp_path / "store"
    sandbox = Sandbox(
        tmp_path,
        "--port",
        "0",
        "--store",
        str(store),
        "--accounts",
        "accounts.toml",
        "--cover-pages",
        "Memo",
        "--delay",
        "600",
    )
    answers: list[tuple[int, bytes]] = []
    client = threading.Thread(target=lambda: answers.append(sandbox.post(BODY, timeout=60)))
    client.start()
    try:
        # The request log is written before the delay starts.
        wait_for((store / "requests.jsonl").exists, 30, "the request log")
    finally:
        code, out, _ = sandbox.stop(signal.SIGTERM)
        client.join()
    assert (code, out) == (0, "")
    assert answers == [(200, b"0")]
