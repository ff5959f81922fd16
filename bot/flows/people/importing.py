"""Bulk import of sites and people from an .xlsx or .csv file: every row is checked first, and the
whole file is applied in one transaction, or nothing is.

Columns (header names are matched ignoring case, spaces, ``_`` and ``-``; Chinese headers work):

===============  =====================================  =================================================
column           headers accepted                       meaning
===============  =====================================  =================================================
``telegram_id``  telegram_id, Telegram ID, TG ID, ID,   a person's Telegram user id. Empty: the row is a
                 用户ID, 用戶ID                          site row
``name``         name, 姓名, 名字                        the person's name until they write to the bot
``role``         role, 角色                              admin/manager/inspector/staff, 管理员/经理/督导员/
                                                        项目客服 (also 客服, 督导; Traditional too)
``site``         site, 项目, 项目名称, 小区, 部门         a site row: the site to add or update; a person
                                                        row: the site the role is tied to
``region``       region, 区域, 片区                      a site row: the site's region; a person row
                                                        without site: the region a manager or inspector covers
``frequency``    frequency, 频次, 督导频次               a site row: its inspection plan's frequency (monthly,
                                                        quarterly, half-yearly, yearly, 月度, 季度, 半年度,
                                                        年度, or a cron expression); empty: unchanged
``inspector``    inspector, 督导员ID, 计划督导员          a site row: the Telegram ID of the inspector its plan
                                                        assigns (someone known to the bot or in the file);
                                                        empty: unchanged
===============  =====================================  =================================================

Other columns (notes, phone numbers...) are ignored. Each sheet of a workbook is read; sheets
without any of these headers (an instructions sheet) are skipped.

Files come from people: reading is bounded. A workbook is read straight from its XML with a streaming
parser (see :class:`_Workbook`), never more than :data:`MAX_UNPACKED_BYTES` unpacked or
:data:`MAX_XML_ELEMENTS` elements; at most :data:`MAX_ROWS` rows, :data:`MAX_COLUMNS` columns and
:data:`MAX_CELL_CHARS` characters a cell. A file over a limit, or damaged, is refused with a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import lzma
import posixpath
import pyexpat
import re
import zipfile
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TypeVar

from bot.clock import Clock, iso
from bot.flows.access import Caller, Role
from bot.flows.people.audit import Audit, AuditAction
from bot.flows.people.refusals import Denied, PeopleRefusedError
from bot.flows.people.sites import NAME_MAX, REGION_MAX
from config.plans import parse_frequency
from storage.people import ImportChanges, ImportCounts, PeopleRepository, SiteRow

MAX_ROWS = 5000
MAX_FILE_BYTES = 5 * 1024 * 1024
IMPORT_SUFFIXES = (".xlsx", ".csv")
MAX_COLUMNS = 50  # a value further right is refused; empty (formatted) cells there are ignored
MAX_CELL_CHARS = 1000
# An .xlsx is a zip: 5 MB of it can unpack to gigabytes (a "zip bomb"), checked before parsing.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
# XML elements parsed in all (rows, cells, texts, empty ones included). Each costs 2-4 µs: this bounds the
# time (a few seconds on a small server) and the shared-text table kept in memory (two elements a text).
# The largest file allowed, 5,000 rows of 50 texts, has 750,000 (three a cell, as openpyxl writes them).
MAX_XML_ELEMENTS = 1_000_000
EXCEL_COLUMNS = 16_384  # Excel's own limit: a row with more cells is no real spreadsheet
FORMULA_STARTS = ("=", "@")  # what spreadsheets read as a formula; never the start of a real name
# Control characters: invisible, and a workbook cannot even store most of them. Tab and line breaks
# are whitespace, trimmed or folded into a space like any other.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SHORT_VALUE = 20  # characters of a bad value quoted in the reply


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-:：]", "", text.casefold())


_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "telegram_id": ("telegram_id", "telegramid", "telegram", "tg_id", "tgid", "id", "用户id", "用戶id", "电报id"),
    "name": ("name", "姓名", "名字", "人员", "人員"),
    "role": ("role", "角色"),
    "site": ("site", "项目", "項目", "项目名称", "項目名稱", "小区", "小區", "部门", "部門", "site_name"),
    "region": ("region", "区域", "區域", "片区", "片區"),
    # Inspection plans (督导计划, bot/flows/plans): a site row's plan.
    "frequency": ("frequency", "plan_frequency", "频次", "頻次", "督导频次", "督導頻次"),
    "inspector": ("inspector", "inspector_id", "plan_inspector", "督导员id", "督導員id", "计划督导员", "計劃督導員"),
}
HEADERS: dict[str, str] = {_norm(alias): column for column, aliases in _HEADER_ALIASES.items() for alias in aliases}

_ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "admin": ("admin", "管理员", "管理員"),
    "manager": ("manager", "经理", "經理", "区域经理", "區域經理", "品质部", "品質部"),
    "inspector": ("inspector", "督导员", "督導員", "督导", "督導"),
    "staff": ("staff", "项目客服", "項目客服", "客服", "客服主管", "客服人员", "客服人員", "site staff"),
}
ROLE_NAMES: dict[str, str] = {_norm(alias): role for role, aliases in _ROLE_ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class SourceRow:
    sheet: str | None  # None for a CSV file or a workbook with one sheet
    number: int  # as the spreadsheet shows it: the header is row 1
    values: dict[str, str]


@dataclass(frozen=True)
class RowError:
    sheet: str | None
    row: int  # 0: the file as a whole
    problem: str  # macro ``import_problem`` in people.j2 renders it
    value: str = ""


@dataclass
class ImportPlan:
    changes: ImportChanges = field(default_factory=ImportChanges)
    errors: list[RowError] = field(default_factory=list)
    site_rows: int = 0
    person_rows: int = 0


class UnreadableFileError(ValueError):
    """Not a spreadsheet we can read; the message says why (for the log)."""


class FileLimitError(Exception):
    """The file is over one of the reading limits: refused as a whole, ``problem`` says which."""

    def __init__(self, problem: str, value: str, row: int = 0, sheet: str | None = None) -> None:
        super().__init__(problem)
        self.problem, self.value, self.row, self.sheet = problem, value, row, sheet


# What reading a damaged or foreign zip/XML can raise (the limits are not among them).
_DAMAGED = (
    pyexpat.ExpatError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    KeyError,  # a part the workbook names is missing
    ValueError,  # a number that is not one
    IndexError,  # a shared text that does not exist
    RuntimeError,  # an encrypted member
    OSError,
)


# -- reading --------------------------------------------------------------------------------------


def read_rows(file_name: str, data: bytes) -> tuple[list[SourceRow], list[RowError]]:
    """Rows with at least one value, keyed by column; errors for a file without usable headers or over
    a limit. Raises :class:`UnreadableFileError` for a damaged file or one that is no spreadsheet."""
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    several_sheets = False
    try:
        if suffix == "xlsx":
            workbook = _Workbook(data)
            several_sheets = len(workbook.sheets) > 1
            rows, recognised, with_data = _collect(workbook.tables())
        else:
            rows, recognised, with_data = _collect(iter([(None, _csv_rows(data))]))
    except FileLimitError as limit:
        return [], [RowError(limit.sheet if several_sheets else None, limit.row, limit.problem, limit.value)]
    except UnreadableFileError:
        raise
    except _DAMAGED as exc:
        raise UnreadableFileError(f"damaged {suffix or 'csv'} file: {exc!r}") from exc
    if not recognised:
        return [], [RowError(None, 1, "no_columns")]
    if not rows:
        return [], [RowError(None, 0, "empty")]
    if with_data < 2:  # one sheet (or a CSV): row numbers alone say where
        rows = [replace(row, sheet=None) for row in rows]
    return rows, []


# (row number as the spreadsheet shows it, cells) of the rows with a value
Table = Generator[tuple[int, list[str]], None, None]


def _collect(tables: Iterator[tuple[str | None, Table]]) -> tuple[list[SourceRow], bool, int]:
    """(rows with values in known columns, whether any sheet had known headers, sheets with data).

    The header is a sheet's first non-empty row; a sheet without known headers is left right there."""
    rows: list[SourceRow] = []
    recognised, with_data = False, 0
    for sheet, table in tables:
        with contextlib.closing(table):  # a generator: closing it closes its XML stream
            columns: dict[int, str | None] | None = None
            for number, cells in table:
                if columns is None:
                    with_data += 1
                    columns = {index: HEADERS.get(_norm(cell)) for index, cell in enumerate(cells)}
                    if not any(columns.values()):
                        break
                    recognised = True
                    continue
                values = {
                    column: cells[index].strip()
                    for index, column in columns.items()
                    if column and index < len(cells) and cells[index].strip()
                }
                if values:
                    rows.append(SourceRow(sheet, number, values))
                    if len(rows) > MAX_ROWS:  # counted over all sheets: stop reading right away
                        raise FileLimitError("too_many_rows", str(MAX_ROWS))
    return rows, recognised, with_data


