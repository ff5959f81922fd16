"""Scoring an inspection: pure functions from (rubric, answers) to numbers. No I/O.

Answers are fractions of a clause's points: 符合 1, 基本符合 ``partial`` (0.5), 不符合 ``fail`` (0),
不适用 leaves the clause out of the score. An unanswered clause counts like 不适用 for the numbers
and is listed in ``ScoreReport.unanswered``, so a partial walk can be previewed.

Percentage mode (default)
    category earned   = Σ points × fraction   over its applicable clauses (answered, not 不适用)
    category possible = Σ points              over the same clauses

Deduction mode (扣分制)
    A category is applicable when at least one of its clauses is answered other than 不适用.
    Its budget is ``category.budget``, else ``scoring.category_budget``, else the sum of its
    clauses' points. Each applicable answer deducts ``points × (1 − fraction)`` (不符合 the whole
    points, 基本符合 half by default); the deductions are summed and floored at zero:
    category earned   = max(0, budget − Σ deductions)
    category possible = budget
    So 不适用 never deducts, and one category's deductions never spill into another.

In both modes, sections and the overall score sum the earned and possible points of their
categories and divide once, ``percent = 100 × earned / possible`` (never an average of
percentages); ``percent`` is None when nothing applicable was answered. The grade is the first
band whose ``min`` the overall percent reaches; 不符合 on a veto clause forces the last band.

Storage can keep ``(earned, possible)`` per category and add them up in SQL; :func:`combine`,
:func:`percent_of` and :func:`grade_for` then finish the job exactly as :func:`score_inspection`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from rubric.model import Answer, Category, Clause, GradeBand, Rubric, ScoringMode, ScoringSettings


@dataclass(frozen=True)
class Score:
    earned: float = 0.0
    possible: float = 0.0

    @property
    def percent(self) -> float | None:
        return percent_of(self.earned, self.possible)

    @property
    def applicable(self) -> bool:
        return self.possible > 0


def percent_of(earned: float, possible: float) -> float | None:
    """100 × earned / possible in 0..100, None when nothing was possible.

    Rounded to 9 decimals so float noise never moves a score across a grade boundary
    (89.99999999999999 must be 90).
    """
    if possible <= 0:
        return None
    return min(100.0, max(0.0, round(earned * 100 / possible, 9)))


def combine(scores: Iterable[Score | tuple[float, float]]) -> Score:
    """Sum earned and possible points, e.g. of rows aggregated in SQL."""
    pairs = [(s.earned, s.possible) if isinstance(s, Score) else s for s in scores]
    return Score(math.fsum(e for e, _ in pairs), math.fsum(p for _, p in pairs))


def grade_for(percent: float | None, bands: Iterable[GradeBand]) -> str | None:
    """The first band (highest first) whose minimum ``percent`` reaches; None for no score."""
    if percent is None:
        return None
    bands = tuple(bands)
    for band in bands:
        if percent >= band.min_percent:
            return band.label
    return bands[-1].label if bands else None


def needs_evidence(rubric: Rubric, clause: Clause, answer: Answer | str) -> bool:
    """Whether this answer must come with a note or a photo: below full, and required; or 不适用 where
    the rubric asks why."""
    answer = Answer(answer)
    if answer is Answer.NA:
        return rubric.scoring.na_reason_required
    return answer.is_finding and rubric.evidence_required_for(clause)


def clause_score(settings: ScoringSettings, clause: Clause, answer: Answer | str) -> Score:
    """One answer's (earned, possible) as percentage mode counts it; 不适用 gives (0, 0)."""
    fraction = settings.fraction(Answer(answer))
    if fraction is None:
        return Score()
    return Score(clause.points * fraction, clause.points)


def points_lost(settings: ScoringSettings, clause: Clause, answer: Answer | str) -> float:
    """What an answer costs: the deduction in deduction mode, the missed points otherwise."""
    fraction = settings.fraction(Answer(answer))
    return 0.0 if fraction is None else clause.points * (1 - fraction)


def category_budget(settings: ScoringSettings, category: Category) -> float:
    if category.budget is not None:
        return category.budget
    if settings.category_budget is not None:
        return settings.category_budget
    return category.points


@dataclass(frozen=True)
class Finding:
    """An answer below full marks."""

    clause_id: str
    answer: Answer
    points_lost: float
    evidence_required: bool
    # None when the caller gave no evidence information.
    has_evidence: bool | None


@dataclass(frozen=True)
class CategoryScore:
    category_id: str
    score: Score


@dataclass(frozen=True)
class SectionScore:
    section_id: str
    score: Score
    categories: tuple[CategoryScore, ...]


