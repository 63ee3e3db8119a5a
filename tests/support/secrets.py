"""The one password the tests give faxprint, distinctive enough to search every output for.

The sandbox's well-known password ("sandbox") is too common a word to grep logs for, so
test configs and test sandboxes use :data:`TEST_PASSWORD` instead, and the leak check
(tests/support/leakcheck.py) fails the session wherever it turns up.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from faxprint.sandbox import Account
from faxprint.sandbox.rest_oauth import RestApp

#: Each holds characters that URL, HTML and JSON encodings change ("/", "+", "&", "%",
#: "<"): an encoded leak then differs from the secret, and must be found all the same.
TEST_PASSWORD = "Pw-leak/+&%<check-7f3c9e1d"
TEST_USERNAME = "15555550100"
#: A RingCentral REST app of the sandbox's, with secrets as distinctive as the password.
TEST_CLIENT_ID = "faxprint-test-client"
TEST_CLIENT_SECRET = "Cs-leak&%/+check-2b8d4a61"
TEST_JWT = "Jwt-leak+/&<check-93e0c5f7"
PROHIBITED_USERNAME = "15555550199"

#: The sandbox's two default accounts (one may send, one is prohibited), with the test
#: password instead of the well-known one.
TEST_ACCOUNTS: Mapping[str, Account] = MappingProxyType(
    {
        TEST_USERNAME: Account(TEST_PASSWORD),
        PROHIBITED_USERNAME: Account(TEST_PASSWORD, prohibited=True),
    }
)

#: The same accounts as a ``faxprint sandbox --accounts`` file.
TEST_ACCOUNTS_TOML = "".join(
    f'[accounts."{name}"]\npassword = "{TEST_PASSWORD}"\nprohibited = {str(a.prohibited).lower()}\n'
    for name, a in TEST_ACCOUNTS.items()
)

#: The sandbox's REST side with the test app only.
TEST_APPS: Mapping[str, RestApp] = MappingProxyType(
    {TEST_CLIENT_ID: RestApp(TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_JWT)}
)


def quoted_forms(
    secret: str, users: tuple[str, ...] = (TEST_USERNAME, TEST_CLIENT_ID)
) -> list[str]:
    """The forms an echoing page may quote ``secret`` in: as sent in a form, URL-encoded,
    HTML- and JSON-escaped, base64 alone and as the Basic header of ``user:secret``."""
    import base64
    import html
    import json
    from urllib.parse import quote, quote_plus

    raw = secret.encode()
    found = [secret, quote(secret, safe=""), quote_plus(secret), quote(secret).lower(),
             html.escape(secret), json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1], base64.b64encode(raw).decode(),
             base64.urlsafe_b64encode(raw).decode(), secret.upper()]  # fmt: skip
    found += [base64.b64encode(f"{user}:{secret}".encode()).decode() for user in users]
    return list(dict.fromkeys(found))
