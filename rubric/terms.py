"""The rubric's labels as gettext messages, so that each language's catalog translates them.

Rubric files are the company's Chinese text. Their labels (the title, grades, sections and
categories) are short terms a reader of another language needs translated; clause texts are the
company's wording and are not. ``pybabel extract`` calls :func:`extract_terms` on every edition
(see ``babel.cfg``), so a new or renamed label arrives in every catalog like any template message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from rubric.loader import load_rubric_text
from rubric.model import Rubric


def labels(rubric: Rubric) -> list[str]:
    """The labels of one rubric, in reading order, each once."""
    found = [rubric.title, *(band.label for band in rubric.scoring.grades)]
    for section in rubric.sections:
        found.append(section.title)
        found.extend(category.title for category in section.categories)
    return list(dict.fromkeys(found))


def extract_terms(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extraction method, registered as ``rubric`` in ``babel.cfg``."""
    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    lines = text.splitlines()
    for label in labels(load_rubric_text(text)):
        lineno = next((n for n, line in enumerate(lines, 1) if label in line), 0)
        yield lineno, None, label, ["A rubric label (title, grade, section or category)."]
