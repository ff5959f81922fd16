"""/start, /help, /lang, /cancel and the replies to whatever nothing else handles."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.flows.commands import commands_for
from bot.flows.people import recognition
from bot.handlers.base import Turn, guarded, unregistered_hooks
from bot.handlers.menus import set_chat_menu
from bot.handlers.people.invites import accept_invitation
from bot.i18n import LANGUAGE_NAMES
from config.settings import LANGUAGES

LANG_PREFIX = "lang:"


@guarded(open_to_all=True)
async def start(turn: Turn) -> None:
    caller = turn.caller
    if turn.context.args:  # a deep link: /start <invitation code>
        await accept_invitation(turn, turn.context.args[0])
        return
    if not caller.registered:
        key = "common.deactivated" if not caller.active else "common.not_registered"
        await turn.say(key, user_id=caller.user_id)
        if caller.active:
            for hook in unregistered_hooks(turn.context.application):
                await hook(turn)
        return
    await set_chat_menu(turn.context.application, caller, turn.chat_id)
    await turn.say("common.welcome", name=caller.name, roles=sorted(caller.roles))


@guarded(open_to_all=True)
async def help_command(turn: Turn) -> None:
    commands = [c.name for c in commands_for(turn.caller)]
    await turn.say("common.help", commands=commands, registered=turn.caller.registered, user_id=turn.caller.user_id)


@guarded()
async def lang(turn: Turn) -> None:
    buttons = [
        [
            InlineKeyboardButton(
                ("✓ " if code == turn.caller.lang else "") + LANGUAGE_NAMES[code],
                callback_data=LANG_PREFIX + code,
            )
        ]
        for code in LANGUAGES
    ]
    await turn.say("common.lang_prompt", markup=InlineKeyboardMarkup(buttons))


@guarded()
async def lang_chosen(turn: Turn) -> None:
    query = turn.update.callback_query
    assert query is not None and query.data is not None
    code = query.data.removeprefix(LANG_PREFIX)
    if code not in LANGUAGES:
        await turn.answer("common.stale_button", alert=True)
        return
    turn.caller = await recognition.set_language(turn.services.users, turn.services.clock, turn.caller, code)
    await turn.answer()
    await turn.edit("common.lang_set", language=LANGUAGE_NAMES[code])
    await set_chat_menu(turn.context.application, turn.caller, turn.chat_id)


@guarded()
async def cancel(turn: Turn) -> None:
    cleared = await turn.services.pending.clear(turn.caller.user_id)
    await turn.say("common.cancelled" if cleared else "common.nothing_to_cancel")


@guarded()
async def unknown_command(turn: Turn) -> None:
    await turn.say("common.unknown_command")


@guarded()
async def stray_text(turn: Turn) -> None:
    await turn.say("common.no_context")


@guarded()
async def unsupported_message(turn: Turn) -> None:
    await turn.say("common.unsupported")


@guarded()
async def stale_button(turn: Turn) -> None:
    await turn.answer("common.stale_button", alert=True)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("lang", lang))
    app.add_handler(CommandHandler("cancel", cancel))
    app.add_handler(CallbackQueryHandler(lang_chosen, pattern=f"^{LANG_PREFIX}"))


def register_fallbacks(app: Application) -> None:
    """Last in line: whatever no feature claimed gets a short, clear reply and changes nothing."""
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(filters.TEXT, stray_text))
    app.add_handler(MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, unsupported_message))
    app.add_handler(CallbackQueryHandler(stale_button))


__all__ = ["register", "register_fallbacks"]
