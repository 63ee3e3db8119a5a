from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from faxprint.cups.install import backend_text, ppd_text, prepare_journal
from faxprint.journal import Journal
from tests.conftest import REPO


def test_the_backend_names_this_python_and_runs_main() -> None:
    text = backend_text("/opt/faxprint/venv/bin/python", Path("/opt/faxprint/lib"))
    assert text.startswith("#!/opt/faxprint/venv/bin/python -S\n")
    assert "sys.path.insert(0, '/opt/faxprint/lib')\nfrom faxprint.cups.thin import main" in text
    template = (REPO / "cups-backend" / "faxprint").read_text()
    assert text.split("\n", 1)[1] == template.split("\n", 1)[1].replace(
        "# faxprint-path\n", "sys.path.insert(0, '/opt/faxprint/lib')\n"
    )


def test_the_fax_type_ppd_differs_by_one_line() -> None:
    plain, fax = ppd_text(fax_type=False), ppd_text(fax_type=True)
    assert not [line for line in plain.splitlines() if line.startswith("*cupsFax")]
    assert set(fax.splitlines()) - set(plain.splitlines()) == {"*cupsFax: True"}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files to lp")
def test_a_journal_root_wrote_first_is_given_to_lp(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    with Journal(folder / "journal.sqlite") as journal:  # as root, before install
        journal.begin(
            "k", source="send", account="a", recipients=["5556465589"], documents=[], pages=None
        )
    changes = prepare_journal(folder)
    lp = pwd.getpwnam("lp").pw_uid
    assert {p.name for p in folder.iterdir() if p.stat().st_uid != lp} == set()
    assert changes and all(change.endswith(" to lp") for change in changes)
    assert prepare_journal(folder) == []  # idempotent


def test_install_refuses_an_unknown_account_before_touching_anything(tmp_path: Path) -> None:
    config = tmp_path / "faxprint.toml"
    config.write_text("[accounts.default]\nurl='https://fax.example/'\nusername='1'\n")
    env = {**os.environ, "FAXPRINT_CONFIG": str(config), "CUPS_SERVER": str(tmp_path / "no.sock")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "faxprint",
            "install",
            "--account",
            "sales",
            "--backend-dir",
            str(tmp_path / "be"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    assert (result.returncode, result.stdout) == (78, "")
    assert "no account 'sales'" in result.stderr
    assert not (tmp_path / "be").exists()
