"""``faxprint doctor`` (a real process) on a config with a RingCentral REST account, the
sandbox's REST side over HTTP: the account's credentials are proved by getting a token,
no fax is sent and no token is left in the backend's cache; a wrong JWT or client secret
fails the credentials check with a fix, and a sign-in that is down fails it without
blaming the credentials; a client secret written inline in a config every user can read,
or kept in a file every user can read, fails its permissions check.

The config and secret files sit in a folder lp can reach (``faxprint_root``), owned
root:lp as on a server. No cupsd is started: its checks (backend, queues) fail here and
are not what these tests look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from faxprint.sandbox import SandboxServer
from faxprint.sandbox.rest import RestService
from faxprint.sandbox.rest_replies import Reply, error
from tests.conftest import REPO
from tests.support.configs import rest_account_toml, write_config
from tests.support.secrets import TEST_APPS, TEST_CLIENT_SECRET, TEST_JWT

AS_ROOT = os.geteuid() == 0
#: What the doctor finds broken without a cupsd and a backend: not these tests' business.
NOT_SET_UP = ("backend", "queues")
FIX_COLUMN = " " * 27  # a "fix:" line is indented under the detail


@dataclass
class Doctor:
    config: Path
    etc: Path
    spool: Path
    url: str
    tmp_path: Path

    def secret(self, key: str) -> Path:
        return self.etc / f"office.{key}.secret"

    def configure(self, account: str | None = None) -> None:
        """Write the config (the REST account ``office`` unless given), root:lp 0640 as
        on a server, and so are the secret files it names."""
        account = account or rest_account_toml(self.url, self.etc)
        write_config(
            self.config, account, journal=self.spool / "rest-doctor.sqlite", lp_readable=True
        )

    def run(self, path: str | None = None) -> tuple[int, str]:
        """Run `faxprint doctor` (with ``path`` as its PATH); return its status and output."""
        env = {
            "PATH": path or os.environ["PATH"], "HOME": str(self.tmp_path),
            "FAXPRINT_CONFIG": str(self.config),
            "CUPS_SERVER": str(self.tmp_path / "no-cupsd.sock"),  # fails at once, asks no one
        }  # fmt: skip
        command = [sys.executable, "-m", "faxprint", "doctor"]
        command += ["--backend-dir", str(self.tmp_path / "no-backend")]
        command += ["--log", str(self.tmp_path / "syslog")]
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO,
                                timeout=120, check=False)  # fmt: skip
        for secret in (TEST_CLIENT_SECRET, TEST_JWT):
            assert secret not in result.stdout + result.stderr
        return result.returncode, result.stdout


def check(output: str, name: str) -> tuple[str, str]:
    """Return a check's status and its detail with its fix, found by the check's name
    (a name longer than its column pushes the detail to the right)."""
    lines = output.splitlines()
    for number, line in enumerate(lines):
        if line[6:].startswith(name + " "):
            detail = line[6 + len(name) :].strip()
            for more in lines[number + 1 :]:
                if not more.startswith(FIX_COLUMN):
                    break
                detail += " " + more.strip()
            return line[:5].strip(), detail
    raise AssertionError(f"no check {name!r} in:\n{output}")


def failed(output: str) -> list[str]:
    """The FAIL lines of checks these tests set up (not cupsd's and the backend's)."""
    return [
        line for line in output.splitlines()
        if line.startswith("FAIL ") and line[6:].split(" ")[0] not in NOT_SET_UP
    ]  # fmt: skip


@pytest.fixture
def service() -> RestService:
    return RestService(TEST_APPS)


@pytest.fixture
def doctor(tmp_path: Path, faxprint_root: Path, service: RestService) -> Iterator[Doctor]:
    (tmp_path / "syslog").write_text("Nov 26 10:00:00 host kernel: nothing to see\n")
    with SandboxServer(port=0, store=tmp_path / "sandbox-store", rest=service) as server:
        setup = Doctor(faxprint_root / "etc" / "rest-doctor.toml", faxprint_root / "etc",
                       faxprint_root / "spool", server.url, tmp_path)  # fmt: skip
        setup.configure()
        try:
            yield setup
        finally:
            for path in (setup.config, setup.secret("client_secret"), setup.secret("jwt")):
                path.unlink(missing_ok=True)


def test_good_credentials_get_a_token_and_send_no_fax(doctor: Doctor, service: RestService) -> None:
    before = sorted(p.name for p in doctor.spool.iterdir())
    status, output = doctor.run()
    assert check(output, "credentials office") == (
        "ok", "client faxprint-test-client: token valid for 60 min",
    )  # fmt: skip
    assert check(output, "account office")[0] == "ok"
    assert check(output, "ghostscript") == (
        "ok", f"{shutil.which('gs')}: PostScript is made PDF for REST accounts"
    )  # fmt: skip
    assert failed(output) == [], output
    assert status == 1  # the missing backend and cupsd, and nothing else
    assert (service.token_requests, service.messages) == (1, {})
    # The token went to a temporary folder: nothing is left beside the journal.
    assert sorted(p.name for p in doctor.spool.iterdir()) == before
    seen = "ok" if AS_ROOT else "skip"  # what lp may read is only known as root
    assert check(output, "config permissions")[0] == seen
    assert check(output, "secret office client_secret")[0] == seen
    assert check(output, "secret office jwt")[0] == seen


@pytest.mark.parametrize(
    ("key", "answer", "grants"),
    [
        ("jwt", "HTTP 400: invalid_grant", 1),  # a grant asked for, and refused
        ("client_secret", "HTTP 401: invalid_client", 0),  # the app itself is refused
    ],
)
def test_wrong_credentials_fail_the_check_with_a_fix(
    doctor: Doctor, service: RestService, key: str, answer: str, grants: int
) -> None:
    doctor.secret(key).write_text(f"not-the-{key}\n")  # mode and owner unchanged
    status, output = doctor.run()
    state, detail = check(output, "credentials office")
    assert state == "FAIL", output
    for words in ("refused the app's credentials", answer, "client_id, client_secret and jwt",
                  "fix: create or renew the app's credentials"):  # fmt: skip
        assert words in detail, detail
    assert status == 1
    assert check(output, "account office")[0] == "ok"  # reached; only the credentials fail
    assert [line[6:24] for line in failed(output)] == ["credentials office"]
    assert (service.token_requests, service.messages) == (grants, {})


def test_an_inline_client_secret_in_a_config_every_user_can_read(doctor: Doctor) -> None:
    account = rest_account_toml(doctor.url, doctor.etc).replace(
        f'client_secret_file = "{doctor.secret("client_secret")}"\n',
        f'client_secret = "{TEST_CLIENT_SECRET}"\n',
    )
    assert "client_secret = " in account
    doctor.configure(account)
    doctor.config.chmod(0o644)
    _, output = doctor.run()
    state, detail = check(output, "config permissions")
    assert state == "FAIL"
    assert "holds a secret and every user can read it (mode 644)" in detail
    assert f"fix: chown root:lp {doctor.config} && chmod 0640 {doctor.config}" in detail
    assert check(output, "credentials office")[0] == "ok"  # the secret itself works
    assert "secret office client_secret" not in output  # inline: no file to check

    doctor.config.chmod(0o640)  # as the fix says
    _, output = doctor.run()
    assert check(output, "config permissions")[0] == ("ok" if AS_ROOT else "skip")
    assert failed(output) == []


def test_a_client_secret_file_every_user_can_read(doctor: Doctor) -> None:
    secret = doctor.secret("client_secret")
    secret.chmod(0o644)
    _, output = doctor.run()
    state, detail = check(output, "secret office client_secret")
    assert state == "FAIL"
    assert f"{secret} (mode 644) can be read by every user" in detail
    assert f"fix: chown root:lp {secret} && chmod 0640 {secret}" in detail
    assert check(output, "secret office jwt")[0] != "FAIL"  # its own file is fine
    # The config holds no secret itself: its mode is not the problem.
    assert check(output, "config permissions")[0] != "FAIL"
    assert len(failed(output)) == 1
    if AS_ROOT:
        secret.chmod(0o600)  # root's alone: the backend, run as lp, could not read it
        _, output = doctor.run()
        state, detail = check(output, "secret office client_secret")
        assert state == "FAIL" and "lp (who runs the backend) cannot read" in detail


def test_without_ghostscript_postscript_is_said_to_be_refused(doctor: Doctor) -> None:
    _, output = doctor.run(path=str(doctor.tmp_path))  # a server without gs
    assert check(output, "ghostscript") == (
        "warn", "not installed: PostScript documents sent to a REST account are refused "
        "fix: apt-get install ghostscript",
    )  # fmt: skip
    assert check(output, "credentials office")[0] == "ok"  # a warning, not a failure
    assert failed(output) == []


class SignInDown(RestService):
    """A REST side whose sign-in endpoint is down (HTTP 503): the credentials may be fine."""

    def token(self, authorization: str | None, form: Mapping[str, list[str]]) -> Reply:
        return error(503, "CMN-211", "Service Temporarily Unavailable")


@pytest.mark.parametrize("service", [SignInDown(TEST_APPS)])
def test_a_sign_in_that_is_down_is_not_blamed_on_the_credentials(doctor: Doctor) -> None:
    status, output = doctor.run()
    state, detail = check(output, "credentials office")
    assert (state, status) == ("FAIL", 1)
    assert "the sign-in is unavailable (HTTP 503: no text)" in detail
    assert "fix:" in detail
    assert "renew the app's credentials" not in detail  # nothing wrong with them
