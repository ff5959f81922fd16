"""The plans' part of the duty engine's tick: visits, reminders to inspectors, missed visits.

The duty engine (``bot/flows/duties/engine.py``) calls :meth:`PlanEngine.plan` in each tick, under its
lock, before it delivers the outbox, and :meth:`PlanEngine.plan_digests` after its reminders. Every
message is an outbox row under a unique key written in the same transaction as the visit's own change
(``nudged_at``, ``closed_at``), so it is planned once and delivered at least once by the duty engine's
sender, with its pacing and its recovery after a crash, like a duty's reminder. Its words are
rendered at send time from :meth:`notice`: a visit done since is left out.

1. Visits: each active site's visit of the current period, with the frequency in force when the
   period begins (the site's plan, its region's, else ``[plans] frequency``; raised to the watch
   frequency when the inspection of the visit before was graded one of ``watch_grades``, which is
   written to the audit log).
2. Nudges: ``nudge_days`` working days before a visit's due date at ``[plans] time``, to its inspector
   or, unassigned, the inspectors of the site (grants for the site or its region).
3. The week's list: on each week's first working day at ``[plans] time``, every inspector with visits
   due by Sunday (overdue ones included) gets one message listing them.
4. Missed visits: the day after a visit's grace days end, a visit with no submitted inspection is a
   fact for each manager of the site (else the admins); each manager's facts go out in one message
   a day (cut in parts of ``MISSED_PER_PART``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso
from bot.flows.plans.periods import (
    Outcome,
    effective_frequency,
    first_working_day_of_week,
    nudge_day,
    period_from,
    watch_applies,
    week_of,
    window,
)
from bot.flows.plans.views import MissedDigest, PlanSource, VisitView, WeekList, results, view_of
from bot.flows.schedule import WorkCalendar, calendar_period, cron_fire_on_or_before
from config.plans import Frequency, PlanSettings, parse_frequency
from storage.people import AuditEntry
from storage.plans import NewVisit, PlanRepository, PlanRow, VisitRow

log = logging.getLogger(__name__)

PLAN_KINDS = ("plan_week", "plan_nudge", "plan_digest")
MISSED_PER_PART = 40  # lines of a missed-visit message part (the sender splits a rare longer one)
MAX_CATCH_UP = 3  # visits created for one site in one tick (a watch frequency may need two to reach today)


@dataclass(frozen=True)
class PlanNotice:
    """A plan message, ready to render as ``plans.<kind>``."""

    kind: str  # plan_week | plan_nudge | plan_digest
    week: WeekList | None = None
    visit: VisitView | None = None
    digest: MissedDigest | None = None


@dataclass(frozen=True)
class PlanIndex:
    """The plans of sites and regions, by key: looked up once per site in every tick."""

    by_site: dict[int, PlanRow]
    by_region: dict[str, PlanRow]

    @classmethod
    def of(cls, plans: list[PlanRow]) -> PlanIndex:
        return cls(
            {p.site_id: p for p in plans if p.site_id is not None},
            {p.region: p for p in plans if p.region is not None},
        )


@dataclass(frozen=True)
class _Previous:
    """The visit before the one being planned: its period and whether the watch rule had raised it."""

    key: str
    start: date
    end: date
    on_watch: bool


@dataclass
class PlanTick:
    created: int = 0
    nudged: int = 0
    weekly: int = 0
    missed: int = 0
    digests: int = 0


class PlanEngine:
    def __init__(
        self,
        repo: PlanRepository,
        clock: Clock,
        settings: PlanSettings,
        calendar: WorkCalendar,
        tz: ZoneInfo,
        admin_ids: frozenset[int],
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.settings = settings
        self.calendar = calendar
        self.tz = tz
        self.admin_ids = admin_ids
        self._week_planned: date | None = None  # the Monday whose lists are planned

    def today(self, now: datetime | None = None) -> date:
        return (now or self.clock.now()).astimezone(self.tz).date()

    def _at(self, day: date) -> datetime:
        return datetime.combine(day, self.settings.at, tzinfo=self.tz)

    # -- plans in force ----------------------------------------------------------------------------

    def source(self, site_id: int, region: str | None, plans: PlanIndex) -> PlanSource:
        site_plan = plans.by_site.get(site_id)
        region_plan = plans.by_region.get(region) if region is not None else None
        if site_plan is not None and site_plan.frequency:
            frequency, source = parse_frequency(site_plan.frequency), "site"
        elif region_plan is not None and region_plan.frequency:
            frequency, source = parse_frequency(region_plan.frequency), "region"
        else:
            frequency, source = self.settings.frequency, "default"
        inspector = site_plan.inspector_id if site_plan else None
        return PlanSource(frequency, source, inspector, site_plan.inspector_name if site_plan else None)

    # -- one tick ----------------------------------------------------------------------------------

    async def plan(self, now: datetime) -> PlanTick:
        tick = PlanTick()
        if not self.settings.enabled:
            return tick
        tick.created = await self._materialise(now)
        tick.missed = await self._close(now)
        tick.nudged = await self._nudge(now)
        tick.weekly = await self._week_lists(now)
        return tick

    async def _materialise(self, now: datetime) -> int:
        """Visits of the periods begun, planned in memory and written in one transaction (at a quarter's
        start every site needs its next visit at once)."""
        today = self.today(now)
        plans = PlanIndex.of(await self.repo.plans())
        latest = await self.repo.latest_visits()
        planned: list[tuple[NewVisit, AuditEntry | None]] = []
        for site_id, region in await self.repo.active_sites():
            plan = self.source(site_id, region, plans)
            found = latest.get(site_id)
            if found is None:
                planned.append(await self._next(site_id, plan, first_day(plan.frequency, today), None))
                continue
            previous = _Previous(found.period, found.period_start, found.period_end, found.on_watch)
            for _ in range(MAX_CATCH_UP):
                if previous.end > today:
                    break
                start = previous.end
                if period_from(plan.frequency, start).end <= today:
                    # A gap of whole periods (the site was archived, or the bot off): no visit is planned
                    # after the fact, so none is reported missed; the plan resumes with today's period.
                    start = max(start, first_day(plan.frequency, today))
                visit, audit = await self._next(site_id, plan, start, previous)
                planned.append((visit, audit))
                previous = _Previous(visit.period, visit.period_start, visit.period_end, visit.on_watch)
        return await self.repo.create_visits(planned, iso(now)) if planned else 0

    async def _next(
        self, site_id: int, plan: PlanSource, start: date, previous: _Previous | None
    ) -> tuple[NewVisit, AuditEntry | None]:
        on_watch, grade = False, None
        if previous is not None and self.settings.watch_grades:
            grade = await self._grade_of(site_id, previous.start, previous.end)
            on_watch = watch_applies(self.settings, grade)
        frequency = effective_frequency(plan.frequency, self.settings, on_watch)
        raised = frequency.text != plan.frequency.text
        period = period_from(frequency, start)
        span = window(period, self.settings, self.calendar)
        audit = None
        if previous is not None and raised != previous.on_watch:
            action = "plan.watch_on" if raised else "plan.watch_off"
            detail = {"period": period.key, "frequency": frequency.text, "grade": grade, "after": previous.key}
            audit = AuditEntry(None, action, f"site:{site_id}", detail)
        visit = NewVisit(
            site_id=site_id,
            period=period.key,
            frequency=frequency.text,
            period_start=period.start,
            period_end=period.end,
            due_date=span.due_date,
            closes_on=span.closes_on,
            inspector_id=plan.inspector_id,
            on_watch=raised,
        )
        return visit, audit

    async def _grade_of(self, site_id: int, start: date, end: date) -> str | None:
        """The grade of the last inspection submitted in a period (the site's standing then)."""
        found = await self.repo.submitted([site_id], self._utc_day(start), self._utc_day(end))
        return found[-1].grade if found else None

    def _utc_day(self, day: date) -> str:
        return iso(datetime.combine(day, datetime.min.time(), tzinfo=self.tz))

    async def views(self, rows: list[VisitRow], today: date) -> list[VisitView]:
        """Each visit with its outcome, counted among every visit of its sites that could compete for
        the same inspections."""
        if not rows:
            return []
        site_ids = sorted({row.site_id for row in rows})
        start = min(row.period_start for row in rows) - timedelta(days=self.settings.grace_days + 1)
        end = max(row.closes_on for row in rows) + timedelta(days=1)
        everything = await self.repo.visits_overlapping(site_ids, start, end)
        known = {row.id for row in everything}
        everything += [row for row in rows if row.id not in known]
        # Every inspection in the windows of all of them: an earlier visit may take one before ``start``.
        start = min(start, *(row.period_start for row in everything))
        submitted = await self.repo.submitted(site_ids, self._utc_day(start), self._utc_day(end))
        found = results(everything, submitted, today, self.tz)
        return [view_of(row, found[row.id], today) for row in rows]

    async def _close(self, now: datetime) -> int:
        """Visits whose grace days are over: settled; a missed one is escalated."""
        today = self.today(now)
        if now < self._at(today):
            today -= timedelta(days=1)  # the day after the grace days, from [plans] time on
        ending = await self.repo.unsettled(today, closes_before=today)
        views = await self.views(ending, today)
        missed_sites = sorted({view.site_id for view in views if view.outcome is Outcome.MISSED})
        managers = await self.repo.managers_of_sites(missed_sites)
        closing = []
        for row, view in zip(ending, views, strict=True):
            told = (managers.get(row.site_id) or sorted(self.admin_ids)) if view.outcome is Outcome.MISSED else []
            archived = view.outcome is Outcome.NOT_REQUIRED and not row.site_active and not row.waived_reason
            closing.append((row.id, told, archived))
        return await self.repo.close_visits(closing, iso(now))

    async def _nudge(self, now: datetime) -> int:
        if not self.settings.nudge_days:
            return 0
        today = self.today(now)
        # A nudge is due once its due date is at most nudge_days working days away (a day of slack).
        horizon = self.calendar.add_working_days(today, self.settings.nudge_days) + timedelta(days=1)
        waiting = await self.repo.unsettled(today, due_between=(today, horizon), not_nudged=True)
        due = []
        for row in waiting:
            day = nudge_day(row.due_date, self.settings.nudge_days, self.calendar)
            if day is not None and day <= today and now >= self._at(min(today, max(day, row.period_start))):
                due.append(row)
        still_open = [
            row for row, view in zip(due, await self.views(due, today), strict=True) if view.outcome is Outcome.OPEN
        ]
        recipients = await self._recipients(still_open)
        return await self.repo.plan_nudges([(row.id, recipients[row.id]) for row in still_open], iso(now))

    async def _week_lists(self, now: datetime) -> int:
        if not self.settings.weekly_list:
            return 0
        today = self.today(now)
        first = first_working_day_of_week(today, self.calendar)
        if first is None or today < first or now < self._at(first):
            return 0
        monday, sunday = week_of(today)
        if self._week_planned == monday:
            return 0  # planned at this week's first tick after its time (again after a restart: once a key)
        rows = [row for row in await self.repo.unsettled(sunday) if row.due_date <= sunday and not row.waived_reason]
        to_make = [
            row
            for row, view in zip(rows, await self.views(rows, today), strict=True)
            if view.outcome in (Outcome.OPEN, Outcome.OVERDUE)
        ]
        chats = {chat for found in (await self._recipients(to_make)).values() for chat in found}
        planned = await self.repo.plan_week(sorted(chats), monday, iso(now)) if chats else 0
        self._week_planned = monday
        return planned

    async def _recipients(self, rows: list[VisitRow]) -> dict[int, list[int]]:
        """Who is reminded of each visit: its inspector, else the site's inspectors; reachable ones only
        (two queries whatever the number of visits)."""
        assigned = {row.inspector_id for row in rows if row.inspector_id is not None}
        reachable = await self.repo.reachable(sorted(assigned))
        by_site = await self.repo.site_inspectors(sorted({row.site_id for row in rows if row.inspector_id is None}))
        found: dict[int, list[int]] = {}
        for row in rows:
            if row.inspector_id is not None:
                found[row.id] = [row.inspector_id] if row.inspector_id in reachable else []
            else:
                found[row.id] = [person for person, _name, away in by_site.get(row.site_id, []) if not away]
        return found

    # -- the managers' message ---------------------------------------------------------------------

    async def plan_digests(self, now: datetime) -> int:
        if not self.settings.enabled:
            return 0
        local = now.astimezone(self.tz)
        if local.time() < self.settings.at:
            return 0
        day = local.date().isoformat()
        planned = 0
        for chat_id in await self.repo.chats_with_waiting_alerts():
            alerts = await self.repo.waiting_alerts(chat_id)
            ids = [alert.id for alert in alerts]
            parts = [ids[i : i + MISSED_PER_PART] for i in range(0, len(ids), MISSED_PER_PART)]
            if await self.repo.plan_digest(chat_id, day, parts, iso(now)):
                planned += 1
        return planned

    # -- what a row says, at send time -------------------------------------------------------------

    async def notice(
        self, kind: str, chat_id: int, key: str, day: str | None, part: int, parts: int | None
    ) -> PlanNotice | None:
        """The message of an outbox row as things stand now; None when there is nothing left to say."""
        today = self.today()
        if kind == "plan_nudge":
            visit_id = int(key.split(":")[1])
            row = await self.repo.visit(visit_id)
            if row is None:
                return None
            view = (await self.views([row], today))[0]
            return PlanNotice(kind, visit=view) if view.outcome in (Outcome.OPEN, Outcome.OVERDUE) else None
        if kind == "plan_week":
            monday = date.fromisoformat(day or today.isoformat())
            visits = await self.inspector_visits(chat_id, until=monday + timedelta(days=6))
            return (
                PlanNotice(kind, week=WeekList(monday, monday + timedelta(days=6), tuple(visits))) if visits else None
            )
        if kind == "plan_digest":
            alerts = await self.repo.alerts_of(key)
            rows = await self.repo.visits_of([alert.visit_id for alert in alerts])
            views = [v for v in await self.views(rows, today) if v.outcome is Outcome.MISSED]
            if not views:
                return None
            digest = MissedDigest(date.fromisoformat(day or today.isoformat()), part, parts or 1, tuple(views))
            return PlanNotice(kind, digest=digest)
        return None

    async def inspector_visits(self, user_id: int, until: date | None = None) -> list[VisitView]:
        """Visits the person is to make: assigned to them, or unassigned at a site they inspect;
        not done yet (open or overdue), due by ``until`` when given; overdue first, then by due date."""
        today = self.today()
        mine = await self.repo.inspector_sites(user_id)
        rows = [
            row
            for row in await self.repo.unsettled(today)
            if (row.inspector_id == user_id or (row.inspector_id is None and row.site_id in mine))
            and not row.waived_reason
            and (until is None or row.due_date <= until)
        ]
        views = [v for v in await self.views(rows, today) if v.outcome in (Outcome.OPEN, Outcome.OVERDUE)]
        return sorted(views, key=lambda v: (v.outcome is not Outcome.OVERDUE, v.due_date, v.site_name))


def first_day(frequency: Frequency, today: date) -> date:
    """Where a site's first visit begins: the start of the period that holds ``today``."""
    if frequency.cron is None:
        return calendar_period(frequency.cadence, today).start
    return cron_fire_on_or_before(frequency.cron, today) or today
