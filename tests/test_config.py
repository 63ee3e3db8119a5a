from __future__ import annotations

import logging
from pathlib import Path

import pytest

from faxprint import config
from faxprint.config import SANDBOX_URL, RetryPolicy
from faxprint.errors import ConfigError

GOOD = """
journal = "{journal}"
uncertain = "resend"
[retry]
tries = 2
backoff = 0.5
[accounts.default]
url = "https://service.example/faxapi.asp"
username = "16505551234*101"
password = "pw-in-file"
[accounts.sales]
url = "https://service.example/faxapi.asp"
username = "16505559999"
password_file = "{secret}"
"""


def _write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "faxprint.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_full_config_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "sales.secret"
    secret.write_text("from-file\n")
    secret.chmod(0o600)
    path = _write(tmp_path, GOOD.format(journal=tmp_path / "j.sqlite", secret=secret))
    loaded = config.load(path, env={})
    assert loaded.journal == tmp_path / "j.sqlite"
    assert loaded.retry == RetryPolicy(tries=2, backoff=0.5)
    assert loaded.uncertain == "resend"
    assert loaded.account().password == "pw-in-file"
    assert loaded.account("sales").password == "from-file"
    assert loaded.source == path


def test_the_environment_names_the_file_and_the_journal(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.format(journal="/nowhere", secret="/dev/null"))
    loaded = config.load(env={"FAXPRINT_CONFIG": str(path), "FAXPRINT_JOURNAL": "/tmp/j.sqlite"})
    assert (loaded.source, loaded.journal) == (path, Path("/tmp/j.sqlite"))


def test_without_a_file_the_embedded_default_is_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(config, "DEFAULT_CONFIG", Path("/nonexistent/faxprint.toml"))
    loaded = config.load(env={"HOME": "/home/ann"})
    assert loaded.account().url == SANDBOX_URL
    assert loaded.source is None


def test_an_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "missing.toml", env={})


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("accounts = [", "not valid TOML"),
        ("", "no \\[accounts.NAME\\] table"),
        ("colour = 'blue'\n[accounts.a]\nurl='https://x/'\nusername='1'", "unknown setting colour"),
        ("[accounts.a]\nusername='1'", "url is missing"),
        (
            "[accounts.a]\nurl='https://x/'\nusername='1'\npassword='a'\npassword_file='b'",
            "not both",
        ),
        ("[accounts.a]\nurl='http://fax.example/'\nusername='1'", "plain http to another host"),
        ("[accounts.a]\nurl='https://u:p@fax.example/'\nusername='1'", "not the url"),
        ("[accounts.a]\nurl='ftp://fax.example/'\nusername='1'", "not an http"),
        (
            "[accounts.a]\nurl='https://x/'\nusername='1'\npassword_file='/nonexistent'",
            "cannot be read",
        ),
        ("uncertain='maybe'\n[accounts.a]\nurl='https://x/'\nusername='1'", "uncertain must be"),
        ("[retry]\ntries=0\n[accounts.a]\nurl='https://x/'\nusername='1'", "at least 1"),
        ("[retry]\ntries='many'\n[accounts.a]\nurl='https://x/'\nusername='1'", "retry"),
    ],
)
def test_bad_configs_are_refused_clearly(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint) as caught:
        config.load(_write(tmp_path, text), env={})
    assert "u:p@" not in str(caught.value)


def test_plain_http_is_allowed_to_loopback_and_when_asked(tmp_path: Path) -> None:
    text = "[accounts.a]\nurl='http://127.0.0.1:8025/faxapi.asp'\nusername='1'\n"
    text += "[accounts.b]\nurl='http://fax.example/'\nusername='1'\nallow_http=true\n"
    loaded = config.load(_write(tmp_path, text), env={})
    assert sorted(loaded.accounts) == ["a", "b"]


def test_unknown_account_names_the_known_ones(tmp_path: Path) -> None:
    loaded = config.load(_write(tmp_path, "[accounts.a]\nurl='https://x/'\nusername='1'"), env={})
    with pytest.raises(ConfigError, match="no account 'b'.*accounts: a"):
        loaded.account("b")


