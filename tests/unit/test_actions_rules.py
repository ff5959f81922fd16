"""What a finding becomes: severity and due date (bot/flows/actions/rules.py)."""

from __future__ import annotations

from datetime import date

from bot.flows.actions.rules import Severity, drafts_for, due_date, severity_of
from bot.flows.schedule import WorkCalendar
from config.settings import ActionSettings
from rubric.model import Answer
from rubric.registry import RubricRegistry
from rubric.scoring import score_inspection

SETTINGS = ActionSettings(serious_days=3, general_days=7)


def test_a_fail_or_a_veto_clause_is_serious_a_partial_general_unless_configured():
    assert severity_of(Answer.FAIL, False, SETTINGS) is Severity.SERIOUS
    assert severity_of(Answer.PARTIAL, False, SETTINGS) is Severity.GENERAL
    assert severity_of(Answer.PARTIAL, True, SETTINGS) is Severity.SERIOUS
    assert severity_of(Answer.PARTIAL, False, ActionSettings(partial_severity="serious")) is Severity.SERIOUS


def test_due_dates_count_working_days_from_the_day_after_the_visit():
    # 2026-09-30 is a Wednesday; 1-7 October off (National Day), Saturday 10 October worked in lieu.
    holidays = frozenset(date(2026, 10, day) for day in range(1, 8))
    calendar = WorkCalendar(holidays=holidays, workdays=frozenset({date(2026, 10, 10)}))
    assert due_date(date(2026, 9, 30), Severity.SERIOUS, calendar, SETTINGS) == date(2026, 10, 10)
    assert due_date(date(2026, 9, 30), Severity.GENERAL, calendar, SETTINGS) == date(2026, 10, 15)
    # A visit on a Friday: the weekend does not count.
    assert due_date(date(2026, 11, 27), Severity.SERIOUS, WorkCalendar(), SETTINGS) == date(2026, 12, 2)


def test_one_draft_per_finding_in_the_rubrics_order():
    rubric = RubricRegistry.load().get(2)
    answers = {clause.id: Answer.OK for clause in rubric.clauses}
    answers[rubric.clause_by_code("二(一)4").id] = Answer.FAIL
    answers[rubric.clause_by_code("一(一)2").id] = Answer.PARTIAL
    answers[rubric.clause_by_code("一(一)3").id] = Answer.NA
    report = score_inspection(rubric, answers)
    drafts = drafts_for(report.findings, rubric, date(2026, 11, 27), WorkCalendar(), SETTINGS)
    assert [(d.clause_id, d.severity) for d in drafts] == [("1.1.2", Severity.GENERAL), ("2.1.4", Severity.SERIOUS)]
    assert [d.deadlines.due_date for d in drafts] == [date(2026, 12, 8), date(2026, 12, 2)]
