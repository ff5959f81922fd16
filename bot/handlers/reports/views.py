"""The managers' view on Telegram: /summary /ranking /weak /site /report /export, buttons, the digest.

Logic lives in bot.flows.reports.views. Callback data (checked against the database on every tap):
  rs:<quarter>                 summary          rk:<quarter>:<page>   ranking page
  rw:<quarter>:<page>[:<cat>]  weak clauses     rn:<quarter>:<page>   sites not inspected
  rx:<quarter|all>             Excel export     rv:<site>             a site's view
  rl:<page>                    the sites to choose from (a bare /site)
  rp:<inspection>              full report (also under submit notices: :func:`report_button`)
  rz                           the page number between paging arrows (does nothing)
A quarter is written ``2026Q2``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.constants import ChatAction
from telegram.ext import Application, CallbackContext, CallbackQueryHandler, CommandHandler

from bot.flows.access import Role
from bot.flows.plans.manage import PlanFigures
from bot.flows.reports.actions import SiteActions
from bot.flows.reports.digest import Digest
from bot.flows.reports.periods import Quarter
from bot.flows.reports.views import SITE_MATCHES, RankingPage, ReportRefusedError, SitePage, Summary, WeakPage
from bot.handlers.base import ID, PAGE, Turn, guarded, showing_progress
from bot.handlers.documents import file_safe, send_html_and_pdf, work_dir
from bot.handlers.router import router_of
from bot.i18n import Texts
from bot.services import app_services
from storage.users import UserRecord

log = logging.getLogger(__name__)

MANAGERS = frozenset({Role.MANAGER})
# Inspectors may open the report of their own inspections (the button under their result).
REPORT_READERS = frozenset({Role.MANAGER, Role.INSPECTOR})
SITE_QUERY = "report_site"
MESSAGE_LIMIT = 4000  # Telegram allows 4096 characters; keep a margin for entities
DIGEST_CHECK_SECONDS = 300
_QUARTER = r"[0-9]{4}Q[1-4]"
NOOP = "rz"  # the page number between the arrows: pressing it does nothing


# -- what other features call -------------------------------------------------------------------


def report_button(texts: Texts, lang: str, inspection_id: int) -> InlineKeyboardMarkup:
    """The "full report" button, e.g. under the submit notice and the inspector's result."""
    label = texts.plain(lang, "reports.btn_report")
    return InlineKeyboardMarkup([[Button(label, callback_data=f"rp:{inspection_id}")]])


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces under ``limit`` cut at blank lines, else at line ends (templates keep tags within a line)."""
    pieces: list[str] = []
    current = ""
    for block in _blocks(text, limit):
        candidate = f"{current}\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = block
    if current:
        pieces.append(current)
    return pieces or [""]


def _blocks(text: str, limit: int) -> list[str]:
    blocks = []
    for line in text.split("\n"):
        while len(line) > limit:  # a single huge line: cut it (never happens with our templates)
            blocks.append(line[:limit])
            line = line[limit:]
        blocks.append(line)
    return blocks


async def say_long(turn: Turn, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    pieces = split_message(text)
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        await turn.context.bot.send_message(turn.chat_id, piece, reply_markup=markup if last else None)


# -- inspection plans (bot/flows/plans): figures beside the reports' own ---------------------------


async def plan_figures(turn: Turn, quarter: Quarter) -> PlanFigures | None:
    """Plan coverage, missed visits and each site's status for the quarter (None: no visit planned)."""
    return await turn.services.plans.quarter_figures(turn.caller, quarter.first_day(), quarter.next().first_day())


async def _plan_rows(turn: Turn, period: str | None) -> list[list[object]] | None:
    """The export's 督导计划 sheet (None: no visit planned at all, the sheet is left out)."""
    flow = turn.services.reports
    words = turn.label("plans.xlsx_words").split("|")
    if flow.export_period(period)[0] == "all":
        rows = await turn.services.plans.export_rows(turn.caller, None, None, words)
    else:
        quarter = flow.quarter(period)
        rows = await turn.services.plans.export_rows(
            turn.caller, quarter.first_day(), quarter.next().first_day(), words
        )
    return rows or None


# -- corrective actions (bot/flows/reports/actions.py): figures beside the reports' own -------------


