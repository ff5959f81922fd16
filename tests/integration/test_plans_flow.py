"""Inspection plans through the real Application and the Bot API stand-in, the clock moved across two
quarters: plans set in chat, reminders on working days, a visit done on time, one done late, one
missed and escalated, a failing site moved to monthly, nothing sent twice across a restart."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from openpyxl import load_workbook

from bot.clock import ManualClock
from bot.handlers.reports.views import send_due_digests
from bot.scheduler import tick_now
from config.duties import DutySettings
from config.plans import PlanSettings
from rubric.model import Answer
from tests.conftest import ADMIN_ID, BotUnderTest, make_settings, running_bot
from tests.seeding import answers_by_pattern, seed_inspection

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 4, 1, 8, 0, tzinfo=SHANGHAI)  # Wednesday, the first day of Q2
ZHANG, LI, BOSS = 6101, 6102, 6201
OK, FAIL = Answer.OK, Answer.FAIL


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest_asyncio.fixture
async def bot(botapi, tmp_path, clock) -> AsyncIterator[BotUnderTest]:
    """Duties off (no duty reminder in these chats), plans on, a plain Monday-to-Friday calendar."""
    settings = make_settings(
        botapi,
        tmp_path / "data",
        # The ticks are the test's own (the start's one-off tick aside): no repeating tick races them.
        duties=DutySettings(enabled=False, public_holidays="none", tick_seconds=3600),
        plans=PlanSettings(grace_days=10, nudge_days=3),
    )
    async with running_bot(botapi, settings, clock) as under_test:
        yield under_test


async def tick(bot: BotUnderTest, at: datetime):
    bot.clock.set(at)
    return await tick_now(bot.app)


async def seed(bot: BotUnderTest, site_id: int, inspector: int, when: datetime, passing: bool) -> int:
    svc = bot.services
    rubric = svc.rubrics.get(svc.settings.default_edition)
    answers = answers_by_pattern(rubric, [OK] if passing else [FAIL, FAIL, OK])
    seeded = await seed_inspection(svc.db, rubric, site_id, inspector, when, answers)
    return seeded.inspection_id


def texts(person) -> list[str]:
    return [m.content for m in person.messages]


async def test_two_quarters_of_plans(bot: BotUnderTest):
    sun = await bot.add_site("阳光花园", region="东区")
    lake = await bot.add_site("翠湖天地", region="东区")
    gold = await bot.add_site("金色家园", region="西区")
    await bot.add_person(ZHANG, "inspector", "督导员老张", site_id=sun)
    await bot.add_person(ZHANG, "inspector", "督导员老张", site_id=lake)
    await bot.add_person(LI, "inspector", "督导员小李", region="西区")
    await bot.add_person(BOSS, "manager", "品质经理")
    zhang = bot.api.person(ZHANG, "督导员老张", started=True)
    li = bot.api.person(LI, "督导员小李", started=True)
    boss = bot.api.person(BOSS, "品质经理", started=True)
    admin = bot.api.person(ADMIN_ID, "管理员", started=True)

    # Plans set in chat: the admin opens 阳光花园's plan from its site card and assigns 老张.
    await admin.send_command("editsite", "阳光花园")
    await admin.wait_text("阳光花园")
    await admin.press("督导计划")
    card = await admin.wait_text("督导计划 · 阳光花园")
    assert "每季度（默认）" in card.content and "本项目任一督导员" in card.content
    await admin.press("督导员老张")
    card = await admin.wait_text("督导员：督导员老张")
    # The region 西区 is inspected monthly from its next period on; then back to the default.
    await admin.press("区域计划：东区")
    region = await admin.wait_text("区域督导计划 · 东区")
    assert "默认" in region.content
    await admin.press("每半年")
    assert "每半年" in (await admin.wait_text("区域督导计划 · 东区")).content
    await admin.press("恢复默认")
    assert "默认" in (await admin.wait_text("区域督导计划 · 东区")).content
    # A manager may not set what they do not see; a stale or forged button is refused.
    query = await li.press_data(f"vf:{sun}:m", None)
    assert "不能使用这个功能" in (await li.wait_callback_answer(query)).text
    audit = await bot.services.db.fetchall("SELECT action, target FROM audit_log WHERE action LIKE 'plan.%'")
    assert [(r["action"], r["target"]) for r in audit] == [
        ("plan.site", f"site:{sun}"),
        ("plan.region", "region:东区"),
        ("plan.region", "region:东区"),
    ]

    # 1 April 09:00: the Q2 visits exist; nothing is due yet, nobody hears anything.
    report = await tick(bot, datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI))
    assert report.plans is not None and report.sent == 0
    visits = await bot.services.db.fetchall(
        "SELECT site_id, period, due_date, closes_on, inspector_id FROM plan_visits"
    )
    assert {(r["site_id"], r["period"], r["due_date"], r["closes_on"]) for r in visits} == {
        (site, "2026-Q2", "2026-06-30", "2026-07-10") for site in (sun, lake, gold)
    }
    assert {r["site_id"]: r["inspector_id"] for r in visits}[sun] == ZHANG

    # An inspector's /plan: coming visits, each with a button that starts the inspection.
    await zhang.send_command("plan")
    mine = await zhang.wait_text("我的督导计划")
    assert "阳光花园" in mine.content and "翠湖天地" in mine.content and "金色家园" not in mine.content
    assert any("开始督导：阳光花园" in label for label in mine.buttons)
    await li.send_command("plan")
    assert "金色家园" in (await li.wait_text("我的督导计划")).content

    # 阳光花园 is inspected on 20 May (on time) and fails: 不合格.
    await seed(bot, sun, ZHANG, datetime(2026, 5, 20, 15, 0, tzinfo=SHANGHAI), passing=False)

    # Thursday 25 June 09:00, three working days before the due date: a nudge for each visit not done.
    zhang.drain(), li.drain()
    await tick(bot, datetime(2026, 6, 25, 8, 59, tzinfo=SHANGHAI))
    await zhang.assert_no_reply(0.1)
    await li.assert_no_reply(0.1)
    report = await tick(bot, datetime(2026, 6, 25, 9, 0, tzinfo=SHANGHAI))
    assert report.plans.nudged == 2
    nudge = await zhang.wait_text("督导计划提醒")
    assert "翠湖天地" in nudge.content and "6月30日" in nudge.content and nudge.buttons == ["▶️ 开始督导：翠湖天地"]
    assert "金色家园" in (await li.wait_text("督导计划提醒")).content
    nudges = [text for text in texts(zhang) if "督导计划提醒" in text]
    assert len(nudges) == 1 and "阳光花园" not in nudges[0]  # done already: no nudge

    # Saturday 27 June: no week list on a day off. Monday 29 June 09:00: the week's list.
    await tick(bot, datetime(2026, 6, 27, 9, 0, tzinfo=SHANGHAI))
    zhang.drain(), li.drain()
    await tick(bot, datetime(2026, 6, 29, 9, 0, tzinfo=SHANGHAI))
    week = await zhang.wait_text("本周督导计划")
    assert "翠湖天地" in week.content and "阳光花园" not in week.content
    await li.wait_text("本周督导计划")
    await tick(bot, datetime(2026, 6, 29, 9, 30, tzinfo=SHANGHAI))  # once a week
    await zhang.assert_no_reply(0.2)

    # 翠湖天地 on 3 July: late, within the grace days. The start button begins a walk.
    await zhang.press("开始督导：翠湖天地", week.message_id)
    await zhang.wait_text("翠湖天地")
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM inspections WHERE status = 'draft'") == 1
    await seed(bot, lake, ZHANG, datetime(2026, 7, 3, 10, 0, tzinfo=SHANGHAI), passing=True)

    # Saturday 11 July 09:00, the grace days over: 金色家园 was missed; the manager hears it once.
    boss.drain()
    report = await tick(bot, datetime(2026, 7, 11, 9, 0, tzinfo=SHANGHAI))
    assert report.plans.missed == 1
    missed = await boss.wait_text("未按计划督导（1）")
    assert "金色家园" in missed.content and "翠湖天地" not in missed.content and "阳光花园" not in missed.content
    await bot.restart()
    await tick(bot, datetime(2026, 7, 11, 9, 5, tzinfo=SHANGHAI))
    await tick(bot, datetime(2026, 7, 12, 9, 0, tzinfo=SHANGHAI))
    await boss.assert_no_reply(0.3)
    assert len([t for t in texts(boss) if "未按计划督导" in t]) == 1

    # Monday 13 July: the weekly digest lists the visit missed during the week before.
    # (The database was made today, in real time: digests never reach back before it. Backdated.)
    await bot.services.db.execute("UPDATE schema_migrations SET applied_at = '2026-01-01T00:00:00+00:00'")
    bot.clock.set(datetime(2026, 7, 13, 9, 0, tzinfo=SHANGHAI))
    assert await send_due_digests(bot.app) == 1
    digest = await boss.wait_text("每周督导简报")
    plan_part = digest.content.split("督导计划")[1]
    assert "❌ 金色家园 · 2026年第2季度 — 未督导" in plan_part and "翠湖天地" not in plan_part

    # The managers' figures for Q2 equal a hand count: 3 visits due, 1 on time, 1 late, 1 missed.
    boss.drain()
    await boss.send_command("summary", "2026-Q2")
    summary = await boss.wait_text("2026 年第 2 季度汇总")
    assert "督导计划：按时完成 1/3（33%） · 逾期完成 1 · 未督导 1" in summary.content
    assert "❌ 金色家园 · 2026年第2季度 — 未督导" in summary.content
    await boss.send_command("ranking", "2026-Q2")
    ranking = await boss.wait_text("项目排名")
    assert "1. 阳光花园 32.3% 不合格 新\n　📅 ✅ 按时完成\n" in ranking.content  # the only site scored in Q2
    await boss.send_command("site", "金色家园")
    site = await boss.wait_text("金色家园")
    assert "督导计划：" in site.content and "未督导" in site.content
    await boss.send_command("export", "2026-Q2")
    sheet = await boss.wait_reply(timeout=20)
    assert sheet.kind == "document" and sheet.document is not None
    book = load_workbook(io.BytesIO(bot.api.file_bytes(sheet.document["file_id"])))
    assert "督导计划" in book.sheetnames
    rows = list(book["督导计划"].iter_rows(min_row=2, values_only=True))
    assert sorted((row[0], row[2], row[7]) for row in rows) == [
        ("翠湖天地", "2026-Q2", "逾期完成"),
        ("金色家园", "2026-Q2", "未督导"),
        ("阳光花园", "2026-Q2", "按时完成"),
    ]

    # Q3: 阳光花园 failed in Q2, so it is on watch: monthly (July), written to the audit log; the
    # others stay quarterly. Its plan screen says so.
    q3 = await bot.services.db.fetchall(
        "SELECT site_id, period, frequency, on_watch, due_date FROM plan_visits WHERE period_start >= '2026-07-01'"
    )
    assert {r["site_id"]: (r["period"], r["frequency"], r["on_watch"]) for r in q3} == {
        sun: ("2026-07", "monthly", 1),
        lake: ("2026-Q3", "quarterly", 0),
        gold: ("2026-Q3", "quarterly", 0),
    }
    watch = await bot.services.db.fetchone("SELECT target, detail FROM audit_log WHERE action = 'plan.watch_on'")
    assert watch["target"] == f"site:{sun}" and "不合格" in watch["detail"]

    # 阳光花园 passes in July: from August it is back to quarterly (the rest of Q3).
    await seed(bot, sun, ZHANG, datetime(2026, 7, 20, 10, 0, tzinfo=SHANGHAI), passing=True)
    await tick(bot, datetime(2026, 8, 3, 9, 0, tzinfo=SHANGHAI))
    august = await bot.services.db.fetchone(
        "SELECT period, frequency, period_start, period_end, on_watch FROM plan_visits WHERE site_id = ? "
        "ORDER BY period_start DESC LIMIT 1",
        (sun,),
    )
    assert tuple(august) == ("2026-Q3", "quarterly", "2026-08-01", "2026-10-01", 0)
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'plan.watch_off'") == 1

    # The manager's /plan this quarter (Q3): 阳光花园's July visit done on time, nothing missed yet.
    boss.drain()
    await boss.send_command("plan")
    board = await boss.wait_text("督导计划 · 本季度")
    assert "按时完成 1/1（100%）" in board.content
    bot.api.assert_no_errors()


async def test_plans_set_by_import(bot: BotUnderTest):
    admin = bot.api.person(ADMIN_ID, "管理员", started=True)
    await admin.send_command("import")
    await admin.wait_text("Telegram ID")
    bad = "项目,区域,督导频次,计划督导员,Telegram ID,姓名,角色\n阳光花园,东区,每两周,,,,\n"
    await admin.send_document(bad.encode("utf-8"), "plans.csv", "text/csv")
    refused = await admin.wait_text("没有导入任何内容")
    assert "第 2 行：督导频次“每两周”无法识别" in refused.text
    csv = (
        "项目,区域,督导频次,计划督导员,Telegram ID,姓名,角色\n"
        "阳光花园,东区,月度,6101,,,\n"
        "翠湖天地,东区,,,,,\n"
        "金色家园,西区,0 9 1 */2 *,,,,\n"
        "阳光花园,,,,6101,督导员老张,督导员\n"
    )
    await admin.send_document(csv.encode("utf-8"), "plans.csv", "text/csv")
    done = await admin.wait_text("已导入")
    assert "设定了 2 个项目的督导计划" in done.text
    await tick(bot, datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI))
    visits = await bot.services.db.fetchall(
        "SELECT s.name, v.period, v.frequency, v.due_date, v.inspector_id FROM plan_visits v "
        "JOIN sites s ON s.id = v.site_id ORDER BY s.name"
    )
    assert [tuple(r) for r in visits] == [
        ("翠湖天地", "2026-Q2", "quarterly", "2026-06-30", None),
        ("金色家园", "2026-03-01", "0 9 1 */2 *", "2026-04-30", None),  # every other month, from 1 March
        ("阳光花园", "2026-04", "monthly", "2026-04-30", 6101),
    ]
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'plan.import'") == 2


async def test_a_manager_marks_a_visit_not_required_with_a_reason(bot: BotUnderTest):
    sun = await bot.add_site("阳光花园", region="东区")
    await bot.add_person(BOSS, "manager", "品质经理", region="东区")
    boss = bot.api.person(BOSS, "品质经理", started=True)
    await tick(bot, datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI))
    await boss.send_command("plan", "阳光")
    card = await boss.wait_text("督导计划 · 阳光花园")
    await boss.press("本期无需督导", card.message_id)
    await boss.wait_text("请发送本期无需督导的原因")
    await boss.send_text("停业装修至七月")
    done = await boss.wait_text("无需督导：停业装修至七月")
    assert "2026年第2季度" in done.content
    visit = await bot.services.db.fetchone(
        "SELECT id, waived_reason, waived_by FROM plan_visits WHERE site_id = ?", (sun,)
    )
    assert (visit["waived_reason"], visit["waived_by"]) == ("停业装修至七月", BOSS)
    query = await boss.press("本期无需督导", card.message_id)  # the old button, again
    assert "不能再标记" in (await boss.wait_callback_answer(query)).text
    # Not missed, so nobody is told; not counted as due either.
    await tick(bot, datetime(2026, 7, 11, 9, 0, tzinfo=SHANGHAI))
    await boss.assert_no_reply(0.3)
    await boss.send_command("summary", "2026-Q2")
    summary = await boss.wait_text("汇总")
    assert "督导计划：按时完成 0/0" in summary.content and "未督导" not in summary.content.split("督导计划")[1]
    entry = await bot.services.db.fetchone("SELECT actor_id, target FROM audit_log WHERE action = 'plan.waive'")
    assert (entry["actor_id"], entry["target"]) == (BOSS, f"site:{sun}")


async def test_an_archived_site_is_not_reported_for_the_periods_it_was_archived(bot: BotUnderTest):
    sun = await bot.add_site("阳光花园", region="东区")
    await bot.add_person(BOSS, "manager", "品质经理")
    boss = bot.api.person(BOSS, "品质经理", started=True)
    await tick(bot, datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI))
    await bot.services.db.execute("UPDATE sites SET active = 0 WHERE id = ?", (sun,))
    await tick(bot, datetime(2026, 7, 11, 9, 0, tzinfo=SHANGHAI))  # Q2 over: not required, nobody told
    await bot.services.db.execute("UPDATE sites SET active = 1 WHERE id = ?", (sun,))
    await tick(bot, datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))  # restored in Q4: no Q3 visit after the fact
    periods = await bot.services.db.fetchall("SELECT period FROM plan_visits WHERE site_id = ? ORDER BY 1", (sun,))
    assert [r["period"] for r in periods] == ["2026-Q2", "2026-Q4"]
    await boss.assert_no_reply(0.3)
    await boss.send_command("summary", "2026-Q2")  # restored, the archived quarter stays not required
    summary = await boss.wait_text("汇总")
    assert "督导计划：按时完成 0/0" in summary.content and "未督导" not in summary.content.split("督导计划")[1]


async def test_a_nudge_cut_short_by_a_crash_is_sent_again_and_says_so(bot: BotUnderTest):
    """A plan message is an outbox row like a duty reminder: one a crash left 'sending' goes out again
    at the next start, marked as possibly a second copy; nothing else is repeated."""
    lake = await bot.add_site("翠湖天地", region="东区")
    await bot.add_person(ZHANG, "inspector", "督导员老张", site_id=lake)
    zhang = bot.api.person(ZHANG, "督导员老张", started=True)
    await tick(bot, datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI))
    await tick(bot, datetime(2026, 6, 25, 9, 0, tzinfo=SHANGHAI))
    await zhang.wait_text("督导计划提醒")
    # As if the bot had died between sending the nudge and recording Telegram's answer.
    await bot.services.db.execute("UPDATE duty_outbox SET status = 'sending' WHERE kind = 'plan_nudge'")
    await bot.restart()
    await tick(bot, datetime(2026, 6, 25, 9, 5, tzinfo=SHANGHAI))
    again = await zhang.wait_text("督导计划提醒")
    assert "请忽略本条" in again.content
    await tick(bot, datetime(2026, 6, 25, 9, 10, tzinfo=SHANGHAI))
    await zhang.assert_no_reply(0.3)
    rows = await bot.services.db.fetchall("SELECT status, interrupted FROM duty_outbox WHERE kind = 'plan_nudge'")
    assert [tuple(r) for r in rows] == [("sent", 1)]
