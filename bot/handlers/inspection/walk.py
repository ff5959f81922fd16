"""/inspect and /resume: the clause-by-clause walk on Telegram. Logic lives in bot.flows.inspection.walk.

Callback data (checked against the database on every tap, so old buttons keep working):
  i:<inspection>:<clause>:<act>   act = ok|partial|fail|na|photo|note|back|skip|toc|pause|next
  it:<inspection>:<category>      jump to a category        iu:<inspection>:<clause>  go to a clause
  ir:<inspection>  review         is:<inspection>  submit   isn:<inspection>  ask: rest 不适用?
  isc:<inspection>  submit, rest 不适用                      ie:<inspection>:<edition>  switch edition
  ic:<inspection>  continue       sp:<page>  sites page     ss:<site>  site chosen (default edition)
  sg:<site>:<edition>  start on an edition (buttons of older versions)
  iq…  当场整改 in review (bot/handlers/inspection/on_the_spot.py)
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, Message
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flows.access import Role
from bot.flows.duties.views import DutyClauseStatus
from bot.flows.errors import RefusedError
from bot.flows.inspection.walk import PAUSED, AnswerOutcome, ClauseCard, Draft, EvidenceOutcome, Result, Walk
from bot.handlers.base import ID, PAGE, Turn, guarded, parse_id
from bot.handlers.duties.answers import evidence_button
from bot.handlers.inspection import on_the_spot, recheck
from bot.handlers.inspection.recheck import show_recheck
from bot.handlers.keyboards import page_nav
from bot.handlers.reports.views import report_button
from bot.handlers.router import router_of
from rubric.model import Answer

log = logging.getLogger(__name__)

INSPECTORS = frozenset({Role.INSPECTOR})
SITES_PER_PAGE = 8
SITE_SEARCH = "site_search"
ANSWER_ACTS = {a.value: a for a in Answer}


# -- keyboards ----------------------------------------------------------------------------------


def card_keyboard(turn: Turn, card: ClauseCard, duty: DutyClauseStatus | None = None) -> InlineKeyboardMarkup:
    """The clause card's buttons. Telegram shows the last row nearest the thumb: the four answers go
    there, the tools above them, so a slip lands on an answer (which can be changed) and not on ⏸."""
    base = f"i:{card.inspection_id}:{card.clause.id}:"

    def button(key: str, act: str) -> Button:
        return Button(turn.label(key), callback_data=base + act)

    def answer_button(answer: Answer) -> Button:
        mark = "✓ " if card.answer is answer else ""
        return Button(mark + turn.label(f"inspect.answer_{answer.value}"), callback_data=base + answer.value)

    rows = [
        [button("inspect.btn_photo", "photo"), button("inspect.btn_note", "note"), button("inspect.btn_back", "back")],
        [button("inspect.btn_skip", "skip"), button("inspect.btn_toc", "toc"), button("inspect.btn_pause", "pause")],
    ]
    evidence = evidence_button(turn, duty) if duty else None
    if evidence:
        rows.append([evidence])
    if card.awaiting_evidence and card.can_skip_evidence:
        rows.append([button("inspect.btn_move_on", "next")])
    rows.append([answer_button(Answer.OK), answer_button(Answer.PARTIAL)])
    rows.append([answer_button(Answer.FAIL), answer_button(Answer.NA)])
    return InlineKeyboardMarkup(rows)


def continue_keyboard(turn: Turn, inspection_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(turn.label("inspect.btn_continue"), callback_data=f"ic:{inspection_id}")]])


async def duty_for(turn: Turn, card: ClauseCard) -> DutyClauseStatus | None:
    """Whether the site's periodic duty behind this clause (e.g. 二(一)4's quarterly report) is done."""
    return await turn.services.duties.status_for_clause(card.site_id, card.clause.code)


# -- the live card ------------------------------------------------------------------------------
# One message per inspection carries the clause buttons: the live card. When it moves to a new
# message (the walk went on after a photo, or ↩/☰ from elsewhere), the old one becomes its one-line
# record, so yesterday's card cannot be mistaken for the one to tap.


async def present(turn: Turn, card: ClauseCard, **header: Any) -> None:
    """Show ``card``: in place when the press came from the live card, else as a new live card."""
    pressed = _pressed(turn)
    if pressed is not None and pressed == card.live_message_id:
        duty = await duty_for(turn, card)
        await turn.edit("inspect.card", card_keyboard(turn, card, duty), card=card, duty=duty, **header)
    else:
        await move_card(turn, card, **header)


async def move_card(turn: Turn, card: ClauseCard, **header: Any) -> None:
    """Send ``card`` as the new live card at the bottom of the chat; the old one becomes its record."""
    duty = await duty_for(turn, card)
    message = await turn.say("inspect.card", card_keyboard(turn, card, duty), card=card, duty=duty, **header)
    await turn.services.inspections.set_card(card.inspection_id, message.message_id, card.clause.id)
    if card.live_message_id not in (None, message.message_id):
        await retire(turn, card.inspection_id, card.live_message_id, card.live_clause)


async def edit_live_card(turn: Turn, card: ClauseCard, **header: Any) -> None:
    """Update the live card where it is (more evidence for a clause); moved when it cannot be edited."""
    if card.live_message_id is None:
        await move_card(turn, card, **header)
        return
    duty = await duty_for(turn, card)
    markup = card_keyboard(turn, card, duty)
    if not await turn.edit_message(card.live_message_id, "inspect.card", markup, card=card, duty=duty, **header):
        await move_card(turn, card, **header)


async def retire(turn: Turn, inspection_id: int, message_id: int | None, clause_id: str | None) -> None:
    """Turn a card message that is no longer live into the one-line record of its clause."""
    if message_id is None or clause_id is None:
        return
    record = await turn.services.inspections.card_in(inspection_id, clause_id)
    if record is not None:
        await turn.edit_message(message_id, "inspect.record", None, card=record, skipped=False)


async def show_review(turn: Turn, inspection_id: int) -> None:
    review = await turn.services.inspections.review(turn.caller, inspection_id)
    rows = []
    if not review.unanswered or review.allow_partial:
        rows.append([Button(turn.label("inspect.btn_submit"), callback_data=f"is:{inspection_id}")])
    if review.unanswered:
        rows.append([Button(turn.label("inspect.btn_submit_rest_na"), callback_data=f"isn:{inspection_id}")])
        first = review.unanswered[0]
        rows.append([Button(turn.label("inspect.btn_answer_rest"), callback_data=f"iu:{inspection_id}:{first.id}")])
    if review.on_the_spot and review.findings:
        rows.append([Button(turn.label("inspect.btn_on_the_spot"), callback_data=f"iq:{inspection_id}")])
    rows.append([Button(turn.label("inspect.btn_toc"), callback_data=f"i:{inspection_id}:-:toc")])
    await turn.say("inspect.review", markup=InlineKeyboardMarkup(rows), review=review)


async def show_outline(turn: Turn, inspection_id: int) -> None:
    outline = await turn.services.inspections.outline(turn.caller, inspection_id)
    rows = [
        [
            Button(
                turn.label("inspect.toc_button", progress=p),
                callback_data=f"it:{inspection_id}:{p.category.id}",
            )
        ]
        for p in outline.categories
        if p.category.clauses
    ]
    if outline.answered == 0:  # the edition is no question at the start; whoever needs another, finds it here
        for edition in outline.other_editions:
            label = turn.label("inspect.btn_switch_edition", edition=edition)
            rows.append([Button(label, callback_data=f"ie:{inspection_id}:{edition}")])
    rows.append([Button(turn.label("inspect.btn_review"), callback_data=f"ir:{inspection_id}")])
    await turn.say("inspect.outline", markup=InlineKeyboardMarkup(rows), outline=outline)


async def close_card_and_move(turn: Turn, outcome: AnswerOutcome, inspection_id: int) -> None:
    """After an answer (or a skip) on a card: the card becomes the next clause, headed by the one-line
    record of the answer. At the end the card keeps the record and the review follows."""
    if outcome.next is not None:
        await present(turn, outcome.next, previous=outcome.record)
        return
    await turn.edit("inspect.record", card=outcome.record)
    if outcome.finished:
        await show_review(turn, inspection_id)


async def show_after_evidence(turn: Turn, outcome: EvidenceOutcome, kind: str) -> None:
    """The evidence confirmation lives on the card: the walk moved on (a new live card headed by it),
    or the live card is updated where it is (more photos of the same clause cost no message)."""
    flow = turn.services.inspections
    header = {"evidence": outcome.card, "kind": kind, "added": outcome.added}
    header["site_hint"] = await flow.draft_count(turn.caller) > 1
    if outcome.next is None:
        await retire(turn, outcome.card.inspection_id, outcome.card.live_message_id, outcome.card.live_clause)
        await turn.say("inspect.evidence_saved", **header)
        if outcome.finished:
            await show_review(turn, outcome.card.inspection_id)
    elif outcome.moved:
        await move_card(turn, outcome.next, **header)
    else:
        await edit_live_card(turn, outcome.next, **header)


def drafts_keyboard(turn: Turn, drafts: list[Draft]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[Button(turn.label("inspect.draft_button", draft=d), callback_data=f"ic:{d.inspection_id}")] for d in drafts]
    )


# -- commands -----------------------------------------------------------------------------------


@guarded(INSPECTORS)
async def inspect(turn: Turn) -> None:
    flow = turn.services.inspections
    drafts = await flow.drafts(turn.caller)
    sites = await flow.sites_for(turn.caller)
    if not sites and not drafts:
        await turn.say("inspect.no_sites")
        return
    if drafts:
        await turn.say("inspect.drafts", markup=drafts_keyboard(turn, drafts), drafts=drafts)
    if sites:
        await _send_site_page(turn, sites, page=0)


@guarded(INSPECTORS)
async def resume(turn: Turn) -> None:
    drafts = await turn.services.inspections.drafts(turn.caller)
    if not drafts:
        await turn.say("inspect.no_drafts")
    elif len(drafts) == 1:
        await continue_walk(turn, drafts[0].inspection_id)
    else:
        await turn.say("inspect.drafts", markup=drafts_keyboard(turn, drafts), drafts=drafts)


async def _send_site_page(turn: Turn, sites: list, page: int, query: str | None = None) -> None:
    pages = max(1, -(-len(sites) // SITES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = sites[page * SITES_PER_PAGE : (page + 1) * SITES_PER_PAGE]
    rows = [[Button(site.name, callback_data=f"ss:{site.id}")] for site in chunk]
    rows += page_nav(page, pages, lambda n: f"sp:{n}")
    searchable = len(sites) > SITES_PER_PAGE or query is not None
    if searchable:
        await turn.services.pending.set(turn.caller.user_id, SITE_SEARCH, "", turn.now())
    await turn.say(
        "inspect.pick_site",
        markup=InlineKeyboardMarkup(rows),
        page=page + 1,
        pages=pages,
        searchable=searchable,
        query=query,
        count=len(sites),
    )


# -- buttons ------------------------------------------------------------------------------------


@guarded(INSPECTORS)
async def on_sites_page(turn: Turn) -> None:
    page = _int(_data(turn).split(":")[1])
    await turn.answer()
    await _send_site_page(turn, await turn.services.inspections.sites_for(turn.caller), page)


@guarded(INSPECTORS)
async def on_site(turn: Turn) -> None:
    """A site was picked: start on the default edition (the outline offers the other ones)."""
    site_id = _int(_data(turn).split(":")[1])
    await _start(turn, site_id, turn.services.settings.default_edition)


@guarded(INSPECTORS)
async def on_start(turn: Turn) -> None:
    """``sg:<site>:<edition>``: buttons of the edition question older versions asked; still honoured."""
    _, site, edition = _data(turn).split(":")
    await _start(turn, _int(site), _int(edition))


async def _start(turn: Turn, site_id: int, edition: int) -> None:
    flow = turn.services.inspections
    await turn.services.pending.clear(turn.caller.user_id)
    walk = await flow.begin(turn.caller, site_id, edition)
    await turn.answer()
    await show_outline(turn, walk.id)
    await continue_walk(turn, walk.id)


async def continue_walk(turn: Turn, inspection_id: int) -> None:
    """On to the next thing to do: a 复查 of the site's actions first, then the first unanswered
    clause, then the review."""
    recheck = await turn.services.rechecks.next(turn.caller, inspection_id)
    if recheck is not None:
        await turn.answer()
        await show_recheck(turn, recheck)
        return
    card = await turn.services.inspections.resume(turn.caller, inspection_id)
    await turn.answer()
    if card is None:
        await show_review(turn, inspection_id)
    else:
        await present(turn, card)


@guarded(INSPECTORS)
async def on_continue(turn: Turn) -> None:
    await continue_walk(turn, _int(_data(turn).split(":")[1]))


@guarded(INSPECTORS)
async def on_switch_edition(turn: Turn) -> None:
    """``ie:<inspection>:<edition>`` from the outline, before the first answer."""
    _, raw_id, edition = _data(turn).split(":")
    walk = await turn.services.inspections.switch_edition(turn.caller, _int(raw_id), _int(edition))
    await turn.answer()
    await show_outline(turn, walk.id)
    await continue_walk(turn, walk.id)


@guarded(INSPECTORS)
async def on_clause(turn: Turn) -> None:
    _, raw_id, clause_id, act = _data(turn).split(":")
    inspection_id = _int(raw_id)
    flow = turn.services.inspections
    caller = turn.caller
    if act in ANSWER_ACTS:
        outcome = await flow.answer(caller, inspection_id, clause_id, ANSWER_ACTS[act])
        if not outcome.changed:
            await turn.answer("inspect.already_recorded", card=outcome.record)
            return
        await turn.answer("inspect.saved_toast", card=outcome.record)
        await _retire_if_old(turn, outcome.record)
        if outcome.needs_evidence:  # the card itself says what it waits for: no extra message
            await present(turn, outcome.record)
            return
        await close_card_and_move(turn, outcome, inspection_id)
    elif act == "next":
        outcome = await flow.move_on(caller, inspection_id, clause_id)
        if outcome.needs_evidence:
            await turn.answer("inspect.evidence_required", alert=True)
            return
        await turn.answer()
        await close_card_and_move(turn, outcome, inspection_id)
    elif act == "skip":
        outcome = await flow.skip(caller, inspection_id, clause_id)
        await turn.answer()
        await _retire_if_old(turn, outcome.record)
        await close_card_and_move(turn, outcome, inspection_id)
    elif act == "back":
        card = await flow.back(caller, inspection_id, clause_id)
        await turn.answer()
        await present(turn, card)
    elif act in ("photo", "note"):
        # Where the next photo or note goes: this clause, without losing what it waits for.
        card = await flow.goto(caller, inspection_id, clause_id)
        await turn.answer(f"inspect.send_{act}", card=card)
        if card.live_message_id != _pressed(turn):
            await present(turn, card)
    elif act == "toc":
        await flow.load(caller, inspection_id, for_change=True)
        await turn.answer()
        await show_outline(turn, inspection_id)
    elif act == "pause":
        draft = await flow.pause(caller, inspection_id)
        await turn.answer()
        # The paused card keeps one button: a slip on ⏸ is undone with one tap, not by typing /resume.
        await turn.edit("inspect.paused", continue_keyboard(turn, inspection_id), draft=draft)
    else:
        await turn.answer("common.stale_button", alert=True)


async def _retire_if_old(turn: Turn, record: ClauseCard) -> None:
    """A tap on a card that is not the live one (an old message that still had buttons): that message
    becomes the record of its clause, and the walk goes on on a live card at the bottom."""
    pressed = _pressed(turn)
    if pressed is not None and pressed != record.live_message_id:
        await turn.edit("inspect.record", card=record)


def _pressed(turn: Turn) -> int | None:
    query = turn.update.callback_query
    return query.message.message_id if query and isinstance(query.message, Message) else None


@guarded(INSPECTORS)
async def on_jump(turn: Turn) -> None:
    """``it:<inspection>:<category>`` jumps to a category, ``iu:<inspection>:<clause>`` to a clause."""
    kind, raw_id, target = _data(turn).split(":")
    flow = turn.services.inspections
    move = flow.jump if kind == "it" else flow.goto
    card = await move(turn.caller, _int(raw_id), target)
    await turn.answer()
    await present(turn, card)


@guarded(INSPECTORS)
async def on_review(turn: Turn) -> None:
    inspection_id = _int(_data(turn).split(":")[1])
    await turn.services.inspections.load(turn.caller, inspection_id, for_change=True)
    await turn.answer()
    await show_review(turn, inspection_id)


@guarded(INSPECTORS)
async def on_submit_rest_na(turn: Turn) -> None:
    """``isn:<inspection>``: marking the rest 不适用 is asked once more, with what it means for the score."""
    inspection_id = _int(_data(turn).split(":")[1])
    review = await turn.services.inspections.review(turn.caller, inspection_id)
    await turn.answer()
    rows = [[Button(turn.label("inspect.btn_confirm_rest_na"), callback_data=f"isc:{inspection_id}")]]
    if review.unanswered:
        first = review.unanswered[0]
        rows.append([Button(turn.label("inspect.btn_answer_rest"), callback_data=f"iu:{inspection_id}:{first.id}")])
    await turn.edit("inspect.confirm_rest_na", InlineKeyboardMarkup(rows), review=review)


@guarded(INSPECTORS)
async def on_submit(turn: Turn) -> None:
    action, raw_id = _data(turn).split(":")
    result = await turn.services.inspections.submit(turn.caller, _int(raw_id), mark_rest_na=action == "isc")
    await turn.answer()
    await turn.edit("inspect.submitted_line", site=result.site_name)
    await turn.say(
        "inspect.result",
        markup=report_button(turn.services.texts, turn.caller.lang, result.inspection_id),
        result=result,
    )
    await notify_submitted(turn, result)


async def notify_submitted(turn: Turn, result: Result) -> None:
    """Managers who see the site get a short notice in their own language; a linked site group too."""
    svc = turn.services
    for person in await svc.users.managers_of_site(result.site_id):
        if person.id == turn.caller.user_id:
            continue
        lang = svc.language_of(person)
        text = svc.texts.render(lang, "inspect.notice", result=result)
        await svc.send_safely(turn.context.bot, person.id, text, report_button(svc.texts, lang, result.inspection_id))
    group_text = svc.texts.render(svc.settings.default_language, "inspect.notice", result=result)
    await svc.notify_site_group(turn.context.bot, result.site_id, group_text)


@guarded(frozenset({Role.MANAGER}))
async def reopen(turn: Turn) -> None:
    args = turn.context.args or []
    inspection_id = parse_id(args[0]) if args else None
    if inspection_id is None:
        await turn.say("inspect.reopen_usage")
        return
    reason = " ".join(args[1:]).strip()
    row = await turn.services.inspections.reopen(turn.caller, inspection_id, reason)
    await turn.say("inspect.reopened", site=row.site_name, inspection_id=row.id)
    inspector = await turn.services.users.get(row.inspector_id)
    if inspector is not None:
        text = turn.services.texts.render(
            turn.services.language_of(inspector),
            "inspect.reopened_notice",
            site=row.site_name,
            manager=turn.caller.name,
            reason=reason,
        )
        await turn.services.send_safely(turn.context.bot, inspector.id, text)


# -- free text and photos -----------------------------------------------------------------------


async def text_for_inspection(turn: Turn, text: str) -> bool:
    """A site search, or a note on the clause the walk is on. False: not ours."""
    svc = turn.services
    pending = await svc.pending.get(turn.caller.user_id)
    if pending and pending.kind == SITE_SEARCH:
        needle = text.strip().casefold()
        sites = [s for s in await svc.inspections.sites_for(turn.caller) if needle in s.name.casefold()]
        if not sites:
            await turn.say("inspect.no_site_match", query=text.strip())
        else:
            await _send_site_page(turn, sites, 0, query=text.strip())
        return True
    if pending is not None:
        return False  # another feature asked this person a question: the text is its answer
    walk, claimed = await _walk_for_evidence(turn)
    if walk is None:
        return claimed
    clause_id = svc.inspections.evidence_clause(walk)
    assert clause_id is not None  # _walk_for_evidence returns only walks with a clause to attach to
    outcome = await svc.inspections.add_note(turn.caller, walk.id, clause_id, text)
    await show_after_evidence(turn, outcome, "note")
    return True


async def _walk_for_evidence(turn: Turn) -> tuple[Walk | None, bool]:
    """(the walk a photo or note is for, whether the message was claimed). A paused walk answers
    itself: nothing was saved, and one tap continues."""
    if not turn.caller.may(INSPECTORS):
        return None, False
    walk = await turn.services.inspections.focused(turn.caller)
    if walk is None or (walk.row.cursor is None and walk.row.evidence_clause is None):
        return None, False
    if walk.row.awaiting == PAUSED:
        await turn.say("inspect.paused_hint", continue_keyboard(turn, walk.id), site=walk.row.site_name)
        return None, True
    return walk, True


async def media_for_inspection(turn: Turn) -> bool:
    """A photo, an album or an image file: evidence for the clause the walk is on."""
    message = turn.update.effective_message
    if message is None or not turn.caller.may(INSPECTORS):
        return False
    if message.photo:
        media, mime, is_photo = message.photo[-1], "image/jpeg", True
    elif message.document:
        media, mime, is_photo = message.document, message.document.mime_type, False
    else:
        return False
    walk, claimed = await _walk_for_evidence(turn)
    if walk is None:
        return claimed
    svc = turn.services
    clause_id = svc.inspections.evidence_clause(walk)
    assert clause_id is not None
    try:
        svc.inspections.check_file(media.file_size, mime, is_photo)
    except RefusedError as refusal:
        await turn.say(refusal.text_key, **refusal.details)
        return True
    telegram_file = await media.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    outcome = await svc.inspections.add_photo(
        turn.caller, walk.id, clause_id, media.file_id, media.file_unique_id, data, mime, message.caption
    )
    # An album arrives as one update per picture, handled in order: the first moves the walk on and
    # the others join the same clause (evidence_clause), each updating the live card in place.
    await show_after_evidence(turn, outcome, "photo")
    return True


# -- helpers ------------------------------------------------------------------------------------


def _data(turn: Turn) -> str:
    query = turn.update.callback_query
    assert query is not None
    return query.data or ""


def _int(text: str) -> int:
    return int(text)  # the callback patterns below admit digits only


def register(app: Application) -> None:
    app.add_handler(CommandHandler("inspect", inspect))
    app.add_handler(CommandHandler("resume", resume))
    app.add_handler(CommandHandler("reopen", reopen))
    app.add_handler(CallbackQueryHandler(on_clause, pattern=rf"^i:{ID}:[0-9.\-]{{1,12}}:[a-z]+$"))
    app.add_handler(CallbackQueryHandler(on_jump, pattern=rf"^i[tu]:{ID}:[0-9.]{{1,12}}$"))
    app.add_handler(CallbackQueryHandler(on_review, pattern=rf"^ir:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_submit, pattern=rf"^isc?:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_submit_rest_na, pattern=rf"^isn:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_switch_edition, pattern=rf"^ie:{ID}:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_continue, pattern=rf"^ic:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_sites_page, pattern=rf"^sp:{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_site, pattern=rf"^ss:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_start, pattern=rf"^sg:{ID}:{ID}$"))
    recheck.register(app)
    on_the_spot.register(app)
    router_of(app).text.append(text_for_inspection)
    router_of(app).media.append(media_for_inspection)
