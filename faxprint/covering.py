"""faxprint's own cover pages on the way out: which cover a fax gets, one fax per
recipient when that cover names its recipient, and the cover drawn and put first.

A ticket's cover (``--cover``, ``fax-cover=``, a ticket's ``"cover"``, the outbox's menu,
``<COVER:NAME>``; the account's ``cover`` when it names none) is faxprint's own when it is
a ``[covers.NAME]`` of the config or ``faxprint`` (the built-in design), in any case.
Then the submitter draws it (:func:`Covers.put_first`) and the service is told to add
none: FaxOut's ``Coverpage=None``, REST's ``coverIndex`` 0. The cover text goes onto
faxprint's cover, never to the service as well. Any other name is the service's.

A cover that names its recipient (a template with a ``to_`` field, or the built-in one)
is one person's: a fax to several recipients becomes one fax per recipient, each its own
journal entry, ``KEY#toN`` (:meth:`Covers.split`), the same on every retry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from faxprint import covers as drawing
from faxprint import documents as docs
from faxprint.config import Config, Cover, Limits
from faxprint.documents import Document
from faxprint.errors import ConfigError, DocumentError, FaxPrintError, TicketError
from faxprint.journal.records import Contact
from faxprint.limits import check_recipients
from faxprint.protocol import COVER_DEFAULT, COVER_NONE
from faxprint.ticket import Ticket

logger = logging.getLogger(__name__)

#: The name of the built-in cover.
BUILTIN = "faxprint"


@dataclass(frozen=True)
class Own:
    """A cover of faxprint's own: its name and its settings (no template: built in)."""

    name: str
    cover: Cover

    def names_recipient(self) -> bool:
        """Whether the cover names one recipient (then each gets her own fax). A template
        that cannot be read counts as naming one: its fax is not sent until it is mended,
        and then it must not go to all at once when some had theirs already."""
        if not self.cover.template:
            return True
        try:
            return drawing.check_template(Path(self.cover.template)).names_recipient
        except DocumentError:
            return True

    def draw(self, values: Mapping[str, str]) -> drawing.Rendered:
        """The cover with ``values``; ConfigError when the template cannot make one (the
        admin's to mend: the fax waits), DocumentError for too long a cover text."""
        try:
            if not self.cover.template:
                return drawing.builtin(values)
            return drawing.fill(Path(self.cover.template), values)
        except DocumentError as error:
            if error.message.startswith("the cover text"):
                raise  # the sender's: too long a cover text
            raise ConfigError(f"cover {self.name!r}: {error.message}") from None
        except ConfigError:
            raise
        except Exception as exc:  # fpdf2, pypdf, fontTools: any fault of the template
            raise ConfigError(f"cover {self.name!r} cannot be drawn: "
                              f"{type(exc).__name__}: {exc}") from None  # fmt: skip


