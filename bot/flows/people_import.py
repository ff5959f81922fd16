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
===============  =====================================  =================================================

Other columns (notes, phone numbers...) are ignored. Each sheet of a workbook is read; sheets
without any of these headers (an instructions sheet) are skipped.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock, iso
from bot.flows.access import Caller, Role
from bot.flows.people_audit import Audit, AuditAction
from bot.flows.people_refusals import Denied, PeopleRefusedError
from bot.flows.people_sites import NAME_MAX, REGION_MAX
from storage.people import ImportChanges, ImportCounts, PeopleRepository, SiteRow

MAX_ROWS = 5000
MAX_FILE_BYTES = 5 * 1024 * 1024
IMPORT_SUFFIXES = (".xlsx", ".csv")


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-:：]", "", text.casefold())


_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "telegram_id": ("telegram_id", "telegramid", "telegram", "tg_id", "tgid", "id", "用户id", "用戶id", "电报id"),
    "name": ("name", "姓名", "名字", "人员", "人員"),
    "role": ("role", "角色"),
    "site": ("site", "项目", "項目", "项目名称", "項目名稱", "小区", "小區", "部门", "部門", "site_name"),
    "region": ("region", "区域", "區域", "片区", "片區"),
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


# -- reading --------------------------------------------------------------------------------------


def read_rows(file_name: str, data: bytes) -> tuple[list[SourceRow], list[RowError]]:
    """Rows with at least one value, keyed by column; errors for a file without usable headers."""
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    tables = list(_xlsx_tables(data)) if suffix == "xlsx" else [(None, _csv_table(data))]
    named = len([t for t in tables if any(any(cell for cell in row) for row in t[1])]) > 1
    rows: list[SourceRow] = []
    recognised = False
    for sheet, table in tables:
        if not table:
            continue
        columns = {index: HEADERS.get(_norm(cell)) for index, cell in enumerate(table[0])}
        if not any(columns.values()):
            continue
        recognised = True
        for number, cells in enumerate(table[1:], start=2):
            values = {
                column: cells[index].strip()
                for index, column in columns.items()
                if column and index < len(cells) and cells[index].strip()
            }
            if values:
                rows.append(SourceRow(sheet if named else None, number, values))
    if not recognised:
        return [], [RowError(None, 1, "no_columns")]
    if not rows:
        return [], [RowError(None, 0, "empty")]
    if len(rows) > MAX_ROWS:
        return [], [RowError(None, 0, "too_many_rows", str(MAX_ROWS))]
    return rows, []


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_tables(data: bytes) -> Iterator[tuple[str, list[list[str]]]]:
    from openpyxl import load_workbook  # imported here: only admins importing need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise UnreadableFileError(f"not an xlsx workbook: {exc}") from exc
    try:
        for sheet in workbook.worksheets:
            table = []
            for index, row in enumerate(sheet.iter_rows(values_only=True)):
                if index > MAX_ROWS + 1:
                    table.append(["x"])  # enough to report "too many rows"
                    break
                table.append([_cell(value) for value in row])
            yield sheet.title, table
    finally:
        workbook.close()


def _csv_table(data: bytes) -> list[list[str]]:
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
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


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

    for row in site_rows:
        name, region = row.values.get("site"), row.values.get("region")
        if name is None:
            errors.append(RowError(row.sheet, row.number, "row_incomplete"))
            continue
        problem = _text_problem(name, NAME_MAX, "site_name") or _text_problem(region, REGION_MAX, "region")
        if problem:
            errors.append(RowError(row.sheet, row.number, problem, name))
            continue
        name = " ".join(name.split())
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
        )
    sheet_order = {sheet: index for index, sheet in enumerate(dict.fromkeys(row.sheet for row in rows))}
    plan.errors.sort(key=lambda e: (sheet_order.get(e.sheet, 0), e.row))
    return plan


def _text_problem(text: str | None, limit: int, what: str) -> str | None:
    if text is None:
        return None
    if len(" ".join(text.split())) > limit:
        return f"{what}_too_long"
    if text.startswith("/") or "\n" in text:
        return f"{what}_invalid"
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
        ids = _ids_in(rows)
        plan = plan_import(rows, sites, await self.repo.known_people(ids))
        if plan.errors:
            return ImportReport(file_name, tuple(plan.errors), None, plan.site_rows, plan.person_rows)
        summary = self.audit.entry(caller.user_id, AuditAction.IMPORT, None, {"file": file_name})
        counts = await self.repo.apply_import(
            plan.changes, caller.user_id, iso(self.clock.now()), summary, str(AuditAction.GRANT)
        )
        return ImportReport(file_name, (), counts, plan.site_rows, plan.person_rows)


def _ids_in(rows: Iterable[SourceRow]) -> list[int]:
    ids = (_telegram_id(row.values["telegram_id"]) for row in rows if "telegram_id" in row.values)
    return [i for i in ids if i is not None]
