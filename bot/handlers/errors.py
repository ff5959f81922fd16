"""Errors outside a guarded handler (see ``bot.handlers.base.fail`` for those inside): log the
failure with its traceback, tell the person briefly, never show the traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.handlers.base import failure_text_key
from bot.i18n import language_from_telegram
from bot.services import SERVICES_KEY

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("failed to handle an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    svc = context.application.bot_data.get(SERVICES_KEY)
    if svc is None:
        return
    user = update.effective_user
    lang = language_from_telegram(user.language_code if user else None, svc.settings.default_language)
    if user is not None:
        try:
            known = await svc.users.get(user.id)
            if known is not None:
                lang = svc.language_of(known)
        except Exception:
            pass
    key = failure_text_key(context.error)
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(svc.texts.plain(lang, key), show_alert=True)
            return
        except TelegramError:
            pass  # already answered before the failure: say it in the chat instead
    try:
        await context.bot.send_message(update.effective_chat.id, svc.texts.render(lang, key))
    except TelegramError as exc:
        log.warning("could not tell the person about the error: %s", exc)
