"""Plan periods, visit windows and outcomes: pure functions of dates, a frequency and a calendar.

A site's visits follow one another without gap or overlap: each begins where the one before ended,
with the frequency in force then, and ends where that frequency's period ends (a site moved from
quarterly to monthly on 1 April gets April, May, June; one moved back on 1 May gets 1 May-30 June,
keyed 2026-Q2).

A visit is due on ``[plans] due`` (a day of its period, moved back onto a working day inside the
period), and still counts for ``grace_days`` after it. Each submitted inspection counts for ONE
visit of its site: the earliest one still without an inspection whose window (its first day to the
end of its grace) holds the day of the inspection's first submission. So a visit done in the grace
days is done late, and the next period still needs its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.flows.schedule import (
    Period,
    WorkCalendar,
    calendar_period,
    cron_fire_after,
    cron_fire_on_or_before,
    resolve_anchor,
)
from config.duties import Cadence
from config.plans import Frequency, PlanSettings


def period_from(frequency: Frequency, start: date) -> Period:
    """The period of ``frequency`` that holds ``start``, begun at ``start`` (the visit before ended
    there). A cron frequency's period runs from one firing to the next."""
    if frequency.cron is None:
        period = calendar_period(frequency.cadence, start)
        return Period(period.key, period.cadence, start, period.end)
    fired = cron_fire_on_or_before(frequency.cron, start) or start
    following = cron_fire_after(frequency.cron, start) or start + timedelta(days=1)
    return Period(fired.isoformat(), Cadence.CRON, start, following)


@dataclass(frozen=True)
class Window:
    due_date: date
    closes_on: date  # the last day an inspection still counts (late after due_date)


def window(period: Period, settings: PlanSettings, calendar: WorkCalendar) -> Window:
    day = min(max(resolve_anchor(settings.due, period, calendar), period.start), period.last_day)
    if not calendar.is_working_day(day):
        earlier = calendar.previous_working_day(day)
        day = earlier if period.contains(earlier) else min(calendar.next_working_day(day), period.last_day)
    return Window(day, day + timedelta(days=settings.grace_days))


def nudge_day(due: date, days: int, calendar: WorkCalendar) -> date | None:
    """The working day ``days`` working days before ``due`` (None: nudges are off)."""
    return calendar.add_working_days(due, -days) if days > 0 else None


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of ``day``'s ISO week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def first_working_day_of_week(day: date, calendar: WorkCalendar) -> date | None:
    monday, sunday = week_of(day)
    first = calendar.next_working_day(monday)
    return first if first <= sunday else None


# -- outcomes --------------------------------------------------------------------------------------


class Outcome(StrEnum):
    ON_TIME = "on_time"  # done on or before the due date
    LATE = "late"  # done after the due date, within the grace days
    MISSED = "missed"  # the grace days ended with no submitted inspection
    NOT_REQUIRED = "not_required"  # site archived, or waived by a manager with a reason
    OPEN = "open"  # not done, due date still ahead (or today)
    OVERDUE = "overdue"  # not done, past the due date, still in its grace days

    @property
    def done(self) -> bool:
        return self in (Outcome.ON_TIME, Outcome.LATE)

    @property
    def final(self) -> bool:
        return self in (Outcome.ON_TIME, Outcome.LATE, Outcome.MISSED, Outcome.NOT_REQUIRED)


@dataclass(frozen=True)
class VisitFacts:
    id: int
    site_id: int
    start: date
    end: date
    due_date: date
    closes_on: date
    waived: bool = False
    site_active: bool = True


@dataclass(frozen=True)
class InspectionFacts:
    id: int
    site_id: int
    day: date  # local day of its first submission
    grade: str | None = None


@dataclass(frozen=True)
class VisitResult:
    outcome: Outcome
    inspection: InspectionFacts | None = None


def outcome_of(visit: VisitFacts, inspection: InspectionFacts | None, today: date) -> Outcome:
    if visit.waived:
        return Outcome.NOT_REQUIRED
    if inspection is not None:
        return Outcome.ON_TIME if inspection.day <= visit.due_date else Outcome.LATE
    if not visit.site_active:
        return Outcome.NOT_REQUIRED
    if today > visit.closes_on:
        return Outcome.MISSED
    return Outcome.OVERDUE if today > visit.due_date else Outcome.OPEN


def assign(visits: Iterable[VisitFacts], inspections: Iterable[InspectionFacts], today: date) -> dict[int, VisitResult]:
    """Each visit's outcome, each inspection counted for at most one visit of its site (see above).
    ``inspections`` must hold every submitted inspection of the visits' sites over their windows."""
    by_site: dict[int, list[VisitFacts]] = {}
    for visit in visits:
        by_site.setdefault(visit.site_id, []).append(visit)
    done: dict[int, InspectionFacts] = {}
    ordered = sorted(inspections, key=lambda i: (i.day, i.id))
    for site_visits in by_site.values():
        site_visits.sort(key=lambda v: v.start)
    for inspection in ordered:
        for visit in by_site.get(inspection.site_id, ()):
            if visit.id in done or visit.waived:
                continue
            if visit.start <= inspection.day <= visit.closes_on:
                done[visit.id] = inspection
                break
    return {
        visit.id: VisitResult(outcome_of(visit, done.get(visit.id), today), done.get(visit.id))
        for site_visits in by_site.values()
        for visit in site_visits
    }


@dataclass(frozen=True)
class Coverage:
    """Done on time against the visits due so far (a visit is due once its due date has passed or it
    was done), with the rest by outcome."""

    on_time: int = 0
    late: int = 0
    missed: int = 0
    overdue: int = 0
    open: int = 0
    not_required: int = 0

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.missed + self.overdue

    @property
    def percent(self) -> float | None:
        return 100.0 * self.on_time / self.due if self.due else None


def coverage(results: Sequence[VisitResult]) -> Coverage:
    counts = {outcome: 0 for outcome in Outcome}
    for result in results:
        counts[result.outcome] += 1
    # A visit done ahead of its due date is due "so far" too: it counts on both sides.
    return Coverage(
        on_time=counts[Outcome.ON_TIME],
        late=counts[Outcome.LATE],
        missed=counts[Outcome.MISSED],
        overdue=counts[Outcome.OVERDUE],
        open=counts[Outcome.OPEN],
        not_required=counts[Outcome.NOT_REQUIRED],
    )


def watch_applies(settings: PlanSettings, grade: str | None) -> bool:
    return bool(settings.watch_grades) and grade is not None and grade in settings.watch_grades


def effective_frequency(base: Frequency, settings: PlanSettings, on_watch: bool) -> Frequency:
    """On watch, the watch frequency when it is more frequent than the plan's own."""
    if on_watch and settings.watch_frequency.rank > base.rank:
        return settings.watch_frequency
    return base
