"""The pure logic of inspection plans: periods, windows, outcomes, coverage and the watch rule."""

from __future__ import annotations

from datetime import date

import pytest

from bot.flows.plans.periods import (
    Coverage,
    InspectionFacts,
    Outcome,
    VisitFacts,
    VisitResult,
    assign,
    coverage,
    effective_frequency,
    first_working_day_of_week,
    nudge_day,
    outcome_of,
    period_from,
    watch_applies,
    window,
)
from bot.flows.schedule import WorkCalendar
from config.duties import parse_anchor
from config.plans import PlanSettings, parse_frequency

PLAIN = WorkCalendar()
MAY_DAY = WorkCalendar(holidays=frozenset({date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5)}))
SETTINGS = PlanSettings(grace_days=10)


def visit(number: int, start: date, end: date, due: date, closes: date, **kwargs) -> VisitFacts:
    return VisitFacts(number, 1, start, end, due, closes, **kwargs)


Q2 = visit(1, date(2026, 4, 1), date(2026, 7, 1), date(2026, 6, 30), date(2026, 7, 10))
Q3 = visit(2, date(2026, 7, 1), date(2026, 10, 1), date(2026, 9, 30), date(2026, 10, 10))


def done(number: int, day: date, site: int = 1) -> InspectionFacts:
    return InspectionFacts(number, site, day)


@pytest.mark.parametrize(
    ("text", "start", "key", "end"),
    [
        ("quarterly", date(2026, 4, 1), "2026-Q2", date(2026, 7, 1)),
        ("monthly", date(2026, 4, 1), "2026-04", date(2026, 5, 1)),
        ("half-yearly", date(2026, 3, 1), "2026-H1", date(2026, 7, 1)),
        ("yearly", date(2026, 1, 1), "2026", date(2027, 1, 1)),
        # Back to quarterly after a monthly April: the rest of the quarter, keyed by the quarter.
        ("quarterly", date(2026, 5, 1), "2026-Q2", date(2026, 7, 1)),
        ("0 9 1 */2 *", date(2026, 3, 1), "2026-03-01", date(2026, 5, 1)),
    ],
)
def test_a_period_begins_where_the_visit_before_ended(text, start, key, end):
    period = period_from(parse_frequency(text), start)
    assert (period.key, period.start, period.end) == (key, start, end)


def test_frequencies_read_in_english_and_chinese_and_refuse_the_rest():
    assert parse_frequency("季度").text == "quarterly" and parse_frequency("月度").text == "monthly"
    assert parse_frequency(" Half-Yearly ").text == "half-yearly"
    with pytest.raises(ValueError, match="not a frequency"):
        parse_frequency("每两周")
    with pytest.raises(ValueError, match=r"5 fields|once a day"):
        parse_frequency("* * * * *")


def test_the_due_date_falls_on_a_working_day_inside_the_period():
    q2 = period_from(parse_frequency("quarterly"), date(2026, 4, 1))
    assert window(q2, SETTINGS, PLAIN).due_date == date(2026, 6, 30)  # a Tuesday
    q3 = period_from(parse_frequency("quarterly"), date(2026, 7, 1))
    # 30 September 2026 is a Wednesday; 31 January 2027 a Sunday: moved back to Friday the 29th.
    assert window(q3, SETTINGS, PLAIN).closes_on == date(2026, 10, 10)
    january = period_from(parse_frequency("monthly"), date(2027, 1, 1))
    assert window(january, SETTINGS, PLAIN).due_date == date(2027, 1, 29)
    mid = PlanSettings(due=parse_anchor("month 2 day 15"), grace_days=0)
    assert window(q2, mid, PLAIN).due_date == date(2026, 5, 15) == window(q2, mid, PLAIN).closes_on


def test_nudges_count_working_days_and_skip_holidays():
    assert nudge_day(date(2026, 6, 30), 3, PLAIN) == date(2026, 6, 25)
    assert nudge_day(date(2026, 5, 6), 2, MAY_DAY) == date(2026, 4, 29)
    assert nudge_day(date(2026, 5, 6), 0, PLAIN) is None
    assert first_working_day_of_week(date(2026, 5, 6), MAY_DAY) == date(2026, 5, 6)
    assert first_working_day_of_week(date(2026, 6, 27), PLAIN) == date(2026, 6, 22)


def test_outcomes_on_time_late_missed_and_open():
    today = date(2026, 7, 20)
    results = assign([Q2], [done(1, date(2026, 6, 30))], today)
    assert results[1].outcome is Outcome.ON_TIME
    assert assign([Q2], [done(1, date(2026, 7, 10))], today)[1].outcome is Outcome.LATE
    assert assign([Q2], [], today)[1].outcome is Outcome.MISSED
    assert assign([Q2], [], date(2026, 7, 10))[1].outcome is Outcome.OVERDUE
    assert assign([Q2], [], date(2026, 6, 30))[1].outcome is Outcome.OPEN
    assert outcome_of(Q2, None, today) is Outcome.MISSED


def test_not_required_when_waived_or_the_site_is_archived():
    today = date(2026, 7, 20)
    waived = visit(1, Q2.start, Q2.end, Q2.due_date, Q2.closes_on, waived=True)
    archived = visit(1, Q2.start, Q2.end, Q2.due_date, Q2.closes_on, site_active=False)
    assert assign([waived], [done(1, date(2026, 5, 1))], today)[1].outcome is Outcome.NOT_REQUIRED
    assert assign([archived], [], today)[1].outcome is Outcome.NOT_REQUIRED
    # Done before it was archived: done, not "not required".
    assert assign([archived], [done(1, date(2026, 5, 1))], today)[1].outcome is Outcome.ON_TIME


