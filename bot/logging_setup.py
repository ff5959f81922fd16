"""Logging with the bot token and invitation codes redacted from every line.

httpx logs request URLs (which contain the token) at INFO and PTB logs them at DEBUG, so a filter
on every handler replaces the token, and anything shaped like a token, before a line is written.
PTB's DEBUG lines also hold every update and every sent message, and so every invitation code
(stored only hashed): the ``/start CODE`` that comes in and the ``t.me/<bot>?start=CODE`` link that
goes out. Whatever follows ``/start`` or a ``start=`` parameter is redacted too.
"""

from __future__ import annotations

import logging
import re
import sys

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


def setup_logging(level: str = "INFO", secrets: tuple[str, ...] = (), stream=None) -> RedactingFilter:
    redactor = RedactingFilter(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
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
