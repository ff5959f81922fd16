"""/export never writes what people typed as a live formula: names, sites, regions and notes are text cells."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from bot.i18n import Texts
from tests.fixtures_reports import ADMIN, INSPECTOR, open_report_world

LINK = '=HYPERLINK("http://x","y")'
NOTE = "=1+1"


@pytest.fixture
async def world(tmp_path):
    world = await open_report_world(tmp_path)
    yield world
    await world.db.close()


def headers() -> dict[str, list[str]]:
    texts = Texts()
    sheets = ("inspections", "answers", "categories", "duties", "answer_names", "duty_status")
    return {sheet: texts.render("zh-hans", f"reports.xlsx_{sheet}").split("|") for sheet in sheets}


async def export(world, tmp_path) -> bytes:
    target = tmp_path / "all.xlsx"
    await world.flow.export(ADMIN, "all", "zh-hans", headers(), target)
    return target.read_bytes()


async def test_formula_looking_names_and_notes_are_exported_as_text(world, tmp_path):
    site_id = world.company.sites["翠湖天地"]
    await world.db.execute("UPDATE sites SET name = ?, region = ? WHERE id = ?", (LINK, "+SUM(1,2)", site_id))
    await world.db.execute("UPDATE users SET first_name = ? WHERE id = ?", ("@cmd", INSPECTOR))
    await world.db.execute("UPDATE notes SET text = ? WHERE id = (SELECT MIN(id) FROM notes)", (NOTE,))
    await world.db.execute("UPDATE notes SET text = ? WHERE id = (SELECT MAX(id) FROM notes)", ("#N/A",))
    data = await export(world, tmp_path)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert sheets and all(b"<f>" not in archive.read(name) and b"<f " not in archive.read(name) for name in sheets)
    book = load_workbook(io.BytesIO(data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows(min_row=2) for cell in row]
    by_value = {}
    for cell in cells:
        by_value.setdefault(cell.value, set()).add(cell.data_type)
    for value in (LINK, "+SUM(1,2)", "@cmd", NOTE, "#N/A"):
        assert by_value.get(value) == {"s"}, value
    assert {c.data_type for c in cells if isinstance(c.value, str)} == {"s"}
    assert not any(cell.hyperlink for cell in cells)


async def test_leading_tab_minus_and_line_breaks_keep_their_text(world, tmp_path):
    texts = ("-2+3", "\tTAB", "第一行\r\n第二行", "\r回车", "响铃\x07")
    for index, text in enumerate(texts):
        await world.db.execute(
            "UPDATE notes SET text = ? WHERE id = (SELECT id FROM notes ORDER BY id LIMIT 1 OFFSET ?)", (text, index)
        )
    book = load_workbook(io.BytesIO(await export(world, tmp_path)))
    notes = {cell.value: cell.data_type for row in book["答案"].iter_rows(min_row=2) for cell in row[11:12]}
    # Excel keeps line breaks as LF (an XML reader turns a CR into one anyway); control characters
    # other than tab and line breaks cannot be stored in a workbook at all.
    for expected in ("-2+3", "\tTAB", "第一行\n第二行", "\n回车", "响铃"):
        assert notes.get(expected) == "s", (expected, notes)
