"""The scoring rubric (评分细则): model, YAML files, text importer, scoring and display.

Most callers need only these names; the submodules hold the rest.
"""

from rubric.errors import RubricError, RubricParseError, RubricValidationError
from rubric.model import Answer, Category, Clause, Rubric, ScoringMode, ScoringSettings, Section
from rubric.registry import RubricRegistry
from rubric.scoring import ScoreReport, grade_for, needs_evidence, score_inspection

__all__ = [
    "Answer",
    "Category",
    "Clause",
    "Rubric",
    "RubricError",
    "RubricParseError",
    "RubricRegistry",
    "RubricValidationError",
    "ScoreReport",
    "ScoringMode",
    "ScoringSettings",
    "Section",
    "grade_for",
    "needs_evidence",
    "score_inspection",
]
