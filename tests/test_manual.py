"""Learning faxprint from itself: --help of every command, the manual page (generated
from the parser, so it cannot fall behind) and shell completion."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from faxprint.cli import build_parser
from tests.conftest import REPO

COMMANDS = ["send", "install", "uninstall", "watch", "status", "history", "show", "retry",
            "cancel", "address", "expire", "contacts", "journal", "serve", "auth-helper", "covers", "preview", "doctor", "completion",
            "sandbox"]  # fmt: skip


def _faxprint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "faxprint", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=60, check=False)  # fmt: skip


def test_every_command_is_listed_and_explains_itself() -> None:
    listed = _faxprint("--help").stdout
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    assert sorted(commands.choices) == sorted(COMMANDS)  # type: ignore[union-attr]
    for command in COMMANDS:
        assert f"    {command} " in listed, command
        shown = _faxprint(command, "--help")
        assert shown.returncode == 0 and shown.stdout.startswith(f"usage: faxprint {command}")


@pytest.mark.parametrize("columns", ["40", "200"])
def test_the_manual_page_is_what_the_parser_says(columns: str) -> None:
    check = subprocess.run(
        [sys.executable, "scripts/manpage.py", "--check"], capture_output=True, text=True,
        cwd=REPO, env={**os.environ, "COLUMNS": columns}, timeout=60, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr


def test_the_manual_page_renders_with_man() -> None:
    shown = subprocess.run(
        ["man", "--nh", "--nj", "-l", str(REPO / "docs" / "faxprint.1")], capture_output=True,
        text=True, env={**os.environ, "MANWIDTH": "100", "MAN_KEEP_FORMATTING": ""},
        timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    for heading in ("SYNOPSIS", "EXIT STATUS", "FILES", "ENVIRONMENT"):
        assert heading in shown.stdout
    for command in COMMANDS:
        assert f"faxprint {command}" in shown.stdout, command


def _complete(script: str, *words: str) -> list[str]:
    line = " ".join(words)
    program = (
        f"{script}\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); "
        f"COMP_CWORD={len(words) - 1}; COMP_LINE={line!r}; COMP_POINT={len(line)}; "
        '_shtab_faxprint; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True,
                            timeout=60, check=True)  # fmt: skip
    return result.stdout.split()


def test_bash_completes_commands_options_and_choices() -> None:
    script = _faxprint("completion", "bash").stdout
    assert _complete(script, "faxprint", "hi") == ["history"]
    assert "--state" in _complete(script, "faxprint", "history", "--st")
    assert _complete(script, "faxprint", "history", "--state", "unc") == ["uncertain"]
    assert _complete(script, "faxprint", "preview", "--resolution", "") == ["high", "low"]
