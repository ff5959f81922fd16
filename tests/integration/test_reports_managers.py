"""Issue #13, the managers' part: what a manager reads on /summary /ranking /weak /site /report /export and
in the weekly digest, played through the real Application and the Bot API stand-in on the seeded company."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from bot.clock import ManualClock, iso
from bot.handlers.reports.views import send_due_digests
from config.settings import DigestSettings
from rubric.model import Rubric
from tests.conftest import BotUnderTest
from tests.fixtures_reports import (
    CHIEF,
    EAST_MANAGER,
    HAIJING_MANAGER,
    INSPECTOR,
    NA,
    NOW,
    OK,
    PARTIAL,
    SOUTH_MANAGER,
)
from tests.seeding import Seeded, add_person, add_site, seed_inspection

NORTH_MANAGER = 7301  # region 华北: one site, 北辰花园, whose categories tie
NORTH_READER = 7302  # the same region, reading in English (a person's language is fixed in the stand-in)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def strict(rubric: Rubric) -> Rubric:
    """The rubric with a minimum coverage of 60%, as a company may configure it."""
    return replace(rubric, scoring=replace(rubric.scoring, min_coverage=60))


async def seed_incomplete(bot: BotUnderTest, site_id: int, when: datetime) -> Seeded:
    """30 clauses answered, the other 35 不适用: 30/65 = 46% applicable, below the 60% minimum."""
    rubric = strict(bot.services.rubrics.get(2))
    answers = {c.id: (PARTIAL if i % 3 == 0 else OK) if i < 30 else NA for i, c in enumerate(rubric.clauses)}
    return await seed_inspection(bot.services.db, rubric, site_id, INSPECTOR, when, answers)


async def add_north(bot: BotUnderTest) -> int:
    """北辰花园 in 华北: the first seven categories all 基本符合 (50%), every other one 符合 (100%)."""
    svc = bot.services
    site_id = await add_site(svc.db, "北辰花园", "华北", iso(NOW))
    await add_person(svc.db, NORTH_MANAGER, "北区经理", "manager", iso(NOW), region="华北")
    await add_person(svc.db, NORTH_READER, "North", "manager", iso(NOW), region="华北")
    rubric = svc.rubrics.get(2)
    weak = {category.id for category in rubric.categories[:7]}
    answers = {c.id: PARTIAL if c.category_id in weak else OK for c in rubric.clauses}
    await seed_inspection(svc.db, rubric, site_id, INSPECTOR, datetime(2026, 11, 12, 3, tzinfo=UTC), answers)
    return site_id


# -- 1. the score names what it covers ----------------------------------------------------------


async def test_the_summary_names_whose_score_it_is(company_bot):
    bot, _ = company_bot
    east = bot.api.person(EAST_MANAGER, "东区经理", language_code="zh-hans")
    await east.send_command("summary")
    text = (await east.wait_reply()).text
    assert "华东得分" in text and "公司得分" not in text
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans")
    await chief.send_command("summary")
    assert "全公司得分" in (await chief.wait_reply()).text
    one = bot.api.person(HAIJING_MANAGER, "海景湾经理", language_code="zh-hant")
    await one.send_command("summary")
    assert "海景湾得分" in (await one.wait_reply()).text
    south = bot.api.person(SOUTH_MANAGER, "南区经理", language_code="en")
    await south.send_command("summary")
    text = (await south.wait_reply()).text
    assert "华南 score" in text and "Company score" not in text
    bot.api.assert_no_errors()


# -- 2. the digest lists the days its header names ----------------------------------------------


async def test_the_digest_lists_exactly_the_days_its_header_names(company_bot, clock):
    bot, company = company_bot
    svc = bot.services
    # Sent on Sundays at 09:00: the digest of 29 November, headed 11-22 to 11-28.
    svc.digests.settings = replace(svc.digests.settings, digest=DigestSettings(day=6))
    await svc.db.execute("UPDATE schema_migrations SET applied_at = '2020-01-01T00:00:00+00:00'")
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans", started=True)
    for uid in (EAST_MANAGER, SOUTH_MANAGER, HAIJING_MANAGER):
        bot.api.person(uid, "经理", language_code="zh-hans", started=True)
    rubric = svc.rubrics.get(2)
    answers = {c.id: OK for c in rubric.clauses}

    async def submitted(site: str, utc: datetime) -> int:
        seeded = await seed_inspection(svc.db, rubric, company.sites[site], INSPECTOR, utc, answers)
        return seeded.inspection_id

    # Times in UTC; Shanghai is 8 hours ahead, so the UTC dates are one day off from the local ones.
    first_day = await submitted("南山公馆", datetime(2026, 11, 21, 23, 0, tzinfo=UTC))  # 22 Nov 07:00 local
    last_day = await submitted("海景湾", datetime(2026, 11, 28, 15, 30, tzinfo=UTC))  # 28 Nov 23:30 local
    digest_day = await submitted("阳光花园", datetime(2026, 11, 28, 23, 30, tzinfo=UTC))  # 29 Nov 07:30 local
    before = await submitted("翠湖天地", datetime(2026, 11, 21, 15, 30, tzinfo=UTC))  # 21 Nov 23:30 local

    clock.set(datetime(2026, 11, 29, 1, 30, tzinfo=UTC))  # Sunday 29 November, 09:30 in Shanghai
    assert await send_due_digests(bot.app) == 4
    text = (await chief.wait_reply()).text
    assert "每周督导简报 · 11-22 至 11-28" in text and "期内提交督导 2 次" in text
    assert f"编号 {first_day}）" in text and f"编号 {last_day}）" in text
    assert f"编号 {digest_day}）" not in text and f"编号 {before}）" not in text
    # The digest day's early hours come in the next digest: none is lost between two weeks.
    clock.set(datetime(2026, 12, 6, 1, 30, tzinfo=UTC))
    assert await send_due_digests(bot.app) == 4
    text = (await chief.wait_reply()).text
    assert "11-29 至 12-05" in text and f"编号 {digest_day}）" in text and "期内提交督导 1 次" in text


# -- 3. tied weakest categories -------------------------------------------------------------------


async def test_the_weakest_categories_say_when_they_tie(company_bot):
    bot, _ = company_bot
    await add_north(bot)
    north = bot.api.person(NORTH_MANAGER, "北区经理", language_code="zh-hans")
    await north.send_command("summary")
    summary = await north.wait_reply()
    assert "1. 并列：7 个类别同为 50.0%" in summary.text
    assert "· 一(一)制度建设" in summary.text and "· 二(一)客户投诉管理" not in summary.text
    assert "…另有 1 个" in summary.text  # six named, the seventh counted
    assert "\n2. " not in summary.text and "\n3. " not in summary.text  # the tie is not cut at three
    drill_downs = [label for label in summary.buttons if label.startswith("🔍")]
    assert len(drill_downs) == 6 and all(label.endswith(" 50.0%") for label in drill_downs)
    await north.press("🔍 一(一)制度建设 50.0%", summary.message_id)
    assert "薄弱条款 · 一(一)制度建设" in (await north.wait_reply()).text
    english = bot.api.person(NORTH_READER, "North", language_code="en")
    await english.send_command("summary")
    text = (await english.wait_reply()).text
    assert "1. Tied: 7 categories at 50.0%" in text and "· 1(1) Policies and rules" in text
    assert "…and 1 more" in text
    bot.api.assert_no_errors()


# -- 4. a bare /site asks which site ------------------------------------------------------------


async def test_a_bare_site_command_asks_which_site(company_bot):
    bot, _ = company_bot
    east = bot.api.person(EAST_MANAGER, "东区经理", language_code="zh-hans")
    await east.send_command("site")
    prompt = await east.wait_reply()
    assert prompt.text.startswith("请选择要查看的项目") and "“”" not in prompt.text and "相符" not in prompt.text
    assert sorted(prompt.buttons) == sorted(["阳光花园", "翠湖天地", "滨江壹号", "未来城"])
    await east.press("翠湖天地", prompt.message_id)
    assert "📍 翠湖天地" in (await east.wait_reply()).text
    await east.wait_reply()  # its chart
    # A name chosen by button answered the question: free text is no longer a site search.
    await east.send_text("阳光")
    assert "没有进行中的操作" in (await east.wait_reply()).text
    english = bot.api.person(SOUTH_MANAGER, "South", language_code="en")
    await english.send_command("site")
    prompt = await english.wait_reply()
    assert prompt.text.startswith("Choose a site") and sorted(prompt.buttons) == ["南山公馆", "海景湾"]
    bot.api.assert_no_errors()


# -- 5. coverage ---------------------------------------------------------------------------------


async def test_an_incomplete_inspection_is_marked_on_every_managers_screen(company_bot):
    bot, company = company_bot
    incomplete = await seed_incomplete(bot, company.sites["海景湾"], datetime(2026, 11, 12, 3, tzinfo=UTC))
    south = bot.api.person(SOUTH_MANAGER, "南区经理", language_code="zh-hans")

    await south.send_command("site", "海景湾")
    view = (await south.wait_reply()).text
    assert "覆盖：适用 30/65 条 · ⚠️ 覆盖不足（不完整）" in view
    await south.wait_reply()  # the chart

    await south.send_command("summary")
    summary = await south.wait_reply()
    assert re.search(r"华南得分 [0-9.]+% ⚠️", summary.text)
    assert "其中 1 次督导覆盖不足（不完整）" in summary.text

    await south.send_command("ranking")
    ranking = (await south.wait_reply()).text
    assert re.search(r"海景湾 [0-9.]+% ⚠️", ranking) and not re.search(r"南山公馆 [0-9.]+% ⚠️", ranking)
    assert "⚠️ 表示该项目本季度有覆盖不足" in ranking

    await south.send_command("report", str(incomplete.inspection_id))
    document = await south.wait_reply()
    assert "⚠️ 覆盖不足" in document.content
    html = bot.api.file_bytes(document.document["file_id"]).decode()
    assert "适用 30 · 不适用 35 / 共 65 条" in html and "覆盖不足（不完整）" in html
    assert "低于评分细则要求的 60%" in html

    await south.send_command("export")
    document = await south.wait_reply(timeout=20)
    sheet = load_workbook(io.BytesIO(bot.api.file_bytes(document.document["file_id"])))["督导"]
    header = [cell.value for cell in sheet[1]]
    assert header[-5:] == ["已作答", "不适用", "条款数", "覆盖不足", "重复问题扣分"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[incomplete.inspection_id][-5:] == (65, 35, 65, "✔", None)  # no repeat-finding deduction
    complete = company.latest("南山公馆").inspection_id
    assert rows[complete][-5:] == (65, 0, 65, None, None)
    bot.api.assert_no_errors()


async def test_inspections_from_before_coverage_was_recorded_show_nothing_extra(company_bot):
    bot, company = company_bot
    svc = bot.services
    rubric = svc.rubrics.get(2)
    old = await seed_inspection(
        svc.db,
        rubric,
        company.sites["南山公馆"],
        INSPECTOR,
        datetime(2026, 11, 13, 3, tzinfo=UTC),
        {c.id: OK for c in rubric.clauses},
        coverage=False,
    )
    south = bot.api.person(SOUTH_MANAGER, "南区经理", language_code="zh-hans")
    await south.send_command("site", "南山")
    view = (await south.wait_reply()).text
    assert "总分" in view and "覆盖" not in view and "⚠️ 覆盖不足" not in view
    await south.wait_reply()
    await south.send_command("report", str(old.inspection_id))
    html = bot.api.file_bytes((await south.wait_reply()).document["file_id"]).decode()
    assert "<dt>覆盖</dt>" not in html and "覆盖不足" not in html
    await south.send_command("export")
    sheet = load_workbook(io.BytesIO(bot.api.file_bytes((await south.wait_reply(timeout=20)).document["file_id"])))
    rows = {row[0]: row for row in sheet["督导"].iter_rows(min_row=2, values_only=True)}
    assert rows[old.inspection_id][-4:] == (None, None, None, None)
    bot.api.assert_no_errors()


# -- 6. categories under their sections -----------------------------------------------------------


async def test_site_scores_are_grouped_by_section_weakest_first(company_bot):
    bot, _ = company_bot
    await add_north(bot)
    north = bot.api.person(NORTH_MANAGER, "北区经理", language_code="zh-hans")
    await north.send_command("site", "北辰")
    text = (await north.wait_reply()).text
    await north.wait_reply()  # the chart
    internal, onsite = text.index("一、内部管理"), text.index("二、现场管理")
    scores = text[internal : text.index("问题项")]
    # Each (一) sits under its own heading, and the categories below full come first, marked.
    assert internal < text.index("⚠️ (一)制度建设 50.0%") < onsite < text.index("(一)客户投诉管理 100.0%")
    assert scores.index("⚠️ (七)岗位形象 50.0%") < scores.index("✅ (八)服务意识 100.0%")
    assert "✅ (八)服务意识 100.0%" in scores and "(七)岗位形象" in scores[: scores.index("二、现场管理")]
    assert "⚠️ 未满分" in text
    bot.api.assert_no_errors()


# -- 7. English screens ---------------------------------------------------------------------------


def chinese_labels(rubric: Rubric) -> list[str]:
    """Every way a grade, section or category label could show in Chinese on the managers' screens."""
    labels = [band.label for band in rubric.scoring.grades if band.label != "良好"]  # 良好 is in a clause text
    labels += [section.label for section in rubric.sections]
    labels += [category.label for category in rubric.categories]
    labels += [f"{category.code}{category.title}" for category in rubric.categories]
    return labels


