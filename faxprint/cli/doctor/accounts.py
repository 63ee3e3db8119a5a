"""Each account's endpoint (DNS, TCP, TLS, an HTTP GET that sends no fax and no
password), a REST account's credentials, and Ghostscript for the REST accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faxprint.cli.doctor.report import Check, Context, fail, ok, skip
from faxprint.text import printable


def check_accounts(context: Context) -> Iterator[Check]:
    if context.settings is None:
        yield skip("accounts", "the config did not load")
        return
    for account in context.settings.accounts.values():
        reached = probe(account)
        yield reached
        if account.transport == "ringcentral" and reached.status == "ok":
            yield grant(account)
    if any(a.transport == "ringcentral" for a in context.settings.accounts.values()):
        yield ghostscript()


def ghostscript() -> Check:
    """REST accounts fax PostScript as PDF, made by Ghostscript: is it there?"""
    import shutil

    found = shutil.which("gs")
    if found:
        return ok("ghostscript", f"{found}: PostScript is made PDF for REST accounts")
    return Check("warn", "ghostscript", "not installed: PostScript documents sent to a REST "
                 "account are refused", "apt-get install ghostscript")  # fmt: skip


def grant(account: Any) -> Check:
    """Get a token with a REST account's credentials: they work, and nothing is faxed.

    The token goes to a private temporary folder, not the backend's cache: the doctor
    changes nothing on the server."""
    import tempfile

    from faxprint.errors import AccountError, FaxPrintError
    from faxprint.transports.ringcentral import RingCentralTransport

    name = f"credentials {account.name}"
    with tempfile.TemporaryDirectory(prefix="faxprint-doctor-") as folder:
        try:
            said = RingCentralTransport(account, Path(folder) / "tokens").check()
        except AccountError as error:  # the service refused the credentials themselves
            return fail(name, error.message, "create or renew the app's credentials and the "
                        "user's JWT (README: RingCentral accounts)")  # fmt: skip
        except FaxPrintError as error:  # down, rate-limited, or no REST API at the url
            return fail(name, error.message, "check the account's url and the service's "
                        "status, then run faxprint doctor again")  # fmt: skip
    return ok(name, f"client {printable(account.client_id, limit=24)}: {said}")


def probe(account: Any) -> Check:
    """Reach an account's endpoint without sending a fax or its password: DNS, TCP, TLS,
    then an HTTP GET (the FaxOut API answers it without faxing anything)."""
    from faxprint.transports import http

    reached = http.probe(account)
    if reached.failed:
        return fail(f"account {account.name}", reached.detail, _PROBE_FIXES[reached.failed])
    return ok(f"account {account.name}", reached.detail)


_PROBE_FIXES = {
    "resolve": "check the url's host name and this server's DNS",
    "connect": "check the url, the network, a firewall or proxy",
    "tls": "the server's certificate must be trusted: set the account's verify to the CA "
    "file that signed it",
    "http": "check that the url is the FaxOut endpoint",
}
