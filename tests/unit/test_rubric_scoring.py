from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from rubric.loader import load_rubric
from rubric.model import Answer, GradeBand, Rubric, ScoringMode
from rubric.registry import RubricRegistry
from rubric.scoring import (
    Score,
    category_budget,
    clause_score,
    combine,
    grade_for,
    needs_evidence,
    percent_of,
    score_inspection,
)

CUSTOM = Path(__file__).parent / "fixtures" / "rubric_custom.yaml"
OK, PARTIAL, FAIL, NA = Answer.OK, Answer.PARTIAL, Answer.FAIL, Answer.NA


@pytest.fixture(scope="module")
def custom() -> Rubric:
    return load_rubric(CUSTOM)


@pytest.fixture(scope="module")
def bundled() -> Rubric:
    return RubricRegistry.load().get(2)


def all_answers(rubric: Rubric, answer: Answer, **overrides: Answer) -> dict[str, Answer]:
    answers = {clause.id: answer for clause in rubric.clauses}
    answers.update({key.replace("_", "."): value for key, value in overrides.items()})
    return answers


def with_mode(rubric: Rubric, **changes: object) -> Rubric:
    return dataclasses.replace(rubric, scoring=dataclasses.replace(rubric.scoring, **changes))


# -- the bundled rubric ---------------------------------------------------------------------------


def test_all_ok_is_100_and_excellent(bundled: Rubric) -> None:
    report = score_inspection(bundled, all_answers(bundled, OK))
    assert report.overall == Score(65, 65)
    assert report.percent == 100
    assert report.grade == "优秀"
    assert report.complete and not report.findings and not report.veto_triggered
    assert report.rubric_hash == bundled.content_hash


def test_sums_not_average_of_percentages(bundled: Rubric) -> None:
    # Category 一(一) (4 clauses) all failed, every other clause ok: 61/65, not the mean of categories.
    answers = all_answers(bundled, OK, **{f"1_1_{n}": FAIL for n in range(1, 5)})
    report = score_inspection(bundled, answers)
    assert report.category("1.1") == Score(0, 4)
    assert report.section("1") == Score(29, 33)
    assert report.percent == pytest.approx(100 * 61 / 65)
    assert report.grade == "优秀"
    assert [f.clause_id for f in report.findings] == ["1.1.1", "1.1.2", "1.1.3", "1.1.4"]


def test_grade_bands(bundled: Rubric) -> None:
    # 13 of 65 clauses at 基本符合: 65 - 6.5 = 58.5 -> exactly 90%.
    partial = {clause.id: PARTIAL for clause in bundled.clauses[:13]}
    report = score_inspection(bundled, {**all_answers(bundled, OK), **partial})
    assert report.percent == 90
    assert report.grade == "优秀"
    failed = {clause.id: FAIL for clause in bundled.clauses[:20]}
    report = score_inspection(bundled, {**all_answers(bundled, OK), **failed})
    assert report.percent == pytest.approx(100 * 45 / 65)
    assert report.grade == "不合格"


def test_unanswered_counts_like_na_but_is_reported(bundled: Rubric) -> None:
    report = score_inspection(bundled, {"1.1.1": OK, "1.1.2": PARTIAL})
    assert report.overall == Score(1.5, 2)
    assert report.percent == 75
    assert report.grade == "合格"
    assert len(report.unanswered) == 63 and not report.complete
    assert report.category("2.1").percent is None


def test_nothing_answered(bundled: Rubric) -> None:
    report = score_inspection(bundled, {})
    assert report.percent is None and report.grade is None
    assert report.unanswered == tuple(c.id for c in bundled.clauses)


def test_everything_na(bundled: Rubric) -> None:
    report = score_inspection(bundled, all_answers(bundled, NA))
    assert report.overall == Score(0, 0)
    assert report.percent is None and report.grade is None
    assert len(report.not_applicable) == 65 and report.complete


def test_answers_may_be_codes(bundled: Rubric) -> None:
    assert score_inspection(bundled, {"1.1.1": "partial"}).overall == Score(0.5, 1)


def test_unknown_clause_or_answer_is_refused(bundled: Rubric) -> None:
    with pytest.raises(ValueError, match=r"no clause '9\.9\.9'"):
        score_inspection(bundled, {"9.9.9": OK})
    with pytest.raises(ValueError):
        score_inspection(bundled, {"1.1.1": "perfect"})


def test_evidence(bundled: Rubric) -> None:
    clause = bundled.clause("1.1.1")
    assert needs_evidence(bundled, clause, PARTIAL) and needs_evidence(bundled, clause, "fail")
    assert not needs_evidence(bundled, clause, OK) and not needs_evidence(bundled, clause, NA)
    answers = {"1.1.1": FAIL, "1.1.2": PARTIAL, "1.1.3": OK}
    report = score_inspection(bundled, answers, evidence={"1.1.2", "1.1.3"})
    assert report.missing_evidence == ("1.1.1",)
    assert [f.has_evidence for f in report.findings] == [False, True]
    assert score_inspection(bundled, answers).missing_evidence == ()
    relaxed = with_mode(bundled, evidence_required=False)
    assert not needs_evidence(relaxed, relaxed.clause("1.1.1"), FAIL)


