"""What plan screens and messages show: plain values in the configured time zone, for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.flows.plans.periods import (
    Coverage,
    InspectionFacts,
    Outcome,
    VisitFacts,
    VisitResult,
    assign,
)
from bot.flows.schedule import Period
from config.duties import Cadence
from config.plans import Frequency
from storage.plans import SubmittedRow, VisitRow


@dataclass(frozen=True)
class VisitView:
    id: int
    site_id: int
    site_name: str
    region: str | None
    period: Period
    frequency: str  # monthly | quarterly | half-yearly | yearly | cron text
    due_date: date
    closes_on: date
    inspector_name: str | None  # None: any inspector of the site
    on_watch: bool
    outcome: Outcome
    done_on: date | None = None
    inspection_id: int | None = None
    overdue_days: int = 0
    waived_reason: str | None = None

    @property
    def cadence(self) -> str:
        return self.period.cadence.value


@dataclass(frozen=True)
class PlanSource:
    """A site's plan as in force: its frequency, where it comes from, its inspector."""

    frequency: Frequency
    source: str  # site | region | default
    inspector_id: int | None
    inspector_name: str | None


@dataclass(frozen=True)
class SitePlanView:
    site_id: int
    site_name: str
    region: str | None
    plan: PlanSource
    region_frequency: str | None  # the region's own frequency (None: no region plan)
    default_frequency: str
    watch_frequency: str | None  # the watch rule's (None: the rule is off)
    current: VisitView | None
    inspectors: tuple[tuple[int, str], ...]  # the site's inspectors, for the buttons
    watch_grades: tuple[str, ...] = ()  # grades that put a site on watch (the rule's)


@dataclass(frozen=True)
class RegionPlanView:
    region: str
    anchor_site: int  # a site of the region: what its buttons carry
    frequency: str | None
    default_frequency: str
    sites: int


@dataclass(frozen=True)
class PlanBoard:
    """A manager's /plan: their regions and how the plans of their sites stand this period."""

    regions: tuple[RegionPlanView, ...]
    coverage: Coverage
    missed: tuple[VisitView, ...]
    default_frequency: str


@dataclass(frozen=True)
class InspectorPlan:
    """An inspector's /plan: visits still to make, overdue first, then by due date."""

    overdue: tuple[VisitView, ...]
    coming: tuple[VisitView, ...]


@dataclass(frozen=True)
class WeekList:
    monday: date
    sunday: date
    visits: tuple[VisitView, ...]


@dataclass(frozen=True)
class MissedDigest:
    day: date
    part: int
    parts: int
    visits: tuple[VisitView, ...]


@dataclass(frozen=True)
class SitePlanStatus:
    """One line per site in /ranking and /site: how its plan stands in the period asked about."""

    site_id: int
    visits: tuple[VisitView, ...]

    @property
    def worst(self) -> VisitView | None:
        order = (Outcome.MISSED, Outcome.OVERDUE, Outcome.LATE, Outcome.OPEN, Outcome.ON_TIME, Outcome.NOT_REQUIRED)
        return min(self.visits, key=lambda v: order.index(v.outcome), default=None)


def period_of(row: VisitRow) -> Period:
    cadence = Cadence(row.frequency) if row.frequency in Cadence.__members__.values() else Cadence.CRON
    return Period(row.period, cadence, row.period_start, row.period_end)


def local_day(moment: str, tz: ZoneInfo) -> date:
    return datetime.fromisoformat(moment).astimezone(tz).date()


def facts(row: VisitRow) -> VisitFacts:
    return VisitFacts(
        row.id,
        row.site_id,
        row.period_start,
        row.period_end,
        row.due_date,
        row.closes_on,
        waived=row.waived_reason is not None,
        site_active=row.site_active and not row.archived,
    )


def results(rows: list[VisitRow], submitted: list[SubmittedRow], today: date, tz: ZoneInfo) -> dict[int, VisitResult]:
    inspections = [InspectionFacts(s.id, s.site_id, local_day(s.first_submitted_at, tz), s.grade) for s in submitted]
    return assign([facts(row) for row in rows], inspections, today)


def view_of(row: VisitRow, result: VisitResult, today: date) -> VisitView:
    overdue = max(0, (today - row.due_date).days) if result.outcome in (Outcome.OVERDUE, Outcome.MISSED) else 0
    return VisitView(
        id=row.id,
        site_id=row.site_id,
        site_name=row.site_name,
        region=row.region,
        period=period_of(row),
        frequency=row.frequency,
        due_date=row.due_date,
        closes_on=row.closes_on,
        inspector_name=row.inspector_name,
        on_watch=row.on_watch,
        outcome=result.outcome,
        done_on=result.inspection.day if result.inspection else None,
        inspection_id=result.inspection.id if result.inspection else None,
        overdue_days=overdue,
        waived_reason=row.waived_reason,
    )
