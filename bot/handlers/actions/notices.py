"""The buttons of corrective actions' messages (notices, proof to verify, results, overdue), sent by
the duty engine; each opens its action's card as a new message, so the message stays as it was.

Callback data: ``ac:<action>`` an action's card, as a new message; ``an:<inspection>`` the
printable 整改通知单 of an inspection (HTML, and PDF where Chromium is installed).
"""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler

from bot.flows.actions.notices import ActionMessage
from bot.flows.actions.printable import notice_document, render_notice_html
from bot.flows.actions.views import SEEING_ROLES
from bot.handlers.actions.loop import card_keyboard
from bot.handlers.base import ID, Turn, guarded
from bot.handlers.documents import file_safe, send_html_and_pdf
from bot.i18n import Texts

PER_ROW = 2


def message_keyboard(
    texts: Texts, lang: str, message: ActionMessage, to_group: bool = False
) -> InlineKeyboardMarkup | None:
    """Each line opens its card (not in a group: cards are for the chat with the bot); a notice also
    offers its printable form, in a group too (the site lead prints and signs it)."""
    buttons = (
        []
        if to_group
        else [
            Button(texts.plain(lang, "actions.btn_open", line=item.line), callback_data=f"ac:{item.line.id}")
            for item in message.lines
        ]
    )
    rows = [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    if message.inspection_id is not None:
        print_button = Button(
            texts.plain(lang, "actions.btn_print_notice"), callback_data=f"an:{message.inspection_id}"
        )
        rows.append([print_button])
    return InlineKeyboardMarkup(rows) if rows else None


@guarded(frozenset(SEEING_ROLES))
async def on_card_message(turn: Turn) -> None:
    assert turn.update.callback_query is not None
    action_id = int((turn.update.callback_query.data or "").split(":")[1])
    card = await turn.services.actions.card(turn.caller, action_id)
    await turn.answer()
    await turn.say("actions.card", card_keyboard(turn, card), card=card)


@guarded(frozenset(SEEING_ROLES))
async def on_print_notice(turn: Turn) -> None:
    inspection_id = int((turn.update.callback_query.data or "").split(":")[1])  # type: ignore[union-attr]
    svc = turn.services
    document = await notice_document(svc.actions, svc.action_messages, turn.caller, inspection_id)
    name = f"{file_safe(document.site_name)}-{inspection_id}"
    caption = turn.text("actions.notice_document_caption", document=document)

    async def render() -> str:
        return await asyncio.to_thread(render_notice_html, document, turn.caller.lang)

    await send_html_and_pdf(turn, render, name, caption, caption)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_card_message, pattern=rf"^ac:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_print_notice, pattern=rf"^an:{ID}$"))