async def ranking_actions(turn: Turn, ranking: RankingPage) -> dict[int, SiteActions]:
    """Open and overdue actions of the sites on this page (the ranking only lists visible sites)."""
    return await turn.services.action_figures.by_site([line.site_id for line in ranking.lines])


async def _action_rows(turn: Turn, period: str | None) -> list[list[object]] | None:
    """The export's 整改 sheet: the actions created in the period (all of them for ``all``); None
    when there are none, and the sheet is left out (as the plans' sheet is)."""
    _, start, end = turn.services.reports.export_period(period)
    words = turn.label("reports.xlsx_action_words").split("|")
    rows = await turn.services.action_figures.export_rows(turn.caller, start, end, words, turn.caller.lang)
    return rows or None


# -- /summary and its buttons -------------------------------------------------------------------


def summary_keyboard(turn: Turn, summary: Summary) -> InlineKeyboardMarkup:
    q = summary.quarter.code
    rows = [
        [
            Button(turn.label("reports.btn_ranking"), callback_data=f"rk:{q}:0"),
            Button(turn.label("reports.btn_weak"), callback_data=f"rw:{q}:0"),
        ]
    ]
    for line in summary.weakest_categories:
        rows.append([Button(turn.label("reports.btn_category", c=line), callback_data=f"rw:{q}:0:{line.category_id}")])
    second = []
    if summary.uninspected_count:
        second.append(
            Button(turn.label("reports.btn_pending", count=summary.uninspected_count), callback_data=f"rn:{q}:0")
        )
    second.append(Button(turn.label("reports.btn_export"), callback_data=f"rx:{q}"))
    rows.append(second)
    nav = [
        Button(
            turn.label("reports.btn_previous", q=summary.quarter.previous()),
            callback_data=f"rs:{summary.quarter.previous().code}",
        )
    ]
    if not summary.is_current:
        following = summary.quarter.next()
        nav.append(Button(turn.label("reports.btn_next", q=following), callback_data=f"rs:{following.code}"))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


@guarded(MANAGERS)
async def summary_command(turn: Turn) -> None:
    flow = turn.services.reports
    summary = await flow.summary(turn.caller, flow.quarter(_argument(turn)))
    plan = await plan_figures(turn, summary.quarter)
    actions = await turn.services.action_figures.quarter(turn.caller, summary.quarter)
    await turn.say("reports.summary", markup=summary_keyboard(turn, summary), s=summary, plan=plan, actions=actions)


@guarded(MANAGERS)
async def on_summary(turn: Turn) -> None:
    quarter = _quarter(turn, _parts(turn)[1])
    summary = await turn.services.reports.summary(turn.caller, quarter)
    plan = await plan_figures(turn, quarter)
    actions = await turn.services.action_figures.quarter(turn.caller, quarter)
    await turn.answer()
    await turn.edit("reports.summary", markup=summary_keyboard(turn, summary), s=summary, plan=plan, actions=actions)


@guarded(MANAGERS)
async def on_pending(turn: Turn) -> None:
    _, code, page = _parts(turn)
    quarter = _quarter(turn, code)
    pending = await turn.services.reports.pending_sites(turn.caller, quarter, int(page))
    await turn.answer()
    markup = _pager(pending.page, pending.pages, lambda p: f"rn:{quarter.code}:{p}")
    if not _on_summary(turn):
        await turn.edit("reports.pending", markup=markup, p=pending)
    else:
        await turn.say("reports.pending", markup=markup, p=pending)


# -- /ranking -----------------------------------------------------------------------------------


def ranking_keyboard(turn: Turn, ranking: RankingPage) -> InlineKeyboardMarkup:
    rows = []
    for left, right in _pairs(ranking.lines):
        row = [Button(turn.label("reports.btn_site", line=left), callback_data=f"rv:{left.site_id}")]
        if right is not None:
            row.append(Button(turn.label("reports.btn_site", line=right), callback_data=f"rv:{right.site_id}"))
        rows.append(row)
    rows += _pager(ranking.page, ranking.pages, lambda p: f"rk:{ranking.quarter.code}:{p}").inline_keyboard
    return InlineKeyboardMarkup(rows)


@guarded(MANAGERS)
async def ranking_command(turn: Turn) -> None:
    flow = turn.services.reports
    ranking = await flow.ranking(turn.caller, flow.quarter(_argument(turn)), 0)
    plan = await plan_figures(turn, ranking.quarter)
    actions = await ranking_actions(turn, ranking)
    await turn.say("reports.ranking", markup=ranking_keyboard(turn, ranking), r=ranking, plan=plan, actions=actions)


