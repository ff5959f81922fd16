"""The authorization layer every handler goes through, and the small send helpers handlers share.

A handler is written as ``async def f(turn: Turn)`` and wrapped with :func:`guarded`, which
identifies the person, checks their role once, here, and refuses politely otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.clock import iso
from bot.flows.access import Caller, Role
from bot.flows.errors import RefusedError
from bot.services import Services, services

Context = ContextTypes.DEFAULT_TYPE


@dataclass
class Turn:
    """One update being handled: who sent it, and how to answer in their language."""

    update: Update
    context: Context
    caller: Caller
    services: Services

    @property
    def chat_id(self) -> int:
        assert self.update.effective_chat is not None
        return self.update.effective_chat.id

    def now(self) -> str:
        return iso(self.services.clock.now())

    def text(self, key: str, **values: Any) -> str:
        return self.services.texts.render(self.caller.lang, key, **values)

    async def say(self, key: str, markup: InlineKeyboardMarkup | None = None, **values: Any) -> Message:
        return await self.context.bot.send_message(self.chat_id, self.text(key, **values), reply_markup=markup)

    async def answer(self, key: str | None = None, alert: bool = False, **values: Any) -> None:
        """Answer the button press (stops the spinner); optionally with a short toast."""
        query = self.update.callback_query
        if query is not None:
            await query.answer(self.text(key, **values) if key else None, show_alert=alert)

    async def edit(self, key: str, markup: InlineKeyboardMarkup | None = None, **values: Any) -> None:
        """Edit the message the pressed button sits on; an unchanged message is not an error."""
        query = self.update.callback_query
        assert query is not None and query.message is not None
        try:
            await self.context.bot.edit_message_text(
                self.text(key, **values),
                chat_id=query.message.chat.id,
                message_id=query.message.message_id,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise


Handler = Callable[[Turn], Awaitable[None]]


def guarded(roles: frozenset[Role] | None = None, *, open_to_all: bool = False) -> Callable[[Handler], Any]:
    """Wrap a handler: registered people only (unless ``open_to_all``), holding one of ``roles``."""

    def wrap(handler: Handler) -> Callable[[Update, Context], Awaitable[None]]:
        @functools.wraps(handler)
        async def run(update: Update, context: Context) -> None:
            user = update.effective_user
            if user is None or update.effective_chat is None:
                return
            svc = services(context)
            turn = Turn(update, context, await svc.identify(user), svc)
            if not open_to_all and not turn.caller.registered:
                await refuse(turn, "common.not_registered", user_id=user.id)
                return
            if not open_to_all and not turn.caller.may(roles):
                await refuse(turn, "common.not_allowed")
                return
            try:
                await handler(turn)
            except RefusedError as refusal:
                await refuse(turn, refusal.text_key, **refusal.details)

        return run

    return wrap


async def refuse(turn: Turn, key: str, **values: Any) -> None:
    if turn.update.callback_query is not None:
        await turn.answer(key, alert=True, **values)
    else:
        await turn.say(key, **values)
