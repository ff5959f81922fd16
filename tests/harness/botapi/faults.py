"""Faults a test injects: failures, blocked people, rate limits (429), an unreachable server.

A part of :class:`FakeBotAPI` (server.py), which holds the state and the lock these methods use.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from ..models import RecordedRequest
from .state import ApiError, UnreachableMode, _Bucket, _Fault


class FaultsMixin:
    def fail_next(
        self,
        method: str | None = None,
        status: int = 429,
        count: int = 1,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next `count` calls of `method` with an error.

        `method=None` matches any method except getUpdates (so a polling bot is not hit by accident);
        `method="*"` matches everything, ``"download"`` matches file downloads. 429 answers carry
        ``parameters.retry_after``; the default descriptions are Telegram's (``Too Many Requests: retry
        after N``, ``Bad Gateway``, ``Internal Server Error``, ...).
        """
        with self._lock:
            self._faults.append(_Fault(method, status, count, retry_after, description))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def block(self, chat_id: int) -> None:
        """Sends/edits to this chat answer 403 (``bot was blocked by the user`` / ``kicked from the group``)."""
        with self._lock:
            self._chat_or_placeholder(chat_id).blocked = True
        self._touch()

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            if chat_id in self._chats:
                self._chats[chat_id].blocked = False
        self._touch()

    def set_rate_limit(
        self,
        global_per_s: float | None = 30,
        per_chat_per_s: float | None = 1,
        *,
        global_burst: float | None = None,
        per_chat_burst: float = 3,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Emulate flood control with token buckets; excess sends answer 429 with retry_after.

        `global_per_s` / `per_chat_per_s` are refill rates (None = unlimited), bursts the bucket sizes
        (global default = its rate). Applies to `methods` (default: the send* methods, copy and forward).
        Counters: `rate_limit_hits`, `rate_limit_hits_by_chat`. ``set_rate_limit(None, None)`` disables.
        """
        with self._lock:
            self._global_bucket = (
                _Bucket(global_per_s, global_burst if global_burst is not None else global_per_s)
                if global_per_s
                else None
            )
            self._chat_bucket_cfg = (per_chat_per_s, per_chat_burst) if per_chat_per_s else None
            self._chat_buckets.clear()
            if methods is not None:
                self._rate_limited_methods = frozenset(methods)

    @property
    def rate_limit_hits(self) -> int:
        with self._lock:
            return self._rate_limit_hits

    @property
    def rate_limit_hits_by_chat(self) -> dict[int, int]:
        with self._lock:
            return dict(self._rate_limit_hits_by_chat)

    def set_unreachable(self, unreachable: bool = True, mode: UnreachableMode = "disconnect") -> None:
        """Make the server unreachable for the bot (file downloads included).

        * ``"disconnect"`` (default): the connection is closed without an answer; PTB raises
          ``NetworkError("httpx.RemoteProtocolError: Server disconnected ...")`` - what a bot sees when
          Telegram cannot be reached, immediately, so startup-retry loops can be tested fast;
        * ``"502"``: answer 502 Bad Gateway (PTB: ``NetworkError("Bad Gateway")``);
        * ``"timeout"``: hold the request until the client gives up (PTB: ``TimedOut``), then drop it.

        Pending long polls are dropped too. `unreachable_hits` counts refused requests.
        """
        with self._lock:
            self._unreachable = mode if unreachable else None
        self._changed.notify()

    @property
    def unreachable_hits(self) -> int:
        with self._lock:
            return self._unreachable_hits

    async def _unreachable_response(self, request: web.Request, mode: UnreachableMode) -> web.StreamResponse:
        with self._lock:
            self._unreachable_hits += 1
        if mode == "502":
            return web.Response(status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>")
        if mode == "timeout":
            while not self._closing and self._unreachable == "timeout":
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
                await self.changed(0.1)
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=502)

    def _take_fault(self, method: str) -> ApiError | None:
        for fault in self._faults:
            if fault.method == "*" or (
                fault.method.lower() == method.lower()
                if fault.method is not None
                else method not in ("getUpdates", "download")
            ):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                description = fault.description
                params = None
                if fault.status == 429:
                    params = {"retry_after": fault.retry_after}
                    description = description or f"Too Many Requests: retry after {fault.retry_after}"
                if description is None:
                    try:
                        description = HTTPStatus(fault.status).phrase
                    except ValueError:
                        description = "Error"
                    if fault.status == 400:
                        description = "Bad Request"
                return ApiError(fault.status, description, params)
        return None

    def _check_rate_limit(self, params: dict[str, Any], record: RecordedRequest) -> None:
        with self._lock:
            if self._global_bucket is None and self._chat_bucket_cfg is None:
                return
            now = time.monotonic()
            waits = []
            chat_bucket = None
            chat_id = params.get("chat_id")
            if self._global_bucket is not None:
                waits.append(self._global_bucket.wait_time(now))
            if self._chat_bucket_cfg is not None and isinstance(chat_id, int):
                chat_bucket = self._chat_buckets.get(chat_id)
                if chat_bucket is None:
                    chat_bucket = _Bucket(*self._chat_bucket_cfg)
                    self._chat_buckets[chat_id] = chat_bucket
                waits.append(chat_bucket.wait_time(now))
            wait = max(waits, default=0.0)
            if wait > 0:
                self._rate_limit_hits += 1
                if isinstance(chat_id, int):
                    self._rate_limit_hits_by_chat[chat_id] += 1
                record.injected = True
                retry_after = max(1, math.ceil(wait))
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
            if self._global_bucket is not None:
                self._global_bucket.take()
            if chat_bucket is not None:
                chat_bucket.take()