@guarded(MANAGERS)
async def on_ranking(turn: Turn) -> None:
    _, code, page = _parts(turn)
    ranking = await turn.services.reports.ranking(turn.caller, _quarter(turn, code), int(page))
    plan = await plan_figures(turn, ranking.quarter)
    actions = await ranking_actions(turn, ranking)
    await turn.answer()
    markup = ranking_keyboard(turn, ranking)
    if not _on_summary(turn):
        await turn.edit("reports.ranking", markup=markup, r=ranking, plan=plan, actions=actions)
    else:
        await turn.say("reports.ranking", markup=markup, r=ranking, plan=plan, actions=actions)


# -- /weak --------------------------------------------------------------------------------------


def weak_markup(weak: WeakPage) -> InlineKeyboardMarkup:
    suffix = f":{weak.category.category_id}" if weak.category else ""
    return _pager(weak.page, weak.pages, lambda p: f"rw:{weak.quarter.code}:{p}{suffix}")


@guarded(MANAGERS)
async def weak_command(turn: Turn) -> None:
    flow = turn.services.reports
    weak = await flow.weak(turn.caller, flow.quarter(_argument(turn)), 0)
    await say_long(turn, turn.text("reports.weak", w=weak), weak_markup(weak))


@guarded(MANAGERS)
async def on_weak(turn: Turn) -> None:
    parts = _parts(turn)
    quarter, page = _quarter(turn, parts[1]), int(parts[2])
    category = parts[3] if len(parts) > 3 else None
    weak = await turn.services.reports.weak(turn.caller, quarter, page, category)
    await turn.answer()
    if not _on_summary(turn):
        await turn.edit("reports.weak", markup=weak_markup(weak), w=weak)
    else:
        await say_long(turn, turn.text("reports.weak", w=weak), weak_markup(weak))


# -- /site --------------------------------------------------------------------------------------


@guarded(MANAGERS)
async def site_command(turn: Turn) -> None:
    query = _argument(turn)
    if query:
        await _find_site(turn, query)
        return
    # No name: offer the sites as buttons, and take a typed name too (quicker among many sites).
    page = await turn.services.reports.site_page(turn.caller, 0)
    await turn.services.pending.set(turn.caller.user_id, SITE_QUERY, "", turn.now())
    await turn.say("reports.site_pick", markup=site_page_keyboard(page), p=page)


@guarded(MANAGERS)
async def on_site_page(turn: Turn) -> None:
    page = await turn.services.reports.site_page(turn.caller, int(_parts(turn)[1]))
    await turn.answer()
    await turn.edit("reports.site_pick", markup=site_page_keyboard(page), p=page)


def site_page_keyboard(page: SitePage) -> InlineKeyboardMarkup:
    rows = [
        [Button(site.name, callback_data=f"rv:{site.id}") for site in pair if site is not None]
        for pair in _pairs(page.sites)
    ]
    rows += _pager(page.page, page.pages, lambda p: f"rl:{p}").inline_keyboard
    return InlineKeyboardMarkup(rows)


async def _find_site(turn: Turn, query: str) -> None:
    sites = await turn.services.reports.find_sites(turn.caller, query)
    if not sites:
        await turn.say("reports.no_site_match", query=query[:60])
    elif len(sites) == 1:
        await send_site_view(turn, sites[0].id)
    else:
        await _choose_site(turn, query, sites[:SITE_MATCHES])


async def _choose_site(turn: Turn, query: str, sites: Sequence) -> None:
    rows = [[Button(site.name, callback_data=f"rv:{site.id}")] for site in sites]
    await turn.say("reports.site_choices", markup=InlineKeyboardMarkup(rows), query=query[:60], count=len(sites))


async def send_site_view(turn: Turn, site_id: int) -> None:
    flow = turn.services.reports
    view = await flow.site_view(turn.caller, site_id)
    markup = None
    if view.latest is not None:
        markup = report_button(turn.services.texts, turn.caller.lang, view.latest.id)
    plan = await turn.services.plans.site_figures(turn.caller, site_id)
    actions = await turn.services.action_figures.of_site(site_id)  # site_view checked it is visible
    text = turn.text("reports.site_view", v=view, plan=plan, actions=actions)
    await say_long(turn, text, None if view.scored_trend else markup)
    if view.scored_trend:
        await turn.context.bot.send_chat_action(turn.chat_id, ChatAction.UPLOAD_PHOTO)
        png = await flow.trend_png(
            view,
            turn.label("reports.chart_title", name=view.site.name),
            turn.label("reports.chart_no_data"),
            lambda grade: turn.label("reports.grade_name", grade=grade),
        )
        await turn.context.bot.send_photo(
            turn.chat_id, png, caption=turn.text("reports.trend_line", v=view), reply_markup=markup
        )


