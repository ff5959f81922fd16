"""Periodic duties through the real Application and the Bot API stand-in, with a moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.clock import ManualClock
from bot.scheduler import schedule_tick, tick_now
from config.duties import DutySettings
from tests.conftest import ADMIN_ID, BotUnderTest, make_settings, running_bot
from tests.harness.driver import Person
from tests.harness.media import make_png
from tests.harness.models import BotMessage

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 30, 10, 0, tzinfo=SHANGHAI)  # Monday, two days before the Q2 reminders
Q2 = datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI)
LI, WANG, ZHAO, BOSS = 5101, 5102, 5103, 5201
COMPLAINT, DEMAND = "投诉汇总分析报告", "需求信息统计"

# These scenarios (April 2026) are written on a plain Monday-to-Friday week, where 6 April (清明) is a
# working day; the last test runs on the default calendar, with China's public holidays.
PLAIN_WEEKS = DutySettings(public_holidays="none")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest_asyncio.fixture
async def bot(botapi, tmp_path, clock) -> AsyncIterator[BotUnderTest]:
    """The shared fixture's bot, with the duty engine on and the shipped rules, on a plain week."""
    async with running_bot(botapi, make_settings(botapi, tmp_path / "data", duties=PLAIN_WEEKS), clock) as under_test:
        yield under_test


@dataclass
class Team:
    li: Person
    wang: Person
    zhao: Person
    boss: Person
    site_a: int
    site_b: int


async def team(bot: BotUnderTest) -> Team:
    site_a = await bot.add_site("阳光花园", region="东区")
    site_b = await bot.add_site("翠湖天地", region="西区")
    await bot.add_person(LI, "staff", "小李", site_id=site_a)
    await bot.add_person(WANG, "staff", "小王", site_id=site_a)
    await bot.add_person(ZHAO, "staff", "小赵", site_id=site_b)
    await bot.add_person(BOSS, "manager", "品质经理")
    people = [bot.api.person(i, n, started=True) for i, n in ((LI, "小李"), (WANG, "小王"), (ZHAO, "小赵"))]
    return Team(*people, bot.api.person(BOSS, "品质经理", started=True), site_a, site_b)


async def tick(bot: BotUnderTest, at: datetime | None = None):
    if at is not None:
        bot.clock.set(at)
    return await tick_now(bot.app)


def reminder(person: Person, fragment: str) -> BotMessage:
    """The newest reminder card about ``fragment`` that still has its buttons."""
    return next(m for m in reversed(person.messages) if fragment in m.content and m.buttons)


async def duty_id(bot: BotUnderTest, rule_id: str, site_id: int) -> int:
    return await bot.services.db.fetchval(
        "SELECT id FROM duties WHERE rule_id = ? AND site_id = ? AND period = '2026-Q2'", (rule_id, site_id)
    )


async def status(bot: BotUnderTest, rule_id: str, site_id: int) -> str:
    return await bot.services.db.fetchval(
        "SELECT status FROM duties WHERE rule_id = ? AND site_id = ?", (rule_id, site_id)
    )


async def test_reminders_reach_the_right_people_on_the_first_working_day_at_nine(bot: BotUnderTest):
    t = await team(bot)
    await tick(bot, datetime(2026, 4, 1, 8, 59, tzinfo=SHANGHAI))
    await t.li.assert_no_reply(0.1)
    report = await tick(bot, Q2)
    assert (report.created, report.sent) == (4, 6)
    first = await t.li.wait_text("周期工作提醒")
    assert "阳光花园" in first.content and "截止日期：4月15日（周三）" in first.content
    assert first.buttons == ["✅ 已完成，上传材料", "⏰ 稍后提醒", "➖ 不适用"]
    assert {COMPLAINT in m.content for m in t.li.messages} == {True, False}
    assert all("翠湖天地" in m.content for m in t.zhao.messages) and len(t.zhao.messages) == 2
    assert len(t.wang.messages) == 2
    assert t.boss.messages == []
    await tick(bot, datetime(2026, 4, 1, 9, 5, tzinfo=SHANGHAI))  # nothing twice
    assert len(t.li.messages) == 2
    bot.api.assert_no_errors()