def _check_cell(value: str, column: int, row: int, sheet: str | None) -> None:
    """``column`` counts from 1."""
    if len(value) > MAX_CELL_CHARS:
        raise FileLimitError("cell_too_long", str(MAX_CELL_CHARS), row, sheet)
    if column > MAX_COLUMNS and value.strip():
        raise FileLimitError("too_many_columns", str(MAX_COLUMNS), row, sheet)


def _csv_rows(data: bytes) -> Table:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise UnreadableFileError("unknown text encoding")
    if "\x00" in text:
        raise UnreadableFileError("binary data in a CSV file")
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The csv module refuses fields over 128 KB (a process-wide setting, left alone): far over our limit.
            if "field larger than field limit" in str(exc):
                raise FileLimitError("cell_too_long", str(MAX_CELL_CHARS), number + 1) from exc
            raise UnreadableFileError(f"bad CSV: {exc}") from exc
        number += 1
        if len(cells) > EXCEL_COLUMNS:  # no spreadsheet wrote this; checking each cell would only take time
            raise FileLimitError("too_many_columns", str(MAX_COLUMNS), number)
        for column, cell in enumerate(cells, start=1):
            _check_cell(cell, column, number, None)
        if any(cell.strip() for cell in cells):
            yield number, cells[:MAX_COLUMNS]


