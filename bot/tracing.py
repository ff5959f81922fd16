"""Which update (or job) the running code serves: a short request id and the person's id.

Set when an update starts processing (``bot.update_processor``) and when the duty engine ticks
(``bot.scheduler``). A ContextVar follows the code into everything it awaits and into the tasks it
starts, so every log line an update causes, its Bot API calls included, carries the same id
(``bot.logging_setup`` adds it to each record).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Trace:
    request_id: str
    person_id: int | None = None


_CURRENT: ContextVar[Trace | None] = ContextVar("trace", default=None)


def new_request_id() -> str:
    """Eight hex digits: short enough to grep for, random enough not to repeat within a day's log."""
    return os.urandom(4).hex()


def current() -> Trace | None:
    return _CURRENT.get()


@contextlib.contextmanager
def traced(person_id: int | None = None, request_id: str | None = None) -> Iterator[Trace]:
    """Everything run inside (and in tasks started inside) belongs to one new request."""
    trace = Trace(request_id or new_request_id(), person_id)
    token = _CURRENT.set(trace)
    try:
        yield trace
    finally:
        _CURRENT.reset(token)
