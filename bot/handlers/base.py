"""The authorization layer every handler goes through, and the small send helpers handlers share.

A handler is written as ``async def f(turn: Turn)`` and wrapped with :func:`guarded`, which
identifies the person, checks their role once, here, and refuses politely otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from bot.clock import iso
from bot.flows.access import Caller, Role
from bot.flows.errors import RefusedError
from bot.private_ptb import DEFAULT_NONE, post_without_parsing
from bot.services import Services, services

Context = ContextTypes.DEFAULT_TYPE
log = logging.getLogger(__name__)

# Every id in callback data and command arguments: at most 18 digits, so it always fits SQLite's
# 64-bit integers (a 19-digit or longer id would raise OverflowError deep in a query). Data that does
# not match a handler's pattern falls through to the "stale button" reply.
ID = r"[0-9]{1,18}"
PAGE = r"[0-9]{1,4}"
_ID_RE = re.compile(ID)


def parse_id(text: str | None) -> int | None:
    """A typed id (``/role 123``): the number, or None when it is not one we could have issued."""
    text = (text or "").strip()
    return int(text) if _ID_RE.fullmatch(text) else None


@dataclass
class Turn:
    """One update being handled: who sent it, and how to answer in their language."""

    update: Update
    context: Context
    caller: Caller
    services: Services
    answered: bool = False  # a button press is answered exactly once (Telegram refuses a second answer)

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

    def label(self, key: str, **values: Any) -> str:
        """A text for a button label: plain, never parsed as HTML by Telegram."""
        return self.services.texts.plain(self.caller.lang, key, **values)

    async def answer(self, key: str | None = None, alert: bool = False, **values: Any) -> None:
        """Answer the button press (stops the spinner); optionally with a short toast or an alert.

        Telegram takes one answer per press. A later answer with something to say (a refusal found
        after the press was acknowledged) goes to the chat as a message instead, so it is not lost."""
        query = self.update.callback_query
        if query is None:
            if key:
                await self.say(key, **values)
            return
        if self.answered:
            if key:
                await self.say(key, **values)
            return
        self.answered = True
        text = self.services.texts.plain(self.caller.lang, key, **values) if key else None
        await query.answer(text, show_alert=alert)

    async def edit(self, key: str, markup: InlineKeyboardMarkup | None = None, **values: Any) -> None:
        """Edit the message the pressed button sits on; an unchanged message is not an error. Without a
        message to edit (a command, a message deleted or too old, a button replayed from elsewhere)
        the text comes as a new message."""
        query = self.update.callback_query
        if query is None or not isinstance(query.message, Message):
            await self.say(key, markup, **values)
            return
        if not await self.edit_message(query.message.message_id, key, markup, **values):
            await self.say(key, markup, **values)

    async def edit_message(
        self, message_id: int, key: str, markup: InlineKeyboardMarkup | None = None, **values: Any
    ) -> bool:
        """Edit one of the bot's messages in this chat. False: it can no longer be edited (deleted, too
        old); an unchanged message counts as edited."""
        # What bot.edit_message_text does, less parsing the edited message back (bot/private_ptb.py).
        edit = {
            "chat_id": self.chat_id,
            "message_id": message_id,
            "text": self.text(key, **values),
            "reply_markup": markup,
            "parse_mode": DEFAULT_NONE,
            "link_preview_options": DEFAULT_NONE,
        }
        try:
            await post_without_parsing(self.context.bot, "editMessageText", edit)
        except BadRequest as exc:
            reason = str(exc).lower()
            if "not modified" in reason:
                return True
            if "not found" not in reason and "can't be edited" not in reason:
                raise
            return False
        return True


@contextlib.asynccontextmanager
async def showing_progress(turn: Turn, action: str) -> AsyncIterator[None]:
    """While a long job runs (a report takes seconds), keep the chat's "sending a file…" status up:
    Telegram shows a chat action for at most 5 s. The press was answered before the job started."""
    await turn.answer()
    bot, chat_id = turn.context.bot, turn.chat_id

    async def repeat() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, action)
            await asyncio.sleep(_CHAT_ACTION_REPEAT_S)

    task = asyncio.create_task(repeat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


_CHAT_ACTION_REPEAT_S = 4.0

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
            except Exception as error:
                await fail(turn, error)
            if update.callback_query is not None and not turn.answered:
                await turn.answer()  # every press gets its one answer, even when nothing needed saying

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
    """Say why nothing was done: an alert on the pressed button, else a message."""
    await turn.answer(key, alert=True, **values)


async def fail(turn: Turn, error: Exception) -> None:
    """A handler failed: log it with its traceback, and tell the person briefly, never the traceback."""
    log.error("failed to handle an update", exc_info=error)
    try:
        await refuse(turn, failure_text_key(error))
    except TelegramError as exc:
        log.warning("could not tell the person about the error: %s", exc)


def failure_text_key(error: BaseException | None) -> str:
    # A database that is locked, read-only or full (OperationalError) means this message was not saved:
    # say so, so the person sends it again, instead of the generic "nothing saved is lost". A misuse
    # (ProgrammingError: a closed connection, a bad statement) is a bug, not the disk: the generic one.
    return "common.save_failed" if isinstance(error, sqlite3.OperationalError | OSError) else "common.error"
