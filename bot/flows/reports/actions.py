"""Corrective actions (整改, issue #15) in the managers' figures: /summary, /ranking, /site, the
report, the export's 整改 sheet and the weekly digest.

Rates count only actions not cancelled: 整改率 = closed / due in the period (by ``due_date``),
按期整改率 = closed on or before the due date (the local date of ``closed_at``) / due; the median
counts calendar days (local dates) from an action's creation to its closing. Counts come from
:mod:`storage.action_figures`; who sees which sites is the reports' own rule (admins: all).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.flows.access import Caller
from bot.flows.reports.periods import Quarter
from bot.flows.reports.views import MANAGERS, ReportFlow
from rubric.registry import RubricRegistry
from storage.action_figures import ActionFigureRepository, ActionListRow, ClosedRow
from storage.reports import Scope

DIGEST_OVERDUE = 5  # the oldest overdue actions the digest names; the rest are counted


@dataclass(frozen=True)
class ActionFigures:
    due: int
    closed: int
    on_time: int
    median_days: float | None  # None: none closed
    repeats: int
    open: int  # now: not yet closed (待整改 and 已提交)
    overdue: int  # now: of those, past their due date

    @property
    def close_rate(self) -> float | None:
        """整改率 in percent; None when nothing fell due (a rate of nothing is not 0%)."""
        return rate(self.closed, self.due)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.due)


@dataclass(frozen=True)
class SiteActions:
    open: int
    overdue: int


@dataclass(frozen=True)
class ActionItem:
    """One action as a report line: the overdue list of the digest, the report's actions section."""

    id: int
    site_name: str
    code: str
    text: str
    answer: str
    severity: str
    status: str
    round: int
    due_date: date
    closed_on: date | None
    days_late: int  # calendar days past the due date while still open; 0 otherwise
    repeat: bool


@dataclass(frozen=True)
class OverdueActions:
    count: int
    oldest: tuple[ActionItem, ...]

    @property
    def more(self) -> int:
        return max(self.count - len(self.oldest), 0)


# -- pure figures ---------------------------------------------------------------------------------


def rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(100.0 * part / whole, 1)


def local_day(stored: str, tz: ZoneInfo) -> date:
    return datetime.fromisoformat(stored).astimezone(tz).date()


def median_days(spans: Iterable[int]) -> float | None:
    values = list(spans)
    return float(statistics.median(values)) if values else None


def figures(due: int, closed: Sequence[ClosedRow], repeats: int, live: int, late: int, tz: ZoneInfo) -> ActionFigures:
    """The period's figures from its closed actions (due in it) and the counts."""
    on_time = 0
    spans = []
    for row in closed:
        closed_on = local_day(row.closed_at, tz)
        on_time += closed_on <= date.fromisoformat(row.due_date)
        spans.append((closed_on - local_day(row.created_at, tz)).days)
    return ActionFigures(due, len(closed), on_time, median_days(spans), repeats, live, late)


def days_to_close(row: ActionListRow, tz: ZoneInfo) -> int | None:
    if row.status != "closed" or not row.closed_at:
        return None
    return (local_day(row.closed_at, tz) - local_day(row.created_at, tz)).days


# -- reading them -----------------------------------------------------------------------------------


@dataclass
class ActionFigureFlow:
    repo: ActionFigureRepository
    reports: ReportFlow
    rubrics: RubricRegistry
    clock: Clock
    tz: ZoneInfo

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    async def quarter(self, caller: Caller, quarter: Quarter) -> ActionFigures | None:
        """The quarter's figures over the caller's sites; None when no action is in sight at all."""
        scope = await self.reports.scope_for(caller)
        if scope.empty:
            return None
        start, end = quarter.bounds(self.tz)
        rows = await self.repo.period(
            scope, quarter.first_day().isoformat(), quarter.next().first_day().isoformat(), start, end
        )
        live, late = await self.repo.live_counts(scope, self.today().isoformat())
        if not (rows.due or rows.repeats or live):
            return None
        return figures(rows.due, rows.closed, rows.repeats, live, late, self.tz)

    async def by_site(self, site_ids: Sequence[int]) -> dict[int, SiteActions]:
        """Open and overdue actions of these sites (visibility already checked by the caller)."""
        counts = await self.repo.by_site(site_ids, self.today().isoformat())
        return {site_id: SiteActions(*pair) for site_id, pair in counts.items()}

    async def of_site(self, site_id: int) -> SiteActions:
        return (await self.by_site([site_id])).get(site_id, SiteActions(0, 0))

    async def of_inspection(self, inspection_id: int) -> tuple[ActionItem, ...]:
        return tuple(self.item(row) for row in await self.repo.of_inspection(inspection_id))

    async def overdue_for(self, person_id: int, admin: bool, limit: int = DIGEST_OVERDUE) -> OverdueActions | None:
        """The digest's overdue actions of a manager's sites (admins: every site); None: none."""
        if admin:
            return await self.overdue(Scope(all_sites=True), limit)
        sites = await self.reports.sites.visible_to(person_id, MANAGERS)
        return await self.overdue(Scope(all_sites=False, site_ids=tuple(site.id for site in sites)), limit)

    async def overdue(self, scope: Scope, limit: int = DIGEST_OVERDUE) -> OverdueActions | None:
        if scope.empty:
            return None
        count, rows = await self.repo.overdue(scope, self.today().isoformat(), limit)
        return OverdueActions(count, tuple(self.item(row) for row in rows)) if count else None

    async def export_rows(
        self, caller: Caller, start: str, end: str, words: Sequence[str], lang: str
    ) -> list[list[object]]:
        """The 整改 sheet: one row per action created in ``[start, end)``. ``words`` name the answers
        (基本符合|不符合), severities (严重|一般), statuses (待整改|已提交|已关闭|已取消) and 重复."""
        from rubric.script import to_traditional

        def script(text: str) -> str:
            return to_traditional(text) if lang == "zh-hant" else text

        scope = await self.reports.scope_for(caller)
        if scope.empty:
            return []
        names = dict(
            zip(
                ("partial", "fail", "serious", "general", "open", "submitted", "closed", "cancelled", "repeat"),
                words,
                strict=True,
            )
        )
        out: list[list[object]] = []
        for row in await self.repo.created_in(scope, start, end):
            item = self.item(row)
            out.append(
                [
                    row.site_name,
                    script(item.code),
                    script(item.text),
                    names[row.answer],
                    names[row.severity],
                    names[row.status],
                    row.round,
                    item.due_date,
                    item.closed_on,
                    days_to_close(row, self.tz),
                    names["repeat"] if row.repeat else "",
                ]
            )
        return out

    def item(self, row: ActionListRow) -> ActionItem:
        rubric = self.rubrics.find_by_hash(row.rubric_hash)
        clause = rubric.clause(row.clause_id) if rubric is not None and rubric.has_clause(row.clause_id) else None
        due = date.fromisoformat(row.due_date)
        late = (self.today() - due).days if row.status in ("open", "submitted") else 0
        return ActionItem(
            id=row.id,
            site_name=row.site_name,
            code=clause.code if clause else row.clause_id,
            text=clause.text if clause else "",
            answer=row.answer,
            severity=row.severity,
            status=row.status,
            round=row.round,
            due_date=due,
            closed_on=local_day(row.closed_at, self.tz) if row.closed_at and row.status == "closed" else None,
            days_late=max(late, 0),
            repeat=row.repeat,
        )
