"""Updates of one person in order, different people concurrently.

PTB's default processor is either fully sequential (one slow photo download stalls everyone) or
fully concurrent (two fast taps of one person race). This one holds a lock per user (or per chat
for updates without a user) around each update.

It is also where an update's processing begins and ends: it opens the update's trace (a request id
and the person's id, which every log line the update causes carries, see ``bot.tracing``), times its
handling for the metrics, and logs one line when it is done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor
from telegram.request import HTTPXRequest

from bot.metrics import Metrics, update_kind
from bot.tracing import traced
from bot.transport import AiohttpRequest
from storage.db import DB_WAIT

log = logging.getLogger(__name__)

# Benchmarks only: seconds the current update spent waiting for Bot API answers.
API_WAIT: ContextVar[list[float] | None] = ContextVar("api_wait", default=None)


class TimedRequestMixin:
    """Adds each Bot API call's duration to the current update's API_WAIT (benchmarks only)."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        waited = API_WAIT.get()
        started = time.perf_counter()
        try:
            return await super().do_request(*args, **kwargs)  # type: ignore[misc]
        finally:
            if waited is not None:
                waited[0] += time.perf_counter() - started


class TimedRequest(TimedRequestMixin, AiohttpRequest):
    """The bot's transport, timed."""


class TimedHTTPXRequest(TimedRequestMixin, HTTPXRequest):
    """PTB's default transport, timed (the echo-bot baseline)."""


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self,
        max_concurrent_updates: int = 512,
        timings: list[list[float]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._metrics = metrics
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # key -> updates holding or waiting for its lock
        # Benchmarks pass a list to collect [handling time, of which waiting for the Bot API, of which
        # in database calls] per update (seconds, from the moment the update's turn came).
        self._timings = timings

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        person = update.effective_user.id if isinstance(update, Update) and update.effective_user else None
        with traced(person):
            key = _key(update)
            if key is None:
                await self._handle(update, coroutine)
                return
            lock = self._locks.setdefault(key, asyncio.Lock())
            self._users[key] = self._users.get(key, 0) + 1
            try:
                async with lock:
                    await self._handle(update, coroutine)
            finally:
                self._users[key] -= 1
                if not self._users[key]:
                    del self._users[key]
                    del self._locks[key]

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers, from the moment the update's turn came (its person's earlier ones done)."""
        started = time.perf_counter()
        try:
            if self._timings is None:
                await coroutine
            else:
                await timed(coroutine, self._timings)
        finally:
            seconds = time.perf_counter() - started
            kind = update_kind(update)
            if self._metrics is not None:
                self._metrics.update_handled(kind, seconds)
            update_id = update.update_id if isinstance(update, Update) else None
            log.info("update %s (%s) handled in %.0f ms", update_id, kind, seconds * 1000)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


async def timed(coroutine: Awaitable[Any], timings: list[list[float]]) -> None:
    """Await one update's handling and record [its duration, of which waiting for the Bot API, of
    which in database calls, of those waiting in the writer's and the reader's thread queues, and
    running on the database threads] (see storage.db.DB_WAIT)."""
    api, db = [0.0], [0.0, 0.0, 0.0, 0.0]
    api_token, db_token = API_WAIT.set(api), DB_WAIT.set(db)
    started = time.perf_counter()
    try:
        await coroutine
    finally:
        API_WAIT.reset(api_token)
        DB_WAIT.reset(db_token)
        timings.append([time.perf_counter() - started, api[0], *db])


def _key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user:
        return update.effective_user.id
    if update.effective_chat:
        return update.effective_chat.id
    return None