async def test_done_with_a_file_closes_the_duty_and_stops_its_follow_ups(bot: BotUnderTest):
    t = await team(bot)
    await tick(bot, Q2)
    card = reminder(t.li, COMPLAINT)
    t.li.drain()
    await t.li.press("已完成，上传材料", card.message_id)
    prompt = await t.li.wait_text("可以发多个")
    assert prompt.buttons == ["✅ 确认完成"]
    # Confirming before sending anything is refused; nothing changes.
    query = await t.li.press("确认完成", prompt.message_id)
    assert "请先发送至少一个" in (await t.li.wait_callback_answer(query)).text
    await t.li.send_document(b"%PDF-1.4 quarterly complaints", "2026Q1投诉分析.pdf", caption="一季度投诉 12 件")
    saved = await t.li.wait_text("已收到 1 个文件")
    assert "共 1 个" in saved.content and saved.buttons == ["✅ 确认完成"]
    await t.li.send_photo(make_png(seed=3))
    await t.li.wait_text("共 2 个")
    await t.li.send_text("已报物业经理审阅")
    await t.li.wait_text("说明已保存")
    query = await t.li.press("确认完成")
    assert (await t.li.wait_callback_answer(query)).text == "已完成 ✅"
    edited = await t.li.wait_reply()
    assert edited.edited and "已完成" in edited.content and "2 个文件" in edited.content and "小李" in edited.content
    assert await status(bot, "complaint_report", t.site_a) == "done"
    # A second tap, from an old button, changes nothing.
    query = await t.li.press_data(f"dc:{await duty_id(bot, 'complaint_report', t.site_a)}", edited.message_id)
    assert "已于" in (await t.li.wait_callback_answer(query)).text
    query = await t.wang.press("已完成，上传材料", reminder(t.wang, COMPLAINT).message_id)
    assert "已经完成" in (await t.wang.wait_callback_answer(query)).text
    # The file is kept on disk too.
    stored = await bot.services.db.fetchall("SELECT sha256, kind FROM duty_evidence ORDER BY id")
    assert [r["kind"] for r in stored] == ["document", "photo"]
    assert bot.services.files.get(stored[0]["sha256"]) == b"%PDF-1.4 quarterly complaints"
    note = await bot.services.db.fetchval(
        "SELECT note FROM duties WHERE rule_id = 'complaint_report' AND site_id = ?", (t.site_a,)
    )
    assert note == "一季度投诉 12 件\n已报物业经理审阅"

    # Monday 6 April (the follow-up after 3 days, moved off the weekend): only the other duty.
    t.wang.drain()
    await tick(bot, datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))
    follow_up = await t.wang.wait_text("再次提醒")
    assert DEMAND in follow_up.content and "第 2 次" in follow_up.content
    await t.wang.assert_no_reply(0.2)
    bot.api.assert_no_errors()


