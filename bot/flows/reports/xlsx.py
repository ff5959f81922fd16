"""The /export workbook: inspections, answers (one row per clause), category scores and duties.

Built with openpyxl's write-only mode from streamed SQL rows (storage.reports.ExportReader), in a
worker thread, so even "all" history never sits in memory at once. Header texts come from the
templates (``reports.xlsx_*``): Chinese headers, a frozen header row and set column widths.

Every string goes out as a text cell (``t="inlineStr"``), never a formula: site names, regions, names
and notes are typed by people, and openpyxl would store ``=HYPERLINK(...)`` in a note as a live formula.
The text itself is kept as typed (no leading apostrophe): a text cell is never evaluated by Excel,
LibreOffice or WPS, so quoting would only corrupt the data for whoever processes the workbook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from rubric.scoring import percent_of
from storage.inspections import repeat_deductions_in
from storage.reports import ExportReader, Scope

SHEETS = ("inspections", "answers", "categories", "duties")
# Column widths in characters (a CJK character counts about two).
WIDTHS: dict[str, tuple[int, ...]] = {
    "inspections": (10, 22, 12, 14, 8, 18, 18, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 12),
    "answers": (10, 22, 18, 8, 10, 24, 12, 8, 8, 10, 18, 50, 8),
    "categories": (10, 22, 18, 8, 10, 24, 10, 10, 10),
    "duties": (22, 40, 14, 18, 12, 18),
    "plans": (22, 12, 12, 12, 14, 12, 12, 12, 12, 10, 10, 24),  # inspection plans (bot/flows/plans)
    "actions": (22, 12, 50, 10, 10, 10, 8, 12, 12, 10, 10),  # corrective actions (整改)
}
MAX_ROWS = 1_048_575  # Excel's limit less the header row: more answers continue on another sheet
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def write_workbook(
    database: Path,
    scope: Scope,
    start: str,
    end: str,
    target: Path,
    headers: dict[str, list[str]],
    category_names: dict[str, str],
    tz: ZoneInfo,
    lang: str,
    duty_title: Callable[[str], str] = str,
    now: str = "",
    plan_rows: Sequence[Sequence[Any]] | None = None,
    action_rows: Sequence[Sequence[Any]] | None = None,
) -> None:
    """``headers[sheet]`` is [sheet title, column headers...]; ``headers["answer_names"]`` names ok/partial/fail/na."""
    from rubric.script import to_traditional

    def script(text: str) -> str:
        return to_traditional(text) if lang == "zh-hant" else text

    answer_names = dict(zip(("ok", "partial", "fail", "na"), headers["answer_names"], strict=True))
    reader = ExportReader(database)
    book = Workbook(write_only=True)
    try:
        deductions = repeat_deductions_in(database, start, end)
        rows = _inspection_rows(reader.inspections(scope, start, end), tz, script, deductions)
        _sheet(book, "inspections", headers, rows)
        _sheet(
            book,
            "answers",
            headers,
            _answer_rows(reader.answers(scope, start, end), tz, category_names, answer_names, script),
        )
        _sheet(
            book,
            "categories",
            headers,
            _category_rows(reader.categories(scope, start, end), tz, category_names, script),
        )
        statuses = dict(zip(("open", "done", "na", "overdue"), headers["duty_status"], strict=True))
        _sheet(book, "duties", headers, _duty_rows(reader.duties(scope, start, end), tz, duty_title, statuses, now))
        if plan_rows is not None:  # 督导计划: the visits and their outcomes, computed by the caller
            _sheet(book, "plans", headers, plan_rows)
        if action_rows is not None:  # 整改: corrective actions of the period (bot/flows/reports/actions.py)
            _sheet(book, "actions", headers, action_rows)
        book.save(target)
    finally:
        reader.close()


def _sheet(book: Workbook, key: str, headers: dict[str, list[str]], rows: Iterable[Sequence[Any]]) -> None:
    title, *columns = headers[key]
    sheet, count, part = _new_sheet(book, key, title, columns), 0, 1
    for row in rows:
        if count == MAX_ROWS:
            part += 1
            sheet, count = _new_sheet(book, key, f"{title} ({part})", columns), 0
        sheet.append([_text_cell(sheet, value) if isinstance(value, str) else value for value in row])
        count += 1


def _text_cell(sheet: Any, value: str) -> Any:
    """``value`` as a text cell. Plain strings stay plain (cheap) unless openpyxl would infer another type."""
    # Control characters (other than tab and line breaks) cannot be stored in a workbook: openpyxl refuses
    # them and the whole export would fail. Excel's line break is LF, and an XML reader turns a CR into one.
    if not value.isprintable():  # fast for the millions of plain names and codes of a large export
        value = ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    if not value.startswith(("=", "#")):  # "=..." would become a formula, "#N/A" an error value
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _new_sheet(book: Workbook, key: str, title: str, columns: list[str]) -> Any:
    sheet = book.create_sheet(title[:31])
    for index, width in enumerate(WIDTHS[key][: len(columns)], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    cells = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        cells.append(cell)
    sheet.append(cells)
    return sheet


def _local(stored: str | None, tz: ZoneInfo) -> datetime | None:
    """Excel has no time zones: local wall-clock time of the configured zone, without tzinfo."""
    if not stored:
        return None
    return datetime.fromisoformat(stored).astimezone(tz).replace(tzinfo=None)


def _pct(earned: float | None, possible: float | None) -> float | None:
    value = percent_of(earned or 0.0, possible or 0.0)
    return None if value is None else round(value, 2)


def _inspection_rows(
    rows: Iterable[Any], tz: ZoneInfo, script: Callable[[str], str], deductions: dict[int, float] | None = None
) -> Iterable[Sequence[Any]]:
    """``deductions``: the repeat-finding deduction by inspection id (earned and percent are net of it)."""
    taken = deductions or {}
    for row in rows:
        yield (
            row["id"],
            row["site"],
            row["region"],
            row["inspector"],
            row["edition"],
            _local(row["started_at"], tz),
            _local(row["submitted_at"], tz),
            row["earned"],
            row["possible"],
            None if row["percent"] is None else round(row["percent"], 2),
            script(row["grade"] or ""),
            "✔" if row["veto"] else "",
            row["findings"],
            row["photos"],
            # Coverage frozen at submit: blank for inspections submitted before it was recorded.
            row["answered_count"],
            row["na_count"],
            row["clause_count"],
            "✔" if row["clause_count"] is not None and row["incomplete"] else "",
            taken.get(row["id"]),  # blank: no deduction
        )


def _answer_rows(
    rows: Iterable[Any],
    tz: ZoneInfo,
    categories: dict[str, str],
    answers: dict[str, str],
    script: Callable[[str], str],
) -> Iterable[Sequence[Any]]:
    from rubric.numerals import to_chinese

    codes: dict[str, str] = {}
    for row in rows:
        clause_id = row["clause_id"]
        code = codes.get(clause_id)
        if code is None:
            parts = clause_id.split(".")
            code = codes[clause_id] = (
                f"{to_chinese(int(parts[0]))}({to_chinese(int(parts[1]))}){parts[2]}" if len(parts) == 3 else clause_id
            )
        yield (
            row["inspection_id"],
            row["site"],
            _local(row["submitted_at"], tz),
            row["edition"],
            script(code),
            script(categories.get(row["category_id"], row["category_id"])),
            answers.get(row["answer"], row["answer"]),
            row["earned"],
            row["possible"],
            clause_id,
            _local(row["answered_at"], tz),
            row["notes"] or "",
            row["photos"],
        )


def _category_rows(
    rows: Iterable[Any], tz: ZoneInfo, categories: dict[str, str], script: Callable[[str], str]
) -> Iterable[Sequence[Any]]:
    for row in rows:
        yield (
            row["inspection_id"],
            row["site"],
            _local(row["submitted_at"], tz),
            row["edition"],
            row["category_id"],
            script(categories.get(row["category_id"], row["category_id"])),
            row["earned"],
            row["possible"],
            _pct(row["earned"], row["possible"]),
        )


def _duty_rows(
    rows: Iterable[Any], tz: ZoneInfo, title: Callable[[str], str], statuses: dict[str, str], now: str
) -> Iterable[Sequence[Any]]:
    for row in rows:
        status = "overdue" if row["status"] == "open" and now and row["due_at"] <= now else row["status"]
        yield (
            row["site"],
            title(row["rule_id"]),
            row["period"],
            row["due_date"],
            statuses.get(status, status),
            _local(row["done_at"], tz),
        )
