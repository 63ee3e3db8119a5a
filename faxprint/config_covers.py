"""The config's own cover pages: ``[covers.NAME]`` tables, and each account's ``cover``
checked against them (read by :mod:`faxprint.config`, which hands both on)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faxprint.account import path_of, table, table_of
from faxprint.errors import ConfigError

if TYPE_CHECKING:
    from faxprint.account import Account


@dataclass(frozen=True)
class Cover:
    """A cover page of faxprint's own (``[covers.NAME]``): a fillable template (none: the
    built-in design) and the sender's fields it is filled with."""

    template: str = ""
    from_name: str = ""
    from_company: str = ""
    from_fax: str = ""
    from_phone: str = ""
    from_email: str = ""


#: Cover names the services know: FaxOut's Default and None, and RingCentral's en-US
#: names 0-13 (shared/ringcentral-rest.md, cover page dictionary). A cover of faxprint's
#: own may not take one: which one was meant could not be told.
SERVICE_COVERS = frozenset(name.casefold() for name in (
    "Default", "None", "Ancient", "Birthday", "Blank", "Clasmod", "Classic", "Confidential",
    "Contempo", "Elegant", "Express", "Formal", "Jazzy", "Modern", "Urgent"))  # fmt: skip


def account_covers(
    accounts: Mapping[str, Account], covers: dict[str, Cover], where: str
) -> dict[str, Cover]:
    """Check each account's ``cover``: faxprint's own (a [covers.NAME], or faxprint), or
    one its service has (a REST account's are RingCentral's names; a FaxOut account may
    name any its rendering server has); return ``covers``."""
    own = {name.casefold() for name in covers} | {"faxprint"}
    for account in accounts.values():
        name = account.cover.casefold()
        if not name or name in own or name in SERVICE_COVERS or account.transport != "ringcentral":
            continue
        raise ConfigError(f"{where}: [accounts.{account.name}] cover {account.cover!r} is "
                          "neither a [covers.NAME] of this config, faxprint, nor one of "
                          "RingCentral's cover pages")  # fmt: skip
    return covers


def covers_of(data: Mapping[str, Any], where: str, base: Path) -> dict[str, Cover]:
    """The ``[covers.NAME]`` tables; a name the services also use is refused."""
    covers = {}
    for name, value in table(data.get("covers", {}), f"{where}: [covers]").items():
        context = f"{where}: [covers.{name}]"
        if name.casefold() in SERVICE_COVERS:
            raise ConfigError(f"{context}: {name!r} is also a cover page of the fax services; "
                              "give faxprint's own cover another name")  # fmt: skip
        cover = table_of(Cover, table(value, context), context)
        if cover.template:
            where_it_is = path_of(cover.template, f"{context} template", base)
            cover = dataclasses.replace(cover, template=str(where_it_is))
        covers[name] = cover
    return covers