def test_a_world_readable_password_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "[accounts.a]\nurl='https://x/'\nusername='1'\npassword='hunter2'\n"
    with caplog.at_level(logging.WARNING):
        config.load(_write(tmp_path, text, mode=0o644), env={})
    assert "readable by every user" in caplog.text
    assert "hunter2" not in caplog.text


def test_backoff_doubles_up_to_a_cap() -> None:
    policy = RetryPolicy(backoff=2.0, max_backoff=10.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 10.0]


def test_a_non_ascii_password_is_refused_without_quoting_it(tmp_path: Path) -> None:
    text = "[accounts.a]\nurl='https://x/'\nusername='1'\npassword='pässword'\n"
    with pytest.raises(ConfigError, match="password must be printable ASCII") as caught:
        config.load(_write(tmp_path, text), env={})
    assert "ä" not in str(caught.value)


def test_limits_are_read_and_checked(tmp_path: Path) -> None:
    base = GOOD.format(journal=tmp_path / "j.sqlite", secret=tmp_path / "none")
    base = base.replace('password_file = "{}"'.format(tmp_path / "none"), 'password = "x-secret"')
    limits = config.load(_write(tmp_path, base + "[limits]\nmax_pages = 20\nmax_job_mb = 5\n"))
    assert (limits.limits.max_pages, limits.limits.max_job_mb) == (20, 5.0)
    assert limits.limits.max_recipients == 50
    for bad, complaint in (
        ("max_pages = 0", "every limit must be greater than 0"),
        ('max_pages = "many"', "invalid literal"),
        ("max_pagez = 3", "unknown setting max_pagez"),
    ):
        with pytest.raises(ConfigError, match=complaint):
            config.load(_write(tmp_path, base + f"[limits]\n{bad}\n"))


ACCOUNT = '[accounts.default]\nurl = "https://service.example/faxapi.asp"\nusername = "1"\n'


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        # a PostgreSQL journal is a URL (issue 22), but never one with its password
        ('journal = "postgresql://fax:s3cret-pw@db.example/fax"', "the URL holds a password"),
        ('journal = "postgresql://fax@db/fax?%70assword=s3cret"', "the URL holds a password"),
        ('journal = "sqlite:///var/lib/fax.db"', "must be a file path, not a sqlite: address"),
        ('[hotfolder]\npath = "smb://server/fax"', "must be a file path, not a smb: address"),
    ],
)
def test_a_value_that_is_no_file_path_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, said: str
) -> None:
    # Issue 17: a relative "journal" was resolved against the current folder, so a
    # database URL made a folder "postgresql:" wherever a command ran.
    monkeypatch.chdir(tmp_path)
    text = setting + "\n" + ACCOUNT if setting.startswith("journal") else ACCOUNT + setting
    with pytest.raises(ConfigError) as refused:
        config.load(_write(tmp_path, text), env={})
    message = refused.value.message
    assert said in message
    assert "s3cret" not in message and "\n" not in message  # the rest may hold a password
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faxprint.toml"]


def test_relative_paths_start_at_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "sales.secret").write_text("from-file\n")
    (folder / "sales.secret").chmod(0o600)
    text = (
        'journal = "spool/journal.sqlite"\n'
        + GOOD.split("[accounts.default]", 1)[1].join(["[accounts.default]", ""])
    ).replace("{secret}", "sales.secret")
    path = folder / "faxprint.toml"
    path.write_text(text + '[hotfolder]\npath = "drop"\n')
    path.chmod(0o600)
    monkeypatch.chdir(tmp_path)  # somewhere else: relative paths do not start here
    loaded = config.load(path, env={})
    assert loaded.journal == folder / "spool" / "journal.sqlite"
    assert loaded.accounts["sales"].password == "from-file"
    assert loaded.hotfolder["path"] == str(folder / "drop")


def test_the_journal_from_the_environment_is_a_path_too(tmp_path: Path) -> None:
    path = _write(tmp_path, ACCOUNT)
    with pytest.raises(ConfigError, match=r"\$FAXPRINT_JOURNAL must be a file path"):
        config.load(path, env={"FAXPRINT_JOURNAL": "postgresql://db/fax"})
    assert config.load(path, env={"FAXPRINT_JOURNAL": "/var/tmp/j.sqlite"}).journal == Path(
        "/var/tmp/j.sqlite"
    )
