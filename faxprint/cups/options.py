"""Parse the options string a CUPS backend gets as argv[5].

cupsd builds argv[5] from the job's attributes: ``name=value`` pairs separated by spaces,
booleans as a bare ``name`` (true) or ``noname`` (false), and space, tab, newline,
backslash and both quote characters in string values escaped with a backslash. On CUPS
2.4.2 ``fax-to="5556465589|John Doe,5555568552"`` arrives as
``fax-to=5556465589|John\\ Doe,5555568552``.

``parse_options`` reads it the way ``cupsParseOptions`` (cups/options.c) does:

* a name runs up to whitespace or ``=``; whitespace before the ``=`` is skipped;
* a value is read in parts up to unescaped whitespace: a quoted part (``'...'`` or
  ``"..."``) keeps whitespace; a ``{`` part is a collection, kept with its braces up to the
  matching ``}``; a comma between parts is kept; any other character starts a plain part
  that runs to the next whitespace, quotes and commas included. ``\\x`` stands for ``x``
  everywhere but in names;
* a bare name is ``"true"``; a bare name starting with ``no`` (any case) is ``"false"``
  under the rest of the name;
* names compare case-insensitively (ASCII letters only): a repeated option keeps the first
  spelling of its name and the last value (cupsd repeats ``document-name-supplied`` once
  per document);
* the text ends at a NUL, as a C string would.

Where cupsParseOptions gives up, this parser goes on: a token that starts with ``=`` (an
empty name) is skipped instead of ending the parse. It never raises.

Unescaped spaces (CUPS 2.4.17 to 2.4.19): those versions emit values with bare spaces, so
``fax-to=5556465589|John Doe,5555568552`` reads, by CUPS rules, as ``fax-to`` plus a
boolean option ``Doe,5555568552``. When the text holds no backslash-escaped whitespace at
all, a run of bare words after a ``name=value`` option is glued back onto its value (with
single spaces) up to and including the last word of the run that cannot be an option name
(it contains a character outside letters, digits, ``-``, ``_`` and ``.``, or does not start
with a letter); the words after it stay booleans. So ``phone=Custom.555 1234`` and
``fax-to=555|John Doe,556`` come back whole, while ``fax-to=555|John Doe`` still loses
``Doe`` to a boolean option: a word that looks like an option name cannot be told from one.
"""

from __future__ import annotations

__all__ = ["parse_options"]