async def test_snooze_and_not_applicable(bot: BotUnderTest):
    t = await team(bot)
    await tick(bot, Q2)
    bot.clock.set(datetime(2026, 4, 3, 15, 0, tzinfo=SHANGHAI))  # Friday afternoon
    t.zhao.drain()
    await t.zhao.press("稍后提醒", reminder(t.zhao, COMPLAINT).message_id)
    # A line in the chat, not only a toast: it is still there when the person looks again on Monday.
    line = await t.zhao.wait_text("再提醒您")
    assert (
        "4月6日 15:00（周一）再提醒您" in line.content and COMPLAINT in line.content and "2026年第1季度" in line.content
    )
    assert "截止日期不变：4月15日（周三）" in line.content
    t.zhao.drain()
    await tick(bot, datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))
    follow = await t.zhao.wait_text("再次提醒")
    assert DEMAND in follow.content  # the snoozed one waits until 15:00
    await t.zhao.assert_no_reply(0.1)
    await tick(bot, datetime(2026, 4, 6, 15, 0, tzinfo=SHANGHAI))
    assert COMPLAINT in (await t.zhao.wait_text("再次提醒")).content

    await t.zhao.press("不适用", reminder(t.zhao, DEMAND).message_id)
    await t.zhao.wait_text("不适用的原因")
    await t.zhao.send_text("本项目没有客服中心，需求由总部统一受理")
    done = await t.zhao.wait_text("已标记为不适用")
    assert "没有客服中心" in done.content
    assert await status(bot, "demand_statistics", t.site_b) == "na"
    query = await t.zhao.press("稍后提醒", reminder(t.zhao, DEMAND).message_id)
    assert "标记为不适用" in (await t.zhao.wait_callback_answer(query)).text
    # The next text is no longer taken as a reason.
    await t.zhao.send_text("还有别的事吗")
    assert "没有进行中的操作" in (await t.zhao.wait_reply()).text
    bot.api.assert_no_errors()


async def test_cancel_ends_an_upload_and_a_later_file_is_asked_about(bot: BotUnderTest):
    t = await team(bot)
    await tick(bot, Q2)
    await t.li.press("已完成，上传材料", reminder(t.li, COMPLAINT).message_id)
    await t.li.wait_text("可以发多个")
    await t.li.send_command("cancel")
    assert "已取消" in (await t.li.wait_reply()).text
    await t.li.send_document(b"%PDF late", "late.pdf")
    # Not taken for the cancelled upload, not dropped either: kept, and he is asked which duty it is for.
    question = await t.li.wait_text("是哪一项的")
    assert len(question.buttons) == 2
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM duty_evidence") == 0


async def test_escalation_overdue_and_the_quarter_board(bot: BotUnderTest):
    t = await team(bot)
    await tick(bot, Q2)
    # Li finishes the complaint report on 3 April.
    bot.clock.set(datetime(2026, 4, 3, 14, 0, tzinfo=SHANGHAI))
    await t.li.press("已完成，上传材料", reminder(t.li, COMPLAINT).message_id)
    await t.li.wait_text("可以发多个")
    await t.li.send_document(b"%PDF report", "report.pdf")
    await t.li.wait_text("已收到")
    await t.li.press("确认完成")
    await t.li.wait_text("已完成")

    await tick(bot, datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI))  # 3 days after the due date (+ weekend)
    escalations = [m for m in t.boss.messages if "逾期未完成" in m.content]
    assert len(escalations) == 1  # the day's digest: three duties of two sites in one message
    digest = escalations[0]
    assert "逾期未完成（3 项）" in digest.content and "阳光花园" in digest.content and "翠湖天地" in digest.content
    site_a = digest.content.split("• 阳光花园 · 上季度需求")[1].split("•")[0]
    # The first reminder and the follow-up planned at this very tick, each to Li and Wang.
    assert "小李、小王" in site_a and "已逾期 5 天" in site_a and "提醒已送达 4 次" in site_a
    await tick(bot, datetime(2026, 4, 21, 9, 0, tzinfo=SHANGHAI))
    assert len([m for m in t.boss.messages if "逾期未完成" in m.content]) == 1  # once

    t.boss.drain()
    await t.boss.send_command("overdue")
    listing = await t.boss.wait_text("逾期未完成的工作（3 项）")
    assert "自 4月16日 起逾期 6 天" in listing.content and "已上报" in listing.content
    assert "阳光花园 · 上季度客户投诉" not in listing.content

    await t.boss.send_command("duties")
    board = await t.boss.wait_text("2026年第2季度 周期工作")
    assert "✅ 1 已完成" in board.content and "⚠️ 3 已逾期" in board.content
    assert "<b>" not in board.content and "阳光花园" in board.content and "翠湖天地" in board.content
    assert "✅ 上季度客户投诉汇总分析报告 — 4月3日 小李" in board.content
    assert "🕓 客户满意度调查及总结分析报告 — 5月15日 开始" in board.content
    await t.boss.send_command("duties", "2026-Q1")
    old = await t.boss.wait_text("2026年第1季度")
    assert "❔" in old.content and "✅" not in old.content.split("图例")[1].split("\n", 1)[1]
    await t.boss.send_command("duties", "2026-Q5")
    assert "例如 /duties 2026-Q2" in (await t.boss.wait_reply()).text

    # Managers and inspectors see the evidence; staff of another site do not.
    duty = await duty_id(bot, "complaint_report", t.site_a)
    await t.boss.press_data(f"dv:{duty}", None)
    header = await t.boss.wait_text("共 1 个文件")
    assert "由 小李 确认完成" in header.content
    document = await t.boss.wait_reply()
    assert document.kind == "document" and bot.api.file_bytes(document.file_id) == b"%PDF report"
    query = await t.zhao.press_data(f"dv:{duty}", None)
    assert "不能查看" in (await t.zhao.wait_callback_answer(query)).text
    query = await t.boss.press_data("dv:99999", None)
    assert "找不到这项工作" in (await t.boss.wait_callback_answer(query)).text
    bot.api.assert_no_errors()


