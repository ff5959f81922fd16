"""Schedule math for periodic duties: periods, reminder days, due dates, follow-ups, escalations.

Pure functions of a rule, a time zone and a moment: no database, no clock of its own. Everything is
computed on the local calendar of the configured zone (quarters are calendar quarters there) and
returned as aware datetimes. Working days are those of a :class:`WorkCalendar`: Monday to Friday, less
public holidays, plus make-up working days (调休).

A period is a span of whole local days ``[start, end)``: a month, quarter, half-year or year, or for
a cron rule the days from one firing to the next (cron rules fire at most once a day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from config.duties import Anchor, Cadence, Covers, CronSpec, DutyRule, DutySettings

# A cron rule that fires on 29 February fires every 4 years, and 2100 is no leap year.
_CRON_SEARCH_DAYS = 366 * 8 + 2
_MAX_PERIODS = 400


@dataclass(frozen=True)
class Period:
    key: str  # 2026-Q2, 2026-05, 2026-H1, 2026; a cron period: the local date it starts, 2026-05-04
    cadence: Cadence
    start: date
    end: date  # exclusive

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def index(self) -> int:
        """Number of the period within its year: month 1-12, quarter 1-4, half 1-2; 1 for years and cron."""
        months = self.cadence.months
        return (self.start.month - 1) // months + 1 if months else 1

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


@dataclass(frozen=True)
class Occurrence:
    """One period of a rule with its moments (aware, in the rule's zone)."""

    period: Period
    remind_at: datetime
    due_date: date  # last day to do it (local)
    due_at: datetime  # overdue from this moment: the start of the day after the due date
    escalate_at: datetime | None


# -- working days ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkCalendar:
    """Monday to Friday, less ``holidays``, plus ``workdays`` (weekend days worked in lieu, 调休)."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    known_until: int | None = None  # last year the public holidays are known for (None: not used)

    @classmethod
    def of(cls, settings: DutySettings) -> WorkCalendar:
        holidays, workdays, known_until = set(settings.holidays), set(settings.workdays), None
        if settings.public_holidays == "china":  # the State Council's schedule, one package release a year
            holidays |= set(chinese_calendar.holidays) - settings.workdays
            workdays |= set(chinese_calendar.workdays) - settings.holidays
            known_until = max(day.year for day in (*chinese_calendar.holidays, *settings.holidays))
        return cls(frozenset(holidays), frozenset(workdays), known_until)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """Move ``count`` working days forward (backward when negative); ``day`` itself is not counted."""
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day


MONDAY_TO_FRIDAY = WorkCalendar()


# -- calendar periods ------------------------------------------------------------------------------

_KEY_PATTERNS = {
    Cadence.MONTHLY: re.compile(r"^(\d{4})-(\d{2})$"),
    Cadence.QUARTERLY: re.compile(r"^(\d{4})-Q([1-4])$"),
    Cadence.HALF_YEARLY: re.compile(r"^(\d{4})-H([12])$"),
    Cadence.YEARLY: re.compile(r"^(\d{4})$"),
}


def _month_start(year: int, month: int) -> date:
    """The first day of ``month`` counted from January of ``year`` (month 13 is next January)."""
    year += (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def calendar_period(cadence: Cadence, day: date) -> Period:
    months = cadence.months
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    end = _month_start(day.year, first_month + months)
    index = (first_month - 1) // months + 1
    key = {
        Cadence.MONTHLY: f"{day.year}-{first_month:02d}",
        Cadence.QUARTERLY: f"{day.year}-Q{index}",
        Cadence.HALF_YEARLY: f"{day.year}-H{index}",
        Cadence.YEARLY: f"{day.year}",
    }[cadence]
    return Period(key, cadence, start, end)


def calendar_period_by_key(cadence: Cadence, key: str) -> Period | None:
    match = _KEY_PATTERNS[cadence].match(key)
    if not match:
        return None
    year = int(match.group(1))
    if not 1 <= year <= 9998:
        return None
    number = int(match.group(2)) if match.lastindex and match.lastindex > 1 else 1
    if cadence is Cadence.MONTHLY and not 1 <= number <= 12:
        return None
    first_month = (number - 1) * cadence.months + 1 if cadence is not Cadence.MONTHLY else number
    return calendar_period(cadence, date(year, first_month, 1))


_QUARTER_TEXT = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*[Qq]\s*([1-4])\s*$")


def parse_quarter(text: str) -> Period | None:
    """``2026-Q2``, ``2026Q2``, ``2026 q2``: that calendar quarter; None when unreadable."""
    match = _QUARTER_TEXT.match(text)
    if not match:
        return None
    return calendar_period_by_key(Cadence.QUARTERLY, f"{match.group(1)}-Q{match.group(2)}")


def covered_period(rule: DutyRule, period: Period) -> Period:
    """The period a duty's work is about: its own, or for a rule that ``covers = "previous"`` (上季度…
    报告, asked for in the quarter after) the one before it. Messages show this one, so a report on
    Q3 that is due in Q4 reads "2026年第3季度", not "第4季度"."""
    if rule.covers is not Covers.PREVIOUS:
        return period
    day_before = period.start - timedelta(days=1)
    if rule.cron is None:
        return calendar_period(rule.cadence, day_before)
    start = cron_fire_on_or_before(rule.cron, day_before)
    if start is None:
        return period
    return Period(start.isoformat(), Cadence.CRON, start, period.start)


# -- cron ------------------------------------------------------------------------------------------


def cron_fires_on(cron: CronSpec, day: date) -> bool:
    if day.month not in cron.months:
        return False
    by_day = day.day in cron.days
    by_weekday = day.weekday() in cron.weekdays
    if cron.days_restricted and cron.weekdays_restricted:
        return by_day or by_weekday  # cron's rule when both day fields are given
    if cron.days_restricted:
        return by_day
    if cron.weekdays_restricted:
        return by_weekday
    return True


def cron_fire_on_or_before(cron: CronSpec, day: date) -> date | None:
    for _ in range(_CRON_SEARCH_DAYS):
        if cron_fires_on(cron, day):
            return day
        if day == date.min:
            return None
        day -= timedelta(days=1)
    return None


def cron_fire_after(cron: CronSpec, day: date) -> date | None:
    for _ in range(_CRON_SEARCH_DAYS):
        if day == date.max:
            return None
        day += timedelta(days=1)
        if cron_fires_on(cron, day):
            return day
    return None


def resolve_anchor(anchor: Anchor, period: Period, calendar: WorkCalendar) -> date:
    """The day ``anchor`` names in ``period`` (plus its offset), before any move off a day off."""
    if anchor.base == "first_day":
        day = period.start
    elif anchor.base == "last_day":
        day = period.last_day
    elif anchor.base == "first_working_day":
        day = calendar.next_working_day(period.start)
        day = day if period.contains(day) else period.start
    elif anchor.base == "last_working_day":
        day = calendar.previous_working_day(period.last_day)
        day = day if period.contains(day) else period.last_day
    elif anchor.in_month:
        month_start = _month_start(period.start.year, period.start.month + anchor.month - 1)
        month_end = _month_start(month_start.year, month_start.month + 1)
        day = min(month_start + timedelta(days=anchor.day - 1), month_end - timedelta(days=1))
        day = min(max(day, period.start), period.last_day)
    else:
        day = min(period.start + timedelta(days=anchor.day - 1), period.last_day)
    if anchor.offset_working:
        day = calendar.add_working_days(day, anchor.offset)
    elif anchor.offset:
        day += timedelta(days=anchor.offset)
    return day


# -- a rule's schedule -----------------------------------------------------------------------------


class Schedule:
    """When a rule's duties start, fall due, are followed up and escalated, in zone ``tz``."""

    def __init__(self, rule: DutyRule, tz: ZoneInfo, calendar: WorkCalendar = MONDAY_TO_FRIDAY) -> None:
        self.rule = rule
        self.tz = tz
        self.calendar = calendar

    # periods

    def period_containing(self, day: date) -> Period | None:
        cron = self.rule.cron
        if cron is None:
            return calendar_period(self.rule.cadence, day)
        start = cron_fire_on_or_before(cron, day)
        return self._cron_period(start) if start else None

    def period_after(self, period: Period) -> Period | None:
        return self.period_containing(period.end) if self.rule.cron is None else self._cron_period(period.end)

    def period_before(self, period: Period) -> Period | None:
        return self.period_containing(period.start - timedelta(days=1))

    def period_by_key(self, key: str) -> Period | None:
        cron = self.rule.cron
        if cron is None:
            return calendar_period_by_key(self.rule.cadence, key)
        try:
            start = date.fromisoformat(key)
        except ValueError:
            return None
        return self._cron_period(start) if cron_fires_on(cron, start) else None

    def periods_overlapping(self, start: date, end: date) -> list[Period]:
        """Periods with a day in ``[start, end)``, oldest first (at most a few hundred)."""
        period = self.period_containing(start)
        if period is None and self.rule.cron is not None:
            first = cron_fire_after(self.rule.cron, start)
            period = self._cron_period(first) if first else None
        found: list[Period] = []
        while period is not None and period.start < end and len(found) < _MAX_PERIODS:
            found.append(period)
            period = self.period_after(period)
        return found

    def _cron_period(self, start: date | None) -> Period | None:
        cron = self.rule.cron
        assert cron is not None
        if start is None or not cron_fires_on(cron, start):
            first = cron_fire_after(cron, start) if start else None
            if first is None:
                return None
            start = first
        following = cron_fire_after(cron, start)
        end = following if following else start + timedelta(days=1)
        return Period(start.isoformat(), Cadence.CRON, start, end)

    # moments

    def occurrence(self, period: Period) -> Occurrence:
        rule = self.rule
        remind_day = period.start if rule.start is None else self._inside(period, self._resolve(rule.start, period))
        due_day = self._resolve(rule.due, period)
        if rule.working_days_only:
            due_day = self.calendar.next_working_day(due_day)
        due_day = max(due_day, remind_day)  # never due before it is asked for
        escalate_at = None
        if rule.escalate_after_days:
            escalate_day = due_day + timedelta(days=rule.escalate_after_days)
            if rule.working_days_only:
                escalate_day = self.calendar.next_working_day(escalate_day)
            escalate_at = self.at(escalate_day, rule.at)
        return Occurrence(
            period=period,
            remind_at=self.at(remind_day, rule.at),
            due_date=due_day,
            due_at=self.at(due_day + timedelta(days=1), time(0, 0)),
            escalate_at=escalate_at,
        )

    def current(self, now: datetime) -> Occurrence | None:
        """The latest occurrence whose first reminder is due at ``now`` (None before the first one)."""
        period = self.period_containing(now.astimezone(self.tz).date())
        while period is not None:
            occurrence = self.occurrence(period)
            if occurrence.remind_at <= now:
                return occurrence
            period = self.period_before(period)
        return None

    def upcoming(self, now: datetime) -> Occurrence | None:
        """The first occurrence whose first reminder is still ahead of ``now``."""
        period = self.period_containing(now.astimezone(self.tz).date())
        if period is None and self.rule.cron is not None:
            period = self._cron_period(cron_fire_after(self.rule.cron, now.astimezone(self.tz).date()))
        for _ in range(_MAX_PERIODS):
            if period is None:
                return None
            occurrence = self.occurrence(period)
            if occurrence.remind_at > now:
                return occurrence
            period = self.period_after(period)
        return None

    def next_follow_up(self, period: Period, after: datetime) -> datetime | None:
        """When to remind again after a reminder at ``after``; None when follow-ups are off or the
        period is over (a new period starts its own duty)."""
        days = self.rule.follow_up_days
        if not days:
            return None
        day = after.astimezone(self.tz).date() + timedelta(days=days)
        if self.rule.working_days_only:
            day = self.calendar.next_working_day(day)
        if day >= period.end:
            return None
        return self.at(day, self.rule.at)

    def snoozed(self, now: datetime, hours: int) -> datetime:
        """``hours`` later; landing on a weekend, the next working day at the same local time."""
        target = (now + timedelta(hours=hours)).astimezone(self.tz)
        if self.rule.working_days_only and not self.calendar.is_working_day(target.date()):
            target = self.at(self.calendar.next_working_day(target.date()), target.time().replace(tzinfo=None))
        return target

    def at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self.tz)

    # anchors

    def _resolve(self, anchor: Anchor, period: Period) -> date:
        return resolve_anchor(anchor, period, self.calendar)

    def _inside(self, period: Period, day: date) -> date:
        """A reminder day kept inside its period and, where possible, on a working day."""
        day = min(max(day, period.start), period.last_day)
        if not self.rule.working_days_only or self.calendar.is_working_day(day):
            return day
        forward = self.calendar.next_working_day(day)
        if period.contains(forward):
            return forward
        backward = self.calendar.previous_working_day(day)
        return backward if period.contains(backward) else day