class _Workbook:
    """The cell texts of an .xlsx file, read from its XML parts in bounded memory and time.

    Not openpyxl: even in read-only mode it builds each ``<row>`` whole before ``max_col`` applies (one
    row of 3 million cells: 1.4 GB), and loads every shared string and style before the first row (a
    45 MB string table: a minute and 300 MB). Here expat calls back for each tag and no element
    objects are built, only the first :data:`MAX_COLUMNS` columns are kept, and parsing stops at the
    limits. Values are what the file stores: a formula's last result, never the formula.
    """

    def __init__(self, data: bytes) -> None:
        self.archive = zipfile.ZipFile(io.BytesIO(data))
        # The sizes the archive declares are enforced while unpacking (zipfile stops there and the
        # CRC check fails), so their sum bounds what can come out.
        if sum(item.file_size for item in self.archive.infolist()) > MAX_UNPACKED_BYTES:
            raise _too_big()
        self.budget = MAX_XML_ELEMENTS
        book = self._read(_Relationships("")).first("officeDocument") or "xl/workbook.xml"
        if book not in self.archive.NameToInfo:
            raise UnreadableFileError("a zip file, but no workbook in it")
        parts = self._read(_Relationships(book))
        sheets = self._read(_SheetList(book))
        self.sheets = [(name, path) for name, rid in sheets.sheets if (path := parts.worksheet(rid, self.archive))]
        strings = parts.first("sharedStrings")
        self.strings = self._read(_SharedStrings(strings)).strings if strings else []

    def tables(self) -> Iterator[tuple[str | None, Table]]:
        for name, path in self.sheets:
            yield name, self._rows(name, path)

    def _rows(self, sheet: str, path: str) -> Table:
        part = _Sheet(path, sheet, self.strings)
        for _ in self._parse(part):
            while part.ready:  # the rows completed by the last chunk: the caller may stop after any
                yield part.ready.pop(0)

    def _read(self, part: _P) -> _P:
        for _ in self._parse(part):
            pass
        return part

    def _parse(self, part: _Part) -> Iterator[None]:
        """Feeds the part to its handlers 64 KB at a time, pausing after each chunk."""
        if part.path is None or part.path not in self.archive.NameToInfo:
            return
        parser = pyexpat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True

        def start(name: str, attributes: dict[str, str]) -> None:
            self.budget -= 1
            if self.budget < 0:
                raise _too_big()
            part.start(name.rpartition("}")[2], attributes)

        parser.StartDoctypeDeclHandler = _no_doctype
        parser.StartElementHandler = start
        parser.EndElementHandler = lambda name: part.end(name.rpartition("}")[2])
        parser.CharacterDataHandler = part.text
        with self.archive.open(part.path) as stream:
            while chunk := stream.read(64 * 1024):
                parser.Parse(chunk, False)
                yield
            parser.Parse(b"", True)
            yield


