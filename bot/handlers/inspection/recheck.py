"""The 复查 card that opens a walk when the site has corrective actions to re-check. Logic lives in
bot.flows.actions.recheck.

Callback data (checked against the database on every tap):
  rk:<inspection>:<action>:<f|n|r|s>   已整改, 未整改, 整改后复发, 跳过
  rp:<inspection>:<action>             the finding's photos (before) and the last proof's (after)
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler

from bot.flows.access import Role
from bot.flows.actions.recheck import Outcome, RecheckCard
from bot.handlers.actions.loop import send_photos
from bot.handlers.base import ID, Turn, guarded

INSPECTORS = frozenset({Role.INSPECTOR})
CODES = {"f": Outcome.FIXED, "n": Outcome.NOT_FIXED, "r": Outcome.RECURRED, "s": Outcome.SKIPPED}
CODE_OF = {outcome: code for code, outcome in CODES.items()}


def recheck_keyboard(turn: Turn, card: RecheckCard) -> InlineKeyboardMarkup:
    def button(outcome: Outcome) -> Button:
        data = f"rk:{card.inspection_id}:{card.line.id}:{CODE_OF[outcome]}"
        return Button(turn.label(f"actions.btn_recheck_{outcome.value}"), callback_data=data)

    decisions = [button(outcome) for outcome in card.outcomes if outcome is not Outcome.SKIPPED]
    pictures = Button(
        turn.label("actions.btn_recheck_pictures"), callback_data=f"rp:{card.inspection_id}:{card.line.id}"
    )
    rows = [decisions[:2], decisions[2:], [pictures, button(Outcome.SKIPPED)]]
    return InlineKeyboardMarkup([row for row in rows if row])


async def show_recheck(turn: Turn, card: RecheckCard, edit: bool = False) -> None:
    markup = recheck_keyboard(turn, card)
    if edit:
        await turn.edit("actions.recheck_card", markup, card=card)
    else:
        await turn.say("actions.recheck_card", markup, card=card)


def _ids(turn: Turn) -> list[str]:
    query = turn.update.callback_query
    assert query is not None and query.data is not None
    return query.data.split(":")[1:]


@guarded(INSPECTORS)
async def on_outcome(turn: Turn) -> None:
    raw_inspection, raw_action, code = _ids(turn)
    inspection_id, flow = int(raw_inspection), turn.services.rechecks
    await flow.decide(turn.caller, inspection_id, int(raw_action), CODES[code])
    await turn.answer()
    following = await flow.next(turn.caller, inspection_id)
    if following is not None:
        await show_recheck(turn, following, edit=True)
        return
    await turn.edit("actions.recheck_done", done=await flow.summary(inspection_id))
    # The walk goes on with its clauses (imported here: the walk's handlers import this module).
    from bot.handlers.inspection.walk import continue_walk

    await continue_walk(turn, inspection_id)


@guarded(INSPECTORS)
async def on_pictures(turn: Turn) -> None:
    raw_inspection, raw_action = _ids(turn)
    pictures = await turn.services.rechecks.pictures(turn.caller, int(raw_inspection), int(raw_action))
    await turn.answer()
    await turn.say("actions.recheck_pictures", before=len(pictures.before), after=len(pictures.after))
    await send_photos(turn, list(pictures.before))
    if pictures.before and pictures.after:
        await turn.say("actions.recheck_after")
    await send_photos(turn, list(pictures.after))


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_outcome, pattern=rf"^rk:{ID}:{ID}:[fnrs]$"))
    app.add_handler(CallbackQueryHandler(on_pictures, pattern=rf"^rp:{ID}:{ID}$"))
