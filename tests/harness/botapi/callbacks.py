"""Callback queries: a press on an inline button, and the bot's one answer to it.

A part of :class:`FakeBotAPI` (server.py), which holds the state and the lock these methods use.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from ..models import CallbackAnswer
from .state import _QUERY_TOO_OLD, _bad, _CallbackQuery, _opt_int, _Upload


class CallbacksMixin:
    def callback_query(self, user_id: int, chat_id: int, message_id: int | None, data: str | None) -> str:
        """Queue a callback_query update as if the user pressed a button; returns the query id."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise AssertionError(f"unknown chat {chat_id}")
            if chat.private:
                chat.started = True
            query_id = str(4_300_000_000_000_000_000 + next(self._query_ids))
            record = chat.messages.get(message_id) if message_id is not None else None
            if record is not None and not record.deleted:
                message = copy.deepcopy(record.raw)
            else:  # InaccessibleMessage
                message = {"chat": dict(chat.chat), "message_id": message_id or 0, "date": 0}
            query: dict[str, Any] = {
                "id": query_id,
                "from": self._user_dict(user_id),
                "message": message,
                "chat_instance": str(abs(hash((self.bot_id, chat_id))) % 10**18),
            }
            if data is not None:
                query["data"] = data
            self._callback_queries[query_id] = _CallbackQuery(
                query_id, user_id, chat_id, message_id, data, time.monotonic()
            )
        self.queue_update({"callback_query": query})
        return query_id

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        with self._lock:
            return list(self._callback_answers)

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        with self._lock:
            query = self._callback_queries.get(query_id)
            return query.answer if query else None

    def _m_answerCallbackQuery(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        query_id = str(p.get("callback_query_id") or "")
        query = self._callback_queries.get(query_id)
        expired = (
            query is not None
            and self.callback_answer_timeout is not None
            and time.monotonic() - query.created > self.callback_answer_timeout
        )
        if query is None or query.answer is not None or expired:
            raise _bad(_QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        if text:
            self._check_plain("alert" if p.get("show_alert") else "toast", str(text))
        answer = CallbackAnswer(
            query_id=query_id,
            text=None if text is None else str(text),
            show_alert=bool(p.get("show_alert")),
            url=p.get("url"),
            cache_time=_opt_int(p, "cache_time"),
            user_id=query.user_id,
            chat_id=query.chat_id,
            callback_data=query.data,
        )
        query.answer = answer
        self._callback_answers.append(answer)
        return True
