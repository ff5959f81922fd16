"""/inspect and /resume: the clause-by-clause walk on Telegram. Logic lives in bot.flows.inspection.

Callback data (checked against the database on every tap, so old buttons keep working):
  i:<inspection>:<clause>:<act>   act = ok|partial|fail|na|photo|note|back|skip|toc|pause|next
  it:<inspection>:<category>      jump to a category        iu:<inspection>:<clause>  go to a clause
  ir:<inspection>  review         is:<inspection>  submit   isn:<inspection>  submit, rest 不适用
  ic:<inspection>  continue       sp:<page>  sites page     ss:<site>  site chosen
  sg:<site>:<edition>  start on an edition
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, Message
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flows.access import Role
from bot.flows.duty_views import DutyClauseStatus
from bot.flows.errors import RefusedError
from bot.flows.inspection import AnswerOutcome, ClauseCard, Draft, EvidenceOutcome, Result
from bot.handlers.base import ID, PAGE, Turn, guarded, parse_id
from bot.handlers.duties import evidence_button
from bot.handlers.reports import report_button
from bot.handlers.router import router_of
from rubric.model import Answer

log = logging.getLogger(__name__)

INSPECTORS = frozenset({Role.INSPECTOR})
SITES_PER_PAGE = 8
SITE_SEARCH = "site_search"
ANSWER_ACTS = {a.value: a for a in Answer}


# -- keyboards ----------------------------------------------------------------------------------


def card_keyboard(turn: Turn, card: ClauseCard, duty: DutyClauseStatus | None = None) -> InlineKeyboardMarkup:
    base = f"i:{card.inspection_id}:{card.clause.id}:"

    def answer_button(answer: Answer) -> Button:
        mark = "✓ " if card.answer is answer else ""
        return Button(mark + turn.label(f"inspect.answer_{answer.value}"), callback_data=base + answer.value)

    rows = [
        [answer_button(Answer.OK), answer_button(Answer.PARTIAL)],
        [answer_button(Answer.FAIL), answer_button(Answer.NA)],
    ]
    if card.awaiting_evidence and card.can_skip_evidence:
        rows.append([Button(turn.label("inspect.btn_move_on"), callback_data=base + "next")])
    rows.append(
        [
            Button(turn.label("inspect.btn_photo"), callback_data=base + "photo"),
            Button(turn.label("inspect.btn_note"), callback_data=base + "note"),
            Button(turn.label("inspect.btn_back"), callback_data=base + "back"),
        ]
    )
    evidence = evidence_button(turn, duty) if duty else None
    if evidence:
        rows.append([evidence])
    rows.append(
        [
            Button(turn.label("inspect.btn_skip"), callback_data=base + "skip"),
            Button(turn.label("inspect.btn_toc"), callback_data=base + "toc"),
            Button(turn.label("inspect.btn_pause"), callback_data=base + "pause"),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def send_card(turn: Turn, card: ClauseCard) -> Message:
    duty = await duty_for(turn, card)
    return await turn.say("inspect.card", markup=card_keyboard(turn, card, duty), card=card, duty=duty)


async def edit_card(turn: Turn, card: ClauseCard, previous: ClauseCard | None = None) -> None:
    """Show ``card`` on the message whose button was pressed; ``previous`` heads it as a one-line record."""
    duty = await duty_for(turn, card)
    markup = card_keyboard(turn, card, duty)
    await turn.edit("inspect.card", markup=markup, card=card, duty=duty, previous=previous)


async def duty_for(turn: Turn, card: ClauseCard) -> DutyClauseStatus | None:
    """Whether the site's periodic duty behind this clause (e.g. 二(一)4's quarterly report) is done."""
    return await turn.services.duties.status_for_clause(card.site_id, card.clause.code)


async def show_review(turn: Turn, inspection_id: int) -> None:
    review = await turn.services.inspections.review(turn.caller, inspection_id)
    rows = []
    if not review.unanswered or review.allow_partial:
        rows.append([Button(turn.label("inspect.btn_submit"), callback_data=f"is:{inspection_id}")])
    if review.unanswered:
        rows.append([Button(turn.label("inspect.btn_submit_rest_na"), callback_data=f"isn:{inspection_id}")])
        first = review.unanswered[0]
        rows.append([Button(turn.label("inspect.btn_answer_rest"), callback_data=f"iu:{inspection_id}:{first.id}")])
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
    rows.append([Button(turn.label("inspect.btn_review"), callback_data=f"ir:{inspection_id}")])
    await turn.say("inspect.outline", markup=InlineKeyboardMarkup(rows), outline=outline)


async def show_walk_move(turn: Turn, outcome: AnswerOutcome | EvidenceOutcome, inspection_id: int) -> None:
    if outcome.next is not None:
        await send_card(turn, outcome.next)
    elif outcome.finished:
        await show_review(turn, inspection_id)


async def close_card_and_move(turn: Turn, outcome: AnswerOutcome, inspection_id: int) -> None:
    """After an answer (or a skip) on a card: the same message becomes the next clause, headed by the
    one-line record of the answer. The buttons stay where the thumb is, and one edit costs less than
    an edit plus a new message. At the end the card keeps the record and the review follows."""
    if outcome.next is not None:
        await edit_card(turn, outcome.next, previous=outcome.record)
        return
    await turn.edit("inspect.record", card=outcome.record)
    if outcome.finished:
        await show_review(turn, inspection_id)


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
        await _continue(turn, drafts[0].inspection_id)
    else:
        await turn.say("inspect.drafts", markup=drafts_keyboard(turn, drafts), drafts=drafts)


async def _send_site_page(turn: Turn, sites: list, page: int, query: str | None = None) -> None:
    pages = max(1, -(-len(sites) // SITES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = sites[page * SITES_PER_PAGE : (page + 1) * SITES_PER_PAGE]
    rows = [[Button(site.name, callback_data=f"ss:{site.id}")] for site in chunk]
    nav = []
    if page > 0:
        nav.append(Button("◀", callback_data=f"sp:{page - 1}"))
    if page < pages - 1:
        nav.append(Button("▶", callback_data=f"sp:{page + 1}"))
    if nav:
        rows.append(nav)
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
    site_id = _int(_data(turn).split(":")[1])
    flow = turn.services.inspections
    editions = flow.editions()
    if len(editions) > 1:
        await flow.check_site(turn.caller, site_id)
        await turn.answer()
        default = turn.services.settings.default_edition
        ordered = sorted(editions, key=lambda e: (e != default, e))
        rows = [
            [
                Button(
                    turn.label("inspect.edition_button", edition=e, default=e == default),
                    callback_data=f"sg:{site_id}:{e}",
                )
            ]
            for e in ordered
        ]
        await turn.say("inspect.pick_edition", markup=InlineKeyboardMarkup(rows))
        return
    await _start(turn, site_id, editions[0])


@guarded(INSPECTORS)
async def on_start(turn: Turn) -> None:
    _, site, edition = _data(turn).split(":")
    await _start(turn, _int(site), _int(edition))


async def _start(turn: Turn, site_id: int, edition: int) -> None:
    flow = turn.services.inspections
    await turn.services.pending.clear(turn.caller.user_id)
    walk = await flow.begin(turn.caller, site_id, edition)
    await turn.answer()
    await show_outline(turn, walk.id)
    await _continue(turn, walk.id)


async def _continue(turn: Turn, inspection_id: int) -> None:
    card = await turn.services.inspections.resume(turn.caller, inspection_id)
    await turn.answer()
    if card is None:
        await show_review(turn, inspection_id)
    else:
        await send_card(turn, card)


@guarded(INSPECTORS)
async def on_continue(turn: Turn) -> None:
    await _continue(turn, _int(_data(turn).split(":")[1]))


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
        if outcome.needs_evidence:
            await edit_card(turn, outcome.record)
            await turn.say("inspect.need_evidence", card=outcome.record)
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
        await close_card_and_move(turn, outcome, inspection_id)
    elif act == "back":
        card = await flow.back(caller, inspection_id, clause_id)
        await turn.answer()
        await send_card(turn, card)
    elif act in ("photo", "note"):
        card = await flow.goto(caller, inspection_id, clause_id)
        await turn.answer()
        await turn.say(f"inspect.send_{act}", card=card)
    elif act == "toc":
        await flow.load(caller, inspection_id, for_change=True)
        await turn.answer()
        await show_outline(turn, inspection_id)
    elif act == "pause":
        draft = await flow.pause(caller, inspection_id)
        await turn.answer()
        await turn.edit("inspect.paused", draft=draft)
    else:
        await turn.answer("common.stale_button", alert=True)


@guarded(INSPECTORS)
async def on_jump(turn: Turn) -> None:
    """``it:<inspection>:<category>`` jumps to a category, ``iu:<inspection>:<clause>`` to a clause."""
    kind, raw_id, target = _data(turn).split(":")
    flow = turn.services.inspections
    move = flow.jump if kind == "it" else flow.goto
    card = await move(turn.caller, _int(raw_id), target)
    await turn.answer()
    await send_card(turn, card)


@guarded(INSPECTORS)
async def on_review(turn: Turn) -> None:
    inspection_id = _int(_data(turn).split(":")[1])
    await turn.services.inspections.load(turn.caller, inspection_id, for_change=True)
    await turn.answer()
    await show_review(turn, inspection_id)


@guarded(INSPECTORS)
async def on_submit(turn: Turn) -> None:
    action, raw_id = _data(turn).split(":")
    result = await turn.services.inspections.submit(turn.caller, _int(raw_id), mark_rest_na=action == "isn")
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
    if not turn.caller.may(INSPECTORS):
        return False
    walk = await svc.inspections.active(turn.caller)
    if walk is None or walk.row.cursor is None:
        return False
    outcome = await svc.inspections.add_note(turn.caller, walk.id, walk.row.cursor, text)
    await turn.say("inspect.note_saved", card=outcome.card)
    await show_walk_move(turn, outcome, walk.id)
    return True


async def media_for_inspection(turn: Turn) -> bool:
    """A photo, an album or an image file: evidence for the clause the walk is on."""
    message = turn.update.effective_message
    if message is None or not turn.caller.may(INSPECTORS):
        return False
    svc = turn.services
    walk = await svc.inspections.active(turn.caller)
    if walk is None or walk.row.cursor is None:
        return False
    if message.photo:
        media, mime, is_photo = message.photo[-1], "image/jpeg", True
    elif message.document:
        media, mime, is_photo = message.document, message.document.mime_type, False
    else:
        return False
    albums = turn.context.application.bot_data.setdefault("album_targets", {})
    clause_id = walk.row.cursor
    if message.media_group_id:
        # Every picture of an album goes to the clause the first one went to.
        clause_id = albums.setdefault(message.media_group_id, clause_id)
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
    if message.media_group_id:
        _confirm_album_later(turn, message.media_group_id, outcome)
    else:
        await turn.say("inspect.photo_saved", card=outcome.card, added=outcome.added, count=1)
    await show_walk_move(turn, outcome, walk.id)
    return True


def _confirm_album_later(turn: Turn, group_id: str, outcome: EvidenceOutcome) -> None:
    """One confirmation per album, a moment after its last picture, instead of one per picture."""
    app = turn.context.application
    counts = app.bot_data.setdefault("album_counts", {})
    counts[group_id] = counts.get(group_id, 0) + (1 if outcome.added else 0)
    job_queue = turn.context.job_queue
    assert job_queue is not None
    for job in job_queue.get_jobs_by_name(f"album:{group_id}"):
        job.schedule_removal()
    chat_id, lang, card = turn.chat_id, turn.caller.lang, outcome.card

    async def confirm(context) -> None:
        count = app.bot_data["album_counts"].pop(group_id, 0)
        app.bot_data["album_targets"].pop(group_id, None)
        text = turn.services.texts.render(lang, "inspect.photo_saved", card=card, added=count > 0, count=count)
        await context.bot.send_message(chat_id, text)

    job_queue.run_once(confirm, when=1.0, name=f"album:{group_id}")


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
    app.add_handler(CallbackQueryHandler(on_submit, pattern=rf"^isn?:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_continue, pattern=rf"^ic:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_sites_page, pattern=rf"^sp:{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_site, pattern=rf"^ss:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_start, pattern=rf"^sg:{ID}:{ID}$"))
    router_of(app).text.append(text_for_inspection)
    router_of(app).media.append(media_for_inspection)
