"""Checks a rubric document (parsed YAML) and builds the Rubric from it.

Every problem becomes an :class:`~rubric.errors.Issue` naming the file, the place (``clause 二(三)4``,
``scoring.grades[2]``) and what is wrong; all problems are collected, not just the first, so one
round of editing can fix them all. The format itself is described in :mod:`rubric.loader`.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from rubric.errors import Issue
from rubric.model import (
    Category,
    Clause,
    GradeBand,
    Rubric,
    ScoringMode,
    ScoringSettings,
    Section,
)
from rubric.numerals import to_chinese

TOP_KEYS = ("id", "edition", "title", "scoring", "sections")
SCORING_KEYS = (
    "mode",
    "answers",
    "grades",
    "evidence_required",
    "category_budget",
    "na_reason_required",
    "min_coverage",
)
ANSWER_KEYS = ("ok", "partial", "fail", "na")
GRADE_KEYS = ("label", "min")
SECTION_KEYS = ("number", "title", "categories")
CATEGORY_KEYS = ("number", "title", "budget", "clauses")
CLAUSE_KEYS = ("number", "text", "points", "veto", "evidence_required")

RUBRIC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
MAX_OUTLINE_NUMBER = 99  # sections and categories are written as Chinese numerals
MAX_CLAUSE_NUMBER = 999


def validate_document(data: Any, source: str) -> list[Issue]:
    """All problems of a rubric document; empty when it is valid."""
    return check_document(data, source)[1]


def check_document(data: Any, source: str) -> tuple[Rubric | None, list[Issue]]:
    """The rubric and no issues, or None and every issue found."""
    checker = _Checker(source)
    rubric = checker.rubric(data)
    if checker.issues:
        return None, checker.issues
    return rubric, []


def _is_number(value: Any) -> bool:
    # YAML's `yes` is a bool, and bool is an int subclass: never accept it as a number.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.issues: list[Issue] = []

    def error(self, where: str, message: str) -> None:
        self.issues.append(Issue(self.source, where, message))

    def mapping(self, value: Any, where: str, known: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(where, f"expected a mapping with keys {', '.join(known)}, got {_describe(value)}")
            return None
        for key in value:
            if key not in known:
                self.error(where, _unknown_key(key, known))
        return value

    def items(self, value: Any, where: str, what: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(where, f"{what} must be a list, got {_describe(value)}")
            return []
        return value

    def text(self, value: Any, where: str, what: str) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.error(where, f"{what} is empty")
            return ""
        if not isinstance(value, str):
            self.error(where, f"{what} must be text, got {_describe(value)}")
            return ""
        return value.strip()

    def number(self, value: Any, where: str, what: str, previous: int, limit: int) -> int:
        """An explicit outline number, or the next one when absent."""
        if value is None:
            return previous + 1
        if not _is_int(value) or not 1 <= value <= limit:
            self.error(where, f"{what} number must be a whole number from 1 to {limit}, got {value!r}")
            return previous + 1
        if value == previous:
            self.error(where, f"duplicate {what} number {value}")
        elif value < previous:
            self.error(where, f"{what} number {value} comes after {previous}: numbers must increase")
        return value

    def positive_or_none(self, value: Any, where: str, what: str) -> float | None:
        if value is None:
            return None
        if not _is_number(value) or value <= 0:
            self.error(where, f"{what} must be a number above 0, got {value!r}")
            return None
        return value

    # -- the document ---------------------------------------------------------------------------

    def rubric(self, data: Any) -> Rubric | None:
        doc = self.mapping(data, "", TOP_KEYS)
        if doc is None:
            return None
        for key in ("id", "edition", "title", "sections"):
            if key not in doc:
                self.error("", f"missing key '{key}'")
        rubric_id = doc.get("id")
        if "id" in doc and not (isinstance(rubric_id, str) and RUBRIC_ID.match(rubric_id)):
            self.error("id", f"must be letters, digits, '-' or '_' (at most 40), got {rubric_id!r}")
        edition = doc.get("edition")
        if "edition" in doc and not (_is_int(edition) and edition >= 1):
            self.error("edition", f"must be a whole number from 1 up, got {edition!r}")
        title = self.text(doc.get("title"), "title", "title") if "title" in doc else ""
        scoring = self.scoring(doc.get("scoring"))
        sections = self.sections(doc.get("sections"))
        if "sections" in doc and not sections:
            self.error("sections", "the rubric has no sections")
        elif sections and not any(section.clauses for section in sections):
            self.error("sections", "the rubric has no clauses")
        if self.issues:
            return None
        try:
            return Rubric(id=rubric_id, edition=edition, title=title, sections=sections, scoring=scoring)
        except ValueError as exc:  # the checks above should make this unreachable
            self.error("", str(exc))
            return None

    def scoring(self, value: Any) -> ScoringSettings:
        defaults = ScoringSettings()
        if value is None:
            return defaults
        doc = self.mapping(value, "scoring", SCORING_KEYS)
        if doc is None:
            return defaults
        mode = doc.get("mode", defaults.mode.value)
        modes = [m.value for m in ScoringMode]
        if mode not in modes:
            self.error("scoring.mode", f"must be one of {', '.join(modes)}, got {mode!r}")
            mode = defaults.mode.value
        partial, fail = self.answers(doc.get("answers"), defaults)
        grades = self.grades(doc.get("grades"), defaults)
        evidence = doc.get("evidence_required", defaults.evidence_required)
        if not isinstance(evidence, bool):
            self.error("scoring.evidence_required", f"must be true or false, got {evidence!r}")
            evidence = defaults.evidence_required
        budget = self.positive_or_none(doc.get("category_budget"), "scoring.category_budget", "budget")
        na_reason = doc.get("na_reason_required", defaults.na_reason_required)
        if not isinstance(na_reason, bool):
            self.error("scoring.na_reason_required", f"must be true or false, got {na_reason!r}")
            na_reason = defaults.na_reason_required
        coverage = self.positive_or_none(doc.get("min_coverage"), "scoring.min_coverage", "min_coverage")
        if coverage is not None and coverage > 100:
            self.error("scoring.min_coverage", f"min_coverage is a percent from 0 to 100, got {coverage!r}")
            coverage = None
        return ScoringSettings(
            mode=ScoringMode(mode),
            partial_fraction=partial,
            fail_fraction=fail,
            grades=grades,
            evidence_required=evidence,
            category_budget=budget,
            na_reason_required=na_reason,
            min_coverage=coverage,
        )

    def answers(self, value: Any, defaults: ScoringSettings) -> tuple[float, float]:
        fallback = defaults.partial_fraction, defaults.fail_fraction
        if value is None:
            return fallback
        doc = self.mapping(value, "scoring.answers", ANSWER_KEYS)
        if doc is None:
            return fallback
        if "ok" in doc and not (_is_number(doc["ok"]) and doc["ok"] == 1):
            self.error("scoring.answers.ok", f"符合 always earns the full points: must be 1, got {doc['ok']!r}")
        if doc.get("na") is not None:
            self.error("scoring.answers.na", f"不适用 is left out of the score: must be null, got {doc['na']!r}")
        fractions = []
        for key, default in zip(("partial", "fail"), fallback, strict=True):
            fraction = doc.get(key, default)
            if not _is_number(fraction) or not 0 <= fraction <= 1:
                self.error(f"scoring.answers.{key}", f"must be a number from 0 to 1, got {fraction!r}")
                fraction = default
            fractions.append(fraction)
        partial, fail = fractions
        if fail > partial:
            self.error("scoring.answers", f"不符合 ({fail}) may not earn more than 基本符合 ({partial})")
        return partial, fail

    def grades(self, value: Any, defaults: ScoringSettings) -> tuple[GradeBand, ...]:
        if value is None:
            return defaults.grades
        items = self.items(value, "scoring.grades", "grades")
        if not items:
            if isinstance(value, list):
                self.error("scoring.grades", "at least one grade band is needed")
            return defaults.grades
        bands: list[GradeBand] = []
        for i, item in enumerate(items):
            where = f"scoring.grades[{i + 1}]"
            doc = self.mapping(item, where, GRADE_KEYS)
            if doc is None:
                continue
            label = self.text(doc.get("label"), where, "grade label")
            minimum = doc.get("min")
            if not _is_number(minimum) or not 0 <= minimum <= 100:
                self.error(where, f"min must be a number from 0 to 100, got {minimum!r}")
                continue
            if any(band.label == label for band in bands):
                self.error(where, f"grade label {label!r} used twice")
            if bands and minimum >= bands[-1].min_percent:
                self.error(where, f"min {minimum} must be below the band before it ({bands[-1].min_percent})")
            bands.append(GradeBand(label, minimum))
        if bands and bands[-1].min_percent != 0:
            self.error("scoring.grades", "the last band must have min 0, so every score gets a grade")
        return tuple(bands) or defaults.grades

    def sections(self, value: Any) -> tuple[Section, ...]:
        sections: list[Section] = []
        previous = 0
        for i, item in enumerate(self.items(value, "sections", "sections")):
            where = f"section {i + 1}"
            doc = self.mapping(item, where, SECTION_KEYS)
            if doc is None:
                previous += 1
                continue
            number = self.number(doc.get("number"), where, "section", previous, MAX_OUTLINE_NUMBER)
            previous = max(previous, number)
            where = f"section {to_chinese(number)}"
            title = self.text(doc.get("title"), where, "section title")
            categories = self.categories(doc.get("categories"), number, where)
            sections.append(Section(number, title, categories))
        return tuple(sections)

    def categories(self, value: Any, section_number: int, section_where: str) -> tuple[Category, ...]:
        categories: list[Category] = []
        previous = 0
        for i, item in enumerate(self.items(value, f"{section_where}: categories", "categories")):
            where = f"{section_where}, category {i + 1}"
            doc = self.mapping(item, where, CATEGORY_KEYS)
            if doc is None:
                previous += 1
                continue
            number = self.number(doc.get("number"), where, "category", previous, MAX_OUTLINE_NUMBER)
            previous = max(previous, number)
            code = f"{to_chinese(section_number)}({to_chinese(number)})"
            where = f"category {code}"
            title = self.text(doc.get("title"), where, "category title")
            budget = self.positive_or_none(doc.get("budget"), where, "budget")
            clauses = self.clauses(doc.get("clauses"), section_number, number, where)
            categories.append(Category(section_number, number, title, clauses, budget))
        return tuple(categories)

    def clauses(self, value: Any, section_number: int, category_number: int, category_where: str) -> tuple[Clause, ...]:
        clauses: list[Clause] = []
        seen_text: dict[str, str] = {}
        previous = 0
        prefix = f"{to_chinese(section_number)}({to_chinese(category_number)})"
        for i, item in enumerate(self.items(value, f"{category_where}: clauses", "clauses")):
            doc: dict[str, Any] | None = {"text": item} if isinstance(item, str) else None
            if doc is None:
                doc = self.mapping(item, f"{category_where}, clause {i + 1}", CLAUSE_KEYS)
            if doc is None:
                previous += 1
                continue
            number = self.number(
                doc.get("number"), f"{category_where}, clause {i + 1}", "clause", previous, MAX_CLAUSE_NUMBER
            )
            previous = max(previous, number)
            where = f"clause {prefix}{number}"
            text = self.text(doc.get("text"), where, "clause text")
            if text and text in seen_text:
                self.error(where, f"same text as clause {seen_text[text]}")
            seen_text.setdefault(text, f"{prefix}{number}")
            points = doc.get("points", 1)
            if not _is_number(points) or points < 0:
                self.error(where, f"points must be a number from 0 up, got {points!r}")
                points = 1
            veto = doc.get("veto", False)
            if not isinstance(veto, bool):
                self.error(where, f"veto must be true or false, got {veto!r}")
                veto = False
            evidence = doc.get("evidence_required")
            if evidence is not None and not isinstance(evidence, bool):
                self.error(where, f"evidence_required must be true, false or absent, got {evidence!r}")
                evidence = None
            if veto and evidence is False:
                self.error(where, "a veto clause must keep evidence: 不符合 on it fails the whole inspection")
            clauses.append(Clause(section_number, category_number, number, text, points, veto, evidence))
        return tuple(clauses)


def _unknown_key(key: Any, known: tuple[str, ...]) -> str:
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(str(key), known, n=1)
    if close:
        return f"{message} (did you mean '{close[0]}'?)"
    return f"{message} (known: {', '.join(known)})"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}"
