"""Getting updates: what people do becomes updates handed out by long polling; webhooks.

A part of :class:`FakeBotAPI` (server.py), which holds the state and the lock these methods use.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import Any

from aiohttp import web

from ..models import RecordedRequest
from .state import (
    _CONFLICT_POLL,
    _MEDIA_KINDS,
    DEFAULT_ALLOWED_UPDATES,
    ApiError,
    _bad,
    _MessageRecord,
    _opt_int,
    _Upload,
)


class UpdatesMixin:
    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an ``update_id`` is assigned); returns it. Filtered by allowed_updates."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **{k: v for k, v in update.items() if k != "update_id"}}
            kind = next((k for k in update if k != "update_id"), "")
            if kind in self._allowed_updates:
                self._updates.append(update)
            else:
                self._dropped_updates.append(update)
            self._last_activity = time.monotonic()
        self._changed.notify()
        return copy.deepcopy(update)

    def user_message(
        self,
        user_id: int,
        chat_id: int,
        content: dict[str, Any],
        *,
        reply_to_message_id: int | None = None,
        update_type: str = "message",
    ) -> dict[str, Any]:
        """Record a message from a person in a chat and queue its update (used by driver.Person)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise AssertionError(f"unknown chat {chat_id}: create it with api.person() / api.group()")
            if chat.private:
                chat.started = True
            else:
                chat.members.add(user_id)
            message_id = chat.next_message_id
            chat.next_message_id += 1
            raw: dict[str, Any] = {
                "message_id": message_id,
                "from": self._user_dict(user_id),
                "chat": dict(chat.chat),
                "date": int(time.time()),
                **content,
            }
            if reply_to_message_id is not None:
                target = chat.messages.get(reply_to_message_id)
                if target is not None and not target.deleted:
                    raw["reply_to_message"] = self._shallow(target.raw)
            kind = next((k for k in _MEDIA_KINDS if k in content), "text" if "text" in content else "other")
            chat.messages[message_id] = _MessageRecord(chat_id, message_id, raw, from_bot=False, kind=kind)
            update = {update_type: copy.deepcopy(raw)}
        return self.queue_update(update)

    def user_edit(self, user_id: int, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """A person edits their own text message: queues an ``edited_message`` update."""
        with self._lock:
            chat = self._chats[chat_id]
            record = chat.messages.get(message_id)
            if record is None or record.from_bot or record.raw["from"]["id"] != user_id:
                raise AssertionError(f"message {message_id} in chat {chat_id} is not a message of user {user_id}")
            record.raw["text"] = text
            record.raw["edit_date"] = int(time.time())
            update = {"edited_message": copy.deepcopy(record.raw)}
        return self.queue_update(update)

    @property
    def webhook(self) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._webhook)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (delivered or not)."""
        with self._lock:
            return copy.deepcopy(self._updates)

    @property
    def dropped_updates(self) -> list[dict[str, Any]]:
        """Updates filtered out by allowed_updates or dropped by deleteWebhook(drop_pending_updates)."""
        with self._lock:
            return copy.deepcopy(self._dropped_updates)

    @property
    def allowed_updates(self) -> frozenset[str]:
        with self._lock:
            return self._allowed_updates

    async def _get_updates(
        self, p: dict[str, Any], request: web.Request, record: RecordedRequest
    ) -> list[dict[str, Any]]:
        offset = _opt_int(p, "offset")
        limit = min(max(_opt_int(p, "limit") or 100, 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        with self._lock:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                    "to delete the webhook first",
                )
            if "allowed_updates" in p and p["allowed_updates"] is not None:
                allowed = p["allowed_updates"]
                if isinstance(allowed, str):
                    allowed = json.loads(allowed)
                self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            if offset is not None:
                if offset < 0:
                    keep = -offset
                    self._updates = self._updates[-keep:] if keep else []
                else:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self._last_activity = time.monotonic()
            self._poll_generation += 1
            generation = self._poll_generation
        self._changed.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiting = False
        try:
            while True:
                fut = self._changed.waiter()
                transport = request.transport
                if transport is None or transport.is_closing():
                    record.status = 499  # client went away (e.g. Updater.stop() cancelled the poll)
                    await self._changed.wait(fut, 0)
                    raise ApiError(499, "client closed the request")
                with self._lock:
                    superseded = generation != self._poll_generation
                    batch = [] if superseded else copy.deepcopy(self._updates[:limit])
                    if batch:
                        self._last_activity = time.monotonic()
                if superseded:
                    await self._changed.wait(fut, 0)
                    raise ApiError(409, _CONFLICT_POLL)
                remaining = deadline - loop.time()
                if batch or remaining <= 0 or self._closing or self._unreachable is not None:
                    await self._changed.wait(fut, 0)
                    if self._unreachable is not None and not batch:
                        request.transport.close()
                    return batch
                if not waiting:
                    waiting = True
                    with self._lock:
                        self._polls_waiting += 1
                await self._changed.wait(fut, min(remaining, 0.5))
        finally:
            if waiting:
                with self._lock:
                    self._polls_waiting -= 1

    def _m_getUpdates(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:  # pragma: no cover
        raise AssertionError("handled in _get_updates")

    def _m_logOut(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return True

    def _m_close(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return True

    def _m_setWebhook(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        url = p.get("url") or ""
        if not url:
            self._webhook = None
            return True
        if not str(url).startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = {k: v for k, v in p.items() if k != "certificate"}
        if p.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _m_deleteWebhook(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self._webhook = None
        if p.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _drop_pending(self) -> None:
        self._dropped_updates.extend(self._updates)
        self._updates = []

    def _m_getWebhookInfo(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        info: dict[str, Any] = {
            "url": (self._webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook:
            info["max_connections"] = int(self._webhook.get("max_connections") or 40)
            if self._webhook.get("allowed_updates"):
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info
