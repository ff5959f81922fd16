"""The managers' commands through the real Application and the Bot API stand-in, on a seeded company."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot.clock import ManualClock, iso
from bot.flows.reports.html import chromium_path
from bot.flows.reports.views import RANKING_PAGE
from bot.handlers.reports.views import report_button, send_due_digests, split_message
from config.settings import ReportSettings
from rubric.registry import RubricRegistry
from tests.conftest import ADMIN_ID, BotUnderTest
from tests.fixtures_reports import (
    CHIEF,
    EAST_MANAGER,
    HAIJING_MANAGER,
    INSPECTOR,
    NOW,
    OK,
    PARTIAL,
    SOUTH_MANAGER,
    STAFF,
)
from tests.harness.botapi import FakeBotAPI
from tests.harness.models import BotMessage
from tests.seeding import add_site, answers_by_pattern, seed_inspection


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def document_of(api: FakeBotAPI, message: BotMessage) -> tuple[str, bytes]:
    assert message.kind == "document", message
    assert message.document is not None
    return message.document["file_name"], api.file_bytes(message.document["file_id"])


async def test_summary_with_drill_down_buttons(company_bot):
    bot, _ = company_bot
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans")
    await chief.send_command("summary")
    summary = await chief.wait_reply()
    text = summary.text
    assert "2026 年第 4 季度汇总" in text and "（本季度）" in text
    assert "已督导 4 次 · 进行中 1 次" in text
    assert "全公司得分" in text and "等级分布：优秀" in text
    assert "已督导 4/6，未督导 2 个：未来城、滨江壹号" in text
    # The third weakest place is a tie of four categories: all are named, each with its drill-down.
    assert "最弱的类别" in text and "\n3. 并列：4 个类别同为 73.3%" in text
    assert len(text) < 1000  # one screen
    labels = summary.buttons
    assert {"🏆 排名", "📉 薄弱条款", "⏳ 未督导项目（2）", "📥 导出 Excel", "◀ 2026-Q3"} <= set(labels)
    assert sum(label.startswith("🔍") for label in labels) == 6

    await chief.press("🏆 排名")
    ranking = await chief.wait_reply()
    assert not ranking.edited and "2026 年第 4 季度项目排名（共 4 个）" in ranking.text
    assert "1. 阳光花园" in ranking.text and "海景湾" in ranking.text and "新" in ranking.text

    await chief.press("📉 薄弱条款", summary.message_id)
    weak = await chief.wait_reply()
    assert "薄弱条款" in weak.text and "个项目 · 不符合" in weak.text

    category_label = next(label for label in labels if label.startswith("🔍"))
    await chief.press(category_label, summary.message_id)
    one_category = await chief.wait_reply()
    assert category_label.removeprefix("🔍 ").rsplit(" ", 1)[0] in one_category.text

    await chief.press("⏳ 未督导项目（2）", summary.message_id)
    pending = await chief.wait_reply()
    assert "· 未来城" in pending.text and "· 滨江壹号" in pending.text

    await chief.press("◀ 2026-Q3", summary.message_id)
    previous = await chief.wait_reply()
    assert previous.edited and "2026 年第 3 季度汇总" in previous.text and "本季度" not in previous.text
    assert "2026-Q4 ▶" in previous.buttons
    await chief.send_command("summary", "2026-Q2")
    q2 = await chief.wait_reply()
    assert "2026 年第 2 季度汇总" in q2.text and "已督导 2 次" in q2.text  # edition 1 inspections count too
    bot.api.assert_no_errors()


async def test_a_regional_manager_never_sees_another_region(company_bot):
    bot, company = company_bot
    east = bot.api.person(EAST_MANAGER, "东区经理", language_code="zh-hans")
    await east.send_command("summary")
    text = (await east.wait_reply()).text
    assert "已督导 2 次" in text and "已督导 2/4" in text
    await east.send_command("ranking")
    ranking = await east.wait_reply()
    assert "阳光花园" in ranking.text and "南山公馆" not in ranking.text and "海景湾" not in ranking.text
    await east.send_command("site", "南山")
    assert "没有与“南山”相近的名称" in (await east.wait_reply()).text
    # Forged or foreign buttons and ids are refused, and say why.
    query = await east.press_data(f"rv:{company.sites['南山公馆']}", ranking.message_id)
    assert "不能查看这个项目" in (await east.wait_callback_answer(query)).text
    south_report = company.latest("南山公馆").inspection_id
    await east.send_command("report", str(south_report))
    assert "不能查看这个项目" in (await east.wait_reply()).text
    query = await east.press_data(f"rp:{south_report}", ranking.message_id)
    assert "不能查看这个项目" in (await east.wait_callback_answer(query)).text
    # A manager of one site sees just that site.
    one = bot.api.person(HAIJING_MANAGER, "海景湾经理", language_code="zh-hans")
    await one.send_command("ranking")
    text = (await one.wait_reply()).text
    assert "海景湾" in text and "阳光花园" not in text and "南山公馆" not in text
    bot.api.assert_no_errors()


async def test_ranking_pages_edit_in_place(company_bot):
    bot, _ = company_bot
    svc = bot.services
    rubric = svc.rubrics.get(2)
    for n in range(RANKING_PAGE + 2):
        site_id = await add_site(svc.db, f"新项目{n:02d}", "华北", iso(NOW))
        when = datetime(2026, 11, 4, 3, tzinfo=UTC) + timedelta(hours=n)
        await seed_inspection(svc.db, rubric, site_id, INSPECTOR, when, answers_by_pattern(rubric, (OK, PARTIAL), n))
    chief = bot.api.person(CHIEF, "Chief", language_code="en")
    await chief.send_command("ranking")
    first = await chief.wait_reply()
    assert "Site ranking, 2026 Q4 (16 sites) (page 1/2)" in first.text
    assert first.button_rows[-1] == ["1/2", "▶"]
    await chief.press("▶")
    second = await chief.wait_reply()
    assert second.edited and second.message_id == first.message_id and "(page 2/2)" in second.text
    assert len(second.text.split("\n")) < len(first.text.split("\n"))  # the 6 left of 16, ties share a rank
    # A double tap on the page it shows changes nothing and says nothing wrong.
    await chief.press("2/2")
    await chief.assert_no_reply(0.3)
    # A site button opens the site.
    site_button = second.buttons[0]
    await chief.press(site_button)
    view = await chief.wait_reply()
    assert "Latest inspection" in view.text
    bot.api.assert_no_errors()


async def test_weak_clauses_show_sites_and_text(company_bot):
    bot, _ = company_bot
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hant")
    await chief.send_command("weak")
    weak = await chief.wait_reply()
    assert "2026 年第 4 季度薄弱條款" in weak.text and "已督導 4 個項目" in weak.text
    assert "1. " in weak.text and "個項目 · 不符合" in weak.text
    await chief.send_command("weak", "2026-Q9")
    assert "不是季度" in (await chief.wait_reply()).text
    await chief.send_command("weak", "2030-Q1")
    assert "還沒有到" in (await chief.wait_reply()).text
    bot.api.assert_no_errors()


async def test_site_view_with_findings_and_trend_chart(company_bot):
    bot, company = company_bot
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans")
    await chief.send_command("site", "翠湖")
    view = await chief.wait_reply()
    latest = company.latest("翠湖天地")
    assert "📍 翠湖天地（华东）" in view.text and "王督导" in view.text
    assert f"问题项 {sum(a.is_finding for a in latest.answers.values())} 条" in view.text
    assert "翠湖天地：第 1 处问题" in view.text  # the notes
    assert "证据：照片 3 张" in view.text
    chart = await chief.wait_reply()
    assert chart.kind == "photo" and "📈 趋势：2026-Q2" in chart.content and "→ 2026-Q4" in chart.content
    assert chart.buttons == ["📄 完整报告"]
    png = bot.api.file_bytes(chart.file_id)
    assert png.startswith(b"\x89PNG")
    # Fuzzy: Traditional script and a gap in the name still find it.
    await chief.send_command("site", "翠天地")
    assert "📍 翠湖天地" in (await chief.wait_reply()).text
    await chief.wait_reply()  # its chart
    # Several matches: buttons.
    await add_site(bot.services.db, "阳光城", "华东", iso(NOW))
    await chief.send_command("site", "陽光")
    choices = await chief.wait_reply()
    assert "有 2 个项目与“陽光”相符" in choices.text and set(choices.buttons) == {"阳光花园", "阳光城"}
    await chief.press("阳光城")
    assert "这个项目还没有提交的督导" in (await chief.wait_reply()).text  # and no empty chart
    await chief.send_command("site", "不存在的项目")
    assert "没有与“不存在的项目”相近的名称" in (await chief.wait_reply()).text
    bot.api.assert_no_errors()


async def test_bare_site_command_lists_or_asks(company_bot):
    bot, _ = company_bot
    one = bot.api.person(HAIJING_MANAGER, "海景湾经理", language_code="zh-hans")
    await one.send_command("site")
    assert (await one.wait_reply()).buttons == ["海景湾"]
    for n in range(6):
        await add_site(bot.services.db, f"华北{n}号", "华北", iso(NOW))
    # Twelve sites: two pages of buttons, and a typed name works as well.
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans")
    await chief.send_command("site")
    first = await chief.wait_reply()
    assert "请选择要查看的项目（共 12 个（第 1/2 页））" in first.text and "直接发送项目名称" in first.text
    assert len([label for label in first.buttons if label not in ("1/2", "▶")]) == 10
    await chief.press("▶", first.message_id)
    second = await chief.wait_reply()
    assert second.edited and "第 2/2 页" in second.text and len(second.buttons) == 2 + 2
    await chief.send_text("海景")
    assert "📍 海景湾" in (await chief.wait_reply()).text
    await chief.wait_reply()
    await chief.send_text("海景")  # the question was answered: free text is no longer a site search
    assert "没有进行中的操作" in (await chief.wait_reply()).text
    bot.api.assert_no_errors()


async def test_full_report_as_html_and_its_bad_inputs(company_bot):
    bot, company = company_bot
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans")
    latest = company.latest("翠湖天地")
    await chief.send_command("report", str(latest.inspection_id))
    document = await chief.wait_reply()
    name, data = document_of(bot.api, document)
    assert name.endswith(f"-{latest.inspection_id}.html") and name.startswith("翠湖天地-2026-11-10")
    html = data.decode("utf-8")
    assert "督导报告 · 翠湖天地" in html and html.count("data:image/jpeg;base64,") == 3
    assert "翠湖天地 督导报告" in document.content
    await chief.send_command("report")
    assert "请在命令后写督导编号" in (await chief.wait_reply()).text
    await chief.send_command("report", "abc")
    assert "“abc”不是督导编号" in (await chief.wait_reply()).text
    await chief.send_command("report", "99999")
    assert "找不到编号为 99999 的督导" in (await chief.wait_reply()).text
    draft = await bot.services.db.fetchval("SELECT id FROM inspections WHERE status = 'draft'")
    await chief.send_command("report", f"#{draft}")
    assert "还没有提交" in (await chief.wait_reply()).text
    bot.api.assert_no_errors()


async def test_report_button_for_the_inspector_and_managers(company_bot):
    bot, company = company_bot
    latest = company.latest("海景湾").inspection_id
    markup = report_button(bot.services.texts, "en", latest)
    assert markup.inline_keyboard[0][0].callback_data == f"rp:{latest}"
    assert markup.inline_keyboard[0][0].text == "📄 Full report"
    inspector = bot.api.person(INSPECTOR, "王督导", language_code="zh-hans", started=True)
    await bot.app.bot.send_message(
        INSPECTOR, "已提交", reply_markup=report_button(bot.services.texts, "zh-hans", latest)
    )
    notice = await inspector.wait_reply()
    await inspector.press("📄 完整报告", notice.message_id)
    name, data = document_of(bot.api, await inspector.wait_reply())
    assert name.endswith(".html") and "海景湾" in data.decode()
    # Another inspector may not open it; a double tap sends it again, harmlessly.
    await bot.add_person(7002, "inspector", "李督导")
    other = bot.api.person(7002, "李督导", language_code="zh-hans", started=True)
    query = await other.press_data(f"rp:{latest}", notice.message_id, chat=INSPECTOR)
    assert "不能查看" in (await other.wait_callback_answer(query)).text
    bot.api.assert_no_errors()


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (.ci/run installs it)")
async def test_report_also_as_pdf_when_chromium_is_there(company_bot):
    bot, company = company_bot
    svc = bot.services
    svc.settings = replace(svc.settings, reports=ReportSettings(pdf=True))  # the documents read it there
    chief = bot.api.person(CHIEF, "Chief", language_code="en")
    await chief.send_command("report", str(company.latest("南山公馆").inspection_id))
    html_name, _ = document_of(bot.api, await chief.wait_reply())
    pdf_name, pdf = document_of(bot.api, await chief.wait_reply(timeout=60))
    assert html_name.endswith(".html") and pdf_name.endswith(".pdf") and pdf.startswith(b"%PDF")


async def test_export_workbook(company_bot):
    bot, company = company_bot
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans")
    await chief.send_command("export")
    name, data = document_of(bot.api, await chief.wait_reply(timeout=20))
    assert name.startswith("dudao-2026-Q4-") and name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["督导", "答案", "类别得分", "周期工作"]
    assert book["督导"].max_row == 1 + 4 and book["答案"].max_row == 1 + 4 * 65
    await chief.send_command("export", "all")
    _, data = document_of(bot.api, await chief.wait_reply(timeout=20))
    assert load_workbook(io.BytesIO(data))["督导"].max_row == 1 + len(company.inspections)
    await chief.send_command("export", "last year")
    assert "不是季度" in (await chief.wait_reply()).text
    # A regional manager's workbook holds their region only.
    south = bot.api.person(SOUTH_MANAGER, "南区经理", language_code="zh-hans")
    await south.send_command("summary")
    summary = await south.wait_reply()
    await south.press("📥 导出 Excel", summary.message_id)
    _, data = document_of(bot.api, await south.wait_reply(timeout=20))
    sites = {row[1] for row in load_workbook(io.BytesIO(data))["督导"].iter_rows(min_row=2, values_only=True)}
    assert sites == {"南山公馆", "海景湾"}
    bot.api.assert_no_errors()


async def test_roles_and_strangers(company_bot):
    bot, _ = company_bot
    staff = bot.api.person(STAFF, "客服小李", language_code="zh-hans")
    for command in ("summary", "ranking", "weak", "site", "export", "report"):
        await staff.send_command(command)
        assert "您的角色不能使用这个功能" in (await staff.wait_reply()).text
    stranger = bot.api.person(4242, "路人", language_code="zh-hans")
    await stranger.send_command("summary")
    assert "还没有登记" in (await stranger.wait_reply()).text
    query = await stranger.press_data("rk:2026Q4:0", None)
    assert "还没有登记" in (await stranger.wait_callback_answer(query)).text
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans")
    await chief.send_command("help")
    help_text = (await chief.wait_reply()).text
    assert all(f"/{name}" in help_text for name in ("summary", "ranking", "weak", "site", "report", "export"))
    admin = bot.api.person(ADMIN_ID, "老板", language_code="zh-hans")
    await admin.send_command("summary")
    assert "已督导 4 次" in (await admin.wait_reply()).text
    # A stale quarter button from a forged or very old message is answered, not crashed on.
    query = await admin.press_data("rs:2031Q1", None)
    assert "还没有到" in (await admin.wait_callback_answer(query)).text
    bot.api.assert_no_errors()


async def test_weekly_digest_once_per_manager_and_week(company_bot, clock):
    bot, _ = company_bot
    svc = bot.services
    people = {
        uid: bot.api.person(uid, name, language_code=lang, started=True)
        for uid, name, lang in (
            (CHIEF, "品质总监", "zh-hans"),
            (EAST_MANAGER, "东区经理", "en"),
            (SOUTH_MANAGER, "南区经理", "zh-hans"),
            (HAIJING_MANAGER, "海景湾经理", "zh-hant"),
        )
    }
    # Managers who never wrote to the bot get their language from what was stored with their grant.
    await svc.db.execute("UPDATE users SET language = 'en' WHERE id = ?", (EAST_MANAGER,))
    await svc.db.execute("UPDATE users SET language = 'zh-hant' WHERE id = ?", (HAIJING_MANAGER,))
    # The database "exists" since long before, so the latest scheduled moment is due.
    await svc.db.execute("UPDATE schema_migrations SET applied_at = '2020-01-01T00:00:00+00:00'")
    clock.set(datetime(2026, 11, 16, 1, 30, tzinfo=UTC))  # Monday 09:30 in Shanghai: covers 9-15 November
    assert await send_due_digests(bot.app) == 4
    chief = await people[CHIEF].wait_reply()
    assert "每周督导简报 · 11-09 至 11-15" in chief.text
    assert "期内提交督导 1 次" in chief.text
    assert "翠湖天地" in chief.text and "南山公馆" not in chief.text  # submitted 2 November: the week before
    east = await people[EAST_MANAGER].wait_reply()
    assert "Weekly inspection digest" in east.text and "翠湖天地" in east.text
    south = await people[SOUTH_MANAGER].wait_reply()
    assert "期内提交督导 0 次" in south.text
    assert "每週督導簡報" in (await people[HAIJING_MANAGER].wait_reply()).text
    # Again, and after a restart: nothing is sent twice.
    assert await send_due_digests(bot.app) == 0
    await bot.restart()
    assert await send_due_digests(bot.app) == 0
    await people[CHIEF].assert_no_reply(0.2)
    # The next week's moment sends the next digest.
    clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    assert await send_due_digests(bot.app) == 4
    assert "11-16 至 11-22" in (await people[CHIEF].wait_reply()).text
    assert await svc_count(bot, "SELECT COUNT(*) FROM report_digests") == 8


async def svc_count(bot: BotUnderTest, sql: str) -> int:
    return int(await bot.services.db.fetchval(sql))


async def test_digest_never_reaches_back_before_the_database(company_bot, clock):
    bot, _ = company_bot
    bot.api.person(CHIEF, "品质总监", started=True)
    clock.set(datetime(2026, 11, 16, 1, 30, tzinfo=UTC))
    born = await bot.services.db.fetchval("SELECT MIN(applied_at) FROM schema_migrations")
    if born < "2026-11-16T01:00:00+00:00":
        pytest.skip("the machine's clock is before the test's scheduled moment")
    assert await send_due_digests(bot.app) == 0


def test_long_texts_are_split_below_the_limit():
    text = "\n".join(f"第 {n} 行 " + "很长的备注" * 20 for n in range(200))
    pieces = split_message(text)
    assert len(pieces) > 1 and all(len(piece) <= 4000 for piece in pieces)
    assert "\n".join(pieces) == text
    assert split_message("短") == ["短"]


def test_rubric_registry_is_shared():
    assert RubricRegistry.load().get(2).edition == 2
