"""The documents managers receive: the HTML report (in real headless Chromium), the chart, the workbook."""

from __future__ import annotations

import io
import re
import subprocess
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.flows.reports.chart import cjk_font, trend_chart
from bot.flows.reports.html import chromium_command, chromium_path, embedded_photo, html_to_pdf
from bot.flows.reports.periods import Quarter
from bot.i18n import Texts
from tests.fixtures_reports import ADMIN, open_report_world

CHROMIUM = chromium_path()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")


@pytest.fixture
async def setup(tmp_path):
    world = await open_report_world(tmp_path)
    yield world.flow, world.company, world.db
    await world.db.close()


def dump_dom(page: Path, tmp_path: Path) -> str:
    assert CHROMIUM is not None
    command = chromium_command(
        CHROMIUM, tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


@needs_chromium
async def test_the_report_renders_in_chromium_with_every_image(setup, tmp_path):
    flow, company, _ = setup
    latest = company.latest("翠湖天地")
    report = await flow.inspection_report(ADMIN, latest.inspection_id)
    html = await flow.render_report(report, "zh-hans")
    assert html.count("data:image/jpeg;base64,") == 3
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    dom = dump_dom(page, tmp_path)
    assert 'data-images="3:0"' in dom  # three pictures, none broken
    text = re.sub(r"<[^>]+>", " ", dom)
    assert "督导报告 · 翠湖天地" in text and "王督导" in text
    assert f"问题项（{len(report.findings)} 条）" in text
    first = report.findings[0]
    assert first.clause.text in text and first.notes[0][0] in text
    # Findings come before the clause-by-clause record, and every clause is listed.
    assert text.index("问题项（") < text.index("逐条记录")
    assert all(clause.text in text for clause in report.rubric.clauses)
    assert "评分细则" in text and "第 2 版" in text and report.rubric.content_hash in text


@needs_chromium
async def test_the_report_prints_to_pdf(setup, tmp_path):
    flow, company, _ = setup
    report = await flow.inspection_report(ADMIN, company.latest("海景湾").inspection_id)
    pdf = await html_to_pdf(await flow.render_report(report, "en"), tmp_path)
    assert pdf is not None and pdf.startswith(b"%PDF")


async def test_report_languages_and_missing_photos(setup, tmp_path):
    flow, company, db = setup
    report = await flow.inspection_report(ADMIN, company.latest("翠湖天地").inspection_id)
    traditional = await flow.render_report(report, "zh-hant")
    assert "督導報告" in traditional and "問題項" in traditional
    english = await flow.render_report(report, "en")
    assert "Inspection report" in english and "Findings (" in english
    # A photo whose file is gone shows a note, never a broken image.
    await db.execute("UPDATE photos SET sha256 = 'ffff' || substr(sha256, 5)")
    report = await flow.inspection_report(ADMIN, company.latest("翠湖天地").inspection_id)
    html = await flow.render_report(report, "zh-hans")
    assert "data:image" not in html and html.count("照片文件缺失或无法读取") == 3
    assert embedded_photo(flow.files, None) is None


def test_the_chart_is_a_png_with_chinese_labels():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = trend_chart(
            [("2026-Q2", 70.0), ("2026-Q3", None), ("2026-Q4", 86.4)],
            "翠湖天地 · 各季度得分",
            [("优秀", 90), ("良好", 80)],
        )
    assert png.startswith(b"\x89PNG")
    if cjk_font() is None:
        pytest.skip("no CJK font installed (.ci/run installs fonts-noto-cjk)")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []


async def test_the_workbook_has_its_sheets_and_rows(setup, tmp_path):
    flow, company, db = setup
    texts = Texts()
    headers = {
        sheet: texts.render("zh-hans", f"reports.xlsx_{sheet}").split("|")
        for sheet in ("inspections", "answers", "categories", "duties", "answer_names", "duty_status")
    }
    target = tmp_path / "q4.xlsx"
    label = await flow.export(ADMIN, "2026-Q4", "zh-hans", headers, target)
    assert label == "2026-Q4"
    book = load_workbook(io.BytesIO(target.read_bytes()))
    assert book.sheetnames == ["督导", "答案", "类别得分", "周期工作"]
    inspections, answers, categories = book["督导"], book["答案"], book["类别得分"]
    assert [c.value for c in inspections[1]][:4] == ["督导编号", "项目", "区域", "督导员"]
    assert inspections.freeze_panes == "A2" and answers.freeze_panes == "A2"
    assert inspections.column_dimensions["B"].width == 22
    q4 = company.in_quarter(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert inspections.max_row == 1 + len(q4)
    ids = ",".join(str(s.inspection_id) for s in q4)
    stored = await db.fetchval(f"SELECT COUNT(*) FROM answers WHERE inspection_id IN ({ids})")
    assert answers.max_row == 1 + stored == 1 + 65 * len(q4)
    assert {row[6] for row in answers.iter_rows(min_row=2, values_only=True)} <= {
        "符合",
        "基本符合",
        "不符合",
        "不适用",
    }
    assert categories.max_row > 1 + len(q4)
    everything = tmp_path / "all.xlsx"
    assert await flow.export(ADMIN, "all", "zh-hans", headers, everything) == "all"
    assert load_workbook(everything)["督导"].max_row == 1 + len(company.inspections)


def test_quarter_labels():
    assert Quarter(2026, 4).code == "2026Q4" and Quarter(2026, 4).label == "2026-Q4"
