"""/plan and the buttons of the plan screens. Logic lives in bot.flows.plans (see keyboards.py for the
callback data)."""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flows.access import Role
from bot.flows.errors import RefusedError
from bot.handlers.base import ID, Turn, guarded
from bot.handlers.plans.keyboards import region_keyboard, site_keyboard, start_buttons
from bot.handlers.router import router_of

PLANNERS = frozenset({Role.MANAGER})  # admins pass every check
EVERYONE_PLANNING = frozenset({Role.MANAGER, Role.INSPECTOR})
MAX_MATCHES = 10
WAIVE_REASON = "plans.waive_reason"  # pending input: the reason a visit is not required (payload: visit id)


def _data(turn: Turn) -> list[str]:
    query = turn.update.callback_query
    assert query is not None and query.data is not None
    return query.data.split(":")  # the patterns below admit only what they expect


@guarded(EVERYONE_PLANNING)
async def plan_command(turn: Turn) -> None:
    caller, flow = turn.caller, turn.services.plans
    query = " ".join(turn.context.args or []).strip()
    manages = caller.may(PLANNERS)
    if query and manages:
        await _find(turn, query)
        return
    if manages:
        board = await flow.board(caller)
        rows = [
            [Button(turn.label("plans.btn_region", region=r.region), callback_data=f"vg:{r.anchor_site}")]
            for r in board.regions[:20]
        ]
        await turn.say("plans.board", InlineKeyboardMarkup(rows) if rows else None, board=board)
    if Role.INSPECTOR in caller.roles:
        mine = await flow.my_visits(caller)
        visits = (*mine.overdue, *mine.coming)
        texts = turn.services.texts
        markup = InlineKeyboardMarkup(start_buttons(texts, caller.lang, visits)) if visits else None
        await turn.say("plans.my_visits", markup, plan=mine)


async def _find(turn: Turn, query: str) -> None:
    sites = await turn.services.reports.find_sites(turn.caller, query)
    if len(sites) == 1:
        await show_site(turn, sites[0].id)
    elif not sites:
        await turn.say("plans.no_match", query=query)
    else:
        rows = [[Button(site.name, callback_data=f"vs:{site.id}")] for site in sites[:MAX_MATCHES]]
        await turn.say("plans.matches", InlineKeyboardMarkup(rows), query=query, count=len(sites))


async def show_site(turn: Turn, site_id: int) -> None:
    view = await turn.services.plans.site_plan(turn.caller, site_id)
    await turn.answer()
    await turn.edit("plans.site", site_keyboard(turn.services.texts, turn.caller.lang, view), view=view)


@guarded(PLANNERS)
async def on_site(turn: Turn) -> None:
    await show_site(turn, int(_data(turn)[1]))


@guarded(PLANNERS)
async def on_site_frequency(turn: Turn) -> None:
    _, site_id, code = _data(turn)
    view = await turn.services.plans.set_site_frequency(turn.caller, int(site_id), code)
    await turn.answer("plans.saved")
    await turn.edit("plans.site", site_keyboard(turn.services.texts, turn.caller.lang, view), view=view)


@guarded(PLANNERS)
async def on_site_inspector(turn: Turn) -> None:
    _, site_id, person = _data(turn)
    view = await turn.services.plans.set_site_inspector(turn.caller, int(site_id), int(person) or None)
    await turn.answer("plans.saved")
    await turn.edit("plans.site", site_keyboard(turn.services.texts, turn.caller.lang, view), view=view)


@guarded(PLANNERS)
async def on_region(turn: Turn) -> None:
    view = await turn.services.plans.region_plan(turn.caller, int(_data(turn)[1]))
    await turn.answer()
    await turn.edit("plans.region", region_keyboard(turn.services.texts, turn.caller.lang, view), view=view)


@guarded(PLANNERS)
async def on_region_frequency(turn: Turn) -> None:
    _, site_id, code = _data(turn)
    view = await turn.services.plans.set_region_frequency(turn.caller, int(site_id), code)
    await turn.answer("plans.saved")
    await turn.edit("plans.region", region_keyboard(turn.services.texts, turn.caller.lang, view), view=view)


@guarded(PLANNERS)
async def on_waive(turn: Turn) -> None:
    """``vw:<visit>``: the next text is the reason the visit is not required."""
    visit = await turn.services.plans.waivable(turn.caller, int(_data(turn)[1]))
    await turn.services.pending.set(turn.caller.user_id, WAIVE_REASON, str(visit.id), turn.now())
    await turn.answer()
    await turn.say("plans.waive_prompt", visit=visit)


async def text_for_plans(turn: Turn, text: str) -> bool:
    """The reason asked for by the waive button. False: not ours."""
    pending = await turn.services.pending.get(turn.caller.user_id)
    if pending is None or pending.kind != WAIVE_REASON or not turn.caller.may(PLANNERS):
        return False
    await turn.services.pending.clear(turn.caller.user_id)
    try:
        visit = await turn.services.plans.waive(turn.caller, int(pending.payload), text)
    except RefusedError as refusal:
        await turn.say(refusal.text_key, **refusal.details)
        return True
    await turn.say("plans.waived", visit=visit)
    return True


def register(app: Application) -> None:
    app.add_handler(CommandHandler("plan", plan_command))
    app.add_handler(CallbackQueryHandler(on_site, pattern=rf"^vs:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_site_frequency, pattern=rf"^vf:{ID}:[mqhyr]$"))
    app.add_handler(CallbackQueryHandler(on_site_inspector, pattern=rf"^vi:{ID}:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_region, pattern=rf"^vg:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_region_frequency, pattern=rf"^vr:{ID}:[mqhyr]$"))
    app.add_handler(CallbackQueryHandler(on_waive, pattern=rf"^vw:{ID}$"))
    router_of(app).text.append(text_for_plans)