async def test_commands_check_roles_and_mytasks_lists_open_duties(bot: BotUnderTest):
    t = await team(bot)
    await t.wang.send_command("mytasks")
    assert "没有待完成的周期工作" in (await t.wang.wait_reply()).text
    await tick(bot, Q2)
    t.wang.drain()
    await t.wang.send_command("mytasks")
    assert "您有 2 项待完成的周期工作" in (await t.wang.wait_reply()).text
    cards = await t.wang.wait_replies(2)
    assert all(c.buttons == ["✅ 已完成，上传材料", "⏰ 稍后提醒", "➖ 不适用"] for c in cards)
    await t.wang.send_command("duties")
    assert "您的角色不能使用这个功能" in (await t.wang.wait_reply()).text
    await t.wang.send_command("overdue")
    assert "您的角色不能使用这个功能" in (await t.wang.wait_reply()).text
    await t.boss.send_command("mytasks")
    assert "您的角色不能使用这个功能" in (await t.boss.wait_reply()).text
    await t.boss.send_command("overdue")
    assert "没有逾期" in (await t.boss.wait_reply()).text
    # Someone else's duty, a forged id, an unknown person.
    query = await t.zhao.press_data(f"ds:{await duty_id(bot, 'complaint_report', t.site_a)}", None)
    assert "不由您负责" in (await t.zhao.wait_callback_answer(query)).text
    query = await t.wang.press_data("dd:424242", None)
    assert "找不到这项工作" in (await t.wang.wait_callback_answer(query)).text
    stranger = bot.api.person(7777, "路人")
    await stranger.send_command("mytasks")
    assert "7777" in (await stranger.wait_reply()).text
    query = await stranger.press_data(f"dd:{await duty_id(bot, 'complaint_report', t.site_a)}", None)
    assert "还没有登记" in (await stranger.wait_callback_answer(query)).text
    assert await status(bot, "complaint_report", t.site_a) == "open"
    await t.wang.send_command("help")
    help_text = (await t.wang.wait_reply()).text
    assert "/mytasks" in help_text and "/duties" not in help_text
    admin = bot.api.person(ADMIN_ID, "Boss", language_code="en")
    await admin.send_command("duties")
    board = await admin.wait_text("Periodic duties, Q2 2026")
    assert "⏳ Customer complaint summary analysis report for last quarter — due 15 Apr" in board.content