_SPACE = frozenset(" \f\n\r\t\v")
_NAME_END = _SPACE | {"="}
_QUOTES = frozenset("'\"")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_NAME_CHARACTERS = _LETTERS | frozenset("0123456789_.-")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _Token:
    """One option as read: a name with a value, or a bare (boolean) word."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str | None) -> None:
        self.name = name
        self.value = value


def parse_options(text: str, *, tolerate_unescaped_spaces: bool = True) -> dict[str, str]:
    """Parse a CUPS options string (a backend's argv[5]) into names and values.

    With ``tolerate_unescaped_spaces=False`` the result is what cupsParseOptions gives,
    but for the empty names it stops at.
    """
    return _collect(_tokens(text, tolerate_unescaped_spaces))


def option_values(text: str, name: str) -> list[str]:
    """Return every value given for ``name``, in order (cupsd repeats some, such as
    ``document-name-supplied``, once per document; ``parse_options`` keeps the last)."""
    wanted = _ascii_lower(name)
    return [
        t.value
        for t in _tokens(text, True)
        if t.value is not None and _ascii_lower(t.name) == wanted
    ]


def _tokens(text: str, tolerate_unescaped_spaces: bool) -> list[_Token]:
    text = text.split("\0", 1)[0]
    if text.startswith("{") and text.endswith("}") and len(text) > 1:
        text = text[1:-1]
    reader = _Reader(text)
    tokens = reader.tokens()
    if tolerate_unescaped_spaces and not reader.escaped_space:
        tokens = _glue_unescaped_spaces(tokens)
    return tokens


class _Reader:
    """Split an options string into tokens, following cupsParseOptions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        #: Whether any value held a backslash-escaped whitespace character.
        self.escaped_space = False

    def tokens(self) -> list[_Token]:
        text, end = self.text, len(self.text)
        tokens: list[_Token] = []
        self.skip_space()
        while self.pos < end:
            start = self.pos
            while self.pos < end and text[self.pos] not in _NAME_END:
                self.pos += 1
            name = text[start : self.pos]
            self.skip_space()
            if self.pos < end and text[self.pos] == "=":
                self.pos += 1
                value = self.value()
                self.skip_space()
                if name:  # cupsParseOptions stops at an empty name; skipping it loses less
                    tokens.append(_Token(name, value))
            else:
                tokens.append(_Token(name, None))
        return tokens

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1

    def value(self) -> str:
        """Read one value: plain runs, quoted parts and collections up to whitespace."""
        text, end = self.text, len(self.text)
        out: list[str] = []
        while self.pos < end and text[self.pos] not in _SPACE:
            char = text[self.pos]
            if char == ",":
                out.append(char)
                self.pos += 1
            elif char in _QUOTES:
                self.pos += 1
                self.quoted(char, out)
            elif char == "{":
                self.collection(out)
            else:
                self.plain(out)
        return "".join(out)

    def escaped(self, out: list[str]) -> None:
        """Take the character at pos, dropping a backslash that escapes the next one."""
        text = self.text
        if text[self.pos] == "\\" and self.pos + 1 < len(text):
            self.pos += 1
            self.escaped_space = self.escaped_space or text[self.pos] in _SPACE
        out.append(text[self.pos])
        self.pos += 1

    def quoted(self, quote: str, out: list[str]) -> None:
        end = len(self.text)
        while self.pos < end and self.text[self.pos] != quote:
            self.escaped(out)
        if self.pos < end:
            self.pos += 1  # the closing quote

    def collection(self, out: list[str]) -> None:
        depth, end = 0, len(self.text)
        while self.pos < end:
            char = self.text[self.pos]
            self.escaped(out)
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return

    def plain(self, out: list[str]) -> None:
        # As in cupsParseOptions, a plain run goes on to whitespace: quotes and commas in
        # it are ordinary characters.
        end = len(self.text)
        while self.pos < end and self.text[self.pos] not in _SPACE:
            self.escaped(out)


def _glue_unescaped_spaces(tokens: list[_Token]) -> list[_Token]:
    """Put bare words that cannot be option names back into the value before them."""
    result: list[_Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        result.append(token)
        i += 1
        if token.value is None:
            continue
        run_end = i
        while run_end < len(tokens) and tokens[run_end].value is None:
            run_end += 1
        last_glued = max(
            (j for j in range(i, run_end) if not _option_name(tokens[j].name)),
            default=None,
        )
        if last_glued is not None:
            words = [tokens[j].name for j in range(i, last_glued + 1)]
            token.value = " ".join([token.value, *words])
            i = last_glued + 1
    return result


def _collect(tokens: list[_Token]) -> dict[str, str]:
    options: dict[str, str] = {}
    spelling: dict[str, str] = {}
    for token in tokens:
        name, value = token.name, token.value
        if value is None:
            if _ascii_lower(name[:2]) == "no":
                name, value = name[2:], "false"
            else:
                value = "true"
        if not name:
            continue
        key = spelling.setdefault(_ascii_lower(name), name)
        options[key] = value
    return options


def _ascii_lower(text: str) -> str:
    # CUPS compares names with an ASCII-only strcasecmp: "Ä" and "ä" stay different.
    return text.translate(_ASCII_LOWER)


def _option_name(word: str) -> bool:
    """Tell whether a word can be an option name: a letter, then letters, digits, ``_``,
    ``.`` and ``-`` (no regular expression: the printer's thin path imports this)."""
    return bool(word) and word[0] in _LETTERS and all(c in _NAME_CHARACTERS for c in word)
