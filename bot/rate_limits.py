"""Telegram's flood limits by kind of traffic: a tap never waits behind a broadcast.

Two kinds of Bot API call:

* **interactive** (the default): made while handling a person's update - answering the button,
  editing the card, replying. They go out at once: Telegram's 30 messages/s budget is about sending
  to many chats, and button answers and edits in one person's chat are bounded by that person's taps.
  A 429 on one pauses that chat, and broadcasts (they yield: the budget is spent), for its
  ``retry_after``; the call is tried again for up to :data:`INTERACTIVE_PATIENCE` seconds, so a
  crowd arriving at once waits a moment instead of getting an error.
* **broadcast**: reminders, follow-ups, escalations, notices, digests, run inside :func:`broadcasting`.
  They are paced to ``share`` of the overall budget, so the rest stays free for interactive traffic,
  and a 429 on one pauses broadcasts (Telegram's flood control is then about our sending rate).

Group chats keep Telegram's 20 messages/min for both kinds (one limiter per group, shared).

Why a :class:`~telegram.ext.BaseRateLimiter` of our own instead of two ``AIORateLimiter``: two
instances cannot share a group's 20/min limiter, and PTB's limiter pauses *every* request on any
429. The pacing itself is ``aiolimiter``'s ``AsyncLimiter``, as in PTB's limiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.metrics import Metrics

log = logging.getLogger(__name__)

TELEGRAM_MESSAGES_PER_SECOND = 30
GROUP_MESSAGES_PER_MINUTE = 20
_BROADCAST: contextvars.ContextVar[bool] = contextvars.ContextVar("broadcast", default=False)
_MAX_GROUP_LIMITERS = 512
INTERACTIVE_PATIENCE = 20.0  # seconds of 429 waits an interactive call sits out before giving up


@contextlib.contextmanager
def broadcasting() -> Iterator[None]:
    """Calls made inside (and in tasks started inside) are broadcast traffic."""
    token = _BROADCAST.set(True)
    try:
        yield
    finally:
        _BROADCAST.reset(token)


def is_broadcast() -> bool:
    return _BROADCAST.get()


class TrafficRateLimiter(BaseRateLimiter[int]):
    """Interactive calls at once, broadcasts paced to a share of the budget, groups at 20/min."""

    def __init__(
        self,
        overall_per_second: float = TELEGRAM_MESSAGES_PER_SECOND,
        share: float = 0.8,
        max_retries: int = 3,
        metrics: Metrics | None = None,
    ):
        self._metrics = metrics
        self.broadcast_rate = max(overall_per_second * share, 1.0)
        self._broadcast = AsyncLimiter(self.broadcast_rate, 1.0)
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._max_retries = max_retries
        self._broadcast_open = asyncio.Event()
        self._broadcast_open.set()
        self._chat_pauses: dict[int | str, asyncio.Event] = {}

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_id(data.get("chat_id"))
        broadcast = is_broadcast()
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        waited, attempt = 0.0, 0
        while True:
            try:
                return await self._run(callback, args, kwargs, chat_id, broadcast)
            except RetryAfter as exc:
                attempt += 1
                wait = _seconds(exc.retry_after) + 0.1
                # A broadcast gives up after its retries (the outbox sends it again later); a person's
                # reply keeps its place for a while: an error would cost them more than a wait.
                gave_up = (attempt > retries) if broadcast else (waited + wait > INTERACTIVE_PATIENCE)
                if self._metrics is not None:
                    self._metrics.flood(broadcast, wait, gave_up)
                if gave_up:
                    raise
                waited += wait
                log.info(
                    "429 on %s (%s): pausing %s for %.1f s",
                    endpoint,
                    "broadcast" if broadcast else "interactive",
                    "broadcasts" if broadcast else f"chat {chat_id} and broadcasts",
                    wait,
                )
                await self._pause(chat_id, broadcast, wait)

    async def _run(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        chat_id: int | str | None,
        broadcast: bool,
    ) -> Any:
        if broadcast:
            await self._broadcast_open.wait()
        if chat_id is not None and (pause := self._chat_pauses.get(chat_id)) is not None:
            await pause.wait()
        overall = self._broadcast if broadcast and chat_id is not None else contextlib.nullcontext()
        group = self._group(chat_id) if _is_group(chat_id) else contextlib.nullcontext()
        async with group, overall:
            return await callback(*args, **kwargs)

    async def _pause(self, chat_id: int | str | None, broadcast: bool, seconds: float) -> None:
        """Hold what the 429 was about, no more: broadcasts after a broadcast's 429; after a person's,
        that chat, and broadcasts too, so they yield the spent budget to people."""
        events = [self._broadcast_open]
        if not broadcast and chat_id is not None:
            events.append(self._chat_pauses.setdefault(chat_id, asyncio.Event()))
        for event in events:
            event.clear()
        try:
            await asyncio.sleep(seconds)
        finally:
            for event in events:
                event.set()
            if not broadcast and chat_id is not None:
                self._chat_pauses.pop(chat_id, None)

    def _group(self, chat_id: int | str) -> AsyncLimiter:
        if len(self._groups) > _MAX_GROUP_LIMITERS:  # forget groups whose budget is whole again
            for key, limiter in list(self._groups.items()):
                if key != chat_id and limiter.has_capacity(limiter.max_rate):
                    del self._groups[key]
        limiter = self._groups.get(chat_id)
        if limiter is None:
            limiter = self._groups[chat_id] = AsyncLimiter(GROUP_MESSAGES_PER_MINUTE, 60)
        return limiter


def _chat_id(value: Any) -> int | str | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)  # @channelusername


def _is_group(chat_id: int | str | None) -> bool:
    # Negative ids are groups and channels; a string id is a public channel or supergroup username.
    return (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)


def _seconds(retry_after: Any) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)
