"""Reading import files defensively: damaged files, oversized cells, hostile workbooks, formula-looking names.

The hostile workbooks are written here with zipfile, part by part, so the test files stay a few KB.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook

from bot.clock import ManualClock
from bot.flows.access import Caller, Role
from bot.flows.people import importing as people_import
from bot.flows.people.audit import Audit
from bot.flows.people.importing import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    ImportFlow,
    ImportReport,
    RowError,
    plan_import,
    read_rows,
)
from bot.i18n import Texts
from storage.db import Database
from storage.people import AuditRepository, PeopleRepository

ADMIN = Caller(1, "老板", "zh-hans", frozenset({Role.ADMIN}))
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx(sheets: dict[str, bytes], shared: list[str] | bytes | None = None, absolute: bool = False) -> bytes:
    """A workbook as Excel writes one: ``sheets`` maps names to their <sheetData> content."""
    names = list(sheets)
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
        + "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1))
        + "</sheets></workbook>"
    )
    prefix = "/xl/" if absolute else ""
    rels = [
        f'<Relationship Id="rId{i}" Type="{DOC_RELS}/worksheet" Target="{prefix}worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    ]
    if shared is not None:
        rels.append(f'<Relationship Id="rIdS" Type="{DOC_RELS}/sharedStrings" Target="{prefix}sharedStrings.xml"/>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types(len(names), shared is not None))
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{RELS}">{"".join(rels)}</Relationships>')
        for index, content in enumerate(sheets.values(), 1):
            archive.writestr(f"xl/worksheets/sheet{index}.xml", sheet_xml(content))
        if isinstance(shared, list):
            items = "".join(f"<si><t>{text}</t></si>" for text in shared)
            archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{items}</sst>')
        elif shared is not None:
            archive.writestr("xl/sharedStrings.xml", shared)
    return buffer.getvalue()


def content_types(sheets: int, shared: bool) -> str:
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = [("/xl/workbook.xml", "sheet.main")] + [
        (f"/xl/worksheets/sheet{i}.xml", "worksheet") for i in range(1, sheets + 1)
    ]
    parts += [("/xl/sharedStrings.xml", "sharedStrings")] if shared else []
    return (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{name}" ContentType="{kind}.{part}+xml"/>' for name, part in parts)
        + "</Types>"
    )


def sheet_xml(content: bytes) -> bytes:
    return (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>'.encode() + content + b"</sheetData></worksheet>"
    )


def inline(text: str, ref: str = "") -> str:
    where = f' r="{ref}"' if ref else ""
    return f'<c{where} t="inlineStr"><is><t>{text}</t></is></c>'


def problems(name: str, data: bytes) -> list[tuple[str | None, int, str]]:
    rows, errors = read_rows(name, data)
    assert rows == []
    return [(e.sheet, e.row, e.problem) for e in errors]


# -- workbooks as Excel and WPS write them ----------------------------------------------------------


def test_shared_strings_rich_text_and_numbers_as_excel_writes_them():
    shared = (
        f'<sst xmlns="{MAIN}"><si><t>Telegram ID</t></si><si><t>角色</t></si>'
        "<si><r><t>项目</t></r><r><rPr><b/></rPr><t>名称</t></r><rPh sb='0' eb='1'><t>xiang</t></rPh></si>"
        "<si><t>督导员</t></si><si><t xml:space='preserve'>  阳光 花园 </t></si></sst>"
    ).encode()
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
        '<row r="3"><c r="A3"><v>42</v></c><c r="B3" t="s"><v>3</v></c><c r="C3" t="s"><v>4</v></c></row>'
        '<row r="4"><c r="A4"><v>7202.0</v></c><c r="B4" t="str"><f>B3</f><v>督导员</v></c><c r="D4" s="3"/></row>'
    )
    read, errors = read_rows("名单.xlsx", xlsx({"人员": rows.encode()}, shared, absolute=True))
    assert errors == []
    assert [(r.sheet, r.number, r.values) for r in read] == [
        (None, 3, {"telegram_id": "42", "role": "督导员", "site": "阳光 花园"}),
        (None, 4, {"telegram_id": "7202", "role": "督导员"}),
    ]


def test_the_header_may_sit_below_blank_rows_and_empty_sheets_are_skipped():
    sheets = {
        "说明": inline("请按下表填写").join(["<row r='1'>", "</row>"]).encode(),
        "空": b"",
        "项目": (
            "<row r='2'>" + inline("项目") + inline("区域") + "</row><row r='3'>" + inline("A") + "</row>"
        ).encode(),
    }
    read, errors = read_rows("x.xlsx", xlsx(sheets))
    assert errors == [] and [(r.sheet, r.number, r.values) for r in read] == [("项目", 3, {"site": "A"})]


# -- damaged files: a clear refusal, never an exception ---------------------------------------------


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">'.encode() for n in range(9))
    + f'<sst xmlns="{MAIN}"><si><t>&j;</t></si></sst>'.encode()
)


def damaged_workbooks() -> dict[str, bytes]:
    book = Workbook()
    for row in (["项目", "区域"], ["阳光花园", "华东"], ["翠湖天地", "华东"]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    good = buffer.getvalue()
    truncated = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(truncated, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                content = content[: content.index(b"</row>") + 20]  # cut in the middle of the second row
            target.writestr(item.filename, content)
    no_workbook = io.BytesIO()
    with zipfile.ZipFile(no_workbook, "w") as archive:
        archive.writestr("hello.txt", "a zip, not a workbook")
    return {
        "truncated sheet xml": truncated.getvalue(),
        "truncated archive": good[: len(good) - 200],
        "zip without workbook": no_workbook.getvalue(),
        "not a zip": b"PK\x03\x04 not really",
        "bad shared string index": xlsx({"s": b"<row r='1'><c t='s'><v>7</v></c></row>"}, ["项目"]),
        "not xml": xlsx({"s": b"\x00\x01binary"}),
        "billion laughs": xlsx({"s": b""}, LAUGHS),
    }


@pytest.mark.parametrize("name", list(damaged_workbooks()))
async def test_a_damaged_workbook_is_refused_as_unreadable(name, tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        clock = ManualClock(datetime(2026, 5, 6, 1, 0, tzinfo=UTC))
        flow = ImportFlow(PeopleRepository(database), Audit(AuditRepository(database), clock, UTC), clock)
        report = await flow.run(ADMIN, "x.xlsx", damaged_workbooks()[name])
        assert report.counts is None
        assert [(e.row, e.problem) for e in report.errors] == [(0, "unreadable")]
        assert await database.fetchval("SELECT COUNT(*) FROM sites") == 0
    finally:
        await database.close()


# -- limits ---------------------------------------------------------------------------------------


def test_a_csv_cell_beyond_the_csv_modules_field_limit_is_refused_with_its_row():
    data = ("项目,备注\nA,short\nB," + "长" * 200_000 + "\n").encode()
    assert problems("x.csv", data) == [(None, 3, "cell_too_long")]


def test_cells_longer_than_the_cap_are_refused_in_csv_and_xlsx():
    long = "x" * (MAX_CELL_CHARS + 1)
    assert problems("x.csv", f"项目,备注\nA,{long}\n".encode()) == [(None, 2, "cell_too_long")]
    workbook = xlsx({"s": ("<row r='1'>" + inline("项目") + "</row><row r='5'>" + inline(long) + "</row>").encode()})
    assert problems("x.xlsx", workbook) == [(None, 5, "cell_too_long")]
    shared = xlsx(
        {"s": b"<row r='1'><c t='s'><v>0</v></c></row><row r='2'><c t='s'><v>1</v></c></row>"}, ["项目", long]
    )
    assert problems("x.xlsx", shared) == [(None, 2, "cell_too_long")]
    fine = "x" * MAX_CELL_CHARS
    assert read_rows("x.csv", f"项目,备注\nA,{fine}\n".encode())[1] == []


def test_values_beyond_the_last_column_read_are_refused_empty_formatted_cells_are_not():
    far = "<c r='BA2' s='1'/><c r='ZZ2' s='2'/>"  # formatting only: Excel writes these
    sheets = {
        "项目": ("<row r='1'>" + inline("项目") + "</row><row r='2'>" + inline("A") + far + "</row>").encode(),
        "人员": (
            "<row r='1'>" + inline("项目") + "</row><row r='7'>" + inline("B") + inline("x", "AY7") + "</row>"
        ).encode(),
    }
    assert problems("x.xlsx", xlsx(sheets)) == [("人员", 7, "too_many_columns")]
    cells = ",".join(["项目"] + [""] * MAX_COLUMNS + ["x"])
    assert problems("x.csv", f"{cells}\n".encode()) == [(None, 1, "too_many_columns")]
    padded = ",".join(["项目"] + [""] * 200)  # trailing empty columns are fine
    assert read_rows("x.csv", f"{padded}\nA\n".encode())[1] == []


def test_a_row_of_millions_of_cells_is_refused_quickly_in_little_memory():
    row = b"<row r='1'>" + inline("项目").encode() + b"<c/>" * 3_000_000 + b"</row>"
    data = xlsx({"s": row})
    assert len(data) < 100_000  # deflate shrinks the 12 MB sheet to a few KB: the upload limit does not help
    tracemalloc.start()
    started = time.perf_counter()
    try:
        assert problems("x.xlsx", data) == [(None, 1, "too_many_columns")]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 20 * 1024 * 1024, peak


def test_a_zip_bomb_is_refused_before_parsing():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (MAX_UNPACKED_BYTES + 1))
    assert len(buffer.getvalue()) < 200_000
    started = time.perf_counter()
    rows, errors = read_rows("x.xlsx", buffer.getvalue())
    assert rows == [] and errors == [RowError(None, 0, "too_big_unpacked", str(MAX_UNPACKED_BYTES // 2**20))]
    assert time.perf_counter() - started < 1


def test_millions_of_tiny_shared_strings_or_empty_rows_stop_at_the_element_budget(monkeypatch):
    monkeypatch.setattr(people_import, "MAX_XML_ELEMENTS", 10_000)  # the real one takes seconds to reach
    strings = f'<sst xmlns="{MAIN}">'.encode() + b"<si><t>a</t></si>" * 2_000_000 + b"</sst>"
    shared = xlsx({"s": b"<row r='1'><c t='s'><v>0</v></c></row>"}, strings)  # 34 MB unpacked: under 50
    empty_rows = xlsx({"s": b"<row r='1'/>" * 3_000_000})
    for data in (shared, empty_rows):
        started = time.perf_counter()
        assert problems("x.xlsx", data) == [(None, 0, "too_big_unpacked")]
        assert time.perf_counter() - started < 1


def test_the_largest_file_allowed_fits_the_element_budget():
    header = "<row r='1'>" + inline("项目") + "".join(inline(f"备注{n}") for n in range(2, MAX_COLUMNS + 1)) + "</row>"
    cells = "".join(inline("x") for _ in range(2, MAX_COLUMNS + 1))
    body = "".join(f"<row r='{n}'>{inline(f'S{n}')}{cells}</row>" for n in range(2, MAX_ROWS + 2))
    rows, errors = read_rows("x.xlsx", xlsx({"s": (header + body).encode()}))
    assert errors == [] and len(rows) == MAX_ROWS


def test_too_many_rows_over_all_sheets():
    body = "".join(f"<row r='{n}'>{inline(f'S{n}')}</row>" for n in range(2, MAX_ROWS // 2 + 2))
    sheet = ("<row r='1'>" + inline("项目") + "</row>" + body).encode()
    assert problems("x.xlsx", xlsx({"a": sheet, "b": sheet, "c": sheet})) == [(None, 0, "too_many_rows")]
    csv = "项目\n" + "\n".join(f"S{n}" for n in range(MAX_ROWS + 1))
    assert problems("x.csv", csv.encode()) == [(None, 0, "too_many_rows")]


# -- formula-looking names ------------------------------------------------------------------------


def test_formula_looking_names_are_refused_with_their_row():
    rows, errors = read_rows(
        "x.csv",
        (
            "项目,区域,Telegram ID,姓名,角色\n"
            '"=HYPERLINK(""http://x"",""y"")",华东,,,\n'  # 2
            "阳光花园,@SUM(A1),,,\n"  # 3
            "+86 广场,-东区-,,,\n"  # 4 fine: + and - are ordinary text here
            "\t=1+1,,,,\n"  # 5 the tab is trimmed; what is left is a formula
            "\t翠湖天地,,,,\n"  # 6 fine: only the tab is trimmed
            ",,100,=cmd|' /C calc'!A0,督导员\n"  # 7
            ",,101,-小李,督导员\n"  # 8 fine
            "响\x07铃,,,,\n"  # 9 a control character
            ",,102,王\x1b五,督导员\n"  # 10
        ).encode(),
    )
    assert errors == []
    plan = plan_import(rows, {}, {})
    assert [(e.row, e.problem, e.value) for e in plan.errors] == [
        (2, "formula", '=HYPERLINK("http://x…'),  # shortened in the reply
        (3, "formula", "@SUM(A1)"),
        (5, "formula", "=1+1"),
        (7, "formula", "=cmd|' /C calc'!A0"),
        (9, "control_chars", ""),
        (10, "control_chars", ""),
    ]
    fine = [row for row in rows if row.number in (4, 6, 8)]
    plan = plan_import(fine, {}, {})
    assert plan.errors == [] and plan.changes.new_sites == [("+86 广场", "-东区-"), ("翠湖天地", None)]
    assert plan.changes.people == [(101, "-小李")]


def test_a_long_formula_is_shortened_in_the_reply():
    rows, _ = read_rows("x.csv", ("项目\n=" + "A" * 60 + "\n").encode())
    (error,) = plan_import(rows, {}, {}).errors
    assert error.problem == "formula" and error.value == "=" + "A" * 19 + "…"


# -- the replies ----------------------------------------------------------------------------------

NEW_PROBLEMS = ("unreadable", "too_big_unpacked", "too_many_columns", "cell_too_long", "formula", "control_chars")


@pytest.mark.parametrize("lang", ["zh-hans", "zh-hant", "en"])
def test_every_reading_problem_has_a_text_in_every_language(lang):
    texts = Texts()
    for problem in NEW_PROBLEMS:
        error = RowError("人员", 3, problem, "50")
        assert texts.render(lang, "people.import_problem", error=error) not in ("", problem), problem
    report = ImportReport("a.xlsx", (RowError("人员", 3, "formula", "=1+1"),), None, 0, 0)
    text = texts.render(lang, "people.import_report", report=report, shown=report.errors)
    assert "=1+1" in text and ("=" in text.split("=1+1", 1)[1])  # the value and the reason both show
