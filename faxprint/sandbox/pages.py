"""The HTML the sandbox serves: its home page, and the page the html() fault answers."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

#: What the html() fault answers: the kind of page a proxy or login portal returns.
FAULT_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
    b"<body><h1>Service Unavailable</h1>"
    b"<p>The sandbox was told to answer this request with an HTML page.</p></body></html>\n"
)


def home_page(url: str, faxes: int, store: str, usernames: Iterable[tuple[str, bool]]) -> bytes:
    """Render the page GET / answers: what this is, where to post, what is stored."""
    accounts = "".join(
        f"<li><code>{escape(name)}</code>{' (faxing prohibited)' if prohibited else ''}</li>"
        for name, prohibited in usernames
    )
    stored = "1 fax" if faxes == 1 else f"{faxes} faxes"
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>faxprint sandbox</title></head>
<body>
<h1>faxprint sandbox</h1>
<p>A local, strict imitation of the FaxOut (RingCentral Send Fax Web API) service, for
trying faxprint without an account and for tests. Nothing is faxed: accepted faxes are
kept on disk.</p>
<p>Endpoint: <code>POST {escape(url)}</code> (multipart/form-data).</p>
<p>{stored} stored in <code>{escape(store)}</code>.</p>
<p>Accounts:</p><ul>{accounts}</ul>
</body></html>
"""
    return page.encode("utf-8")
