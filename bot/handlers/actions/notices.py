"""The buttons of corrective actions' messages (notices, proof to verify, results, overdue), sent by
the duty engine; each opens its action's card as a new message, so the message stays as it was.

Callback data: ``ac:<action>`` an action's card, as a new message.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler

from bot.flows.actions.notices import ActionMessage
from bot.flows.actions.views import SEEING_ROLES
from bot.handlers.actions.loop import card_keyboard
from bot.handlers.base import ID, Turn, guarded
from bot.i18n import Texts

PER_ROW = 2


def message_keyboard(texts: Texts, lang: str, message: ActionMessage) -> InlineKeyboardMarkup:
    buttons = [
        Button(texts.plain(lang, "actions.btn_open", line=item.line), callback_data=f"ac:{item.line.id}")
        for item in message.lines
    ]
    return InlineKeyboardMarkup([buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)])


@guarded(frozenset(SEEING_ROLES))
async def on_card_message(turn: Turn) -> None:
    assert turn.update.callback_query is not None
    action_id = int((turn.update.callback_query.data or "").split(":")[1])
    card = await turn.services.actions.card(turn.caller, action_id)
    await turn.answer()
    await turn.say("actions.card", card_keyboard(turn, card), card=card)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_card_message, pattern=rf"^ac:{ID}$"))
