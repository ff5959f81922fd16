"""The repeat-finding deduction's arithmetic (bot/flows/inspection/deduction.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.flows.inspection.deduction import repeat_deduction, stored_deduction
from rubric.model import Answer
from rubric.registry import RubricRegistry
from rubric.scoring import percent_of, score_inspection

RUBRIC = RubricRegistry.load().get(2)
ALL_OK = {clause.id: Answer.OK for clause in RUBRIC.clauses}


def test_count_times_points_off_the_earned_points_with_the_grade_from_the_net() -> None:
    report = score_inspection(RUBRIC, ALL_OK)
    net, deduction = repeat_deduction(report, RUBRIC, 3, 2.5)
    assert deduction is not None
    assert (deduction.count, deduction.points, deduction.amount) == (3, 2.5, 7.5)
    assert deduction.gross == report.overall and net.overall.earned == report.overall.earned - 7.5
    assert net.percent == percent_of(report.overall.earned - 7.5, report.overall.possible)
    assert deduction.net == net.overall
    assert net.grade != report.grade  # 100% 优秀 becomes a lower band
    assert net.sections == report.sections  # categories keep the rubric's scores


@pytest.mark.parametrize(("repeats", "points"), [(0, 1.0), (2, 0.0), (0, 0.0)])
def test_off_or_no_repeat_changes_nothing(repeats: int, points: float) -> None:
    report = score_inspection(RUBRIC, ALL_OK)
    assert repeat_deduction(report, RUBRIC, repeats, points) == (report, None)


def test_capped_at_the_earned_points() -> None:
    report = score_inspection(RUBRIC, ALL_OK)
    net, deduction = repeat_deduction(report, RUBRIC, 2, 1000.0)
    assert deduction is not None and deduction.amount == report.overall.earned
    assert net.overall.earned == 0.0 and net.percent == 0.0


def test_a_veto_keeps_the_failing_grade() -> None:
    report = replace(score_inspection(RUBRIC, ALL_OK), veto_triggered=True)  # edition 2 has no veto clause
    net, _ = repeat_deduction(report, RUBRIC, 1, 1.0)
    assert net.grade == RUBRIC.scoring.failing_grade


def test_a_stored_deduction_gives_back_the_same_net() -> None:
    report = score_inspection(RUBRIC, ALL_OK)
    net, deduction = repeat_deduction(report, RUBRIC, 2, 1.5)
    again, stored = stored_deduction(report, RUBRIC, 3.0, 2, 1.5)
    assert (again, stored) == (net, deduction)
    assert stored_deduction(report, RUBRIC, 0.0, 0, 0.0) == (report, None)
