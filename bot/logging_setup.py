"""Logging with the bot token and invitation codes redacted from every line.

httpx logs request URLs (which contain the token) at INFO and PTB logs them at DEBUG, so a filter
on every handler replaces the token, and anything shaped like a token, before a line is written.
PTB's DEBUG lines also hold every update and every sent message, and so every invitation code
(stored only hashed): the ``/start CODE`` that comes in and the ``t.me/<bot>?start=CODE`` link that
goes out. Whatever follows ``/start`` or a ``start=`` parameter is redacted too.

Every line carries the request id and person id of the update (or duty-engine tick) that caused it
(``bot.tracing``), as text (``req=1f3a9c0e user=9001``) or, with ``[bot] log_format = "json"``, as
fields of one JSON object per line. Redaction runs first, so both formats get redacted text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.tracing import current

_TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
# A deep link's payload, in a message, a URL, percent-encoded or HTML-escaped (&amp; ends in ";").
_START_PAYLOAD = re.compile(
    r"(?P<lead>(?:/|%2F)start(?:@\w+)?(?: |%20|\+)+|(?:[?&;]|%3F|%26)start(?:group|app)?(?:=|%3D))[A-Za-z0-9_-]+",
    re.IGNORECASE,
)
REDACTED = "<redacted>"


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        # Very short "tokens" (tests use "x") would redact ordinary words; the shape rule covers real ones.
        self._secrets = tuple(s for s in secrets if len(s) >= 8)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _TOKEN_SHAPE.sub(REDACTED, text)
        return _START_PAYLOAD.sub(rf"\g<lead>{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class TraceFilter(logging.Filter):
    """Adds ``request_id`` and ``person_id`` (None outside an update) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        trace = current()
        record.request_id = trace.request_id if trace else None
        record.person_id = trace.person_id if trace else None
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s req=%(req)s user=%(user)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id, person_id = getattr(record, "request_id", None), getattr(record, "person_id", None)
        record.req = request_id or "-"
        record.user = "-" if person_id is None else person_id
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a traceback is a field, not extra lines."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "person_id": getattr(record, "person_id", None),
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_handler(secrets: tuple[str, ...] = (), stream: TextIO | None = None, fmt: str = "text") -> logging.Handler:
    """A handler writing redacted lines with the request id, as text or JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter(secrets))  # first: the trace filter and formatters see redacted text
    handler.addFilter(TraceFilter())
    return handler


def setup_logging(
    level: str = "INFO", secrets: tuple[str, ...] = (), stream: TextIO | None = None, fmt: str = "text"
) -> RedactingFilter:
    handler = make_handler(secrets, stream, fmt)
    redactor = next(f for f in handler.filters if isinstance(f, RedactingFilter))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # One line per HTTP request is noise at INFO; keep warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return redactor


def protect_all_handlers(secrets: tuple[str, ...]) -> None:
    """Put the redactor on every handler already configured (e.g. pytest's capture handlers)."""
    redactor = RedactingFilter(secrets)
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(redactor)
