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
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import Application, ContextTypes

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
        # What bot.edit_message_text does, less building PTB's Message from the edited message Telegram
        # sends back: nothing reads it, and that was a tenth of the bot's CPU per button tap
        # (bench/RESULTS.md). ExtBot._post still applies the Defaults (HTML, no link previews), the
        # rate limiter and PTB's error mapping.
        edit = {
            "chat_id": query.message.chat.id,
            "message_id": query.message.message_id,
            "text": self.text(key, **values),
            "reply_markup": markup,
            "parse_mode": DEFAULT_NONE,
            "link_preview_options": DEFAULT_NONE,
        }
        try:
            await self.context.bot._post("editMessageText", edit)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise


Handler = Callable[[Turn], Awaitable[None]]


def guarded(
    roles: frozenset[Role] | None = None, *, open_to_all: bool = False, in_groups: bool = False
) -> Callable[[Handler], Any]:
    """Wrap a handler: registered people only (unless ``open_to_all``), holding one of ``roles``.

    In group chats only commands addressed to this bot and button presses get through, and only from
    members of the group's site (see :func:`_admitted_in_group`); handlers that are not ``in_groups``
    answer there that they work in a private chat.
    """

    def wrap(handler: Handler) -> Callable[[Update, Context], Awaitable[None]]:
        @functools.wraps(handler)
        async def run(update: Update, context: Context) -> None:
            user = update.effective_user
            if user is None or update.effective_chat is None:
                return
            in_group = update.effective_chat.type != ChatType.PRIVATE
            if in_group and not _for_this_bot(update, context.bot.username, in_groups):
                return
            svc = services(context)
            turn = Turn(update, context, await svc.identify(user), svc)
            if in_group and not await _admitted_in_group(turn, in_groups):
                return
            if not open_to_all and not turn.caller.registered:
                key = "common.deactivated" if not turn.caller.active else "common.not_registered"
                await refuse(turn, key, user_id=user.id)
                if turn.caller.active and update.effective_chat.type == ChatType.PRIVATE:
                    for hook in unregistered_hooks(context.application):
                        await hook(turn)
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


UnregisteredHook = Callable[[Turn], Awaitable[None]]


def unregistered_hooks(app: Application) -> list[UnregisteredHook]:
    """Called after an unregistered person was refused in a private chat (e.g. to tell admins)."""
    return app.bot_data.setdefault("unregistered_hooks", [])


def _for_this_bot(update: Update, username: str | None, in_groups: bool) -> bool:
    """In a group, chatter is not for the bot: only button presses and commands addressed to it are
    (plus the status updates an ``in_groups`` handler asked for, e.g. a group upgrade)."""
    if update.callback_query is not None:
        return True
    message = update.effective_message
    command = _command_in(message.text if message else None)
    if command is None:
        return in_groups
    addressee = command.partition("@")[2]
    return not addressee or addressee.lower() == (username or "").lower()


async def _admitted_in_group(turn: Turn, in_groups: bool) -> bool:
    """Commands and buttons in a group only from members of its site; then only group-aware handlers."""
    if turn.update.callback_query is None and _command_in(_text_of(turn.update)) is None:
        return True  # a status update an in_groups handler asked for; it checks what it needs
    if not await turn.services.people.group_member(turn.caller, turn.chat_id):
        await refuse(turn, "people.group_not_member")
        return False
    if not in_groups:
        await refuse(turn, "people.private_only")
        return False
    return True


def _text_of(update: Update) -> str | None:
    message = update.effective_message
    return message.text if message else None


def _command_in(text: str | None) -> str | None:
    if not text or not text.startswith("/"):
        return None
    return text.split(maxsplit=1)[0][1:]


async def refuse(turn: Turn, key: str, **values: Any) -> None:
    if turn.update.callback_query is not None:
        await turn.answer(key, alert=True, **values)
    else:
        await turn.say(key, **values)
