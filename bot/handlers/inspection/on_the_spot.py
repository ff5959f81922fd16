"""当场整改 in review on Telegram. Logic lives in bot.flows.inspection.on_the_spot.

Callback data (checked against the database on every tap; a stale or forged one changes nothing):
  iq:<inspection>[:<page>]       the findings to pick from, paged
  iqm:<inspection>:<clause>      mark this one: asks for the reason
  iqr:<inspection>:<clause>      the preset reason (当场整改), in one tap
  iqu:<inspection>:<clause>      撤销 the mark            iqs:<inspection>  no photo / cancel: back to review

The reason, then the "after" photo, are asked through a pending input: the text and photo claimers
below take a message only while one of those questions is open.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler

from bot.flows.access import Role
from bot.flows.inspection.on_the_spot import PHOTO, REASON, OnTheSpot, SpotStep
from bot.flows.inspection.walk import Review
from bot.handlers.base import ID, PAGE, Turn, guarded
from bot.handlers.keyboards import page_nav
from bot.handlers.router import router_of

INSPECTORS = frozenset({Role.INSPECTOR})
PER_PAGE = 8  # findings per page: a phone screen of buttons, 20 findings in three pages
CLAUSE = r"[0-9.]{1,12}"


def spot_of(turn: Turn) -> OnTheSpot:
    return turn.services.on_the_spot


def _parts(turn: Turn) -> list[str]:
    query = turn.update.callback_query
    assert query is not None and query.data is not None
    return query.data.split(":")


def list_keyboard(turn: Turn, review: Review, page: int) -> tuple[InlineKeyboardMarkup, int, int]:
    """(the buttons, the page shown, pages): one per finding, ↩ on those already marked."""
    inspection_id = review.inspection_id
    pages = max(1, -(-len(review.findings) // PER_PAGE))
    page = min(max(page, 0), pages - 1)
    rows = []
    for finding in review.findings[page * PER_PAGE : (page + 1) * PER_PAGE]:
        clause_id = finding.clause.id
        if clause_id in review.marks:
            label, data = turn.label("inspect.spot_undo_button", finding=finding), f"iqu:{inspection_id}:{clause_id}"
        else:
            label, data = turn.label("inspect.spot_pick_button", finding=finding), f"iqm:{inspection_id}:{clause_id}"
        rows.append([Button(label, callback_data=data)])
    rows += page_nav(page, pages, lambda n: f"iq:{inspection_id}:{n}")
    rows.append([Button(turn.label("inspect.btn_spot_back"), callback_data=f"ir:{inspection_id}")])
    return InlineKeyboardMarkup(rows), page + 1, pages


async def _show_list(turn: Turn, inspection_id: int, page: int) -> None:
    review = await spot_of(turn).findings(turn.caller, inspection_id)
    markup, shown, pages = list_keyboard(turn, review, page)
    await turn.edit("inspect.spot_list", markup, review=review, page=shown, pages=pages)


@guarded(INSPECTORS)
async def on_list(turn: Turn) -> None:
    parts = _parts(turn)
    page = int(parts[2]) if len(parts) > 2 else 0
    await _show_list(turn, int(parts[1]), page)
    await turn.answer()


@guarded(INSPECTORS)
async def on_mark(turn: Turn) -> None:
    _, raw_id, clause_id = _parts(turn)
    step = await spot_of(turn).begin(turn.caller, int(raw_id), clause_id)
    await turn.answer()
    await _ask_reason(turn, step)


async def _ask_reason(turn: Turn, step: SpotStep) -> None:
    data = f"{step.inspection_id}:{step.finding.clause.id}"
    markup = InlineKeyboardMarkup(
        [
            [Button(turn.label("inspect.btn_spot_preset"), callback_data=f"iqr:{data}")],
            [Button(turn.label("inspect.btn_spot_cancel"), callback_data=f"iqs:{step.inspection_id}")],
        ]
    )
    await turn.say("inspect.spot_reason_prompt", markup, step=step)


@guarded(INSPECTORS)
async def on_preset(turn: Turn) -> None:
    _, raw_id, clause_id = _parts(turn)
    reason = turn.label("inspect.spot_preset_reason")
    step = await spot_of(turn).give_reason(turn.caller, int(raw_id), clause_id, reason)
    await turn.answer()
    await _ask_photo(turn, step, edit=True)


async def _ask_photo(turn: Turn, step: SpotStep, edit: bool = False) -> None:
    markup = InlineKeyboardMarkup(
        [[Button(turn.label("inspect.btn_spot_no_photo"), callback_data=f"iqs:{step.inspection_id}")]]
    )
    if edit:
        await turn.edit("inspect.spot_photo_prompt", markup, step=step)
    else:
        await turn.say("inspect.spot_photo_prompt", markup, step=step)


@guarded(INSPECTORS)
async def on_undo(turn: Turn) -> None:
    _, raw_id, clause_id = _parts(turn)
    inspection_id = int(raw_id)
    await spot_of(turn).undo(turn.caller, inspection_id, clause_id)
    await turn.answer("inspect.spot_undone_toast")
    await _show_list(turn, inspection_id, 0)


@guarded(INSPECTORS)
async def on_done(turn: Turn) -> None:
    """No photo, or cancel while the reason is asked: the question closes and the review comes back."""
    from bot.handlers.inspection.walk import show_review

    inspection_id = int(_parts(turn)[1])
    await spot_of(turn).skip_photo(turn.caller, inspection_id)
    await turn.answer()
    await show_review(turn, inspection_id)


# -- free text and photos -------------------------------------------------------------------------


async def text_for_spot(turn: Turn, text: str) -> bool:
    """The reason of a mark (or, while its photo is asked, a new reason). Only while one was asked."""
    if not turn.caller.may(INSPECTORS):
        return False
    spot = spot_of(turn)
    waiting = await spot.waiting(turn.caller)
    if waiting is None:
        return False
    step = await spot.give_reason(turn.caller, waiting.inspection_id, waiting.clause_id, text)
    await _ask_photo(turn, step)
    return True


async def media_for_spot(turn: Turn) -> bool:
    """The "after" photo of a mark; while its reason is asked, a photo is not one (said so)."""
    from bot.handlers.inspection.walk import show_review

    message = turn.update.effective_message
    if message is None or not (message.photo or message.document) or not turn.caller.may(INSPECTORS):
        return False
    spot = spot_of(turn)
    waiting = await spot.waiting(turn.caller)
    if waiting is None:
        return False
    if waiting.kind == REASON:
        await turn.say("inspect.spot_reason_needs_text")
        return True
    assert waiting.kind == PHOTO
    if message.photo:
        media, mime, is_photo = message.photo[-1], "image/jpeg", True
    else:
        assert message.document is not None
        media, mime, is_photo = message.document, message.document.mime_type, False
    spot.flow.check_file(media.file_size, mime, is_photo)  # refused before the download
    data = bytes(await (await media.get_file()).download_as_bytearray())
    step = await spot.add_photo(
        turn.caller, waiting.inspection_id, waiting.clause_id, media.file_id, media.file_unique_id, data, mime
    )
    await turn.say("inspect.spot_photo_saved", step=step)
    await show_review(turn, waiting.inspection_id)
    return True


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_list, pattern=rf"^iq:{ID}(:{PAGE})?$"))
    app.add_handler(CallbackQueryHandler(on_mark, pattern=rf"^iqm:{ID}:{CLAUSE}$"))
    app.add_handler(CallbackQueryHandler(on_preset, pattern=rf"^iqr:{ID}:{CLAUSE}$"))
    app.add_handler(CallbackQueryHandler(on_undo, pattern=rf"^iqu:{ID}:{CLAUSE}$"))
    app.add_handler(CallbackQueryHandler(on_done, pattern=rf"^iqs:{ID}$"))
    # Before the walk's own claimers (which would take the text for a note, the photo for evidence);
    # they claim a message only while one of our questions is open.
    router_of(app).text.insert(0, text_for_spot)
    router_of(app).media.insert(0, media_for_spot)
