"""Turns the company's rubric document (plain text) into Rubric objects.

Recognised outline, one item per line (blank lines are ignored)::

    物业客户服务督导评分细则        title: any other line before the first section
    一、内部管理                    section: Chinese numeral + 、 (or .)
    (一)制度建设                    category: (一) or （一）, a space after it is fine
    1、有完善的内部管理制度……        clause: number + 、 (or .)
    三、其他业务                    a section without categories is kept (empty)
    篇2:物业客户服务督导评分细则    starts edition 2; its text is the title, and the next line
    物业客户服务督导评分细则        may repeat that title

The first edition needs no marker (it is edition 1). Numbers must run 1, 2, 3… at each level;
anything else stops the import with a :class:`~rubric.errors.RubricParseError` naming the line.

Every line is cleaned first: machine pinyin annotations (``業(yè)``) are removed, Traditional
characters become Simplified with OpenCC ``t2s`` (unless ``keep_script``), and spacing and
punctuation are tidied (see :mod:`rubric.cleaning`). Clause points start at 1 with no flags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rubric.cleaning import strip_closing, strip_pinyin, tidy
from rubric.errors import RubricParseError
from rubric.model import Category, Clause, Rubric, ScoringSettings, Section
from rubric.numerals import NUMERAL_CHARS, from_chinese, to_chinese
from rubric.script import to_simplified
from rubric.validator import validate_document

DEFAULT_RUBRIC_ID = "cs-supervision"

EDITION_MARKER = re.compile(r"^篇\s*(\d+)\s*[:：]?\s*(.*)$")
SECTION_LINE = re.compile(rf"^([{NUMERAL_CHARS}]+)\s*[、.]\s*(.*)$")
CATEGORY_LINE = re.compile(rf"^\(\s*([{NUMERAL_CHARS}]+)\s*\)\s*(.*)$")
CLAUSE_LINE = re.compile(r"^(\d{1,3})\s*[、.](?!\d)\s*(.*)$")
LATIN = re.compile(r"[A-Za-z]")


@dataclass
class _Draft:
    """An edition while its lines are read; numbers are checked as they come."""

    number: int
    line_no: int
    title: str | None = None
    sections: list[tuple[int, str, list[tuple[int, str, list[str]]]]] = field(default_factory=list)

    @property
    def clause_count(self) -> int:
        return sum(len(clauses) for _, _, categories in self.sections for _, _, clauses in categories)


@dataclass(frozen=True)
class ImportResult:
    rubrics: tuple[Rubric, ...]
    annotations_removed: int
    converted_script: bool
    # Lines whose text still holds Latin letters: maybe an annotation this importer did not know.
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """What was found, for a person checking the import."""
        lines = [f"{len(self.rubrics)} edition(s) found"]
        for rubric in self.rubrics:
            categories = sum(len(s.categories) for s in rubric.sections)
            lines.append(
                f"edition {rubric.edition}: {rubric.title} — {len(rubric.sections)} sections, "
                f"{categories} categories, {len(rubric.clauses)} clauses"
            )
            for section in rubric.sections:
                if not section.categories:
                    lines.append(f"  {section.label}: empty")
                    continue
                counts = ", ".join(str(len(c.clauses)) for c in section.categories)
                lines.append(
                    f"  {section.label}: {len(section.categories)} categories, "
                    f"{len(section.clauses)} clauses ({counts})"
                )
        lines.append(f"removed {self.annotations_removed} pinyin annotations")
        lines.append("converted to Simplified Chinese" if self.converted_script else "kept the original script")
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        return "\n".join(lines)


def import_text(text: str, *, rubric_id: str = DEFAULT_RUBRIC_ID, keep_script: bool = False) -> ImportResult:
    """Parse a whole document; RubricParseError (with the line number) when it cannot."""
    drafts: list[_Draft] = []
    removed = 0
    warnings: list[str] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line, count = strip_pinyin(raw.lstrip("\ufeff"))
        removed += count
        if not keep_script:
            line = to_simplified(line)
        line = tidy(line, corner_quotes=not keep_script)
        if not line:
            continue
        if LATIN.search(line) and not EDITION_MARKER.match(line):
            warnings.append(f"line {line_no}: Latin letters left in {line!r}")
        _read_line(drafts, line_no, line)
    if not drafts:
        raise RubricParseError(1, "no rubric found: the document has no sections")
    rubrics = tuple(_checked(_build(draft, rubric_id), draft) for draft in drafts)
    return ImportResult(rubrics, removed, not keep_script, tuple(warnings))


def _read_line(drafts: list[_Draft], line_no: int, line: str) -> None:
    if match := EDITION_MARKER.match(line):
        _start_edition(drafts, line_no, int(match[1]), strip_closing(match[2]) or None)
        return
    if not drafts:
        drafts.append(_Draft(number=1, line_no=line_no))
    draft = drafts[-1]
    if match := SECTION_LINE.match(line):
        _add_section(draft, line_no, match[1], match[2])
    elif match := CATEGORY_LINE.match(line):
        _add_category(draft, line_no, match[1], match[2])
    elif match := CLAUSE_LINE.match(line):
        _add_clause(draft, line_no, int(match[1]), match[2])
    elif not draft.sections:
        _set_title(draft, line_no, strip_closing(line))
    else:
        raise RubricParseError(
            line_no, f"expected a section (一、), category ((一)), clause (1、) or edition marker (篇2:), got {line!r}"
        )


def _start_edition(drafts: list[_Draft], line_no: int, number: int, title: str | None) -> None:
    if drafts:
        _finish(drafts[-1])
        if number <= drafts[-1].number:
            raise RubricParseError(line_no, f"edition {number} follows edition {drafts[-1].number}")
    drafts.append(_Draft(number=number, line_no=line_no, title=title))


def _set_title(draft: _Draft, line_no: int, title: str) -> None:
    if draft.title is None:
        draft.title = title
    elif title != draft.title:
        raise RubricParseError(
            line_no, f"unexpected text before the first section (the title is {draft.title!r}): {title!r}"
        )


def _add_section(draft: _Draft, line_no: int, numeral: str, title: str) -> None:
    number = _outline_number(line_no, numeral)
    expected = len(draft.sections) + 1
    if number != expected:
        raise RubricParseError(line_no, f"expected section {to_chinese(expected)}、, found {numeral}、")
    draft.sections.append((number, _title(line_no, title, "section"), []))


def _add_category(draft: _Draft, line_no: int, numeral: str, title: str) -> None:
    if not draft.sections:
        raise RubricParseError(line_no, f"category ({numeral}) comes before any section")
    categories = draft.sections[-1][2]
    number = _outline_number(line_no, numeral)
    expected = len(categories) + 1
    if number != expected:
        raise RubricParseError(line_no, f"expected category ({to_chinese(expected)}), found ({numeral})")
    categories.append((number, _title(line_no, title, "category"), []))


def _add_clause(draft: _Draft, line_no: int, number: int, text: str) -> None:
    if not draft.sections or not draft.sections[-1][2]:
        raise RubricParseError(line_no, f"clause {number} comes before any category")
    clauses = draft.sections[-1][2][-1][2]
    expected = len(clauses) + 1
    if number != expected:
        raise RubricParseError(line_no, f"expected clause {expected}, found {number}")
    text = strip_closing(text)
    if not text:
        raise RubricParseError(line_no, f"clause {number} has no text")
    if text in clauses:
        raise RubricParseError(line_no, f"clause {number} repeats clause {clauses.index(text) + 1}: {text!r}")
    clauses.append(text)


def _outline_number(line_no: int, numeral: str) -> int:
    try:
        return from_chinese(numeral)
    except ValueError:
        raise RubricParseError(line_no, f"{numeral!r} is not a number") from None


def _title(line_no: int, title: str, what: str) -> str:
    title = strip_closing(title)
    if not title:
        raise RubricParseError(line_no, f"{what} has no title")
    return title


def _finish(draft: _Draft) -> None:
    if draft.title is None:
        raise RubricParseError(draft.line_no, f"edition {draft.number} has no title line")
    if draft.clause_count == 0:
        raise RubricParseError(draft.line_no, f"edition {draft.number} has no clauses")


def _checked(rubric: Rubric, draft: _Draft) -> Rubric:
    """What the importer builds must also pass as a rubric file (e.g. no clause written twice)."""
    issues = validate_document(rubric.to_dict(), f"edition {draft.number}")
    if issues:
        raise RubricParseError(draft.line_no, "; ".join(f"{i.where}: {i.message}" for i in issues))
    return rubric


def _build(draft: _Draft, rubric_id: str) -> Rubric:
    _finish(draft)
    assert draft.title is not None  # checked by _finish
    sections = tuple(
        Section(
            s_number,
            s_title,
            tuple(
                Category(
                    s_number,
                    c_number,
                    c_title,
                    tuple(Clause(s_number, c_number, i, text) for i, text in enumerate(texts, start=1)),
                )
                for c_number, c_title, texts in categories
            ),
        )
        for s_number, s_title, categories in draft.sections
    )
    return Rubric(rubric_id, draft.number, draft.title, sections, ScoringSettings())
