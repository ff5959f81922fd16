"""Issue #13, on site and at the front desk: duties answered the way people actually answer them.

Staff reply to a reminder with the report instead of pressing a button first, or just send it; a
manager of 30 sites gets one message a day, not one per duty; a duty nobody can receive is known at
its first reminder. Through the real Application and the strict Bot API stand-in, with a moved clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest_asyncio

from bot.flows.access import Caller, Role
from tests.conftest import BotUnderTest, make_settings, running_bot
from tests.harness.driver import Person
from tests.harness.entities import parse_formatted_text
from tests.harness.media import make_png
from tests.integration.test_duties_flow import (
    BOSS,
    COMPLAINT,
    DEMAND,
    LI,
    PLAIN_WEEKS,
    Q2,
    SHANGHAI,
    WANG,
    ZHAO,
    Team,
    reminder,
    team,
    tick,
)
from tests.integration.test_duties_flow import clock as clock  # the fixture

WALKER = 5301  # front-desk staff at 阳光花园 who also inspects


@pytest_asyncio.fixture
async def bot(botapi, tmp_path, clock) -> AsyncIterator[BotUnderTest]:
    async with running_bot(botapi, make_settings(botapi, tmp_path / "data", duties=PLAIN_WEEKS), clock) as under_test:
        yield under_test


async def reply_with_document(bot: BotUnderTest, person: Person, data: bytes, name: str, reply_to: int) -> None:
    """What a phone does when you long-press a message, tap Reply and attach a PDF."""
    stored = bot.api.add_file(data, "document", mime_type="application/pdf", file_name=name)
    document = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": name,
        "mime_type": "application/pdf",
        "file_size": stored.file_size,
    }
    bot.api.user_message(person.user_id, person.user_id, {"document": document}, reply_to_message_id=reply_to)


async def evidence_of(bot: BotUnderTest, rule_id: str, site_id: int) -> list[Any]:
    return await bot.services.db.fetchall(
        """SELECT e.kind, e.file_name FROM duty_evidence e JOIN duties d ON d.id = e.duty_id
           WHERE d.rule_id = ? AND d.site_id = ? ORDER BY e.id""",
        (rule_id, site_id),
    )


def downloads(bot: BotUnderTest) -> int:
    return len(bot.api.calls("getFile"))


async def test_a_file_replying_to_a_reminder_goes_to_that_duty_and_a_text_reply_is_its_note(bot: BotUnderTest):
    t = await team(bot)
    await tick(bot, Q2)
    t.li.drain()
    # Li has two duties open. He replies to the demand-statistics reminder with the file: no button.
    await reply_with_document(bot, t.li, b"%PDF demand Q1", "需求统计.pdf", reminder(t.li, DEMAND).message_id)
    saved = await t.li.wait_text("已收到 1 个文件")
    assert DEMAND in saved.content and "2026年第1季度" in saved.content and "阳光花园" in saved.content
    assert saved.buttons == ["✅ 确认完成"]
    assert [r["file_name"] for r in await evidence_of(bot, "demand_statistics", t.site_a)] == ["需求统计.pdf"]
    assert await evidence_of(bot, "complaint_report", t.site_a) == []
    # The next photo, sent plainly, follows the file it came with.
    await t.li.send_photo(make_png(seed=5))
    assert DEMAND in (await t.li.wait_text("共 2 个")).content
    # A text replying to the other reminder is a note on that other duty.
    await t.li.send_text("投诉报告周一交，等经理签字", reply_to=reminder(t.li, COMPLAINT).message_id)
    noted = await t.li.wait_text("说明已保存")
    assert COMPLAINT in noted.content and DEMAND not in noted.content
    note = await bot.services.db.fetchval(
        "SELECT note FROM duties WHERE rule_id = 'complaint_report' AND site_id = ?", (t.site_a,)
    )
    assert note == "投诉报告周一交，等经理签字"
    await t.li.press("确认完成", saved.message_id)
    done = await t.li.wait_text("已完成")
    assert DEMAND in done.content and "2 个文件" in done.content
    assert downloads(bot) == 2  # each file fetched once
    bot.api.assert_no_errors()


async def test_someone_with_one_open_duty_just_sends_the_photo(bot: BotUnderTest):
    t = await team(bot)
    await tick(bot, Q2)
    await t.zhao.press("不适用", reminder(t.zhao, DEMAND).message_id)
    await t.zhao.wait_text("不适用的原因")
    await t.zhao.send_text("需求由总部统一受理")
    await t.zhao.wait_text("已标记为不适用")
    await t.zhao.send_photo(make_png(seed=8), caption="投诉台账")
    saved = await t.zhao.wait_text("已收到 1 个文件")
    # It says which duty took it, for which quarter, so a wrong guess would be seen at once.
    assert "上季度客户投诉汇总分析报告</b>（2026年第1季度）" in saved.raw_text and "翠湖天地" in saved.content
    assert [r["kind"] for r in await evidence_of(bot, "complaint_report", t.site_b)] == ["photo"]
    bot.api.assert_no_errors()


async def test_with_several_open_duties_the_file_is_kept_and_the_person_asked(bot: BotUnderTest):
    t = await team(bot)
    await tick(bot, Q2)
    await t.li.send_document(b"%PDF which one", "报告.pdf")
    question = await t.li.wait_text("是哪一项的")
    assert question.buttons == [
        "上季度客户投诉汇总分析报告（2026年第1季度）",
        "上季度需求信息统计分析（2026年第1季度）",
    ]
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM duty_evidence") == 0
    assert downloads(bot) == 1  # kept safe at once
    query = await t.li.press("上季度需求信息统计分析", question.message_id)
    await t.li.wait_callback_answer(query)
    filed = await t.li.wait_reply()
    assert filed.edited and "1 个文件已归入" in filed.content and DEMAND in filed.content
    assert filed.buttons == ["✅ 确认完成"]
    assert [r["file_name"] for r in await evidence_of(bot, "demand_statistics", t.site_a)] == ["报告.pdf"]
    assert downloads(bot) == 1  # the choice needs no second download
    # A second tap on the old question changes nothing.
    data = question.reply_markup["inline_keyboard"][0][0]["callback_data"]
    query = await t.li.press_data(data, question.message_id)
    assert "已经归档" in (await t.li.wait_callback_answer(query)).text
    assert await evidence_of(bot, "complaint_report", t.site_a) == []

    # Wang sends an album: one question for the album, and the kept photos come back with /mytasks.
    await t.wang.send_album([make_png(seed=1), make_png(seed=2)])
    album_question = await t.wang.wait_text("收到 2 个文件", timeout=5)
    assert len(album_question.buttons) == 2
    t.wang.drain()
    await t.wang.send_command("mytasks")
    await t.wang.wait_text("您有 2 项待完成的周期工作")
    again = await t.wang.wait_text("收到 2 个文件")
    query = await t.wang.press("上季度客户投诉汇总分析报告", again.message_id)
    await t.wang.wait_callback_answer(query)
    assert "2 个文件已归入" in (await t.wang.wait_reply()).content
    assert len(await evidence_of(bot, "complaint_report", t.site_a)) == 2
    bot.api.assert_no_errors()


async def start_walk(bot: BotUnderTest, person: Person, caller: Caller) -> None:
    """/inspect and the site (and the edition, if asked), until the walk is on a clause."""
    await person.send_command("inspect")
    await person.press("阳光花园", (await person.wait_text("请选择要督导的项目")).message_id)
    for _ in range(100):
        if await bot.services.inspections.active(caller) is not None:
            return
        edition = next((label for label in person.buttons() if "第 2 版" in label), None)
        if edition:
            await person.press(edition)
        await asyncio.sleep(0.05)
    raise AssertionError("the walk did not start")


async def test_an_inspection_keeps_its_photos_and_a_reply_to_a_reminder_still_reaches_the_duty(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    await bot.add_person(WALKER, "staff", "王督导", site_id=site)
    await bot.add_person(WALKER, "inspector", "王督导", site_id=site)
    walker = bot.api.person(WALKER, "王督导", started=True)
    caller = Caller(WALKER, "王督导", "zh-hans", frozenset({Role.STAFF, Role.INSPECTOR}))
    await tick(bot, Q2)
    card = reminder(walker, COMPLAINT)
    await start_walk(bot, walker, caller)
    await walker.send_photo(make_png(seed=11))  # a finding on the clause on screen
    for _ in range(100):
        if await bot.services.db.fetchval("SELECT COUNT(*) FROM photos") == 1:
            break
        await asyncio.sleep(0.05)
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM photos") == 1
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM duty_evidence") == 0
    # The complaint report, as a reply to its reminder, goes to the duty even in the middle of a walk.
    await walker.send_photo(make_png(seed=12), reply_to=card.message_id)
    saved = await walker.wait_text("已收到 1 个文件")
    assert COMPLAINT in saved.content
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM photos") == 1
    assert len(await evidence_of(bot, "complaint_report", site)) == 1
    # The next plain photo is the walk's again: one reply does not turn the walk's photos into the duty's.
    await walker.send_photo(make_png(seed=13))
    for _ in range(100):
        if await bot.services.db.fetchval("SELECT COUNT(*) FROM photos") == 2:
            break
        await asyncio.sleep(0.05)
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM photos") == 2
    assert len(await evidence_of(bot, "complaint_report", site)) == 1


async def test_nobody_reachable_and_unreachable_people_reach_the_manager_in_one_message_at_the_first_reminder(
    bot: BotUnderTest,
):
    site_a = await bot.add_site("阳光花园", region="东区")
    site_b = await bot.add_site("翠湖天地", region="西区")
    await bot.add_site("新城项目", region="西区")  # nobody registered for it yet
    await bot.add_person(LI, "staff", "小李", site_id=site_a)
    await bot.add_person(WANG, "staff", "王芳", site_id=site_a)  # registered as 王芳 (an import, say)
    await bot.add_person(ZHAO, "staff", "小赵", site_id=site_b)
    await bot.add_person(BOSS, "manager", "品质经理")
    bot.api.person(LI, "小李", started=True)
    bot.api.person(WANG, "Fang")  # her Telegram name; she never opened the bot
    zhao = bot.api.person(ZHAO, "小赵", started=True)
    zhao.block_bot()
    boss = bot.api.person(BOSS, "品质经理", started=True)
    await tick(bot, Q2)
    [message] = bot.api.sent_messages(BOSS)  # one message, on the day of the first reminder
    text = message.text
    assert "没有人能收到提醒（4 项）" in text and "提醒未送达（2 项）" in text
    nobody = text.split("没有人能收到提醒")[1].split("提醒未送达")[0]
    assert nobody.count("翠湖天地") == 2 and nobody.count("新城项目") == 2 and "本项目没有登记负责人" in nobody
    assert "小赵（无法联系）" in nobody
    unreachable = text.split("提醒未送达")[1]
    assert unreachable.count("王芳（从未打开与机器人的对话）") == 2 and "Fang" not in text
    # Each name opens a chat with the person: a manager can act on it at once.
    mentions = {e["user"]["id"] for e in message.entities or [] if e["type"] == "text_mention"}
    assert {WANG, ZHAO} <= mentions
    assert f'<a href="tg://user?id={WANG}">王芳</a>' in message.raw_text
    boss.drain()
    await tick(bot, datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))  # follow-ups: nothing new to tell
    await boss.assert_no_reply(0.1)


async def many_sites(bot: BotUnderTest, count: int) -> list[Person]:
    people = []
    for n in range(count):
        site_id = await bot.add_site(f"{n:02d}号项目")
        await bot.add_person(6000 + n, "staff", f"客服{n:02d}", site_id=site_id)
        people.append(bot.api.person(6000 + n, f"客服{n:02d}", started=True))
    await bot.add_person(BOSS, "manager", "品质经理")
    bot.api.person(BOSS, "品质经理", started=True)
    return people


async def test_a_manager_of_thirty_late_sites_gets_one_digest_a_day_across_restarts(bot: BotUnderTest):
    await many_sites(bot, 30)
    await tick(bot, Q2)
    await tick(bot, datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI))
    messages = bot.api.sent_messages(BOSS)
    assert 1 < len(messages) <= 3  # 60 overdue duties, not 60 messages
    assert all("周期工作通报" in m.text and f"/{len(messages)}" in m.text.split("\n")[0] for m in messages)
    assert [m.text.split("\n")[0].split("　")[-1] for m in messages] == [
        f"{n}/{len(messages)}" for n in range(1, len(messages) + 1)
    ]
    lines = [line for m in messages for line in m.text.splitlines() if line.startswith("• ")]
    assert len(lines) == len(set(lines)) == 60
    assert all(len(parse_formatted_text(m.raw_text, "HTML")[0]) < 4096 for m in messages)
    assert "提醒已送达 2 次" in messages[0].text  # the first reminder and the follow-up of this morning
    await bot.restart()
    await tick(bot, datetime(2026, 4, 20, 9, 5, tzinfo=SHANGHAI))
    await tick(bot, datetime(2026, 4, 21, 9, 0, tzinfo=SHANGHAI))
    assert len(bot.api.sent_messages(BOSS)) == len(messages)  # never twice


async def test_reminders_name_the_quarter_covered_quote_the_clause_and_say_when_managers_are_told(bot: BotUnderTest):
    t: Team = await team(bot)
    await tick(bot, Q2)
    first = reminder(t.li, COMPLAINT)
    assert "上季度客户投诉汇总分析报告（2026年第1季度）" in first.content
    assert "二(一)4「每个季度对客户投诉情况进行汇总分析，形成分析报告」" in first.content
    assert "通报经理" not in first.content
    await tick(bot, datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))
    follow_up = reminder(t.li, COMPLAINT)
    assert "再次提醒" in follow_up.content
    # Due Wednesday 15 April, managers told 3 days later: Saturday, so Monday the 20th.
    assert "如仍未完成，4月20日（周一）将通报经理" in follow_up.content
    t.li.drain()
    await t.li.send_command("mytasks")
    await t.li.wait_text("您有 2 项")
    cards = await t.li.wait_replies(2)
    assert any("一(三)4「每个季度对受理的信息进行统计分析" in card.content for card in cards)


async def test_snooze_leaves_a_line_with_the_local_time_in_english(bot: BotUnderTest):
    site = await bot.add_site("Sunny Garden")
    await bot.add_person(LI, "staff", "Lee", site_id=site)
    lee = bot.api.person(LI, "Lee", language_code="en")
    await lee.send_command("start")  # the bot learns his language
    await lee.wait_text("Supervision Assistant")
    await tick(bot, Q2)
    bot.clock.set(datetime(2026, 4, 3, 15, 0, tzinfo=SHANGHAI))
    card = next(m for m in lee.messages if "Customer complaint" in m.content)
    lee.drain()
    await lee.press("Remind me later", card.message_id)
    line = await lee.wait_text("I will remind you")
    assert "on Mon 6 Apr 15:00" in line.content and "(Q1 2026)" in line.content and "stays Wed 15 Apr" in line.content
