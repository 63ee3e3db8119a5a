"""The outbox end to end: two people print to a real cupsd with no number, ``faxprint serve``
(as lp) holds their jobs for an address, and each addresses her own job, through the JSON
API with HTTP Basic credentials checked by PAM through the root sign-in helper; the
sandbox receives each fax once. Nobody else's job is there for them (404), and no or
wrong credentials get 401."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from faxprint.journal import Journal, State
from faxprint.sandbox import SandboxServer
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config
from tests.support.cupsd import PrivateCupsd, free_port
from tests.support.helpers import make_pdf, wait_for
from tests.support.secrets import TEST_ACCOUNTS
from tests.support.service import ServiceProcess
from tests.test_cupsd_backend import faxprint

pytestmark = [
    pytest.mark.cupsd,
    pytest.mark.skipif(os.geteuid() != 0, reason="PAM users need root"),
]

QUEUE = "FaxOutbox"
#: Two people of this machine, made for the tests (PAM checks their passwords).
PEOPLE = {"faxtestann": "Ann-secret-4711", "faxtestbob": "Bob-secret-0815"}


@pytest.fixture(scope="module")
def people() -> Iterator[dict[str, str]]:
    for name, password in PEOPLE.items():
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=False,
                       capture_output=True)  # fmt: skip
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    yield PEOPLE
    for name in PEOPLE:
        subprocess.run(["userdel", name], check=False, capture_output=True)


@pytest.fixture(scope="module")
def helper(faxprint_root: Path) -> Iterator[Path]:
    """The root sign-in helper, its socket where lp can reach it."""
    run = Path(tempfile.mkdtemp(prefix="run-", dir=faxprint_root))
    run.chmod(0o755)
    socket = run / "auth.sock"
    process = subprocess.Popen([sys.executable, "-m", "faxprint", "auth-helper", "--socket",
                                str(socket)], cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    try:
        wait_for(socket.exists, timeout=30, what="the sign-in helper's socket")
        yield socket
    finally:
        process.terminate()
        process.communicate(timeout=30)


@dataclass
class Outbox:
    url: str
    sandbox: SandboxServer
    journal: Path

    def jobs(self, user: str) -> list[dict[str, object]]:
        answer = requests.get(f"{self.url}/api/jobs", auth=(user, PEOPLE[user]), timeout=30)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["jobs"])


@pytest.fixture
def outbox(cupsd: PrivateCupsd, faxprint_root: Path, people: dict[str, str], helper: Path,
           tmp_path: Path) -> Iterator[Outbox]:  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="outbox-", dir=faxprint_root / "spool"))
    lp = pwd.getpwnam("lp")
    os.chown(folder, lp.pw_uid, lp.pw_gid)
    port = free_port()
    with SandboxServer(port=0, store=tmp_path / "store", accounts=TEST_ACCOUNTS) as sandbox:
        config = write_config(
            faxprint_root / "etc" / "faxprint.toml", faxout_account(sandbox.url),
            journal=folder / "journal.sqlite", lp_readable=True, retry={"tries": 1},
            extra=f'[web]\nlisten = "127.0.0.1:{port}"\nauth_socket = "{helper}"\n',
        )  # fmt: skip
        done = faxprint(cupsd, faxprint_root, "install", "--name", QUEUE, "--backend-dir",
                        str(cupsd.backend_dir))  # fmt: skip
        assert done.returncode == 0, done.stderr
        service = ServiceProcess(config, folder / "journal.sqlite", user="lp", env=cupsd.env(),
                                 log=tmp_path / "serve.log")  # fmt: skip
        try:
            wait_for(lambda: _answers(port), timeout=30, what=service.said)
            yield Outbox(f"http://127.0.0.1:{port}", sandbox, folder / "journal.sqlite")
        finally:
            assert service.stop() == 0, service.said()
            cupsd.connection().deletePrinter(QUEUE)


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/signin", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def _print_unaddressed(cupsd: PrivateCupsd, outbox: Outbox, tmp_path: Path) -> dict[str, str]:
    """Each person prints a page with no number; the service holds both: their keys."""
    keys = {}
    for name in PEOPLE:
        cupsd.lp(QUEUE, make_pdf(tmp_path / f"{name}.pdf"), user=name, title=f"{name}'s offer")
    with Journal(outbox.journal) as journal:

        def held() -> bool:
            waiting = journal.recent(state=State.UNADDRESSED)
            keys.update({job.user: job.key for job in waiting})
            return len(waiting) == 2

        wait_for(held, timeout=60, what="both jobs waiting for an address")
    return keys


def test_each_person_addresses_her_own_job_through_the_api(
    cupsd: PrivateCupsd, outbox: Outbox, tmp_path: Path
) -> None:
    keys = _print_unaddressed(cupsd, outbox, tmp_path)
    ann, bob = "faxtestann", "faxtestbob"
    assert [job["key"] for job in outbox.jobs(ann)] == [keys[ann]]  # hers alone
    assert [job["state"] for job in outbox.jobs(bob)] == ["unaddressed"]
    api = f"{outbox.url}/api/jobs"
    assert requests.get(api, timeout=30).status_code == 401
    wrong = requests.get(api, auth=(ann, "not-her-password"), timeout=30)
    assert wrong.status_code == 401 and "WWW-Authenticate" in wrong.headers
    others = requests.get(f"{api}/{keys[bob]}", auth=(ann, PEOPLE[ann]), timeout=30)
    assert others.status_code == 404
    stolen = requests.post(f"{api}/{keys[bob]}/address", json={"to": ["5550001111"]},
                           auth=(ann, PEOPLE[ann]), timeout=30)  # fmt: skip
    assert stolen.status_code == 404
    page = requests.get(f"{api}/{keys[ann]}/pages/1.png", auth=(ann, PEOPLE[ann]), timeout=30)
    assert page.status_code == 200 and page.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert page.headers["Content-Type"] == "image/png"
    for path in (f"{keys[bob]}/pages/1.png", f"{keys[ann]}/pages/2.png"):
        assert requests.get(f"{api}/{path}", auth=(ann, PEOPLE[ann]), timeout=30).status_code == 404
    shown = requests.get(f"{api}/{keys[ann]}", auth=(ann, PEOPLE[ann]), timeout=30).json()
    assert shown["previews"] == 1 and shown["user"] == ann
    for person, number in ((ann, "5556465589"), (bob, "5555568552")):
        sent = requests.post(f"{api}/{keys[person]}/address", json={"to": [number]},
                             auth=(person, PEOPLE[person]), timeout=30)  # fmt: skip
        assert sent.status_code == 202, sent.text
    wait_for(lambda: len(outbox.sandbox.faxes()) == 2, timeout=60, what="both faxes")
    numbers = sorted(f.record["recipients"][0]["number"] for f in outbox.sandbox.faxes())
    assert numbers == ["5555568552", "5556465589"]  # each once
    wait_for(lambda: [j["state"] for j in outbox.jobs(ann)] == ["accepted"], timeout=30,
             what="ann's job accepted")  # fmt: skip
    assert not (outbox.journal.parent / "waiting").exists() or not any(
        (outbox.journal.parent / "waiting").iterdir())  # the previews' copies went  # fmt: skip


#: Where the browser test leaves its screenshots (the README's come from a run of it).
ARTEFACTS = Path(os.environ.get("FAXPRINT_TEST_ARTEFACTS", "/tmp/faxprint-test-artefacts"))


def _browser(profile: Path) -> Any:
    """Debian's Chromium, headless, driven by Debian's chromedriver: nothing downloaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--disable-quic", "--window-size=1000,700",
                 f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _address_on_the_page(browser: Any, url: str, person: str, number: str, shots: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/")
    assert browser.current_url.endswith("/signin")
    browser.find_element(By.NAME, "user").send_keys(person)
    browser.find_element(By.NAME, "password").send_keys(PEOPLE[person])
    browser.find_element(By.CSS_SELECTOR, "form.signin button").click()
    _until(browser, lambda: not browser.current_url.endswith("/signin"), "signed in")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.jobs tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, "td.state").text for r in rows] == [
        "waiting for an address"]  # hers alone  # fmt: skip
    browser.save_screenshot(str(ARTEFACTS / f"{shots}-my-faxes.png"))
    rows[0].find_element(By.CSS_SELECTOR, "a").click()
    _until(browser, lambda: "/jobs/" in browser.current_url, "the job's page")
    browser.find_element(By.NAME, "to").send_keys(number)
    browser.find_element(By.NAME, "cover_text").send_keys("Signed, page 2")
    browser.save_screenshot(str(ARTEFACTS / f"{shots}-address.png"))
    browser.find_element(By.CSS_SELECTOR, "form.address button").click()
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "p.said"), "the answer")
    said = browser.find_element(By.CSS_SELECTOR, "p.said").text
    assert said.endswith(f"addressed to {number}; the printer sends it now"), said
    browser.save_screenshot(str(ARTEFACTS / f"{shots}-sent.png"))


