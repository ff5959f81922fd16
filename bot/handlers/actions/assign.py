"""指派 on Telegram: the site's staff as buttons (eight a page), and back to the whole staff. Logic lives
in bot.flows.actions.assign.

Callback data (checked against the database on every tap; at most 3 + 3 x 18 + 2 = 59 bytes):
  aa:<action>:<page>                 a page of the people to choose from
  ak:<action>:<current>:<person>     assign (0: nobody, i.e. the site's staff) - refused unless the
                                     action is still assigned to <current>
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler

from bot.flows.actions.assign import AssignFlow, AssignPage
from bot.flows.actions.views import SEEING_ROLES
from bot.handlers.actions.loop import card_keyboard
from bot.handlers.base import ID, PAGE, Turn, guarded
from bot.handlers.keyboards import page_nav

ASSIGN_ROLES = frozenset(SEEING_ROLES)


def flow_of(turn: Turn) -> AssignFlow:
    return turn.services.assignments


def _parts(turn: Turn) -> list[int]:
    query = turn.update.callback_query
    assert query is not None and query.data is not None
    return [int(part) for part in query.data.split(":")[1:]]  # the patterns admit digits only


def choices_keyboard(turn: Turn, found: AssignPage) -> InlineKeyboardMarkup:
    action_id, current = found.card.line.id, found.current or 0
    rows = [
        [Button(turn.label("actions.btn_assignee", name=p.name), callback_data=f"ak:{action_id}:{current}:{p.id}")]
        for p in found.people
    ]
    rows += page_nav(found.index, found.pages, lambda n: f"aa:{action_id}:{n}")
    if found.current is not None:
        rows.append([Button(turn.label("actions.btn_assign_default"), callback_data=f"ak:{action_id}:{current}:0")])
    rows.append([Button(turn.label("actions.btn_back_to_card"), callback_data=f"ao:{action_id}")])
    return InlineKeyboardMarkup(rows)


@guarded(ASSIGN_ROLES)
async def on_choices(turn: Turn) -> None:
    action_id, page = _parts(turn)
    found = await flow_of(turn).choices(turn.caller, action_id, page)
    await turn.edit("actions.assign_list", choices_keyboard(turn, found), found=found)
    await turn.answer()


@guarded(ASSIGN_ROLES)
async def on_assign(turn: Turn) -> None:
    action_id, current, person = _parts(turn)
    card = await flow_of(turn).assign(turn.caller, action_id, current or None, person or None)
    await turn.answer("actions.toast_assigned", card=card)
    await turn.edit("actions.card", card_keyboard(turn, card), card=card)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_choices, pattern=rf"^aa:{ID}:{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_assign, pattern=rf"^ak:{ID}:{ID}:{ID}$"))