@dataclass(frozen=True)
class Covers:
    """The config's own covers, and the account's default cover."""

    own: Mapping[str, Cover] = field(default_factory=dict)
    default: str = ""

    @classmethod
    def of(cls, config: Config, account: str | None = None) -> Covers:
        """The covers an account's faxes may get."""
        found = config.accounts.get(account or "")
        default = found.cover if found is not None else ""
        return cls(config.covers, default)

    def names(self) -> list[str]:
        """faxprint's own covers by name, the built-in one among them."""
        own = sorted(self.own, key=str.casefold)
        return own if any(n.casefold() == BUILTIN for n in own) else [BUILTIN, *own]

    def chosen(self, ticket: Ticket) -> Own | None:
        """The own cover the ticket gets; None when it gets the service's (or none)."""
        name = ticket.cover
        if name == COVER_DEFAULT and self.default:
            name = self.default
        for own, cover in self.own.items():
            if own.casefold() == name.casefold():
                return Own(own, cover)
        return Own(BUILTIN, Cover()) if name.casefold() == BUILTIN else None

    def split(
        self, key: str, ticket: Ticket, limits: Limits | None = None,
        known: Callable[[str], object | None] | None = None,
    ) -> list[tuple[str, Ticket]]:  # fmt: skip
        """The faxes a ticket becomes: one per recipient when its cover names one, keyed
        by the recipient's number (``KEY#toNUMBER``: the same whatever the order, on every
        retry). ``known`` (the journal's ``get``) keeps a job split once split, and whole
        once sent whole, whatever the config says meanwhile. ``limits``: a job split is
        checked whole, its recipients and its faxes (TicketError)."""
        own = self.chosen(ticket)
        keys = [f"{key}#to{recipient.number}" for recipient in ticket.recipients]
        if known is not None and known(key) is not None:
            return [(key, ticket)]  # recorded whole: it stays one fax
        split_before = known is not None and any(known(each) is not None for each in keys)
        if not split_before and (own is None or len(keys) < 2 or not own.names_recipient()):
            return [(key, ticket)]
        if limits is not None:  # one fax would be checked by the submitter; these are many
            check_recipients(len(ticket.recipients), limits)
        if limits is not None and len(keys) > limits.max_faxes:
            raise TicketError(f"{len(keys)} recipients, each with her own cover, make "
                              f"{len(keys)} faxes; a job may become at most "
                              f"{limits.max_faxes} ([limits] max_faxes)")  # fmt: skip
        return [(each, replace(ticket, recipients=(recipient,)))
                for each, recipient in zip(keys, ticket.recipients, strict=True)]  # fmt: skip

    def drawn(
        self, ticket: Ticket, documents: Sequence[Document], subject: str = "",
        book: Named | None = None,
    ) -> drawing.Rendered | None:  # fmt: skip
        """The ticket's own cover as it is sent before ``documents``; None when the
        service draws the cover (or there is none). ``book``: the contacts, where a
        recipient's company is found."""
        own = self.chosen(ticket)
        if own is None:
            return None
        shown = values(own.cover, ticket, documents, subject)
        shown["to_company"] = company(book, ticket)
        rendered = own.draw(shown)
        if rendered.pages > 1 and shown["pages"]:  # the cover's own pages come after it too
            shown["pages"] = str(int(shown["pages"]) + rendered.pages - 1)
            rendered = own.draw(shown)
        return rendered

    def put_first(
        self, ticket: Ticket, documents: Sequence[Document], workdir: Path, subject: str = "",
        book: Named | None = None,
    ) -> tuple[Ticket, list[Document]]:  # fmt: skip
        """The ticket and documents as sent: with an own cover drawn and put first (the
        ticket then asks the service for no cover and carries no cover text), else as
        they are."""
        rendered = self.drawn(ticket, documents, subject, book)
        if rendered is None:
            if ticket.cover == COVER_DEFAULT and self.default:
                ticket = replace(ticket, cover=self.default)
            return ticket, list(documents)
        for note in rendered.notes():
            logger.warning("%s", note[0].upper() + note[1:])
        path = workdir / "cover.pdf"
        try:
            path.write_bytes(rendered.data)
        except OSError as exc:
            from faxprint.errors import ServiceUnavailable

            raise ServiceUnavailable(f"the cover page cannot be written: {exc.strerror}") from None
        cover = docs.inspect(path, filename="cover.pdf")
        return replace(ticket, cover=COVER_NONE, cover_text=""), [cover, *documents]


class Named(Protocol):
    """The contacts, as far as a cover asks them (the journal is one)."""

    def named(self, name: str) -> tuple[list[Contact], list[Contact]]: ...


def company(book: Named | None, ticket: Ticket) -> str:
    """The company of a fax's one recipient, from the contacts entry of her name and
    number ("" when there is none, or several recipients)."""
    if book is None or len(ticket.recipients) != 1 or not ticket.recipients[0].name:
        return ""
    recipient = ticket.recipients[0]
    try:
        entries, _ = book.named(recipient.name)
    except FaxPrintError:  # the book cannot be read now: the cover goes without it
        return ""
    return next((e.company for e in entries if e.number == recipient.number), "")


def values(
    cover: Cover, ticket: Ticket, documents: Sequence[Document], subject: str
) -> dict[str, str]:
    """What a cover's fields say: the recipient(s), the sender, the subject (the job's
    title, else the first document's name), the cover text, the pages after the cover
    (blank while a document's count is unknown) and the date it is sent (its send time,
    if it has one)."""
    counts = [document.pages for document in documents]
    known = counts and not any(count is None for count in counts)
    pages = str(sum(c or 0 for c in counts)) if known else ""
    when = ticket.send_at.astimezone() if ticket.send_at else None
    date = when.strftime("%Y-%m-%d %H:%M") if when else time.strftime("%Y-%m-%d %H:%M")
    return {
        "to_name": "; ".join(r.name for r in ticket.recipients if r.name),
        "to_fax": "; ".join(r.number for r in ticket.recipients),
        "from_name": cover.from_name, "from_company": cover.from_company,
        "from_fax": cover.from_fax, "from_phone": cover.from_phone,
        "from_email": cover.from_email,
        "subject": subject or (Path(documents[0].filename).stem if documents else ""),
        "comments": ticket.cover_text, "pages": pages, "date": date,
    }  # fmt: skip
