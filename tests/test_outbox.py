"""The outbox's door and pages through Flask's test client, the password check faked at
its seam (the real one, PAM through the root helper, is tests/test_cupsd_outbox.py and
the helper's own tests below): 401 and 404, sign-in limits, CSRF, escaping of what came
from a document, cookie flags and security headers."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from faxprint import config as configuration
from faxprint.journal import Journal
from faxprint.web import auth
from faxprint.web.app import create_app
from tests.conftest import REPO
from tests.support.configs import faxout_account, write_config

PASSWORDS = {"ann": "ann-pw", "bob": "bob-pw"}
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _ask(user: str, password: str) -> bool:
    return PASSWORDS.get(user) == password


@pytest.fixture
def settings(tmp_path: Path) -> configuration.Config:
    config = write_config(tmp_path, faxout_account("http://127.0.0.1:9/faxapi.asp"))
    settings = configuration.load(config, env={})
    with Journal(settings.journal) as journal:
        journal.unaddressed("cups:Fax:7:aaaa", "waiting for an address", source="cups",
                            account="default", documents=["offer.pdf"], user="ann",
                            title=HOSTILE)  # fmt: skip
        journal.unaddressed("cups:Fax:8:bbbb", "waiting for an address", source="cups",
                            account="default", documents=["bill.pdf"], user="bob",
                            title="bob's bill")  # fmt: skip
    return settings


@pytest.fixture
def client(settings: configuration.Config) -> FlaskClient:
    return create_app(settings, ask=_ask).test_client()


def _sign_in(client: FlaskClient, user: str = "ann") -> str:
    answer = client.post("/signin", data={"user": user, "password": PASSWORDS[user]})
    assert answer.status_code == 302, answer.text
    page = client.get("/").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found[1]


def test_no_credentials_401_and_the_pages_send_to_sign_in(client: FlaskClient) -> None:
    answer = client.get("/api/jobs")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="faxprint outbox"'
    assert client.get("/").headers["Location"] == "/signin"
    assert client.get("/jobs/cups:Fax:7:aaaa").status_code == 302
    wrong = client.get("/api/jobs", headers=_basic("ann", "nope"))
    assert wrong.status_code == 401


def _basic(user: str, password: str) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_each_user_sees_her_own_jobs_and_no_one_elses(client: FlaskClient) -> None:
    ann = _basic("ann", "ann-pw")
    listed = client.get("/api/jobs", headers=ann).json
    assert listed is not None and [j["key"] for j in listed["jobs"]] == ["cups:Fax:7:aaaa"]
    assert client.get("/api/jobs/cups:Fax:8:bbbb", headers=ann).status_code == 404
    assert client.get("/api/jobs/no-such-job", headers=ann).status_code == 404
    stolen = client.post("/api/jobs/cups:Fax:8:bbbb/address", json={"to": ["5556465589"]},
                         headers=ann)  # fmt: skip
    assert stolen.status_code == 404
    _sign_in(client, "ann")
    assert client.get("/jobs/cups:Fax:8:bbbb").status_code == 404
    assert "bob's bill" not in client.get("/").text


def test_what_came_from_a_document_is_text(client: FlaskClient) -> None:
    _sign_in(client)
    for page in (client.get("/").text, client.get("/jobs/cups:Fax:7:aaaa").text):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []  # no inline script at all


def test_a_form_without_its_token_changes_nothing(client: FlaskClient) -> None:
    token = _sign_in(client)
    form = {"to": "5556465589"}
    assert client.post("/jobs/cups:Fax:7:aaaa/address", data=form).status_code == 403
    forged = client.post("/jobs/cups:Fax:7:aaaa/address", data={**form, "csrf": "forged"})
    assert forged.status_code == 403
    assert client.post("/signout").status_code == 403  # signing out is a change too
    json_without = client.post("/api/jobs/cups:Fax:7:aaaa/address", json={"to": ["5556465589"]})
    assert json_without.status_code == 403  # a session's JSON needs the token as well
    assert token  # the page carried one


def test_basic_credentials_change_things_with_json_only(client: FlaskClient) -> None:
    ann = _basic("ann", "ann-pw")
    as_form = client.post("/api/jobs/cups:Fax:7:aaaa/address", data={"to": "5556465589"},
                          headers=ann)  # fmt: skip
    assert as_form.status_code == 400
    bad = client.post("/api/jobs/cups:Fax:7:aaaa/address", json={"to": ["12"]}, headers=ann)
    assert bad.status_code == 400 and "12" in bad.json["error"]  # type: ignore[index]


def test_sign_in_attempts_are_limited_per_user(client: FlaskClient) -> None:
    for _ in range(5):
        wrong = client.post("/signin", data={"user": "ann", "password": "guess"})
        assert wrong.status_code == 401 and "wrong name or password" in wrong.text
    locked = client.post("/signin", data={"user": "ann", "password": "ann-pw"})
    assert locked.status_code == 429 and "too many failed sign-ins" in locked.text
    assert client.get("/api/jobs", headers=_basic("ann", "ann-pw")).status_code == 429
    assert client.post("/signin", data={"user": "bob", "password": "bob-pw"}).status_code == 302


def test_cookies_and_headers(settings: configuration.Config) -> None:
    secure = create_app(settings, ask=_ask, secure=True).test_client()
    answer = secure.post("/signin", data={"user": "ann", "password": "ann-pw"})
    cookie = answer.headers["Set-Cookie"]
    for flag in ("HttpOnly", "SameSite=Strict", "Secure"):
        assert flag in cookie
    assert "Content-Security-Policy" in answer.headers
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = create_app(settings, ask=_ask).test_client()
    assert "Secure" not in plain.post("/signin", data={"user": "ann", "password": "ann-pw"}
                                      ).headers["Set-Cookie"]  # fmt: skip


def test_no_secret_of_an_account_in_any_answer(client: FlaskClient,
                                               settings: configuration.Config) -> None:  # fmt: skip
    from tests.support.secrets import TEST_PASSWORD

    _sign_in(client)
    for path in ("/", "/jobs/cups:Fax:7:aaaa", "/api/jobs", "/api/jobs/cups:Fax:7:aaaa"):
        assert TEST_PASSWORD not in client.get(path).text


# -- the root sign-in helper -----------------------------------------------------------


class _Pam:
    """PAM at its seam: counts the questions, knows one password."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import pamela

        self.asked = 0

        def authenticate(user: str, password: str, **kwargs: Any) -> None:
            self.asked += 1
            if (user, password) != ("ann", "right"):
                raise pamela.PAMError(7, "Authentication failure")

        monkeypatch.setattr(pamela, "authenticate", authenticate)