@guarded(MANAGERS)
async def on_site(turn: Turn) -> None:
    site_id = int(_parts(turn)[1])
    await turn.services.reports.visible_site(turn.caller, site_id)
    await turn.answer()
    # A site chosen by button answers a bare /site: later free text is no longer a site search.
    pending = await turn.services.pending.get(turn.caller.user_id)
    if pending is not None and pending.kind == SITE_QUERY:
        await turn.services.pending.clear(turn.caller.user_id)
    await send_site_view(turn, site_id)


async def text_for_reports(turn: Turn, text: str) -> bool:
    """The site name asked for by a bare /site. False: not ours."""
    pending = await turn.services.pending.get(turn.caller.user_id)
    if pending is None or pending.kind != SITE_QUERY or not turn.caller.may(MANAGERS):
        return False
    await turn.services.pending.clear(turn.caller.user_id)
    await _find_site(turn, text.strip())
    return True


# -- /report ------------------------------------------------------------------------------------


@guarded(REPORT_READERS)
async def report_command(turn: Turn) -> None:
    argument = _argument(turn).lstrip("#№")
    if not argument:
        await turn.say("reports.report_usage")
        return
    if not argument.isdigit() or len(argument) > 12:
        await turn.say("reports.bad_id", text=argument[:30])
        return
    await send_report(turn, int(argument))


@guarded(REPORT_READERS)
async def on_report(turn: Turn) -> None:
    inspection_id = int(_parts(turn)[1])
    await send_report(turn, inspection_id)  # refuses (an alert) before it answers the press and starts work


async def send_report(turn: Turn, inspection_id: int) -> None:
    flow = turn.services.reports
    report = await flow.inspection_report(turn.caller, inspection_id)

    async def render() -> str:
        actions = await turn.services.action_figures.of_inspection(report.head.id)
        return await flow.render_report(report, turn.caller.lang, actions)

    name = f"{file_safe(report.head.site_name)}-{report.submitted_local[:10]}-{report.head.id}"
    caption = turn.text("reports.report_caption", head=report.head)
    await send_html_and_pdf(turn, render, name, caption, turn.text("reports.report_pdf_caption", head=report.head))


# -- /export ------------------------------------------------------------------------------------


@guarded(MANAGERS)
async def export_command(turn: Turn) -> None:
    await send_export(turn, _argument(turn) or None)


@guarded(MANAGERS)
async def on_export(turn: Turn) -> None:
    code = _parts(turn)[1]
    await send_export(turn, "all" if code == "all" else _quarter(turn, code).label)


async def send_export(turn: Turn, period: str | None) -> None:
    flow = turn.services.reports
    flow.export_period(period)  # a bad period is refused before any work
    headers = {
        sheet: turn.label(f"reports.xlsx_{sheet}").split("|")
        for sheet in ("inspections", "answers", "categories", "duties", "answer_names", "duty_status")
    }
    async with showing_progress(turn, ChatAction.UPLOAD_DOCUMENT):
        await _write_and_send_export(turn, period, headers)


async def _write_and_send_export(turn: Turn, period: str | None, headers: dict[str, list[str]]) -> None:
    flow = turn.services.reports
    with tempfile.TemporaryDirectory(dir=work_dir(turn)) as folder:
        target = Path(folder) / "export.xlsx"
        plan_rows = await _plan_rows(turn, period)
        if plan_rows is not None:
            headers["plans"] = turn.label("plans.xlsx_plans").split("|")
        action_rows = await _action_rows(turn, period)
        if action_rows is not None:
            headers["actions"] = turn.label("reports.xlsx_actions").split("|")
        label = await flow.export(turn.caller, period, turn.caller.lang, headers, target, plan_rows, action_rows)
        stamp = datetime.now(turn.services.settings.tz).strftime("%Y%m%d")
        filename = f"dudao-{'all' if label == 'all' else label}-{stamp}.xlsx"
        with target.open("rb") as handle:
            await turn.context.bot.send_document(
                turn.chat_id, handle, filename=filename, caption=turn.text("reports.export_caption", label=label)
            )


