"""Schedule math of periodic duties: periods, reminder days, due dates, follow-ups, across year ends and zones."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.flows.schedule import (
    MONDAY_TO_FRIDAY,
    Schedule,
    WorkCalendar,
    calendar_period,
    calendar_period_by_key,
    cron_fire_after,
    cron_fire_on_or_before,
    cron_fires_on,
    parse_quarter,
)
from config.duties import SHIPPED_RULES, Cadence, DutyRule, DutySettings, parse_anchor, parse_cron

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = [
    "Asia/Shanghai",
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # half-hour daylight saving
    "Pacific/Kiritimati",  # UTC+14: a new year starts here first
    "Pacific/Pago_Pago",  # UTC-11
    "Asia/Kathmandu",  # UTC+5:45
]
RULES = {rule.id: rule for rule in SHIPPED_RULES}
CHINA = WorkCalendar.of(DutySettings())  # the bot's default: China's public holidays and 调休
CALENDAR = [Cadence.MONTHLY, Cadence.QUARTERLY, Cadence.HALF_YEARLY, Cadence.YEARLY]
ANCHORS = [
    "first working day",
    "last working day",
    "first day",
    "last day",
    "day 1",
    "day 10",
    "day 45",
    "month 1 day 31",
    "month 2 day 15",
    "first working day + 10 working days",
    "day 3 + 2 days",
]

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))
moments = st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2150, 1, 1), timezones=st.just(UTC))
zones = st.sampled_from(ZONES).map(ZoneInfo)


def rule(
    cadence: Cadence = Cadence.QUARTERLY, start: str = "first working day", due: str = "day 20", **extra
) -> DutyRule:
    return DutyRule(
        id="t",
        title_zh="测试",
        title_en="Test",
        clauses=("二(一)4",),
        cadence=cadence,
        start=parse_anchor(start),
        due=parse_anchor(due),
        **extra,
    )


@st.composite
def calendar_rules(draw) -> DutyRule:
    cadence = draw(st.sampled_from(CALENDAR))
    start = draw(st.sampled_from([a for a in ANCHORS if not a.startswith("month 2") or cadence.months >= 2]))
    due = draw(st.sampled_from([a for a in ANCHORS if not a.startswith("month 2") or cadence.months >= 2]))
    return rule(
        cadence,
        start,
        due,
        at=time(draw(st.integers(6, 20)), draw(st.sampled_from([0, 15, 30, 45]))),
        follow_up_days=draw(st.integers(0, 10)),
        escalate_after_days=draw(st.integers(0, 10)),
        working_days_only=draw(st.booleans()),
    )


# -- periods ---------------------------------------------------------------------------------------


@given(day=days, cadence=st.sampled_from(CALENDAR))
def test_calendar_periods_contain_their_day_tile_the_calendar_and_round_trip(day, cadence):
    period = calendar_period(cadence, day)
    assert period.contains(day)
    assert period.start.day == 1 and (period.start.month - 1) % cadence.months == 0
    following = calendar_period(cadence, period.end)
    assert following.start == period.end  # no gap, no overlap, also from December to January
    assert calendar_period(cadence, period.start - timedelta(days=1)).end == period.start
    assert calendar_period_by_key(cadence, period.key) == period
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month
    assert months == cadence.months


@given(day=days)
def test_quarters_are_calendar_quarters(day):
    quarter = calendar_period(Cadence.QUARTERLY, day)
    assert quarter.key == f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    assert quarter.start == date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    assert parse_quarter(quarter.key) == quarter
    assert parse_quarter(quarter.key.replace("-", "").lower()) == quarter


def test_year_end_and_bad_keys():
    q4 = calendar_period(Cadence.QUARTERLY, date(2026, 12, 31))
    assert (q4.key, q4.start, q4.end) == ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1))
    assert calendar_period(Cadence.QUARTERLY, q4.end).key == "2027-Q1"
    assert calendar_period(Cadence.MONTHLY, date(2026, 12, 5)).end == date(2027, 1, 1)
    assert calendar_period(Cadence.HALF_YEARLY, date(2026, 7, 1)).key == "2026-H2"
    for bad in ("2026-Q5", "2026Q", "Q2", "2026-13", "abc", ""):
        assert parse_quarter(bad) is None
    assert calendar_period_by_key(Cadence.MONTHLY, "2026-13") is None


# -- working days ----------------------------------------------------------------------------------


@given(day=days, count=st.integers(-30, 30), calendar=st.sampled_from([MONDAY_TO_FRIDAY, CHINA]))
def test_adding_working_days_counts_only_working_days(day, count, calendar):
    result = calendar.add_working_days(day, count)
    step = 1 if count >= 0 else -1
    between = [day + timedelta(days=step * i) for i in range(1, abs((result - day).days) + 1)]
    assert sum(1 for d in between if calendar.is_working_day(d)) == abs(count)
    if count:
        assert calendar.is_working_day(result)


def test_chinas_public_holidays_and_make_up_days():
    assert not CHINA.is_working_day(date(2026, 10, 1))  # 国庆, a Thursday
    assert CHINA.is_working_day(date(2026, 10, 10))  # a Saturday worked in lieu (调休)
    assert CHINA.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    weekdays = MONDAY_TO_FRIDAY
    assert weekdays.is_working_day(date(2026, 10, 1)) and not weekdays.is_working_day(date(2026, 10, 10))
    assert CHINA.known_until is not None and CHINA.known_until >= 2026
    # The config adds what the package does not know yet, and overrides what it does.
    own = WorkCalendar.of(
        DutySettings(holidays=frozenset({date(2027, 1, 1), date(2026, 10, 9)}), workdays=frozenset({date(2026, 10, 7)}))
    )
    assert not own.is_working_day(date(2027, 1, 1)) and own.known_until == 2027
    assert not own.is_working_day(date(2026, 10, 9)) and own.is_working_day(date(2026, 10, 7))
    plain = WorkCalendar.of(DutySettings(public_holidays="none", holidays=frozenset({date(2026, 10, 9)})))
    assert plain.is_working_day(date(2026, 10, 1)) and not plain.is_working_day(date(2026, 10, 9))
    assert plain.known_until is None


# -- occurrences -----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(rule=calendar_rules(), tz=zones, now=moments)
def test_current_occurrence_is_the_latest_started_one(rule, tz, now):
    schedule = Schedule(rule, tz, CHINA)
    occurrence = schedule.current(now)
    assert occurrence is not None
    assert occurrence.remind_at <= now
    following = schedule.occurrence(schedule.period_after(occurrence.period))
    assert following.remind_at > now  # nothing skipped between them
    local = occurrence.remind_at.astimezone(tz)
    assert occurrence.period.contains(local.date())
    assert (local.hour, local.minute) == (rule.at.hour, rule.at.minute)
    if rule.working_days_only:
        assert CHINA.is_working_day(local.date())
    assert occurrence.due_date >= local.date()
    assert occurrence.due_at.astimezone(tz).date() == occurrence.due_date + timedelta(days=1)
    assert occurrence.due_at > occurrence.remind_at
    if rule.escalate_after_days:
        assert occurrence.escalate_at is not None and occurrence.escalate_at > occurrence.due_at - timedelta(days=1)
        assert occurrence.escalate_at.astimezone(tz).date() >= occurrence.due_date + timedelta(
            days=rule.escalate_after_days
        )
    else:
        assert occurrence.escalate_at is None


@settings(max_examples=200)
@given(rule=calendar_rules(), tz=zones, now=moments)
def test_follow_ups_are_spaced_on_working_days_and_stop_with_the_period(rule, tz, now):
    schedule = Schedule(rule, tz, CHINA)
    occurrence = schedule.current(now)
    assert occurrence is not None
    moment, seen = occurrence.remind_at, 0
    while True:
        following = schedule.next_follow_up(occurrence.period, moment)
        if following is None:
            break
        assert rule.follow_up_days
        gap = following.astimezone(tz).date() - moment.astimezone(tz).date()
        assert gap.days >= rule.follow_up_days
        assert occurrence.period.contains(following.astimezone(tz).date())
        if rule.working_days_only:
            assert CHINA.is_working_day(following.astimezone(tz).date())
        moment, seen = following, seen + 1
        assert seen <= 366
    if rule.follow_up_days == 0:
        assert seen == 0


@given(tz=zones, now=moments, hours=st.integers(1, 168))
def test_snooze_lands_later_and_on_a_working_day(tz, now, hours):
    schedule = Schedule(RULES["complaint_report"], tz, CHINA)
    until = schedule.snoozed(now, hours)
    assert until >= now + timedelta(hours=hours) - timedelta(hours=2)  # a DST jump may shorten it
    assert CHINA.is_working_day(until.astimezone(tz).date())


def test_shipped_rules_in_2026_in_shanghai():
    complaint = Schedule(RULES["complaint_report"], SHANGHAI, CHINA)
    q2 = complaint.occurrence(calendar_period(Cadence.QUARTERLY, date(2026, 4, 1)))
    assert q2.remind_at == datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI)  # a Wednesday
    assert q2.due_date == date(2026, 4, 16)  # ten working days later; Monday 6 April is 清明
    assert q2.escalate_at == datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI)  # 19th is a Sunday
    q4 = complaint.occurrence(calendar_period(Cadence.QUARTERLY, date(2026, 10, 1)))
    assert q4.remind_at.date() == date(2026, 10, 8)  # after 国庆 (1-7 October)
    assert q4.due_date == date(2026, 10, 21)  # Saturday 10 October is worked (调休) and counts
    # 2028 starts on a Saturday: the first working day is Monday 3 January (holidays of 2028 unknown).
    assert complaint.occurrence(calendar_period(Cadence.QUARTERLY, date(2028, 1, 1))).remind_at.date() == date(
        2028, 1, 3
    )
    survey = Schedule(RULES["satisfaction_survey"], SHANGHAI, CHINA)
    q3 = survey.occurrence(calendar_period(Cadence.QUARTERLY, date(2026, 7, 1)))
    assert q3.remind_at.date() == date(2026, 8, 17)  # 15 August 2026 is a Saturday
    assert q3.due_date == date(2026, 9, 30)
    # Without public holidays (public_holidays = "none"), only weekends are days off.
    plain = Schedule(RULES["complaint_report"], SHANGHAI)
    q4 = plain.occurrence(calendar_period(Cadence.QUARTERLY, date(2026, 10, 1)))
    assert (q4.remind_at.date(), q4.due_date) == (date(2026, 10, 1), date(2026, 10, 15))


def test_the_quarter_turns_at_local_midnight():
    complaint = Schedule(RULES["complaint_report"], SHANGHAI)
    # 31 Dec 2026 17:30 UTC is already 1 Jan 2027 01:30 in Shanghai, but before the 09:00 reminder.
    before = complaint.current(datetime(2026, 12, 31, 17, 30, tzinfo=UTC))
    assert before is not None and before.period.key == "2026-Q4"
    after = complaint.current(datetime(2027, 1, 1, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai
    assert after is not None and after.period.key == "2027-Q1"
    new_york = Schedule(RULES["complaint_report"], ZoneInfo("America/New_York")).current(
        datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    )
    assert new_york is not None and new_york.period.key == "2026-Q4"  # still 31 December there


def test_due_never_comes_before_the_reminder():
    schedule = Schedule(rule(Cadence.MONTHLY, "last working day", "day 3"), SHANGHAI)
    occurrence = schedule.occurrence(calendar_period(Cadence.MONTHLY, date(2026, 5, 1)))
    assert occurrence.remind_at.date() == date(2026, 5, 29)
    assert occurrence.due_date == date(2026, 5, 29)


# -- cron ------------------------------------------------------------------------------------------

CRONS = ["0 9 * * 1", "30 8 1 * *", "0 9 15 */2 *", "0 9 1,15 * mon", "0 18 * * fri", "0 9 29 2 *", "0 7 * 1-3 1-5"]


@settings(max_examples=200)
@given(expr=st.sampled_from(CRONS), day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_cron_search_agrees_with_brute_force(expr, day):
    cron = parse_cron(expr)
    before = cron_fire_on_or_before(cron, day)
    assert before is not None and before <= day and cron_fires_on(cron, before)
    assert not any(cron_fires_on(cron, before + timedelta(days=i)) for i in range(1, (day - before).days + 1))
    after = cron_fire_after(cron, day)
    assert after is not None and after > day and cron_fires_on(cron, after)
    assert not any(cron_fires_on(cron, day + timedelta(days=i)) for i in range(1, (after - day).days))


def test_cron_uses_crontab_weekday_numbers():
    monday = parse_cron("0 9 * * 1")
    assert cron_fires_on(monday, date(2026, 11, 30)) and not cron_fires_on(monday, date(2026, 12, 1))
    sunday = parse_cron("0 9 * * 0")
    assert sunday.weekdays == parse_cron("0 9 * * 7").weekdays == frozenset({6})
    either = parse_cron("0 9 1 * mon")  # both day fields: either matches, as in cron
    assert cron_fires_on(either, date(2026, 12, 1)) and cron_fires_on(either, date(2026, 12, 7))


@given(tz=zones, now=moments)
def test_weekly_cron_periods(tz, now):
    patrol = replace(RULES["vacant_unit_patrol"], enabled=True)
    schedule = Schedule(patrol, tz)
    occurrence = schedule.current(now)
    assert occurrence is not None
    local = occurrence.remind_at.astimezone(tz)
    assert local.weekday() == 0 and (local.hour, local.minute) == (9, 0)
    assert occurrence.period.start == local.date() and occurrence.period.end == local.date() + timedelta(days=7)
    assert occurrence.due_date == local.date() + timedelta(days=4)  # day 5 = Friday
    assert schedule.period_by_key(occurrence.period.key) == occurrence.period
    assert now - occurrence.remind_at < timedelta(days=7, hours=2)


def test_periods_overlapping_a_quarter():
    q2 = calendar_period(Cadence.QUARTERLY, date(2026, 4, 1))
    monthly = Schedule(rule(Cadence.MONTHLY, "day 25", "last working day"), SHANGHAI)
    assert [p.key for p in monthly.periods_overlapping(q2.start, q2.end)] == ["2026-04", "2026-05", "2026-06"]
    yearly = Schedule(rule(Cadence.YEARLY), SHANGHAI)
    assert [p.key for p in yearly.periods_overlapping(q2.start, q2.end)] == ["2026"]
    weekly = Schedule(replace(RULES["vacant_unit_patrol"], enabled=True), SHANGHAI)
    weeks = weekly.periods_overlapping(q2.start, q2.end)
    assert weeks[0].key == "2026-03-30" and weeks[-1].key == "2026-06-29" and len(weeks) == 14


@pytest.mark.parametrize("expr", ["0 9 * *", "0 9,10 * * *", "* 9 * * *", "0 9 31 2 *", "0 9 * * 8", "x 9 * * *"])
def test_bad_cron_expressions(expr):
    with pytest.raises(ValueError):
        parse_cron(expr)
