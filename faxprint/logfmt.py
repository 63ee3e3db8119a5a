"""Log lines in the stable ``key=value`` form (logfmt) that the watcher writes.

One line per event: ``level=INFO event=done job=20261126-... outcome=accepted pages=3``.
A value with a space, a quote, an ``=`` or nothing in it is quoted (``message="it was
sent"``; ``\\"`` and ``\\\\`` inside), and anything that does not print is escaped, so a
file name cannot forge a line or a field. ``shlex.split`` reads such a line back.
"""

from __future__ import annotations

import logging
import re

from faxprint.text import printable

_PLAIN = re.compile(r"[^\s\"'=\\]+")


def value(text: object) -> str:
    """Render one value: bare when it can be, else double-quoted."""
    shown = printable(str(text), limit=500)
    if _PLAIN.fullmatch(shown):
        return shown
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kv(**fields: object) -> str:
    """Render fields as ``key=value`` pairs, in the order given; None values are left out."""
    return " ".join(f"{key}={value(v)}" for key, v in fields.items() if v is not None)


def event(logger: logging.Logger, level: int, name: str, **fields: object) -> None:
    """Log one event line."""
    logger.log(level, "%s", kv(event=name, **fields))


class Formatter(logging.Formatter):
    """``level=... event=...``: a record that is no event (a library's warning) becomes
    ``event=log logger=... message="..."``, so every line parses the same way."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if not message.startswith("event="):
            message = kv(event="log", logger=record.name, message=message)
        line = f"level={record.levelname} {message}"
        if record.exc_info:  # a traceback is one more field, not more lines
            line += " " + kv(traceback=self.formatException(record.exc_info))
        return line