# -- the hand-written fixture: weights, veto, own bands and fractions ---------------------------


def test_custom_all_ok(custom: Rubric) -> None:
    report = score_inspection(custom, all_answers(custom, OK))
    assert report.overall == Score(10.5, 10.5)
    assert report.grade == "A"


def test_custom_weighted_partial(custom: Rubric) -> None:
    report = score_inspection(custom, all_answers(custom, OK, **{"1_1_2": PARTIAL}))
    assert report.overall.earned == pytest.approx(9.7)  # 2 points x 0.6
    assert report.percent == pytest.approx(100 * 9.7 / 10.5)
    assert report.grade == "A"
    (finding,) = report.findings
    assert finding.points_lost == pytest.approx(0.8)


def test_custom_veto_caps_the_grade(custom: Rubric) -> None:
    report = score_inspection(custom, all_answers(custom, OK, **{"1_1_1": FAIL}))
    assert report.percent == pytest.approx(100 * 6.5 / 10.5)  # B by the numbers
    assert report.veto_triggered and report.veto_clauses == ("1.1.1",)
    assert report.grade == "C"
    partial = score_inspection(custom, all_answers(custom, OK, **{"1_1_1": PARTIAL}))
    assert not partial.veto_triggered  # only 不符合 triggers a veto


def test_custom_na_category(custom: Rubric) -> None:
    report = score_inspection(custom, all_answers(custom, OK, **{"1_3_1": NA, "1_3_2": NA, "2_1_1": FAIL}))
    assert report.category("1.3").percent is None
    assert report.overall == Score(8, 9)


def test_custom_evidence_per_clause(custom: Rubric) -> None:
    assert needs_evidence(custom, custom.clause("1.1.2"), PARTIAL)  # clause says required
    assert not needs_evidence(custom, custom.clause("1.1.3"), FAIL)  # rubric default: not required
    assert needs_evidence(custom, custom.clause("1.1.1"), FAIL)  # a veto clause always does
    report = score_inspection(custom, all_answers(custom, FAIL), evidence=set())
    assert report.missing_evidence == ("1.1.1", "1.1.2")


def test_custom_deduction_mode(custom: Rubric) -> None:
    deduction = with_mode(custom, mode=ScoringMode.DEDUCTION)
    assert category_budget(deduction.scoring, deduction.category("1.1")) == 7
    assert category_budget(deduction.scoring, deduction.category("1.3")) == 5
    report = score_inspection(
        deduction, all_answers(deduction, OK, **{"1_1_2": FAIL, "1_1_3": PARTIAL, "1_3_1": FAIL, "2_1_1": NA})
    )
    assert report.category("1.1") == Score(7 - 2 - 0.4, 7)
    assert report.category("1.3") == Score(4, 5)
    assert report.category("2.1") == Score(2, 2)  # N/A does not shrink the budget or deduct
    assert report.overall.possible == 14
    # Deductions beyond the budget stop at zero.
    small = with_mode(deduction, category_budget=1)
    report = score_inspection(small, all_answers(small, FAIL, **{"1_3_1": OK, "1_3_2": OK}))
    assert report.category("2.1") == Score(0, 1)
    assert report.category("1.3") == Score(5, 5)  # its own budget wins over category_budget


def test_custom_yaml_fixture_reports_veto_as_failing_grade(custom: Rubric) -> None:
    assert custom.scoring.failing_grade == "C"


# -- helpers for SQL-side aggregates -----------------------------------------------------------


def test_percent_and_combine() -> None:
    assert percent_of(0, 0) is None
    assert percent_of(9, 10) == 90
    assert percent_of(0.1 + 0.2, 0.3) == 100  # float noise does not push past 100
    assert combine([Score(1, 2), (3.5, 4)]) == Score(4.5, 6)
    assert combine([]) == Score(0, 0)


def test_grade_for() -> None:
    bands = (GradeBand("优秀", 90), GradeBand("良好", 80), GradeBand("合格", 70), GradeBand("不合格", 0))
    assert grade_for(None, bands) is None
    assert [grade_for(p, bands) for p in (100, 90, 89.99, 80, 70, 69.9, 0)] == [
        "优秀",
        "优秀",
        "良好",
        "良好",
        "合格",
        "不合格",
        "不合格",
    ]


def test_sql_style_aggregation_matches_the_report(bundled: Rubric) -> None:
    answers = all_answers(bundled, OK, **{"1_1_1": FAIL, "2_3_4": PARTIAL, "2_9_1": NA})
    per_answer = [clause_score(bundled.scoring, bundled.clause(cid), a) for cid, a in answers.items()]
    total = combine(per_answer)
    report = score_inspection(bundled, answers)
    assert math.isclose(total.earned, report.overall.earned)
    assert total.possible == report.overall.possible
    assert grade_for(total.percent, bundled.scoring.grades) == report.grade
