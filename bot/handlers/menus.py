"""Command menus (setMyCommands): public ones by language, and each registered person's own."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot.flows.access import Caller
from bot.flows.commands import COMMANDS, PUBLIC_COMMANDS, Command, commands_for
from bot.i18n import Texts
from bot.services import app_services
from config import languages

log = logging.getLogger(__name__)


def _bot_commands(texts: Texts, lang: str, commands: list[Command]) -> list[BotCommand]:
    return [BotCommand(c.name, texts.render(lang, f"commands.{c.name}")) for c in commands]


async def set_default_menus(app: Application) -> None:
    svc = app_services(app)
    public = [c for c in COMMANDS if c.name in PUBLIC_COMMANDS]
    try:
        await app.bot.set_my_commands(_bot_commands(svc.texts, svc.settings.default_language, public))
        # Telegram scopes menus by two-letter language code; no code means everyone else.
        for language in languages.REGISTERED:
            if language.menu_code:
                menu = _bot_commands(svc.texts, language.code, public)
                await app.bot.set_my_commands(menu, language_code=language.menu_code)
    except TelegramError as exc:
        log.warning("could not set the command menus: %s", exc)


async def set_chat_menu(app: Application, caller: Caller, chat_id: int) -> None:
    texts = app_services(app).texts
    try:
        await app.bot.set_my_commands(
            _bot_commands(texts, caller.lang, commands_for(caller)), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError as exc:
        log.warning("could not set the command menu of chat %s: %s", chat_id, exc)