async def test_a_blocked_person_is_marked_unreachable_and_the_manager_is_told(bot: BotUnderTest):
    t = await team(bot)
    t.wang.block_bot()
    report = await tick(bot, Q2)
    assert report.blocked == 2
    assert await bot.services.db.fetchval("SELECT unreachable_at FROM users WHERE id = ?", (WANG,)) is not None
    notices = [m for m in t.boss.messages if "提醒未送达" in m.content]
    assert len(notices) == 1 and "提醒未送达（2 项）" in notices[0].content  # one message for his two duties
    assert "小王（已屏蔽机器人）" in notices[0].content and "阳光花园" in notices[0].content
    assert len(t.li.messages) == 2
    tries = len(
        [r for r in bot.api.request_log if r.method == "sendMessage" and r.params.get("chat_id") in (WANG, str(WANG))]
    )
    await tick(bot, datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))  # follow-ups skip him
    after = len(
        [r for r in bot.api.request_log if r.method == "sendMessage" and r.params.get("chat_id") in (WANG, str(WANG))]
    )
    assert after == tries
    await tick(bot, datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI))
    escalation = next(m for m in t.boss.messages if "逾期未完成" in m.content and "阳光花园" in m.content)
    assert "小王（无法联系）" in escalation.content


async def test_a_restart_in_the_middle_of_a_batch_neither_loses_nor_repeats(bot: BotUnderTest):
    site = await bot.add_site("大社区")
    staff = list(range(6001, 6013))
    for user_id in staff:
        await bot.add_person(user_id, "staff", f"员工{user_id}", site_id=site)
        bot.api.person(user_id, f"员工{user_id}", started=True)
    bot.api.set_rate_limit(global_per_s=20, per_chat_per_s=None, global_burst=4)  # Telegram pushes back
    bot.clock.set(Q2)
    schedule_tick(bot.app)  # a job: a stopping Application waits for its sends in flight

    def delivered() -> int:
        return sum(len(bot.api.sent_messages(user_id)) for user_id in staff)

    await bot.api.wait_for(lambda: delivered() >= 4 or None, timeout=10)
    await bot.stop()
    before_restart = delivered()
    assert before_restart < 24  # the batch really was cut in the middle
    await bot.start()  # the start tick sends the rest
    await bot.api.wait_for(lambda: delivered() == 24 or None, timeout=20)
    await tick(bot)
    for user_id in staff:
        texts = [m.content for m in bot.api.sent_messages(user_id)]
        assert len(texts) == 2 and len({COMPLAINT in text for text in texts}) == 2, user_id
    assert await bot.services.duties.repo.outbox_counts() == {"sent": 24}
    assert bot.api.rate_limit_hits > 0  # and every 429 was retried


async def test_group_reminders_and_evidence_in_english(botapi, tmp_path, clock):
    rules = tuple(replace(r, enabled=True) if r.id == "vacant_unit_patrol" else r for r in DutySettings().rules)
    settings = make_settings(botapi, tmp_path / "data", duties=replace(PLAIN_WEEKS, rules=rules))
    bot = BotUnderTest(botapi, settings, clock)
    await bot.start()
    try:
        site = await bot.add_site("Sunny Garden")
        await bot.services.db.execute("UPDATE sites SET group_chat_id = -1001234 WHERE id = ?", (site,))
        group = botapi.group(-1001234, "Sunny Garden desk")
        await bot.add_person(LI, "staff", "Lee", site_id=site)
        lee = botapi.person(LI, "Lee", language_code="en")
        await lee.send_command("start")  # the bot learns his language
        await lee.wait_text("Supervision Assistant")
        await tick(bot, datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))  # Monday: the weekly patrol
        patrol_group = await group.wait_text("空置房巡查记录")  # a group reads the default language
        assert patrol_group.buttons == [] and "/mytasks" in patrol_group.content
        card = await lee.wait_text("Vacant-unit patrol record")
        assert "Due: Fri 10 Apr" in card.content
        await lee.press("Done, upload evidence", card.message_id)
        await lee.wait_text("Send the report file or photos")
        await lee.send_album([make_png(seed=1), make_png(seed=2)], caption="Floors <3-5> & roof")
        saved = await lee.wait_text("Received 2 files", timeout=5)
        assert saved.buttons == ["✅ Confirm done"]
        await lee.press("Confirm done")
        assert "confirmed by Lee" in (await lee.wait_text("Done")).content
        status = await bot.services.duties.status_for_clause(site, "二(五)3")
        assert status is not None and status.status == "done" and status.evidence_count == 2
        text = bot.services.texts.render("en", "duties.clause_status", status=status)
        assert "done by Lee" in text and "2 files" in text
        await lee.press_data(f"dv:{status.duty_id}", None)
        await lee.wait_text("2 files:")
        album = await lee.wait_replies(2)
        assert [m.kind for m in album] == ["photo", "photo"] and album[0].media_group_id == album[1].media_group_id
        assert album[0].caption == "Floors <3-5> & roof"  # shown as typed
        botapi.assert_no_errors()
    finally:
        await bot.stop()


