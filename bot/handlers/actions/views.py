"""/actions: the open corrective actions of the caller's sites, paged, each opening its card with
its history. Logic lives in bot.flows.actions.

Callback data (checked against the database on every tap):
  al:<page>   a page of the list        ao:<action>   an action's card
The card's buttons of the fix-and-verify loop are in bot.handlers.actions.loop.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flows.actions.views import SEEING_ROLES, ActionLine
from bot.handlers.actions import assign, extend, loop, notices
from bot.handlers.actions.loop import card_keyboard
from bot.handlers.base import ID, PAGE, Turn, guarded
from bot.handlers.keyboards import page_nav

LINES_PER_PAGE = 10
ACTION_VIEWERS = frozenset(SEEING_ROLES)


async def show_list(turn: Turn, page: int = 0) -> None:
    """Ten lines a page, cut in the database; each line is short (a site's name, a clause code), so ten
    always fit in a message."""
    found = await turn.services.actions.live_page(turn.caller, page, LINES_PER_PAGE)
    if not found.total:
        await turn.edit("actions.empty")
        return
    rows = [[Button(turn.label("actions.btn_open", line=line), callback_data=f"ao:{line.id}")] for line in found.lines]
    rows += page_nav(found.index, found.pages, lambda n: f"al:{n}")
    await turn.edit(
        "actions.list",
        InlineKeyboardMarkup(rows),
        lines=found.lines,
        page=found.index,
        pages=found.pages,
        total=found.total,
    )


@guarded(ACTION_VIEWERS)
async def actions_command(turn: Turn) -> None:
    await show_list(turn)


@guarded(ACTION_VIEWERS)
async def on_list(turn: Turn) -> None:
    assert turn.update.callback_query is not None
    await show_list(turn, int((turn.update.callback_query.data or "").split(":")[1]))
    await turn.answer()


@guarded(ACTION_VIEWERS)
async def on_card(turn: Turn) -> None:
    assert turn.update.callback_query is not None
    action_id = int((turn.update.callback_query.data or "").split(":")[1])
    card = await turn.services.actions.card(turn.caller, action_id)
    await turn.edit("actions.card", card_keyboard(turn, card), card=card)
    await turn.answer()


def register(app: Application) -> None:
    app.add_handler(CommandHandler("actions", actions_command))
    app.add_handler(CallbackQueryHandler(on_list, pattern=rf"^al:{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_card, pattern=rf"^ao:{ID}$"))
    loop.register(app)  # its buttons, and its text and media claimers (first in line)
    notices.register(app)
    extend.register(app)
    assign.register(app)


__all__ = ["ActionLine", "register"]
