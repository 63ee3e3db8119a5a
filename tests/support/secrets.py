"""The one password the tests give faxprint, distinctive enough to search every output for.

The sandbox's well-known password ("sandbox") is too common a word to grep logs for, so
test configs and test sandboxes use :data:`TEST_PASSWORD` instead, and the leak check
(tests/support/leakcheck.py) fails the session wherever it turns up.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from faxprint.sandbox import Account

TEST_PASSWORD = "Pw-leakcheck-7f3c9e1d"
TEST_USERNAME = "15555550100"
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