def test_the_helper_stops_asking_pam_after_five_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    pam = _Pam(monkeypatch)
    helper = auth.Helper(group="root")
    assert helper.check("ann", "right")
    assert [helper.check("ann", "guess") for _ in range(5)] == [False] * 5
    assert not helper.check("ann", "right")  # locked out: PAM is not even asked
    assert pam.asked == 6
    assert not helper.check("-rf", "x") and not helper.check("a:b", "x") and pam.asked == 6


@pytest.mark.skipif(sys.platform != "linux", reason="SO_PEERCRED")
def test_the_helper_answers_its_group_and_root_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    if os.geteuid() != 0:
        pytest.skip("running a client as another user needs root")
    import shutil
    import tempfile

    _Pam(monkeypatch)
    helper = auth.Helper(group="lp")
    folder = Path(tempfile.mkdtemp(prefix="faxprint-auth-"))  # where lp and nobody can look
    folder.chmod(0o755)
    server = helper.listen(folder / "auth.sock")
    threading.Thread(target=helper.serve, args=(server,), daemon=True).start()
    try:
        assert auth.check_password("ann", "right", folder / "auth.sock")
        assert not auth.check_password("ann", "wrong", folder / "auth.sock")
        probe = ("import sys; sys.path.insert(0, sys.argv[2]); from pathlib import Path; "
                 "from faxprint.web import auth\n"
                 "try:\n    print(auth.check_password('ann', 'right', Path(sys.argv[1])))\n"
                 "except auth.AuthUnavailable as e:\n    print('unavailable', e)")  # fmt: skip
        for user, expected in (("lp", "True"), ("nobody", "unavailable")):
            done = subprocess.run([sys.executable, "-c", probe, str(folder / "auth.sock"),
                                   str(REPO)], capture_output=True, text=True, user=user,
                                  group=user if user == "lp" else "nogroup", cwd="/",
                                  timeout=30, check=False)  # fmt: skip
            assert done.stdout.startswith(expected), (user, done.stdout, done.stderr)
        mode = (folder / "auth.sock").stat().st_mode & 0o777
        assert oct(mode) == "0o660"
    finally:
        helper.stopping.set()
        server.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_address_book_is_searched_as_one_types(
    client: FlaskClient, settings: configuration.Config
) -> None:
    from faxprint.journal import Contact

    with Journal(settings.journal) as journal:
        journal.add_contact(Contact("Accounting", "5556465589", "ACME", ("office",)))
        journal.add_contact(Contact("Jane Doe", "5555568552"))
    assert client.get("/api/contacts?q=acc").status_code == 401
    ann = _basic("ann", "ann-pw")
    for query, names in (("acc", ["Accounting"]), ("acme", ["Accounting"]), ("55568", ["Jane Doe"]),
                         ("  JANE   doe ", ["Jane Doe"]), ("nobody", [])):  # fmt: skip
        answer = client.get(f"/api/contacts?q={query}", headers=ann).json
        assert answer is not None and [c["name"] for c in answer["contacts"]] == names, query


