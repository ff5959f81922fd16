"""The rubric as immutable data: Rubric -> Section -> Category -> Clause, plus scoring settings.

Identifiers
    A clause's ``id`` is ``"<section>.<category>.<clause>"`` in numbers (``"2.3.4"``): ASCII, short,
    fit for callback data and database keys. Its ``code`` is the company's own notation
    (``"二(三)4"``). Categories have ``"2.3"`` / ``"二(三)"``, sections ``"2"`` / ``"二"``.
    Numbers come from the rubric file and normally run 1, 2, 3…; gaps are allowed so that deleting
    a clause need not renumber (and so re-mean) the ones after it.

Parentheses are ASCII ``()`` everywhere (codes, labels, clause text): that is how the company's
document writes them, and it keeps codes short. Look-ups accept full-width ``（）`` too.

Content hash
    ``content_hash`` is the first 16 hex digits of the SHA-256 of the canonical JSON of
    :meth:`Rubric.to_dict` (sorted keys, no whitespace, numbers normalised). Any change to wording,
    points, flags or scoring settings changes it; an inspection stores it with its answers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rubric.numerals import to_chinese

HASH_LENGTH = 16


class Answer(StrEnum):
    """An inspector's answer to one clause; the value is the short code stored and sent in buttons."""

    OK = "ok"
    PARTIAL = "partial"
    FAIL = "fail"
    NA = "na"

    @property
    def label(self) -> str:
        return ANSWER_LABELS[self]

    @property
    def is_finding(self) -> bool:
        """Below full marks: 基本符合 or 不符合 (N/A is not a finding)."""
        return self in (Answer.PARTIAL, Answer.FAIL)

    @classmethod
    def parse(cls, value: str) -> Answer:
        """Accepts a code (``"ok"``) or a label in either script (``"不適用"``)."""
        text = value.strip()
        try:
            return cls(text.lower())
        except ValueError:
            pass
        for answer, labels in _LABEL_SPELLINGS.items():
            if text in labels:
                return answer
        raise ValueError(f"unknown answer: {value!r}")


ANSWER_LABELS: dict[Answer, str] = {
    Answer.OK: "符合",
    Answer.PARTIAL: "基本符合",
    Answer.FAIL: "不符合",
    Answer.NA: "不适用",
}
_LABEL_SPELLINGS: dict[Answer, tuple[str, ...]] = {
    Answer.OK: ("符合",),
    Answer.PARTIAL: ("基本符合",),
    Answer.FAIL: ("不符合",),
    Answer.NA: ("不适用", "不適用"),
}


class ScoringMode(StrEnum):
    PERCENTAGE = "percentage"  # earned / applicable points
    DEDUCTION = "deduction"  # 扣分制: each category starts from a budget; findings deduct


@dataclass(frozen=True)
class GradeBand:
    label: str
    min_percent: float


DEFAULT_GRADES: tuple[GradeBand, ...] = (
    GradeBand("优秀", 90),
    GradeBand("良好", 80),
    GradeBand("合格", 70),
    GradeBand("不合格", 0),
)


@dataclass(frozen=True)
class ScoringSettings:
    """How answers turn into numbers. 符合 is always 1 and 不适用 always "not applicable"."""

    mode: ScoringMode = ScoringMode.PERCENTAGE
    partial_fraction: float = 0.5
    fail_fraction: float = 0.0
    # Highest band first; the last one has min_percent 0 and is the failing grade.
    grades: tuple[GradeBand, ...] = DEFAULT_GRADES
    # Whether a 基本符合/不符合 answer needs a note or photo, unless a clause says otherwise.
    evidence_required: bool = True
    # Deduction mode: default budget of every category; None = the sum of its clauses' points.
    category_budget: float | None = None
    # Whether 不适用 needs a note saying why (like a finding's evidence).
    na_reason_required: bool = False
    # Percent of the clauses that must be answered and applicable for a full inspection; below it the
    # inspection is marked incomplete for managers (its score stands on too little). None: no minimum.
    min_coverage: float | None = None

    def fraction(self, answer: Answer) -> float | None:
        """Share of a clause's points an answer earns; None = not applicable."""
        if answer is Answer.OK:
            return 1.0
        if answer is Answer.PARTIAL:
            return self.partial_fraction
        if answer is Answer.FAIL:
            return self.fail_fraction
        return None

    @property
    def failing_grade(self) -> str:
        return self.grades[-1].label