def _until(browser: Any, condition: Any, what: str) -> None:
    """Wait for the page (a click's navigation ends when the next page is there)."""
    wait_for(condition, timeout=30, what=lambda: f"{what}: {browser.current_url} "
             f"{browser.page_source[:2000]}")  # fmt: skip


def test_each_person_addresses_her_own_job_on_the_page_in_chromium(
    cupsd: PrivateCupsd, outbox: Outbox, tmp_path: Path
) -> None:
    keys = _print_unaddressed(cupsd, outbox, tmp_path)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for person, number in (("faxtestann", "5556465589"), ("faxtestbob", "5555568552")):
        browser = _browser(tmp_path / f"profile-{person}")
        try:
            _address_on_the_page(browser, outbox.url, person, number, f"outbox-{person}")
            other = keys["faxtestbob" if person == "faxtestann" else "faxtestann"]
            browser.get(f"{outbox.url}/jobs/{other}")
            assert "no such job" in browser.page_source  # another's job: 404
        finally:
            browser.quit()
    wait_for(lambda: len(outbox.sandbox.faxes()) == 2, timeout=60, what="both faxes")
    faxes = outbox.sandbox.faxes()
    assert sorted(f.record["recipients"][0]["number"] for f in faxes) == [
        "5555568552", "5556465589"]  # each once  # fmt: skip
    assert {f.record.get("coverpagetext") for f in faxes} == {"Signed, page 2"}


