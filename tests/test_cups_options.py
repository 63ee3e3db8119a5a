"""parse_options: CUPS's option quoting, cases seen on a real cupsd, and properties."""

from __future__ import annotations

import ctypes
import ctypes.util
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faxprint.cups.options import parse_options

# -- argv[5] strings observed on CUPS 2.4.2 (tests/test_cupsd_ppd.py, docs/cups-findings.md)

PLAIN_JOB = (
    "finishings=3 number-up=1 print-color-mode=monochrome "
    "job-uuid=urn:uuid:880c00f1-a823-3700-40bb-57e8a4486548 job-originating-host-name=localhost "
    "date-time-at-creation= date-time-at-processing= time-at-creation=1795705350 "
    "time-at-processing=1795705350 document-name-supplied=a.pdf"
)


def test_plain_job_as_observed() -> None:
    assert parse_options(PLAIN_JOB) == {
        "finishings": "3",
        "number-up": "1",
        "print-color-mode": "monochrome",
        "job-uuid": "urn:uuid:880c00f1-a823-3700-40bb-57e8a4486548",
        "job-originating-host-name": "localhost",
        "date-time-at-creation": "",
        "date-time-at-processing": "",
        "time-at-creation": "1795705350",
        "time-at-processing": "1795705350",
        "document-name-supplied": "a.pdf",
    }


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        # lp -o 'fax-to="5556465589|John Doe,5555568552"'
        (r"fax-to=5556465589|John\ Doe,5555568552", {"fax-to": "5556465589|John Doe,5555568552"}),
        # lp -o 'fax-to="5556465589|José Müller"'
        (r"fax-to=5556465589|José\ Müller", {"fax-to": "5556465589|José Müller"}),
        # lp -o fax-to=5556465589|A,5555568552|B
        ("fax-to=5556465589|A,5555568552|B", {"fax-to": "5556465589|A,5555568552|B"}),
        # lp -o 'phone="Custom.555 1234"' (and with single quotes)
        (r"phone=Custom.555\ 1234", {"phone": "Custom.555 1234"}),
        # lp -o 'faxCoverPage="Custom.My Cover"'
        (r"faxCoverPage=Custom.My\ Cover", {"faxCoverPage": "Custom.My Cover"}),
        # lp -o "faxCoverText=\"Custom.Line one, 'two' & \\\"three\\\"\""
        (
            r"faxCoverText=Custom.Line\ one,\ \'two\'\ &\ \"three\"",
            {"faxCoverText": "Custom.Line one, 'two' & \"three\""},
        ),
        # lp -o "note=it\'s"
        (r"note=it\'s", {"note": "it's"}),
        # lp -o 'note="say \"hi\""'
        (r"note=say\ \"hi\"", {"note": 'say "hi"'}),
        # lp -o 'note=back\\slash'
        (r"note=back\\slash", {"note": "back\\slash"}),
        # lp -o note=a=b
        ("note=a=b", {"note": "a=b"}),
        # lp -o flag, lp -o noflag
        ("flag", {"flag": "true"}),
        ("noflag", {"flag": "false"}),
        # lp -o 'phone=Custom.555 1234': lp splits it, and sorts the stray word first
        (
            "1234 finishings=3 number-up=1 phone=Custom.555 print-color-mode=monochrome",
            {
                "1234": "true",
                "finishings": "3",
                "number-up": "1",
                "phone": "Custom.555",
                "print-color-mode": "monochrome",
            },
        ),
        # queue defaults (lpadmin -o NAME-default=...) arrive among lp's options
        (
            r"fax-to=5556465589|Jo\ Doe faxCoverText=Custom.Hello,\ World faxResolution=Low "
            r"finishings=3 number-up=1 phone=Custom.555\ 1234 print-color-mode=monochrome",
            {
                "fax-to": "5556465589|Jo Doe",
                "faxCoverText": "Custom.Hello, World",
                "faxResolution": "Low",
                "finishings": "3",
                "number-up": "1",
                "phone": "Custom.555 1234",
                "print-color-mode": "monochrome",
            },
        ),
        # one document-name-supplied per document: the last one wins
        (
            "document-name-supplied=t.txt document-name-supplied=a.pdf "
            "document-name-supplied=i.png",
            {"document-name-supplied": "i.png"},
        ),
    ],
)
def test_observed_on_cups_2_4_2(observed: str, expected: dict[str, str]) -> None:
    assert parse_options(observed) == expected


