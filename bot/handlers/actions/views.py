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
from bot.flows.paging import MESSAGE_BUDGET, paginate, utf16_len
from bot.handlers.actions import extend, loop, notices
from bot.handlers.actions.loop import card_keyboard
from bot.handlers.base import ID, PAGE, Turn, guarded

LINES_PER_PAGE = 10
ACTION_VIEWERS = frozenset(SEEING_ROLES)


async def show_list(turn: Turn, page: int = 0) -> None:
    lines = await turn.services.actions.live(turn.caller)
    if not lines:
        await turn.edit("actions.empty")
        return

    def fits(chunk: object) -> bool:
        return utf16_len(turn.text("actions.list", lines=chunk, page=0, pages=99, total=len(lines))) <= MESSAGE_BUDGET

    found = paginate(lines, page, fits, LINES_PER_PAGE)
    rows = [[Button(turn.label("actions.btn_open", line=line), callback_data=f"ao:{line.id}")] for line in found.items]
    nav = []
    if found.index > 0:
        nav.append(Button("◀", callback_data=f"al:{found.index - 1}"))
    if found.index < found.count - 1:
        nav.append(Button("▶", callback_data=f"al:{found.index + 1}"))
    if nav:
        rows.append(nav)
    await turn.edit(
        "actions.list",
        InlineKeyboardMarkup(rows),
        lines=found.items,
        page=found.index,
        pages=found.count,
        total=len(lines),
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


__all__ = ["ActionLine", "register"]
