"""Reading and checking import files, and applying them all or nothing, without Telegram."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook

from bot.clock import ManualClock, iso
from bot.flows.access import Caller, Role
from bot.flows.people.audit import Audit
from bot.flows.people.importing import ImportFlow, SourceRow, plan_import, read_rows
from storage.db import Database
from storage.people import AuditRepository, PeopleRepository, SiteRow

ADMIN = Caller(1, "老板", "zh-hans", frozenset({Role.ADMIN}))


def rows_of(text: str, name: str = "x.csv", encoding: str = "utf-8") -> list[SourceRow]:
    rows, errors = read_rows(name, text.encode(encoding))
    assert errors == []
    return rows


def site(site_id: int, name: str, region: str | None = None, active: bool = True) -> SiteRow:
    return SiteRow(site_id, name, region, None, None, active)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Telegram ID,Name,Role,Site\n42,Li,staff,A\n", "utf-8"),
        ("\ufeff用户ID,姓名,角色,项目\n42,Li,staff,A\n", "utf-8"),
        ("用戶ID\t姓名\t角色\t項目\n42\tLi\tstaff\tA\n", "utf-8"),
        ("tg_id;name;ROLE;site\n42;Li;staff;A\n", "utf-8"),
        ("用户ID,姓名,角色,项目\n42,Li,staff,A\n", "gb18030"),
    ],
)
def test_csv_headers_encodings_and_delimiters(text, encoding):
    assert rows_of(text, encoding=encoding) == [
        SourceRow(None, 2, {"telegram_id": "42", "name": "Li", "role": "staff", "site": "A"})
    ]


def test_empty_rows_are_skipped_and_row_numbers_follow_the_file():
    rows = rows_of("项目,区域,备注\n阳光花园,华东,x\n,,\n翠湖天地,,y\n")
    assert [(r.number, r.values) for r in rows] == [
        (2, {"site": "阳光花园", "region": "华东"}),
        (4, {"site": "翠湖天地"}),
    ]


def test_files_without_headers_or_rows_or_readable_content():
    assert read_rows("x.csv", "备注,电话\n1,2\n".encode())[1][0].problem == "no_columns"
    assert read_rows("x.csv", "项目,区域\n".encode())[1][0].problem == "empty"
    assert read_rows("x.csv", b"")[1][0].problem == "no_columns"


def test_xlsx_sheets_are_named_only_when_several_have_data():
    book = Workbook()
    book.active.title = "说明"
    book.active.append(["随便写写"])
    people = book.create_sheet("人员")
    people.append(["Telegram ID", "角色", "项目"])
    people.append([42.0, "督导员", "阳光花园"])
    people.append([None, None, None])
    people.append([43, "经理", None])
    buffer = io.BytesIO()
    book.save(buffer)
    rows, errors = read_rows("名单.XLSX", buffer.getvalue())
    assert errors == []
    assert [(r.sheet, r.number, r.values) for r in rows] == [
        ("人员", 2, {"telegram_id": "42", "role": "督导员", "site": "阳光花园"}),
        ("人员", 4, {"telegram_id": "43", "role": "经理"}),
    ]


def test_a_valid_plan_adds_sites_updates_regions_and_merges_duplicates():
    rows = rows_of(
        "项目,区域,Telegram ID,姓名,角色\n"
        "新项目,华南,,,\n"
        "旧项目,华北,,,\n"
        "新项目,,,,\n"
        ",华南,100,张三,经理\n"
        "新项目,,101,李四,客服\n"
        "新项目,,101,李四,项目客服\n"
        ",,102,,督导员\n"
        ",,200,旧人,admin\n"
    )
    plan = plan_import(rows, {"旧项目": site(1, "旧项目", "华东")}, {200: True})
    assert plan.errors == []
    assert plan.changes.new_sites == [("新项目", "华南")]
    assert plan.changes.site_regions == [(1, "华北")]
    assert plan.changes.people == [(100, "张三"), (101, "李四"), (102, "")]
    assert plan.changes.grants == [
        (100, "manager", None, "华南"),
        (101, "staff", "新项目", None),
        (102, "inspector", None, None),
        (200, "admin", None, None),
    ]
    assert (plan.site_rows, plan.person_rows) == (3, 5)


def test_every_bad_row_is_reported_and_nothing_is_planned():
    rows = rows_of(
        "项目,区域,Telegram ID,姓名,角色\n"
        "阳光花园,华东,,,\n"  # 2 fine
        "阳光花园,华南,,,\n"  # 3 conflicting region
        ",华东,,张三,\n"  # 4 neither id nor site
        ",,abc,张三,经理\n"  # 5
        ",,-5,张三,经理\n"  # 6
        ",,101,李四,\n"  # 7
        ",,101,李四,主管\n"  # 8
        ",,101,李四,项目客服\n"  # 9 staff without site
        "阳光花园,,101,李四,管理员\n"  # 10 admin with a site
        "没有的项目,,101,李四,督导员\n"  # 11
        "停用项目,,101,李四,督导员\n"  # 12
        ",西北,101,李四,经理\n"  # 13 unknown region
        ",,300,停用的人,督导员\n"  # 14 deactivated
        f"{'长' * 65},,,,\n"  # 15
    )
    plan = plan_import(rows, {"停用项目": site(9, "停用项目", None, active=False)}, {300: False})
    assert [(e.row, e.problem) for e in plan.errors] == [
        (3, "site_region_conflict"),
        (4, "row_incomplete"),
        (5, "bad_id"),
        (6, "bad_id"),
        (7, "missing_role"),
        (8, "bad_role"),
        (9, "staff_needs_site"),
        (10, "admin_scope"),
        (11, "unknown_site"),
        (12, "site_inactive"),
        (13, "unknown_region"),
        (14, "deactivated"),
        (15, "site_name_too_long"),
    ]
    assert plan.changes.grants == [] and plan.changes.new_sites == []


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


async def test_apply_is_all_or_nothing(db):
    clock = ManualClock(datetime(2026, 5, 6, 1, 0, tzinfo=UTC))
    repo = PeopleRepository(db)
    flow = ImportFlow(repo, Audit(AuditRepository(db), clock, UTC), clock)
    await db.execute("INSERT INTO sites (name, created_at) VALUES ('阳光花园', ?)", (iso(clock.now()),))
    bad = "项目,Telegram ID,角色\n翠湖天地,,\n阳光花园,100,项目客服\n阳光花园,101,老板\n".encode()
    report = await flow.run(ADMIN, "a.csv", bad)
    assert report.counts is None and [e.row for e in report.errors] == [4]
    assert await db.fetchval("SELECT COUNT(*) FROM sites") == 1
    assert await db.fetchval("SELECT COUNT(*) FROM users") == 0
    assert await db.fetchval("SELECT COUNT(*) FROM audit_log") == 0

    good = bad.replace("老板".encode(), "督导员".encode())
    report = await flow.run(ADMIN, "a.csv", good)
    assert report.counts is not None and report.counts.grants_added == 2 and report.counts.sites_added == 1
    again = await flow.run(ADMIN, "a.csv", good)
    assert again.counts is not None and again.counts.grants_added == 0 and again.counts.grants_unchanged == 2
    assert again.counts.sites_added == 0
    assert await db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'import'") == 2


async def test_only_admins_may_import(db):
    clock = ManualClock(datetime(2026, 5, 6, 1, 0, tzinfo=UTC))
    flow = ImportFlow(PeopleRepository(db), Audit(AuditRepository(db), clock, UTC), clock)
    manager = Caller(2, "经理", "zh-hans", frozenset({Role.MANAGER}))
    with pytest.raises(Exception, match="not_allowed"):
        await flow.run(manager, "a.csv", b"Telegram ID,role\n5,admin\n")