@dataclass(frozen=True)
class Clause:
    section_number: int
    category_number: int
    number: int
    text: str
    points: float = 1
    veto: bool = False
    # None follows the rubric's ScoringSettings.evidence_required (veto clauses always need it).
    evidence_required: bool | None = None

    @property
    def id(self) -> str:
        return f"{self.section_number}.{self.category_number}.{self.number}"

    @property
    def code(self) -> str:
        return f"{to_chinese(self.section_number)}({to_chinese(self.category_number)}){self.number}"

    @property
    def category_id(self) -> str:
        return f"{self.section_number}.{self.category_number}"

    @property
    def section_id(self) -> str:
        return str(self.section_number)


@dataclass(frozen=True)
class Category:
    section_number: int
    number: int
    title: str
    clauses: tuple[Clause, ...] = ()
    # Deduction mode only: points this category starts from (None = rubric default).
    budget: float | None = None

    @property
    def id(self) -> str:
        return f"{self.section_number}.{self.number}"

    @property
    def code(self) -> str:
        return f"{to_chinese(self.section_number)}({to_chinese(self.number)})"

    @property
    def label(self) -> str:
        return f"({to_chinese(self.number)}){self.title}"

    @property
    def points(self) -> float:
        return sum(clause.points for clause in self.clauses)


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    categories: tuple[Category, ...] = ()

    @property
    def id(self) -> str:
        return str(self.number)

    @property
    def code(self) -> str:
        return to_chinese(self.number)

    @property
    def label(self) -> str:
        return f"{to_chinese(self.number)}、{self.title}"

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return tuple(clause for category in self.categories for clause in category.clauses)

    @property
    def points(self) -> float:
        return sum(category.points for category in self.categories)


