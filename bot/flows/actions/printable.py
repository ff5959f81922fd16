"""The 整改通知单 as a printable document: one self-contained HTML page (A4, signature lines for the
site lead and the inspector), and PDF where headless Chromium is installed (as /report does).

Anyone who may see the site's actions may print it; the items are the inspection's actions as they
stand now (cancelled ones left out), each with the inspector's notes on its clause; those fixed on
the spot (当场整改, closed at submit) are only counted, in a line of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.flows.access import Caller
from bot.flows.actions.rules import ActionStatus
from bot.flows.actions.views import ActionFlow, ActionLine
from bot.flows.errors import Refusal, RefusedError
from bot.i18n import environment
from config.settings import LANGUAGES
from storage.action_messages import ActionMessageRepository


@dataclass(frozen=True)
class NoticeItem:
    line: ActionLine
    notes: tuple[str, ...]


@dataclass(frozen=True)
class NoticeDocument:
    inspection_id: int
    site_name: str
    inspector_name: str
    found_on: date | None
    items: tuple[NoticeItem, ...]
    fixed_on_the_spot: int = 0  # findings closed at submit (当场整改): counted, not listed


async def notice_document(
    views: ActionFlow, messages: ActionMessageRepository, caller: Caller, inspection_id: int
) -> NoticeDocument:
    head = await messages.notice_head(inspection_id)
    if head is None:
        raise RefusedError(Refusal.NOT_FOUND)
    rows = [row for row in await views.repo.of_inspection(inspection_id) if row.status != ActionStatus.CANCELLED]
    if not rows:
        raise RefusedError(Refusal.NOT_FOUND)
    await views.visible(caller, rows[0].id)  # refused as not found for someone who may not see the site
    found_on = datetime.fromisoformat(head.submitted_at).astimezone(views.tz).date() if head.submitted_at else None
    spot = [row for row in rows if row.status == ActionStatus.CLOSED and row.clause_id in head.on_the_spot]
    items = tuple(NoticeItem(views.line_of(row), head.notes.get(row.clause_id, ())) for row in rows if row not in spot)
    return NoticeDocument(inspection_id, head.site_name, head.inspector_name, found_on, items, len(spot))


def render_notice_html(document: NoticeDocument, lang: str) -> str:
    lang = lang if lang in LANGUAGES else "zh-hans"
    return environment(lang).get_template("report/action_notice.html.j2").render(n=document)