async def test_english_screens_have_no_chinese_labels(company_bot, clock):
    bot, _ = company_bot
    site_id = await add_north(bot)
    svc = bot.services
    labels = chinese_labels(svc.rubrics.get(2))
    north = bot.api.person(NORTH_READER, "North", language_code="en", started=True)
    texts = []
    for command, argument in (("summary", None), ("ranking", None), ("weak", None), ("site", "北辰")):
        await north.send_command(command, *([argument] if argument else []))
        texts.append((await north.wait_reply()).text)
    texts.append((await north.wait_reply()).content)  # the chart's caption
    await north.send_command("summary")
    summary = await north.wait_reply()
    await north.press(next(label for label in summary.buttons if label.startswith("🔍")), summary.message_id)
    texts.append((await north.wait_reply()).text)
    texts += summary.buttons
    for text in texts:
        assert not [label for label in labels if label in text], text
    assert "Good" in texts[0] or "Excellent" in texts[0]
    assert "(1 site)" in texts[1] and "1 site inspected" in texts[2]
    assert "1. Internal management" in texts[3] and "⚠️ (1) Policies and rules 50.0%" in texts[3]

    # The full report in English: headings, grade and categories in English; clause texts stay Chinese.
    inspection_id = await svc.db.fetchval("SELECT id FROM inspections WHERE site_id = ?", (site_id,))
    await north.send_command("report", str(inspection_id))
    html = bot.api.file_bytes((await north.wait_reply()).document["file_id"]).decode()
    headings = " ".join(re.findall(r"<(?:h[123]|td|span class=\"grade\")[^>]*>([^<]*)<", html))
    assert not [label for label in labels if label in headings], headings
    assert "1. Internal management" in headings and "(1) Policies and rules" in headings

    # The weekly digest in English.
    await svc.db.execute("UPDATE schema_migrations SET applied_at = '2020-01-01T00:00:00+00:00'")
    clock.set(datetime(2026, 11, 16, 1, 30, tzinfo=UTC))
    await send_due_digests(bot.app)
    digest = (await north.wait_reply()).text
    assert "Submitted in these seven days: 1 inspection," in digest
    assert not [label for label in labels if label in digest], digest


async def test_the_trend_chart_names_grades_in_the_readers_language(company_bot, monkeypatch):
    import bot.flows.reports.chart as chart

    drawn: list[list[tuple[str, float]]] = []
    real = chart.trend_chart

    def spy(points, title, bands=(), no_data=""):
        drawn.append(list(bands))
        return real(points, title, bands, no_data)

    monkeypatch.setattr(chart, "trend_chart", spy)
    bot, _ = company_bot
    chief = bot.api.person(CHIEF, "Chief", language_code="en")
    await chief.send_command("site", "翠湖")
    await chief.wait_reply()
    assert (await chief.wait_reply()).kind == "photo"
    assert [label for label, _ in drawn[-1]] == ["Excellent", "Good", "Pass"]
