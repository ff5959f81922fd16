"""Invariants of the scoring engine over generated rubrics and answers (both scoring modes)."""

from __future__ import annotations

import math
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from rubric.model import Answer, Category, Clause, GradeBand, Rubric, ScoringMode, ScoringSettings, Section
from rubric.scoring import Score, ScoreReport, score_inspection

RANK = {Answer.FAIL: 0, Answer.PARTIAL: 1, Answer.OK: 2}
POINTS = st.sampled_from([0, 0.5, 1, 1, 1, 2, 3.5, 10])
BANDS = (GradeBand("优秀", 90), GradeBand("良好", 80), GradeBand("合格", 70), GradeBand("不合格", 0))


@st.composite
def rubrics(draw: st.DrawFn) -> Rubric:
    partial = draw(st.floats(0, 1))
    scoring = ScoringSettings(
        mode=draw(st.sampled_from(ScoringMode)),
        partial_fraction=partial,
        fail_fraction=draw(st.floats(0, partial)),
        grades=BANDS,
        category_budget=draw(st.none() | st.sampled_from([0.5, 3, 10])),
    )
    sections = []
    for s in range(1, draw(st.integers(1, 3)) + 1):
        categories = []
        for c in range(1, draw(st.integers(0, 3)) + 1):
            clauses = tuple(
                Clause(s, c, n, f"条款{s}.{c}.{n}", draw(POINTS), draw(st.booleans()))
                for n in range(1, draw(st.integers(1, 4)) + 1)
            )
            budget = draw(st.none() | st.sampled_from([1, 4]))
            categories.append(Category(s, c, f"类别{c}", clauses, budget))
        sections.append(Section(s, f"部分{s}", tuple(categories)))
    return Rubric("prop", 1, "性质测试", tuple(sections), scoring)


@st.composite
def rubric_and_answers(draw: st.DrawFn) -> tuple[Rubric, dict[str, Answer]]:
    rubric = draw(rubrics())
    answers = {}
    for clause in rubric.clauses:
        answer = draw(st.none() | st.sampled_from(Answer))
        if answer is not None:
            answers[clause.id] = answer
    return rubric, answers


def all_scores(report: ScoreReport) -> list[Score]:
    return [report.overall, *(s.score for s in report.sections), *(c.score for c in report.categories)]


def numbers(report: ScoreReport) -> tuple[object, ...]:
    """Everything a score report says except which clauses were left unanswered."""
    return (report.overall, report.sections, report.grade, report.veto_clauses, report.findings)


@settings(max_examples=200, deadline=None)
@given(rubric_and_answers())
def test_scores_stay_within_bounds(case: tuple[Rubric, dict[str, Answer]]) -> None:
    rubric, answers = case
    report = score_inspection(rubric, answers)
    for score in all_scores(report):
        assert 0 <= score.earned <= score.possible + 1e-9
        assert score.percent is None or 0 <= score.percent <= 100
        assert (score.percent is None) == (score.possible == 0)
    assert (report.grade is None) == (report.percent is None and not report.veto_triggered)


@settings(max_examples=200, deadline=None)
@given(rubric_and_answers(), st.data())
def test_adding_na_answers_changes_nothing(case: tuple[Rubric, dict[str, Answer]], data: st.DataObject) -> None:
    rubric, answers = case
    unanswered = [c.id for c in rubric.clauses if c.id not in answers]
    added = data.draw(st.lists(st.sampled_from(unanswered), unique=True) if unanswered else st.just([]))
    with_na = {**answers, **dict.fromkeys(added, Answer.NA)}
    assert numbers(score_inspection(rubric, with_na)) == numbers(score_inspection(rubric, answers))


@settings(max_examples=200, deadline=None)
@given(rubric_and_answers(), st.randoms(use_true_random=False))
def test_answer_order_does_not_matter(case: tuple[Rubric, dict[str, Answer]], rng: Random) -> None:
    rubric, answers = case
    items = list(answers.items())
    rng.shuffle(items)
    assert score_inspection(rubric, dict(items)) == score_inspection(rubric, answers)


@settings(max_examples=200, deadline=None)
@given(rubric_and_answers(), st.data())
def test_raising_one_answer_never_lowers_a_score(case: tuple[Rubric, dict[str, Answer]], data: st.DataObject) -> None:
    rubric, answers = case
    raisable = [cid for cid, a in answers.items() if a in (Answer.FAIL, Answer.PARTIAL)]
    if not raisable:
        return
    clause_id = data.draw(st.sampled_from(raisable))
    higher = data.draw(st.sampled_from([a for a, r in RANK.items() if r > RANK[answers[clause_id]]]))
    before = score_inspection(rubric, answers)
    after = score_inspection(rubric, {**answers, clause_id: higher})
    for old, new in zip(all_scores(before), all_scores(after), strict=True):
        assert new.possible == old.possible
        assert new.earned >= old.earned
        if old.percent is not None:
            assert new.percent is not None and new.percent >= old.percent
    labels = [band.label for band in BANDS]
    if before.grade is not None and after.grade is not None:
        assert labels.index(after.grade) <= labels.index(before.grade)
    elif after.grade is None:  # only when a lifted veto leaves nothing to score (0-point clauses)
        assert after.percent is None
    assert len(after.findings) <= len(before.findings)


@settings(max_examples=200, deadline=None)
@given(rubric_and_answers())
def test_totals_are_sums_of_categories(case: tuple[Rubric, dict[str, Answer]]) -> None:
    rubric, answers = case
    report = score_inspection(rubric, answers)
    categories = report.categories
    assert math.isclose(report.overall.earned, math.fsum(c.score.earned for c in categories), abs_tol=1e-9)
    assert math.isclose(report.overall.possible, math.fsum(c.score.possible for c in categories), abs_tol=1e-9)
    if report.overall.possible:
        expected = 100 * report.overall.earned / report.overall.possible
        assert math.isclose(report.percent or 0, expected, abs_tol=1e-6)


@settings(max_examples=200, deadline=None)
@given(rubric_and_answers())
def test_percentage_mode_matches_a_direct_sum(case: tuple[Rubric, dict[str, Answer]]) -> None:
    rubric, answers = case
    if rubric.scoring.mode is not ScoringMode.PERCENTAGE:
        return
    earned = possible = 0.0
    for clause in rubric.clauses:
        fraction = rubric.scoring.fraction(answers[clause.id]) if clause.id in answers else None
        if fraction is not None:
            earned += clause.points * fraction
            possible += clause.points
    report = score_inspection(rubric, answers)
    assert math.isclose(report.overall.earned, earned, abs_tol=1e-9)
    assert math.isclose(report.overall.possible, possible, abs_tol=1e-9)