@dataclass(frozen=True)
class ScoreReport:
    rubric_hash: str
    mode: ScoringMode
    overall: Score
    grade: str | None
    veto_triggered: bool
    veto_clauses: tuple[str, ...]
    sections: tuple[SectionScore, ...]
    findings: tuple[Finding, ...]
    unanswered: tuple[str, ...]
    not_applicable: tuple[str, ...]
    # Findings that need evidence and have none; empty when no evidence information was given.
    missing_evidence: tuple[str, ...]
    clause_count: int = 0
    # The rubric's minimum share of clauses answered and applicable (percent); None: no minimum.
    min_coverage: float | None = None

    @property
    def applicable_count(self) -> int:
        return self.clause_count - len(self.unanswered) - len(self.not_applicable)

    @property
    def coverage(self) -> float | None:
        """Percent of the rubric's clauses answered and applicable: what the score stands on."""
        return 100.0 * self.applicable_count / self.clause_count if self.clause_count else None

    @property
    def incomplete(self) -> bool:
        """Below the rubric's minimum coverage: too little checked for the score to stand for the site."""
        return self.min_coverage is not None and (self.coverage or 0.0) < self.min_coverage

    @property
    def percent(self) -> float | None:
        return self.overall.percent

    @property
    def complete(self) -> bool:
        return not self.unanswered

    @property
    def categories(self) -> tuple[CategoryScore, ...]:
        return tuple(c for s in self.sections for c in s.categories)

    def category(self, category_id: str) -> Score:
        for category in self.categories:
            if category.category_id == category_id:
                return category.score
        raise KeyError(category_id)

    def section(self, section_id: str) -> Score:
        for section in self.sections:
            if section.section_id == section_id:
                return section.score
        raise KeyError(section_id)


def parse_answers(rubric: Rubric, answers: Mapping[str, Answer | str]) -> dict[str, Answer]:
    """Answers keyed by clause id, checked against the rubric (ValueError for unknown ids or codes)."""
    parsed: dict[str, Answer] = {}
    for clause_id, answer in answers.items():
        if not rubric.has_clause(clause_id):
            raise ValueError(f"rubric {rubric.id} v{rubric.edition} has no clause {clause_id!r}")
        parsed[clause_id] = Answer(answer)
    return parsed


def score_inspection(
    rubric: Rubric,
    answers: Mapping[str, Answer | str],
    evidence: Collection[str] | None = None,
) -> ScoreReport:
    """Score answers (clause id -> Answer) against the rubric they were given under.

    ``evidence``: ids of the clauses that have a note or a photo; None skips the evidence check.
    Clauses are visited in rubric order, so the result never depends on the mapping's order.
    """
    given = parse_answers(rubric, answers)
    settings = rubric.scoring
    sections: list[SectionScore] = []
    for section in rubric.sections:
        categories = tuple(
            CategoryScore(category.id, _category_score(settings, category, given)) for category in section.categories
        )
        sections.append(SectionScore(section.id, combine(c.score for c in categories), categories))
    overall = combine(s.score for s in sections)

    findings: list[Finding] = []
    unanswered: list[str] = []
    not_applicable: list[str] = []
    veto_clauses: list[str] = []
    for clause in rubric.clauses:
        answer = given.get(clause.id)
        if answer is None:
            unanswered.append(clause.id)
        elif answer is Answer.NA:
            not_applicable.append(clause.id)
        elif answer.is_finding:
            required = needs_evidence(rubric, clause, answer)
            has = None if evidence is None else clause.id in evidence
            findings.append(Finding(clause.id, answer, points_lost(settings, clause, answer), required, has))
            if clause.veto and answer is Answer.FAIL:
                veto_clauses.append(clause.id)

    vetoed = bool(veto_clauses)
    grade = settings.failing_grade if vetoed else grade_for(overall.percent, settings.grades)
    return ScoreReport(
        rubric_hash=rubric.content_hash,
        mode=settings.mode,
        overall=overall,
        grade=grade,
        veto_triggered=vetoed,
        veto_clauses=tuple(veto_clauses),
        sections=tuple(sections),
        findings=tuple(findings),
        unanswered=tuple(unanswered),
        not_applicable=tuple(not_applicable),
        missing_evidence=tuple(f.clause_id for f in findings if f.evidence_required and f.has_evidence is False),
        clause_count=len(rubric.clauses),
        min_coverage=settings.min_coverage,
    )


def _category_score(settings: ScoringSettings, category: Category, given: Mapping[str, Answer]) -> Score:
    applicable = [
        (clause, given[clause.id])
        for clause in category.clauses
        if clause.id in given and given[clause.id] is not Answer.NA
    ]
    if settings.mode is ScoringMode.DEDUCTION:
        if not applicable:
            return Score()
        budget = category_budget(settings, category)
        deductions = math.fsum(points_lost(settings, clause, answer) for clause, answer in applicable)
        return Score(max(0.0, budget - deductions), budget)
    return combine(clause_score(settings, clause, answer) for clause, answer in applicable)