def test_a_waiting_job_cancelled_then_sent_again_to_a_number(
    cupsd: PrivateCupsd, outbox: Outbox, tmp_path: Path
) -> None:
    ann, auth = "faxtestann", ("faxtestann", PEOPLE["faxtestann"])
    job = cupsd.lp(QUEUE, make_pdf(tmp_path / "late.pdf"), user=ann, title="late offer")
    with Journal(outbox.journal) as journal:
        wait_for(lambda: journal.recent(state=State.UNADDRESSED), timeout=60, what="waiting")
        [waiting] = journal.recent(state=State.UNADDRESSED)
    api = f"{outbox.url}/api/jobs/{waiting.key}"
    bob = requests.post(f"{api}/cancel", json={}, auth=("faxtestbob", PEOPLE["faxtestbob"]),
                        timeout=30)  # fmt: skip
    assert bob.status_code == 404  # not his
    cancelled = requests.post(f"{api}/cancel", json={}, auth=auth, timeout=30)
    assert cancelled.status_code == 202, cancelled.text
    assert cupsd.wait_job(job) == 7  # canceled in CUPS
    assert requests.get(api, auth=auth, timeout=30).json()["state"] == "cancelled"
    again = requests.post(f"{api}/resend", json={"to": ["5556465589|Jane Doe"]}, auth=auth,
                          timeout=30)  # fmt: skip
    assert again.status_code == 202, again.text
    wait_for(lambda: len(outbox.sandbox.faxes()) == 1, timeout=60,
             what=lambda: f"the fax sent again: {cupsd.job_log(job)[-1500:]}")  # fmt: skip
    [fax] = outbox.sandbox.faxes()
    assert fax.record["recipients"] == [{"number": "5556465589", "name": "Jane Doe"}]
    refused = requests.post(f"{api}/cancel", json={}, auth=auth, timeout=30)
    assert refused.status_code == 400 and "accepted" in refused.json()["error"]


def test_the_pages_fit_a_phone_screen(cupsd: PrivateCupsd, outbox: Outbox, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    keys = _print_unaddressed(cupsd, outbox, tmp_path)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    browser = _browser(tmp_path / "profile-phone")
    try:
        browser.set_window_size(390, 844)  # a phone's screen, in CSS pixels
        browser.get(f"{outbox.url}/signin")
        browser.find_element(By.NAME, "user").send_keys("faxtestbob")
        browser.find_element(By.NAME, "password").send_keys(PEOPLE["faxtestbob"])
        browser.find_element(By.CSS_SELECTOR, "form.signin button").click()
        _until(browser, lambda: not browser.current_url.endswith("/signin"), "signed in")
        for path in ("/", f"/jobs/{keys['faxtestbob']}", "/contacts"):
            browser.get(f"{outbox.url}{path}")
            wide, room = browser.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert wide <= room, (path, wide, room)  # nothing runs off the screen sideways
        browser.save_screenshot(str(ARTEFACTS / "outbox-phone.png"))
    finally:
        browser.quit()