# -- cupsParseOptions rules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("   \t\n ", {}),
        ("a=1 b=2", {"a": "1", "b": "2"}),
        ("  a=1\t\tb=2\n", {"a": "1", "b": "2"}),
        ("a=1 a=2", {"a": "2"}),
        ("Media=A4 media=Letter", {"Media": "Letter"}),
        ("a=", {"a": ""}),
        ("a= b=1", {"a": "", "b": "1"}),
        ("a =1", {"a": "1"}),
        ("a = 1", {"a": "", "1": "true"}),
        ("a", {"a": "true"}),
        ("noa", {"a": "false"}),
        ("NOa", {"a": "false"}),
        ("no", {}),
        ("nob=1", {"nob": "1"}),
        ("a='x y'", {"a": "x y"}),
        ('a="x y"', {"a": "x y"}),
        ("a='x \"y\"'", {"a": 'x "y"'}),
        (r"a='x \'y\''", {"a": "x 'y'"}),
        ("a='x y'z", {"a": "x yz"}),
        ("a=x'y z'", {"a": "x'y", "z'": "true"}),
        ("a='x',\"y z\"", {"a": "x,y z"}),
        ("a=x,'y z'", {"a": "x,'y", "z'": "true"}),
        ("a=,'y z'", {"a": ",y z"}),
        ("a='unterminated value", {"a": "unterminated value"}),
        (r"a=x\ y", {"a": "x y"}),
        (r"a=x\\y", {"a": "x\\y"}),
        ("a=x\\", {"a": "x\\"}),
        (r"a=\q", {"a": "q"}),
        ("a={b=1 c={d=2}} e=3", {"a": "{b=1 c={d=2}}", "e": "3"}),
        (r"a={b=x\}y} e=3", {"a": "{b=x}y}", "e": "3"}),
        ("a={b=1", {"a": "{b=1"}),
        ("{a=1 b=2}", {"a": "1", "b": "2"}),
        ("a=1\0b=2", {"a": "1"}),
        ("a=é b=ü", {"a": "é", "b": "ü"}),
        ("Ä=1 ä=2", {"Ä": "1", "ä": "2"}),
    ],
)
def test_cups_rules(text: str, expected: dict[str, str]) -> None:
    assert parse_options(text, tolerate_unescaped_spaces=False) == expected
    if "\0" not in text:
        assert cups_parse_options(text) == expected


@pytest.mark.parametrize(
    ("text", "expected", "cups_says"),
    [
        ("=x b=2", {"b": "2"}, {}),
        ("a = = b=2", {"a": "", "b": "2"}, {"a": ""}),
        ("c=1 =x b=2", {"c": "1", "b": "2"}, {"c": "1"}),
    ],
)
def test_goes_on_where_cups_stops(
    text: str, expected: dict[str, str], cups_says: dict[str, str]
) -> None:
    assert parse_options(text) == expected
    assert cups_parse_options(text) == cups_says


# -- unescaped spaces (CUPS 2.4.17 to 2.4.19) -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "fax-to=5556465589|John Doe,5555568552 finishings=3",
            {"fax-to": "5556465589|John Doe,5555568552", "finishings": "3"},
        ),
        ("phone=Custom.555 1234 x=1", {"phone": "Custom.555 1234", "x": "1"}),
        (
            "fax-to=555|Mary Ann Smith,556 Bob collate",
            {"fax-to": "555|Mary Ann Smith,556", "Bob": "true", "collate": "true"},
        ),
        ("fax-to=555|José Müller", {"fax-to": "555|José Müller"}),
        (
            "faxCoverText=Custom.Call me: 555-1234 faxResolution=Low",
            {"faxCoverText": "Custom.Call me: 555-1234", "faxResolution": "Low"},
        ),
        # Words that look like option names after the last glued word stay booleans.
        (
            "faxCoverText=Custom.Hi there, all",
            {"faxCoverText": "Custom.Hi there,", "all": "true"},
        ),
        # A word that looks like an option name cannot be told from one.
        ("fax-to=555|John Doe", {"fax-to": "555|John", "Doe": "true"}),
        # A leading stray word has no value to join.
        ("1234 phone=Custom.555", {"1234": "true", "phone": "Custom.555"}),
    ],
)
def test_unescaped_spaces_are_glued_back(text: str, expected: dict[str, str]) -> None:
    assert parse_options(text) == expected


def test_no_gluing_when_spaces_are_escaped() -> None:
    text = r"a=x\ y 1234 b=z"
    assert parse_options(text) == {"a": "x y", "1234": "true", "b": "z"}