@dataclass(frozen=True)
class Rubric:
    id: str
    edition: int
    title: str
    sections: tuple[Section, ...]
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    content_hash: str = field(init=False, compare=False)
    _clauses: tuple[Clause, ...] = field(init=False, repr=False, compare=False)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, str] = field(init=False, repr=False, compare=False)
    _categories: dict[str, Category] = field(init=False, repr=False, compare=False)
    _sections: dict[str, Section] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_structure(self)
        clauses = tuple(clause for section in self.sections for clause in section.clauses)
        object.__setattr__(self, "_clauses", clauses)
        object.__setattr__(self, "_index", {clause.id: i for i, clause in enumerate(clauses)})
        object.__setattr__(self, "_by_code", {clause.code: clause.id for clause in clauses})
        categories = {c.id: c for s in self.sections for c in s.categories}
        object.__setattr__(self, "_categories", categories)
        object.__setattr__(self, "_sections", {s.id: s for s in self.sections})
        object.__setattr__(self, "content_hash", hash_document(self.to_dict()))

    # -- look-ups -------------------------------------------------------------------------------

    @property
    def clauses(self) -> tuple[Clause, ...]:
        """Every clause in walking order."""
        return self._clauses

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(self._categories.values())

    @property
    def total_points(self) -> float:
        return sum(clause.points for clause in self._clauses)

    def clause(self, clause_id: str) -> Clause:
        """KeyError when the rubric has no such clause."""
        return self._clauses[self._index[clause_id]]

    def has_clause(self, clause_id: str) -> bool:
        return clause_id in self._index

    def clause_by_code(self, code: str) -> Clause:
        """``"二(三)4"``, also written ``"二（三）4"`` or with spaces; KeyError when unknown."""
        return self.clause(self._by_code[normalise_code(code)])

    def find_clause(self, ref: str) -> Clause | None:
        """A clause by id or by code, None when neither matches."""
        ref = ref.strip()
        if ref in self._index:
            return self.clause(ref)
        clause_id = self._by_code.get(normalise_code(ref))
        return self.clause(clause_id) if clause_id else None

    def category(self, category_id: str) -> Category:
        return self._categories[category_id]

    def section(self, section_id: str) -> Section:
        return self._sections[section_id]

    def category_of(self, clause_id: str) -> Category:
        return self._categories[self.clause(clause_id).category_id]

    def section_of(self, clause_id: str) -> Section:
        return self._sections[self.clause(clause_id).section_id]

    def index_of(self, clause_id: str) -> int:
        """0-based position in walking order."""
        return self._index[clause_id]

    def position_in_category(self, clause_id: str) -> tuple[int, int]:
        """(1-based position, clause count) inside the clause's category, e.g. (3, 4) for "3/4"."""
        category = self.category_of(clause_id)
        ids = [clause.id for clause in category.clauses]
        return ids.index(clause_id) + 1, len(ids)

    def next_clause(self, clause_id: str) -> Clause | None:
        i = self._index[clause_id] + 1
        return self._clauses[i] if i < len(self._clauses) else None

    def previous_clause(self, clause_id: str) -> Clause | None:
        i = self._index[clause_id] - 1
        return self._clauses[i] if i >= 0 else None

    def evidence_required_for(self, clause: Clause) -> bool:
        """Whether a below-full answer on this clause needs a note or photo.

        Veto clauses always do: 不符合 on one fails the whole inspection, so it must be shown.
        """
        if clause.veto:
            return True
        if clause.evidence_required is None:
            return self.scoring.evidence_required
        return clause.evidence_required

    # -- serialisation --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The document form: what a rubric YAML file holds (see rubric.loader), JSON-safe.

        Defaults are left out (clause ``points: 1``, implicit numbers), so a plain clause is just
        its text. ``Rubric.from_dict(r.to_dict()) == r`` and keeps the content hash.
        """
        return {
            "id": self.id,
            "edition": self.edition,
            "title": self.title,
            "scoring": _scoring_to_dict(self.scoring),
            "sections": [_section_to_dict(section, prev) for section, prev in _with_previous(self.sections)],
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<snapshot>", expected_hash: str | None = None) -> Rubric:
        """Build (and validate) a rubric from its document form, e.g. a stored snapshot.

        Raises RubricValidationError; with ``expected_hash``, also when the result hashes differently
        (a snapshot that no longer is what an inspection was scored against).
        """
        from rubric.loader import rubric_from_document  # the loader imports this module

        rubric = rubric_from_document(data, source)
        if expected_hash is not None and rubric.content_hash != expected_hash:
            from rubric.errors import Issue, RubricValidationError

            message = f"content hash is {rubric.content_hash}, expected {expected_hash}"
            raise RubricValidationError([Issue(source, "", message)])
        return rubric


def hash_document(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("（", "(").replace("）", ")")


def number_out(value: float) -> int | float:
    """1.0 -> 1: one spelling per value, so equal rubrics hash equally."""
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


def _check_structure(rubric: Rubric) -> None:
    """Numbers must grow and agree with their parents: ids are built from them."""
    _check_increasing([s.number for s in rubric.sections], "section")
    for section in rubric.sections:
        _check_increasing([c.number for c in section.categories], f"categories of section {section.id}")
        for category in section.categories:
            if category.section_number != section.number:
                raise ValueError(f"category {category.id} is filed under section {section.id}")
            _check_increasing([c.number for c in category.clauses], f"clauses of category {category.id}")
            for clause in category.clauses:
                if clause.category_id != category.id:
                    raise ValueError(f"clause {clause.id} is filed under category {category.id}")


def _check_increasing(numbers: list[int], what: str) -> None:
    previous = 0
    for number in numbers:
        if number <= previous:
            raise ValueError(f"{what}: numbers must increase, got {numbers}")
        previous = number


def _with_previous(items: tuple[Any, ...]) -> list[tuple[Any, int]]:
    """Pairs each item with the number before it (0 first), to know when a number is implicit."""
    previous = [0, *(item.number for item in items)]
    return list(zip(items, previous, strict=False))


def _scoring_to_dict(settings: ScoringSettings) -> dict[str, Any]:
    scoring: dict[str, Any] = {
        "mode": settings.mode.value,
        "answers": {
            "ok": 1,
            "partial": number_out(settings.partial_fraction),
            "fail": number_out(settings.fail_fraction),
            "na": None,
        },
        "grades": [{"label": band.label, "min": number_out(band.min_percent)} for band in settings.grades],
        "evidence_required": settings.evidence_required,
    }
    if settings.category_budget is not None:
        scoring["category_budget"] = number_out(settings.category_budget)
    # Written only when set, so a rubric that does not use them keeps its content hash.
    if settings.na_reason_required:
        scoring["na_reason_required"] = True
    if settings.min_coverage is not None:
        scoring["min_coverage"] = number_out(settings.min_coverage)
    return scoring


def _section_to_dict(section: Section, previous: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if section.number != previous + 1:
        out["number"] = section.number
    out["title"] = section.title
    out["categories"] = [_category_to_dict(c, prev) for c, prev in _with_previous(section.categories)]
    return out


def _category_to_dict(category: Category, previous: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if category.number != previous + 1:
        out["number"] = category.number
    out["title"] = category.title
    if category.budget is not None:
        out["budget"] = number_out(category.budget)
    out["clauses"] = [_clause_to_dict(c, prev) for c, prev in _with_previous(category.clauses)]
    return out


def _clause_to_dict(clause: Clause, previous: int) -> str | dict[str, Any]:
    out: dict[str, Any] = {}
    if clause.number != previous + 1:
        out["number"] = clause.number
    out["text"] = clause.text
    if clause.points != 1:
        out["points"] = number_out(clause.points)
    if clause.veto:
        out["veto"] = True
    if clause.evidence_required is not None:
        out["evidence_required"] = clause.evidence_required
    return clause.text if list(out) == ["text"] else out