def test_each_inspection_counts_once_the_earliest_open_visit_first():
    today = date(2026, 10, 20)
    # One inspection in Q2's grace days: Q2 done late; Q3 still needs its own.
    results = assign([Q3, Q2], [done(1, date(2026, 7, 5))], today)
    assert (results[1].outcome, results[2].outcome) == (Outcome.LATE, Outcome.MISSED)
    # Two: the second (in Q3) counts for Q3.
    results = assign([Q2, Q3], [done(2, date(2026, 8, 1)), done(1, date(2026, 7, 5))], today)
    assert (results[1].inspection.id, results[2].inspection.id) == (1, 2)
    # Q2 done on time already: an inspection in its grace days counts for Q3.
    results = assign([Q2, Q3], [done(1, date(2026, 6, 1)), done(2, date(2026, 7, 5))], today)
    assert results[2].outcome is Outcome.ON_TIME and results[2].inspection.id == 2
    # Another site's inspection never counts.
    assert assign([Q2], [done(1, date(2026, 5, 1), site=2)], today)[1].outcome is Outcome.MISSED
    # Before the period: not counted.
    assert assign([Q2], [done(1, date(2026, 3, 31))], today)[1].outcome is Outcome.MISSED


def test_coverage_is_on_time_over_due_so_far():
    outcomes = [Outcome.ON_TIME, Outcome.LATE, Outcome.MISSED, Outcome.OPEN, Outcome.NOT_REQUIRED, Outcome.OVERDUE]
    found = coverage([VisitResult(o) for o in outcomes])
    assert found == Coverage(on_time=1, late=1, missed=1, overdue=1, open=1, not_required=1)
    assert found.due == 4 and found.percent == 25.0
    assert Coverage().percent is None


def test_the_watch_rule_only_raises_the_frequency():
    monthly, quarterly, yearly = (parse_frequency(t) for t in ("monthly", "quarterly", "yearly"))
    assert watch_applies(SETTINGS, "不合格") and not watch_applies(SETTINGS, "合格")
    assert not watch_applies(SETTINGS, None)
    assert not watch_applies(PlanSettings(watch_grades=()), "不合格")
    assert effective_frequency(quarterly, SETTINGS, True) == monthly
    assert effective_frequency(quarterly, SETTINGS, False) == quarterly
    assert effective_frequency(yearly, PlanSettings(watch_frequency=quarterly), True) == quarterly
    weekly = parse_frequency("0 9 * * 1")
    assert effective_frequency(weekly, SETTINGS, True) == weekly  # a cron plan is never lowered


def test_plans_settings_from_the_config_file(tmp_path):
    from config.settings import ConfigError, load_settings

    path = tmp_path / "bot.toml"
    path.write_text(
        '[plans]\nfrequency = "半年度"\ndue = "last working day"\ngrace_days = 5\nnudge_days = 0\n'
        'time = "08:30"\nweekly_list = false\nwatch_grades = ["不合格", "合格"]\nwatch_frequency = "quarterly"\n',
        encoding="utf-8",
    )
    plans = load_settings({}, path).plans
    assert (plans.frequency.text, plans.due.base, plans.grace_days, plans.nudge_days) == (
        "half-yearly",
        "last_working_day",
        5,
        0,
    )
    assert (plans.at.hour, plans.at.minute, plans.weekly_list, plans.watch_grades) == (8, 30, False, ("不合格", "合格"))
    path.write_text('[plans]\nfrequency = "fortnightly"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[plans\] frequency"):
        load_settings({}, path)
    path.write_text("[plans]\ngrace_days = 400\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="between 0 and 90"):
        load_settings({}, path)


def test_the_import_reads_plan_columns_of_site_rows():
    from bot.flows.people.importing import SourceRow, plan_import, read_rows

    rows, errors = read_rows(
        "plans.csv",
        "项目,区域,督导频次,计划督导员,Telegram ID,角色\n"
        "阳光花园,东区,季度,42,,\n"
        "阳光花园,,,,42,督导员\n"
        "翠湖天地,东区,0 9 1 * *,,,\n"
        "金色家园,西区,,,,\n".encode(),
    )
    assert not errors and rows[0].values["frequency"] == "季度" and rows[0].values["inspector"] == "42"
    plan = plan_import(rows, {}, {})
    assert not plan.errors
    assert plan.changes.plans == [("阳光花园", "quarterly", 42), ("翠湖天地", "0 9 1 * *", None)]
    bad = [
        SourceRow(None, 2, {"site": "阳光花园", "frequency": "每两周"}),
        SourceRow(None, 3, {"site": "翠湖天地", "inspector": "abc"}),
        SourceRow(None, 4, {"site": "金色家园", "inspector": "77"}),  # nobody the bot or the file knows
    ]
    found = plan_import(bad, {}, {})
    assert [(e.row, e.problem) for e in found.errors] == [(2, "bad_frequency"), (3, "bad_id"), (4, "unknown_inspector")]
    assert plan_import(bad[2:], {}, {77: True}).errors == []  # a registered, active person