def test_gluing_can_be_switched_off() -> None:
    text = "phone=Custom.555 1234"
    assert parse_options(text, tolerate_unescaped_spaces=False) == {
        "phone": "Custom.555",
        "1234": "true",
    }


# -- properties -------------------------------------------------------------------------

CUPSD_ESCAPES = frozenset(" \t\n\\'\"")


def cupsd_encode(options: dict[str, str]) -> str:
    """Build argv[5] the way cupsd 2.4.2 does (scheduler/job.c, get_options)."""
    return " ".join(
        name + "=" + "".join("\\" + c if c in CUPSD_ESCAPES else c for c in value)
        for name, value in options.items()
    )


SAFE_NAMES = st.from_regex(r"[a-zA-Z][a-zA-Z0-9-]{0,15}", fullmatch=True)
#: cupsd leaves \f, \r and \v unescaped, so CUPS itself splits values holding them; a
#: value starting "{" (or holding ",{") reads as a collection. Neither comes from cupsd
#: for fax options, so the round trip leaves them out.
VALUES = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\0\f\r\v"), max_size=40
).filter(lambda v: not v.startswith("{") and ",{" not in v)


def unique_names(options: dict[str, str]) -> bool:
    lowered = [name.lower() for name in options]
    return len(set(lowered)) == len(lowered)


@given(st.text())
def test_any_text_parses_without_error(text: str) -> None:
    options = parse_options(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in options.items())
    assert all(k and "=" not in k and not re.search(r"[ \f\n\r\t\v]", k) for k in options)


@given(st.dictionaries(SAFE_NAMES, VALUES, max_size=8).filter(unique_names))
def test_round_trip_through_cupsd_encoding(options: dict[str, str]) -> None:
    assert parse_options(cupsd_encode(options)) == options


# -- the same answers as libcups' own cupsParseOptions ----------------------------------


class _CupsOption(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_char_p)]


def _load_libcups() -> ctypes.CDLL:
    path = ctypes.util.find_library("cups")
    if path is None:
        pytest.fail("libcups not found: install the Debian package libcups2", pytrace=False)
    lib = ctypes.CDLL(path)
    lib.cupsParseOptions.argtypes = [
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.POINTER(_CupsOption)),
    ]
    lib.cupsParseOptions.restype = ctypes.c_int
    lib.cupsFreeOptions.argtypes = [ctypes.c_int, ctypes.POINTER(_CupsOption)]
    return lib


def cups_parse_options(text: str) -> dict[str, str]:
    """Ask libcups' cupsParseOptions."""
    lib = _load_libcups()
    array = ctypes.POINTER(_CupsOption)()
    count = lib.cupsParseOptions(text.encode(), 0, ctypes.byref(array))
    try:
        return {array[i].name.decode(): array[i].value.decode() for i in range(count)}
    finally:
        lib.cupsFreeOptions(count, array)


TRICKY = st.text(
    st.one_of(
        st.sampled_from(list("ab=no,'\"\\{} \t\nN")),
        st.characters(exclude_categories=["Cs"], exclude_characters="\0"),
    ),
    max_size=40,
)


def give_empty_names_a_name(text: str) -> str:
    """Put ``x`` before each ``=`` that would start a token: cupsParseOptions stops there."""
    return re.sub(r"(^|[ \f\n\r\t\v])=", r"\1x=", text)


@settings(max_examples=500)
@given(TRICKY)
def test_same_as_cups_parse_options(text: str) -> None:
    text = "p=1 " + give_empty_names_a_name(text)  # "p=1 " keeps the {...} stripping out
    expected = cups_parse_options(text)
    assert parse_options(text, tolerate_unescaped_spaces=False) == expected


@pytest.mark.parametrize(
    "text",
    [
        r"fax-to=5556465589|John\ Doe,5555568552 finishings=3",
        'a=\'x y\'z b="q\\"r" c={d=1 e={f}} nog h',
        "{a=1 b=2}",
        "a=x'y z' b=x,'y z'",
        "Media=A4 media=Letter",
    ],
)
def test_examples_same_as_cups_parse_options(text: str) -> None:
    assert parse_options(text, tolerate_unescaped_spaces=False) == cups_parse_options(text)


def test_option_values_keeps_every_repeat_in_order() -> None:
    from faxprint.cups.options import option_values

    text = "document-name-supplied=a.pdf fax-to=5556465589 document-name-supplied=notes\\ 2.txt Document-Name-Supplied=c"
    assert option_values(text, "document-name-supplied") == ["a.pdf", "notes 2.txt", "c"]
    assert option_values(text, "missing") == []