def _no_doctype(*_: object) -> None:
    # A workbook's XML never has one; a DOCTYPE can only bring entities (a "billion laughs" expansion).
    raise UnreadableFileError("a DOCTYPE in a workbook part")


def _too_big() -> FileLimitError:
    return FileLimitError("too_big_unpacked", str(MAX_UNPACKED_BYTES // (1024 * 1024)))


class _Part:
    """expat's callbacks for one XML part of a workbook (tags without their namespace)."""

    def __init__(self, path: str | None) -> None:
        self.path = path

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        pass

    def end(self, tag: str) -> None:
        pass

    def text(self, data: str) -> None:
        pass


_P = TypeVar("_P", bound=_Part)


class _Relationships(_Part):
    """The ``.rels`` part of ``owner`` ("" for the package): what each relationship id points to."""

    def __init__(self, owner: str) -> None:
        self.folder, _, name = owner.rpartition("/")
        super().__init__(posixpath.join(self.folder, "_rels", f"{name}.rels"))
        self.found: dict[str, tuple[str, str]] = {}  # id -> (kind, e.g. "worksheet"; archive path)

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "Relationship" and attributes.get("TargetMode") != "External":
            target = attributes.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(self.folder, target)
            kind = attributes.get("Type", "").rpartition("/")[2]
            self.found[attributes.get("Id", "")] = (kind, posixpath.normpath(path))

    def first(self, kind: str) -> str | None:
        return next((path for found, path in self.found.values() if found == kind), None)

    def worksheet(self, rid: str, archive: zipfile.ZipFile) -> str | None:
        kind, path = self.found.get(rid, ("", ""))
        return path if kind == "worksheet" and path in archive.NameToInfo else None  # chart sheets have no cells


class _SheetList(_Part):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.sheets: list[tuple[str, str]] = []  # (name, relationship id), in the workbook's order

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "sheet":
            rid = next((value for key, value in attributes.items() if key.endswith("}id")), "")
            self.sheets.append((attributes.get("name", ""), rid))


class _SharedStrings(_Part):
    """The workbook's table of texts; None stands for one over :data:`MAX_CELL_CHARS` (refused if used)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.strings: list[str | None] = []
        self.pieces: list[str] = []
        self.length = 0
        self.phonetic = 0  # inside <rPh>: a reading guide (furigana), not part of the text
        self.in_text = False

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "t":
            self.in_text = not self.phonetic
        elif tag == "rPh":
            self.phonetic += 1

    def end(self, tag: str) -> None:
        if tag == "t":
            self.in_text = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "si":
            self.strings.append("".join(self.pieces) if self.length <= MAX_CELL_CHARS else None)
            self.pieces, self.length = [], 0

    def text(self, data: str) -> None:
        if self.in_text:
            self.length += len(data)
            if self.length <= MAX_CELL_CHARS:
                self.pieces.append(data)


class _Sheet(_Part):
    """A worksheet's rows with a value, as (row number, cells of the first MAX_COLUMNS columns)."""

    def __init__(self, path: str, name: str, strings: list[str | None]) -> None:
        super().__init__(path)
        self.name, self.strings = name, strings
        self.ready: list[tuple[int, list[str]]] = []
        self.row = self.column = self.count = self.phonetic = 0
        self.cells: dict[int, str] = {}
        self.kind, self.pieces, self.length = "n", [""], 0
        self.in_cell = self.in_text = False

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "c":
            self.count += 1
            if self.count > EXCEL_COLUMNS:
                raise FileLimitError("too_many_columns", str(MAX_COLUMNS), self.row, self.name)
            self.column = _column(attributes.get("r")) or self.column + 1
            self.kind, self.pieces, self.length = attributes.get("t", "n"), [], 0
            self.in_cell = True
        elif tag in ("v", "t"):
            self.in_text = self.in_cell and not self.phonetic  # <f>, the formula, is left out
        elif tag == "row":
            self.row = int(attributes.get("r") or self.row + 1)  # ValueError: a damaged file
            self.cells, self.column, self.count = {}, 0, 0
        elif tag == "rPh":
            self.phonetic += 1

    def end(self, tag: str) -> None:
        if tag in ("v", "t"):
            self.in_text = False
        elif tag == "c":
            self.in_cell = False
            value = self._value()
            _check_cell(value, self.column, self.row, self.name)
            if value and self.column <= MAX_COLUMNS:
                self.cells[self.column] = value
        elif tag == "row" and any(value.strip() for value in self.cells.values()):
            self.ready.append((self.row, [self.cells.get(i, "") for i in range(1, max(self.cells) + 1)]))
        elif tag == "rPh":
            self.phonetic -= 1

    def text(self, data: str) -> None:
        if self.in_text:
            self.length += len(data)
            if self.length > MAX_CELL_CHARS:  # refused now: never hold more of it
                raise FileLimitError("cell_too_long", str(MAX_CELL_CHARS), self.row, self.name)
            self.pieces.append(data)

    def _value(self) -> str:
        raw, kind = "".join(self.pieces), self.kind
        if kind == "s" and raw:
            index = int(raw)  # ValueError, IndexError: a damaged file
            if index < 0:
                raise IndexError(f"shared string {raw!r}")
            text = self.strings[index]
            if text is None:
                raise FileLimitError("cell_too_long", str(MAX_CELL_CHARS), self.row, self.name)
            return text
        if kind == "b":
            return "True" if raw == "1" else "False"
        if kind == "n" and raw:
            return _number(raw)
        return raw  # "inlineStr", "str" (a formula's text), "e" (#N/A...), "d" (an ISO date)


def _column(reference: str | None) -> int | None:
    """1 for "A1", 27 for "AA3"; None without a reference."""
    letters = (reference or "").rstrip("0123456789")
    if not letters:
        return None
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _number(raw: str) -> str:
    """A number cell as people typed it: 42, not 42.0 (ids are numbers in a spreadsheet)."""
    try:
        return str(int(raw))
    except ValueError:
        value = float(raw)  # ValueError: not a number, a damaged file
        return str(int(value)) if value.is_integer() else str(value)


# -- checking -------------------------------------------------------------------------------------


def plan_import(rows: list[SourceRow], sites: dict[str, SiteRow], known_people: dict[int, bool]) -> ImportPlan:
    """Check every row against the database as it is (``sites`` by name, ``known_people``: id -> active)
    and the other rows of the file. The plan has changes only when no row has an error."""
    plan = ImportPlan()
    errors = plan.errors
    declared: dict[str, str | None] = {}  # site name -> region, as the file says
    site_rows = [row for row in rows if "telegram_id" not in row.values]
    person_rows = [row for row in rows if "telegram_id" in row.values]
    plan.site_rows, plan.person_rows = len(site_rows), len(person_rows)

    in_file = {i for i in (_telegram_id(row.values["telegram_id"]) for row in person_rows) if i is not None}
    plans: dict[str, tuple[str | None, int | None]] = {}
    for row in site_rows:
        name, region = row.values.get("site"), row.values.get("region")
        if name is None:
            errors.append(RowError(row.sheet, row.number, "row_incomplete"))
            continue
        problem = _text_problem(name, NAME_MAX, "site_name") or _text_problem(region, REGION_MAX, "region")
        problem = problem or _plan_problem(row, known_people, in_file)
        if problem:
            errors.append(RowError(row.sheet, row.number, *problem))
            continue
        name = " ".join(name.split())
        frequency, inspector = _plan_of(row)
        if frequency or inspector:
            before = plans.get(name, (None, None))
            plans[name] = (frequency or before[0], inspector or before[1])
        region = " ".join(region.split()) if region else None
        if name not in declared or declared[name] is None:
            declared[name] = region
        elif region is not None and region != declared[name]:
            errors.append(RowError(row.sheet, row.number, "site_region_conflict", name))

    new_sites = {name: region for name, region in declared.items() if name not in sites}
    region_updates = {
        sites[name].id: region
        for name, region in declared.items()
        if name in sites and region is not None and region != sites[name].region
    }
    active_regions = {s.region for s in sites.values() if s.active and s.region}
    active_regions |= {r for r in new_sites.values() if r} | {r for r in region_updates.values() if r}
    usable_sites = {name for name, site in sites.items() if site.active} | set(new_sites)
    people: dict[int, str] = {}
    grants: list[tuple[int, str, str | None, str | None]] = []
    seen_grants: set[tuple[int, str, str | None, str | None]] = set()
    for row in person_rows:
        problem, grant = _person_row(row, known_people, usable_sites, set(sites), active_regions)
        if problem:
            errors.append(RowError(row.sheet, row.number, *problem))
            continue
        assert grant is not None
        user_id, name = grant[0], row.values.get("name", "")
        if user_id not in known_people and (user_id not in people or not people[user_id]):
            people[user_id] = " ".join(name.split())
        if grant not in seen_grants:
            seen_grants.add(grant)
            grants.append(grant)
    if not errors:
        plan.changes = ImportChanges(
            new_sites=list(new_sites.items()),
            site_regions=list(region_updates.items()),
            people=sorted(people.items()),
            grants=grants,
            plans=[(name, frequency, inspector) for name, (frequency, inspector) in plans.items()],
        )
    sheet_order = {sheet: index for index, sheet in enumerate(dict.fromkeys(row.sheet for row in rows))}
    plan.errors.sort(key=lambda e: (sheet_order.get(e.sheet, 0), e.row))
    return plan


def _plan_problem(row: SourceRow, known_people: dict[int, bool], in_file: set[int]) -> tuple[str, str] | None:
    """A site row's plan columns: a frequency we can read, an inspector we know (or the file adds)."""
    frequency, inspector = row.values.get("frequency"), row.values.get("inspector")
    if frequency:
        try:
            parse_frequency(frequency)
        except ValueError:
            return "bad_frequency", frequency[:SHORT_VALUE]
    if inspector:
        user_id = _telegram_id(inspector)
        if user_id is None:
            return "bad_id", inspector[:SHORT_VALUE]
        if user_id not in in_file and not known_people.get(user_id, False):
            return "unknown_inspector", inspector[:SHORT_VALUE]
    return None


def _plan_of(row: SourceRow) -> tuple[str | None, int | None]:
    frequency, inspector = row.values.get("frequency"), row.values.get("inspector")
    return (
        parse_frequency(frequency).text if frequency else None,
        _telegram_id(inspector) if inspector else None,
    )


def _text_problem(text: str | None, limit: int, what: str) -> tuple[str, str] | None:
    """(problem, value for the reply) of a site or region name, or None when it is fine."""
    if text is None:
        return None
    problem = _unsafe_text(text)
    if problem:
        return problem
    if len(" ".join(text.split())) > limit:
        return f"{what}_too_long", text
    if text.startswith("/") or "\n" in text:
        return f"{what}_invalid", text
    return None


def _unsafe_text(text: str) -> tuple[str, str] | None:
    """A name that a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``@SUM(...)``), or with
    invisible control characters. ``+`` and ``-`` are let through: "+86 广场" or "-" are plausible text,
    and the bot only ever writes names as text (Telegram messages, text cells in /export)."""
    if CONTROL_CHARS.search(text):
        return "control_chars", ""  # not quoted back: the characters are invisible anyway
    if text.startswith(FORMULA_STARTS):
        return "formula", text if len(text) <= SHORT_VALUE else text[:SHORT_VALUE] + "…"
    return None


def _person_row(
    row: SourceRow,
    known_people: dict[int, bool],
    usable_sites: set[str],
    all_sites: set[str],
    regions: set[str],
) -> tuple[tuple[str, str] | None, tuple[int, str, str | None, str | None] | None]:
    values = row.values
    raw_id = values["telegram_id"]
    user_id = _telegram_id(raw_id)
    if user_id is None:
        return ("bad_id", raw_id), None
    if known_people.get(user_id) is False:
        return ("deactivated", str(user_id)), None
    name = values.get("name", "")
    unsafe = _unsafe_text(name)
    if unsafe:
        return unsafe, None
    if len(name) > NAME_MAX:
        return ("name_too_long", name[:20] + "…"), None
    raw_role = values.get("role")
    if raw_role is None:
        return ("missing_role", ""), None
    role = ROLE_NAMES.get(_norm(raw_role))
    if role is None:
        return ("bad_role", raw_role), None
    site = " ".join(values["site"].split()) if "site" in values else None
    region = " ".join(values["region"].split()) if "region" in values and site is None else None
    if role == Role.ADMIN and (site or region):
        return ("admin_scope", raw_role), None
    if role == Role.STAFF and site is None:
        return ("staff_needs_site", ""), None
    if site is not None and site not in usable_sites:
        return ("site_inactive" if site in all_sites else "unknown_site", site), None
    if region is not None and region not in regions:
        return ("unknown_region", region), None
    return None, (user_id, role, site, region)


def _telegram_id(text: str) -> int | None:
    text = text.strip()
    if text.endswith(".0"):  # a number column saved as a float
        text = text[:-2]
    if not text.isdigit() or len(text) > 15:
        return None
    number = int(text)
    return number if number > 0 else None


# -- applying -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    file_name: str
    errors: tuple[RowError, ...]
    counts: ImportCounts | None  # None: nothing applied
    site_rows: int
    person_rows: int


class ImportFlow:
    def __init__(self, repo: PeopleRepository, audit: Audit, clock: Clock) -> None:
        self.repo = repo
        self.audit = audit
        self.clock = clock

    @staticmethod
    def accepts(file_name: str | None) -> bool:
        return bool(file_name) and file_name.lower().endswith(IMPORT_SUFFIXES)  # type: ignore[union-attr]

    async def run(self, caller: Caller, file_name: str, data: bytes) -> ImportReport:
        if Role.ADMIN not in caller.roles:
            raise PeopleRefusedError(Denied.NOT_ALLOWED)
        try:
            # Parsing a large workbook takes a moment: keep the event loop free for everyone else.
            rows, errors = await asyncio.to_thread(read_rows, file_name, data)
        except UnreadableFileError:
            return ImportReport(file_name, (RowError(None, 0, "unreadable"),), None, 0, 0)
        if errors:
            return ImportReport(file_name, tuple(errors), None, 0, 0)
        sites = {site.name: site for site in await self.repo.sites(include_inactive=True)}
        ids = _ids_in(rows) + _plan_inspectors(rows)
        plan = plan_import(rows, sites, await self.repo.known_people(ids))
        if plan.errors:
            return ImportReport(file_name, tuple(plan.errors), None, plan.site_rows, plan.person_rows)
        summary = self.audit.entry(caller.user_id, AuditAction.IMPORT, None, {"file": file_name})
        counts = await self.repo.apply_import(
            plan.changes, caller.user_id, iso(self.clock.now()), summary, str(AuditAction.GRANT)
        )
        return ImportReport(file_name, (), counts, plan.site_rows, plan.person_rows)


def _plan_inspectors(rows: Iterable[SourceRow]) -> list[int]:
    ids = (_telegram_id(row.values["inspector"]) for row in rows if row.values.get("inspector"))
    return [i for i in ids if i is not None]


def _ids_in(rows: Iterable[SourceRow]) -> list[int]:
    ids = (_telegram_id(row.values["telegram_id"]) for row in rows if "telegram_id" in row.values)
    return [i for i in ids if i is not None]