def test_the_health_panel_is_for_admins(
    settings: configuration.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxprint.web import jobs as outbox_jobs

    monkeypatch.setattr(outbox_jobs, "is_admin", lambda user, group: user == "bob")
    client = create_app(settings, ask=_ask).test_client()
    assert client.get("/api/health", headers=_basic("ann", "ann-pw")).status_code == 404
    health = client.get("/api/health", headers=_basic("bob", "bob-pw")).json
    assert health is not None
    [account] = health["accounts"]
    assert (account["name"], account["transport"], account["waiting_for_a_person"]) == (
        "default",
        "faxout",
        2,
    )  # fmt: skip  (both wait for an address)
    listed = client.get("/api/jobs", headers=_basic("bob", "bob-pw")).json
    assert listed is not None and len(listed["jobs"]) == 2  # an admin sees every job
    _sign_in(client, "bob")
    assert "paused by its rate" not in client.get("/admin").text
    assert "ready" in client.get("/admin").text


def test_the_fax_record_is_one_page_of_pdf_for_its_owner(client: FlaskClient) -> None:
    import io

    from pypdf import PdfReader

    ann = _basic("ann", "ann-pw")
    assert client.get("/api/jobs/cups:Fax:8:bbbb/proof.pdf", headers=ann).status_code == 404
    answer = client.get("/api/jobs/cups:Fax:7:aaaa/proof.pdf", headers=ann)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for shown in ("Fax transmission record", "waiting for an address", "offer.pdf",
                  'alert("x")', "Sent by", "ann"):  # fmt: skip
        assert shown in text, (shown, text)


def test_the_fax_record_shows_names_in_any_script(tmp_path: Path) -> None:
    import io

    from pypdf import PdfReader

    from faxprint.web.proof import proof_pdf

    job = {"name": "Fax-9 ann", "title": "Προσφορά", "user": "ann", "state": "accepted",
           "recipients": ["5556465589|Ελένη Παππά", "5555568552|王小明"],
           "documents": ["προσφορά.pdf"], "pages": 2, "created": 1.0, "updated": 2.0}  # fmt: skip
    text = PdfReader(io.BytesIO(proof_pdf(job))).pages[0].extract_text()
    for shown in ("Ελένη Παππά", "王小明", "προσφορά.pdf", "Fax transmission record"):
        assert shown in text, (shown, text)  # not "?": the names as written


def test_admins_keep_the_address_book_and_everyone_searches_it(
    settings: configuration.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxprint.web import jobs as outbox_jobs

    monkeypatch.setattr(outbox_jobs, "is_admin", lambda user, group: user == "bob")
    client = create_app(settings, ask=_ask).test_client()
    ann, bob = _basic("ann", "ann-pw"), _basic("bob", "bob-pw")
    added = client.post("/api/contacts/add", json={"name": "Accounting", "number": "5556465589",
                                                   "groups": ["office"]}, headers=ann)  # fmt: skip
    assert added.status_code == 404  # not an admin: there is nothing to change
    added = client.post("/api/contacts/add", json={"name": "Accounting", "number": "5556465589",
                                                   "groups": ["office"]}, headers=bob)  # fmt: skip
    assert added.status_code == 200, added.text
    bad = client.post("/api/contacts/add", json={"name": "X", "number": "12"}, headers=bob)
    assert bad.status_code == 400
    vcard = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jane Doe\r\nTEL;TYPE=FAX:555-556-8552\r\nEND:VCARD\r\n"
    )
    imported = client.post("/api/contacts/import", json={"filename": "book.vcf", "data": vcard},
                           headers=bob)  # fmt: skip
    assert imported.json is not None and imported.json["said"].startswith("1 added"), imported.text
    names = [c["name"] for c in client.get("/api/contacts?q=", headers=ann).json["contacts"]]  # type: ignore[index]
    assert names == ["Accounting", "Jane Doe"]
    _sign_in(client, "ann")
    page = client.get("/contacts?q=jane").text
    assert "Jane Doe" in page and "Accounting" not in page and "Add a contact" not in page
    removed = client.post("/api/contacts/remove", json={"name": "Jane Doe"}, headers=bob)
    assert removed.status_code == 200


# -- what a second pair of eyes found (each was shown to work against the first build) --


def test_a_signed_out_cookie_replayed_is_refused(client: FlaskClient) -> None:
    _sign_in(client)
    cookie = client.get_cookie("faxprint_session")
    assert cookie is not None
    stolen = cookie.value
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert token is not None
    assert client.post("/signout", data={"csrf": token[1]}).status_code == 302
    client.set_cookie("faxprint_session", stolen)
    assert client.get("/api/jobs").status_code == 401  # the server remembers it ended


def test_signing_in_from_another_sites_page_is_refused(client: FlaskClient) -> None:
    form = {"user": "ann", "password": "ann-pw"}
    foreign = client.post("/signin", data=form, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    cross = client.post("/signin", data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    null = client.post("/signin", data=form, headers={"Origin": "null"})
    assert null.status_code == 403  # a sandboxed frame's, without Sec-Fetch-Site
    own = client.post("/signin", data=form, headers={"Origin": "null",
                                                     "Sec-Fetch-Site": "same-origin"})  # fmt: skip
    assert own.status_code == 302  # a page that sends no referrer: Chromium says null


def test_a_strange_csrf_token_is_refused_not_a_crash(client: FlaskClient) -> None:
    _sign_in(client)
    answer = client.post("/jobs/cups:Fax:7:aaaa/address", data={"to": "1", "csrf": "äöü"})
    assert answer.status_code == 403


def test_names_nobody_has_fill_no_memory(settings: configuration.Config) -> None:
    from faxprint.web import guard

    limits = guard.SignInLimits()
    for n in range(300):
        assert limits.wait(f"{'x' * 5000}{n}", "10.0.0.1") == 0.0
    assert limits._failures == {}  # asking made no entry
    client = create_app(settings, ask=_ask).test_client()
    assert client.get("/api/jobs", headers=_basic("x" * 5000, "pw")).status_code == 401


def test_the_helper_counts_attempts_made_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import time as clock

    import pamela

    asked = []

    def slow(user: str, password: str, **kwargs: Any) -> None:
        asked.append(password)
        clock.sleep(0.05)  # PAM's own delay after a failure, shortened
        raise pamela.PAMError(7, "Authentication failure")

    monkeypatch.setattr(pamela, "authenticate", slow)
    helper = auth.Helper(group="root")
    threads = [threading.Thread(target=helper.check, args=("ann", f"guess{n}")) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(asked) == auth.MAX_FAILURES  # 50 at once, 5 reached PAM


def test_the_cover_menu_offers_faxprints_own_covers(tmp_path: Path) -> None:
    config = write_config(tmp_path, faxout_account("http://127.0.0.1:9/faxapi.asp"),
                          extra='[covers.Letterhead]\nfrom_name = "ACME"\n')  # fmt: skip
    settings = configuration.load(config, env={})
    with Journal(settings.journal) as journal:
        journal.unaddressed("cups:Fax:9:cccc", "waiting for an address", source="cups",
                            account="default", documents=["a.pdf"], user="ann", title="a")  # fmt: skip
    client = create_app(settings, ask=_ask).test_client()
    _sign_in(client)
    page = client.get("/jobs/cups:Fax:9:cccc").text
    menu = re.search(r'<datalist id="covers">(.*?)</datalist>', page)
    assert menu is not None
    assert re.findall(r'value="([^"]+)"', menu[1]) == ["faxprint", "Letterhead", "None"]


def test_the_address_form_shows_the_own_cover_as_it_would_be_sent(client: FlaskClient) -> None:
    token = _sign_in(client)
    form = {"csrf": token, "to": "5556465589|Jane Doe", "cover": "faxprint",
            "cover_text": "Hello"}  # fmt: skip
    shown = client.post("/jobs/cups:Fax:7:aaaa/cover.png", data=form)
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.data.startswith(b"\x89PNG")
    service = client.post("/jobs/cups:Fax:7:aaaa/cover.png", data={**form, "cover": "Urgent"})
    assert service.status_code == 400 and "the fax service&#39;s own" in service.text
    assert client.post("/jobs/cups:Fax:8:bbbb/cover.png", data=form).status_code == 404
    assert client.post("/jobs/cups:Fax:7:aaaa/cover.png",
                       data={**form, "csrf": "stale"}).status_code == 403  # fmt: skip
