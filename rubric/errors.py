"""Errors raised by the rubric package; every message names the file and the place."""

from __future__ import annotations

from dataclasses import dataclass


class RubricError(Exception):
    """Base of every rubric problem, so callers can catch them in one place."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a rubric file: where (file, then clause or key) and what."""

    source: str
    where: str
    message: str

    def __str__(self) -> str:
        place = f"{self.source}: {self.where}" if self.where else self.source
        return f"{place}: {self.message}"


class RubricValidationError(RubricError):
    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class RubricLoadError(RubricError):
    """A rubric file could not be read, or two files claim the same edition."""


class RubricImportError(RubricError):
    """Base of the text importer's errors.

    Deliberately not a subclass of the builtin ``ImportError``: that one means "a module failed to
    import", and ``except ImportError`` around optional imports would swallow ours.
    """


class RubricParseError(RubricImportError):
    def __init__(self, line_no: int, message: str) -> None:
        self.line_no = line_no
        self.message = message
        super().__init__(f"line {line_no}: {message}")