async def test_the_inspection_shows_the_duty_status_on_its_clause(bot: BotUnderTest):
    t = await team(bot)
    await tick(bot, Q2)
    t.li.drain()
    await t.li.press("已完成，上传材料", reminder(t.li, COMPLAINT).message_id)
    await t.li.wait_text("可以发多个")
    await t.li.send_document(b"%PDF-1.4 quarterly complaints", "2026Q1投诉分析.pdf")
    await t.li.wait_text("已收到 1 个文件")
    await t.li.press("确认完成")
    await t.li.wait_reply()
    await bot.add_person(5301, "inspector", "王督导", site_id=t.site_a)
    inspector = bot.api.person(5301, "王督导")
    await inspector.send_command("inspect")
    await inspector.press("阳光花园", (await inspector.wait_text("请选择要督导的项目")).message_id)
    await inspector.wait_text("点类别可跳转")
    await inspector.press("二(一) 客户投诉管理 0/4")
    await inspector.wait_text("总 34/65")
    for n in range(3):
        await inspector.press("✅ 符合", inspector.last_message.message_id)
        await inspector.wait_text(f"总 {35 + n}/65")
    card = inspector.last_message
    assert "二(一)4" in card.text and COMPLAINT in card.text and "小李" in card.text and "完成" in card.text
    assert "📎 查看材料（1）" in card.buttons
    await inspector.press("📎 查看材料（1）", card.message_id)
    document = await inspector.wait_until(lambda messages: next((m for m in messages if m.document), None), 5)
    assert document.document["file_name"] == "2026Q1投诉分析.pdf"
    # A clause no duty serves shows no duty line.
    await inspector.press("✅ 符合", card.message_id)
    assert COMPLAINT not in (await inspector.wait_text("总 38/65")).text


async def test_public_holidays_move_reminders_and_due_dates(botapi, tmp_path):
    """The default calendar: 国庆 2026 is 1-7 October, and Saturday 10 October is worked (调休)."""
    clock = ManualClock(datetime(2026, 9, 28, 10, 0, tzinfo=SHANGHAI))
    bot = BotUnderTest(botapi, make_settings(botapi, tmp_path / "data", duties=DutySettings()), clock)
    await bot.start()
    try:
        t = await team(bot)
        await tick(bot)  # the engine sees the sites before the quarter, as a running bot would
        for holiday in (datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI), datetime(2026, 10, 7, 9, 0, tzinfo=SHANGHAI)):
            assert (await tick(bot, holiday)).sent == 0
        await t.li.assert_no_reply(0.1)
        report = await tick(bot, datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI))
        assert report.sent == 6
        first = reminder(t.li, COMPLAINT)
        # Ten working days from Thursday 8 October, counting Saturday the 10th: Wednesday the 21st.
        # The report asked for in Q4 is about Q3.
        assert "2026年第3季度" in first.content and "截止日期：10月21日（周三）" in first.content
    finally:
        await bot.stop()