# -- the weekly digest --------------------------------------------------------------------------


async def send_due_digests(app: Application) -> int:
    """Send the managers the latest due week's digest (once each); what the periodic job runs."""
    svc = app_services(app)

    async def send(person: UserRecord, lang: str, digest: Digest) -> bool:
        admin = person.id in svc.settings.admin_ids or any(grant.role == "admin" for grant in person.roles)
        week = digest.week
        plan = await svc.plans.digest_figures(person.id, admin, week.first_day, week.last_day)
        actions = await svc.action_figures.overdue_for(person.id, admin)
        text = svc.texts.render(lang, "reports.digest", d=digest, plan=plan, actions=actions)
        ok = True
        for piece in split_message(text):
            ok = await svc.send_safely(app.bot, person.id, piece) and ok
        return ok

    return await svc.digests.run(send)


async def _digest_tick(context: CallbackContext) -> None:
    try:
        await send_due_digests(context.application)
    except Exception:
        log.exception("the weekly digest check failed")


# -- helpers ------------------------------------------------------------------------------------


def _argument(turn: Turn) -> str:
    return " ".join(turn.context.args or []).strip()


def _parts(turn: Turn) -> list[str]:
    query = turn.update.callback_query
    assert query is not None
    return (query.data or "").split(":")


def _on_summary(turn: Turn) -> bool:
    """Whether the pressed button sits on a summary: drill-downs from it open a new message,
    while paging buttons edit their own message in place."""
    query = turn.update.callback_query
    markup = getattr(query.message, "reply_markup", None) if query is not None and query.message else None
    if markup is None:
        return False
    return any(str(button.callback_data).startswith("rs:") for row in markup.inline_keyboard for button in row)


def _quarter(turn: Turn, code: str) -> Quarter:
    quarter = Quarter.parse(code)
    if quarter is None:
        raise ReportRefusedError("bad_quarter", text=code, example=turn.services.reports.current_quarter().label)
    return turn.services.reports.quarter(quarter.label)


def _pager(page: int, pages: int, data) -> InlineKeyboardMarkup:
    nav = []
    if page > 0:
        nav.append(Button("◀", callback_data=data(page - 1)))
    if pages > 1:
        nav.append(Button(f"{page + 1}/{pages}", callback_data=NOOP))
    if page < pages - 1:
        nav.append(Button("▶", callback_data=data(page + 1)))
    return InlineKeyboardMarkup([nav] if nav else [])


def _pairs(items: Sequence) -> list[tuple]:
    return [(items[i], items[i + 1] if i + 1 < len(items) else None) for i in range(0, len(items), 2)]


@guarded(MANAGERS)
async def on_noop(turn: Turn) -> None:
    await turn.answer()


def register(app: Application) -> None:
    app.add_handler(CommandHandler("summary", summary_command))
    app.add_handler(CommandHandler("ranking", ranking_command))
    app.add_handler(CommandHandler("weak", weak_command))
    app.add_handler(CommandHandler("site", site_command))
    app.add_handler(CommandHandler("report", report_command))
    app.add_handler(CommandHandler("export", export_command))
    app.add_handler(CallbackQueryHandler(on_summary, pattern=rf"^rs:{_QUARTER}$"))
    app.add_handler(CallbackQueryHandler(on_ranking, pattern=rf"^rk:{_QUARTER}:{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_weak, pattern=rf"^rw:{_QUARTER}:{PAGE}(:{ID}\.{ID})?$"))
    app.add_handler(CallbackQueryHandler(on_pending, pattern=rf"^rn:{_QUARTER}:{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_export, pattern=rf"^rx:({_QUARTER}|all)$"))
    app.add_handler(CallbackQueryHandler(on_site, pattern=rf"^rv:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_site_page, pattern=rf"^rl:{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_report, pattern=rf"^rp:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_noop, pattern=f"^{NOOP}$"))
    # First in line: it only claims a text while a bare /site waits for a name.
    router_of(app).text.insert(0, text_for_reports)
    if app.job_queue is not None:
        app.job_queue.run_repeating(_digest_tick, interval=DIGEST_CHECK_SECONDS, first=30, name="reports:digest")
