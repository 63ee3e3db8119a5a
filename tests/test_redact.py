"""Secrets hidden in what services say: every form a page may quote them in, and what is
left of one where a text is cut."""

from __future__ import annotations

import base64
import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faxprint.config import Account
from faxprint.errors import ConfigError, ServiceUnavailable
from faxprint.redact import HIDDEN, QUOTED, Redactor, service_text
from tests.support.secrets import quoted_forms

SECRET = 'Pw&leak="7f3c 9e1d"/+%é'
ID = "client-42"


def forms(secret: str) -> list[str]:
    return quoted_forms(secret, users=(ID,))


@pytest.mark.parametrize("form", forms(SECRET))
def test_every_form_of_a_secret_is_hidden(form: str) -> None:
    redact = Redactor([SECRET], users=[ID])
    assert (
        redact(f"<p>you sent Password={form}&x=1</p>") == f"<p>you sent Password={HIDDEN}&x=1</p>"
    )


def test_the_start_of_a_secret_at_a_cut_is_hidden() -> None:
    redact = Redactor([SECRET])
    assert redact(f"password was {SECRET[:6]}") == f"password was {HIDDEN}"
    assert redact("password was Pw") == "password was Pw"  # too short to tell from a word
    long = "x" * 115 + SECRET
    assert service_text(long, redact, limit=120) == "x" * 115 + HIDDEN


def test_secrets_too_short_to_be_told_from_words_are_not_hidden() -> None:
    assert Redactor(["abc", ""])("abc abc") == "abc abc"


def test_a_token_got_later_is_hidden_from_then_on() -> None:
    redact = Redactor([SECRET])
    assert redact("Bearer At-1234567") == "Bearer At-1234567"
    redact.add("At-1234567")
    assert redact("Bearer At-1234567") == f"Bearer {HIDDEN}"


def test_service_text_is_one_short_line_without_markup() -> None:
    page = (
        b"<html><head><style>p {color: red}</style><script>var p='x';</script></head>"
        b"<body><h1>400 Bad Request</h1>\r\n<p>Your request:\n<pre>Username=155&amp;"
        + html.escape(SECRET).encode()
        + b"</pre></p><!-- debug: "
        + SECRET.encode()
        + b" --></body></html>"
    )
    shown = service_text(page, Redactor([SECRET]), limit=60)
    assert shown == "400 Bad Request Your request: Username=155&[hidden]"
    assert "\n" not in shown and len(shown) <= 60


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=8, max_size=40),
    st.text(max_size=200),
    st.text(max_size=200),
    st.integers(min_value=10, max_value=300),
)
def test_no_form_of_a_secret_survives_wherever_it_stands_and_wherever_the_text_is_cut(
    secret: str, before: str, after: str, limit: int
) -> None:
    redact = Redactor([secret], users=[ID])
    for form in forms(secret):
        shown = service_text(before + form + after, redact, limit=limit)
        assert form not in shown
        for size in range(6, len(form)):  # nor its start, at the end of a cut text
            assert not shown.endswith(form[:size]), (form, shown)


def test_an_account_hides_all_its_secrets_and_its_basic_header() -> None:
    account = Account("office", "https://platform.example", transport="ringcentral",
                      client_id=ID, client_secret="Cs-secret-1234", jwt="eyJhbGciOi.x.y")  # fmt: skip
    redact = account.redactor()
    header = base64.b64encode(f"{ID}:Cs-secret-1234".encode()).decode()
    said = f"Authorization: Basic {header}&assertion=eyJhbGciOi.x.y&secret=Cs-secret-1234"
    assert redact(said) == f"Authorization: Basic {HIDDEN}&assertion={HIDDEN}&secret={HIDDEN}"


def test_an_error_hiding_its_secrets_keeps_its_kind_and_context() -> None:
    error = ServiceUnavailable(f"the proxy said {SECRET}", code=502, excerpt=SECRET,
                               retry_after=5)  # fmt: skip
    hidden = error.hiding(Redactor([SECRET]))
    assert type(hidden) is ServiceUnavailable
    assert (hidden.message, str(hidden), hidden.excerpt) == (
        f"the proxy said {HIDDEN}", f"the proxy said {HIDDEN}", HIDDEN)  # fmt: skip
    assert (hidden.code, hidden.retry_after) == (502, 5)
    assert error.message == f"the proxy said {SECRET}"  # the original is left alone
    quiet = ServiceUnavailable("nothing to hide")
    assert quiet.hiding(Redactor([SECRET])) is quiet


def _wrapped_base64(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))  # MIME lines


@pytest.mark.parametrize(
    "page",
    [
        "Tr0ub/4d<b>or&amp;3+x</b>",  # markup inside the secret
        "Tr0ub/4d<wbr>or&3+x",
        "Tr0ub/4dor\n&3+x",  # a wrapped line
        '{"password": "Tr0ub\\/4dor&3+x"}',  # PHP's JSON
        '{"password": "Tr0ub\\u002f4dor\\u00263+x"}',  # Go's JSON
        "password=Tr0ub%252F4dor%25263%252Bx",  # URL-encoded twice
        "body=" + base64.b64encode(b"x" + b"Tr0ub/4dor&3+x" + b"yz").decode(),  # offset 1
        "body=" + base64.b64encode(b"xy" + b"Tr0ub/4dor&3+x" + b"z").decode(),  # offset 2
        _wrapped_base64(b"Content-Disposition: form-data\r\n\r\n" * 3 + b"Tr0ub/4dor&3+x"),
    ],
)
def test_a_secret_in_a_form_that_cannot_be_cut_out_hides_the_whole_text(page: str) -> None:
    # Written from how pages and gateways quote a request, not from faxprint's list of
    # forms: whatever it cannot cut out, it must not show at all.
    shown = service_text(f"<p>Request refused. You sent: {page}</p>", Redactor(["Tr0ub/4dor&3+x"]))
    # hidden whole, or (base64 at any offset) cut out where it stands
    assert shown == QUOTED or (HIDDEN in shown and page not in shown), shown


def test_secrets_shorter_than_can_be_hidden_are_refused_in_the_config() -> None:
    with pytest.raises(ConfigError, match="password must have at least 4 characters"):
        Account("office", "https://fax.example/faxapi.asp", "15555550100", "abc")
