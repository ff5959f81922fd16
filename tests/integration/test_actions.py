"""Corrective actions through the real Application and the Bot API stand-in: a submit turns every
finding into an action, people see their sites' actions, a reopen and resubmit reconcile them."""

from __future__ import annotations

from bot.flows.schedule import WorkCalendar
from config.duties import DutySettings
from rubric.model import Answer
from tests.conftest import BotUnderTest
from tests.seeding import answers_by_pattern, seed_inspection

INSPECTOR, STAFF, OTHER_STAFF, MANAGER = 3001, 4001, 4002, 6001


async def a_draft_with_two_findings(bot: BotUnderTest) -> tuple[int, dict[str, Answer]]:
    """Every clause answered by inspector 3001 at 阳光花园: 一(一)2 基本符合, 二(一)4 不符合 (with notes)."""
    site_id = await bot.add_site("阳光花园")
    other_site = await bot.add_site("翠湖苑")
    await bot.add_person(INSPECTOR, "inspector", "王督导", site_id=site_id)
    await bot.add_person(STAFF, "staff", "前台小张", site_id=site_id)
    await bot.add_person(OTHER_STAFF, "staff", "前台小李", site_id=other_site)
    await bot.add_person(MANAGER, "manager", "李经理")
    rubric = bot.services.rubrics.get(2)
    answers = answers_by_pattern(rubric, [Answer.OK])
    partial, fail = rubric.clause_by_code("一(一)2").id, rubric.clause_by_code("二(一)4").id
    answers |= {partial: Answer.PARTIAL, fail: Answer.FAIL}
    seeded = await seed_inspection(
        bot.services.db,
        rubric,
        site_id,
        INSPECTOR,
        bot.clock.now(),
        answers,
        notes={partial: ["台账不全"], fail: ["没有投诉分析报告"]},
        status="draft",
    )
    return seeded.inspection_id, answers


async def submit(bot: BotUnderTest) -> None:
    person = bot.api.person(INSPECTOR, "王督导")
    await person.send_command("resume")
    await person.wait_text("复核")  # every clause is answered: straight to the review
    await person.press("✅ 提交")
    await person.wait_text("总分")


async def test_a_submit_turns_each_finding_into_an_action_with_its_due_date(bot: BotUnderTest) -> None:
    inspection_id, _ = await a_draft_with_two_findings(bot)
    await submit(bot)
    rows = await bot.services.db.fetchall(
        "SELECT clause_id, answer, severity, status, due_date FROM actions WHERE inspection_id = ? ORDER BY clause_id",
        (inspection_id,),
    )
    today = bot.clock.now().astimezone(bot.services.settings.tz).date()
    calendar = WorkCalendar.of(DutySettings())
    assert [dict(row) for row in rows] == [
        {
            "clause_id": "1.1.2",
            "answer": "partial",
            "severity": "general",
            "status": "open",
            "due_date": calendar.add_working_days(today, 7).isoformat(),
        },
        {
            "clause_id": "2.1.4",
            "answer": "fail",
            "severity": "serious",
            "status": "open",
            "due_date": calendar.add_working_days(today, 3).isoformat(),
        },
    ]
    events = await bot.services.db.fetchval("SELECT COUNT(*) FROM action_events WHERE event = 'created'")
    assert events == 2


async def test_people_see_the_actions_of_their_sites_only(bot: BotUnderTest) -> None:
    inspection_id, _ = await a_draft_with_two_findings(bot)
    await submit(bot)
    staff = bot.api.person(STAFF, "前台小张")
    await staff.send_command("actions")
    listed = await staff.wait_text("未关闭的整改：2 项")
    assert "阳光花园 · 二(一)4 严重" in listed.text and "一(一)2 一般" in listed.text
    assert listed.text.index("二(一)4") < listed.text.index("一(一)2")  # the serious one is due first
    await staff.press("🔴 二(一)4 · 阳光花园", listed.message_id)
    card = await staff.wait_text("开出整改")
    assert "待整改" in card.text and f"（#{inspection_id}）：不符合 · 严重" in card.text
    assert "王督导" in card.text  # who opened it
    await staff.press("↩ 返回列表", card.message_id)
    await staff.wait_text("未关闭的整改：2 项")

    # Another site's staff sees none, and a forged button for this site's action changes nothing.
    action_id = await bot.services.db.fetchval("SELECT MIN(id) FROM actions")
    other = bot.api.person(OTHER_STAFF, "前台小李")
    await other.send_command("actions")
    await other.wait_text("没有未关闭的整改")
    query = await other.press_data(f"ao:{action_id}", other.last_message.message_id)
    assert "找不到" in (await other.wait_callback_answer(query)).text

    # The manager sees every site's; someone without a role is told so.
    manager = bot.api.person(MANAGER, "李经理")
    await manager.send_command("actions")
    await manager.wait_text("未关闭的整改：2 项")
    stranger = bot.api.person(9999, "路人")
    await stranger.send_command("actions")
    await stranger.wait_text("还没有登记")


async def test_a_resubmit_after_a_reopen_cancels_the_action_of_a_finding_gone(bot: BotUnderTest) -> None:
    inspection_id, _ = await a_draft_with_two_findings(bot)
    await submit(bot)
    manager = bot.api.person(MANAGER, "李经理")
    await manager.send_command("reopen", f"{inspection_id} 一(一)2 看错了")
    await manager.wait_text("已重新打开")
    person = bot.api.person(INSPECTOR, "王督导")
    await person.wait_text("重新打开了")
    await person.press_data(f"i:{inspection_id}:1.1.2:ok", person.last_message.message_id)
    await person.wait_text("复核")
    await person.press("✅ 提交")
    await person.wait_text("总分")
    rows = await bot.services.db.fetchall(
        "SELECT clause_id, status FROM actions WHERE inspection_id = ? ORDER BY clause_id", (inspection_id,)
    )
    assert [tuple(row) for row in rows] == [("1.1.2", "cancelled"), ("2.1.4", "open")]
    detail = await bot.services.db.fetchval("SELECT detail FROM action_events WHERE event = 'cancelled'")
    assert detail == "finding_removed"
    staff = bot.api.person(STAFF, "前台小张")
    await staff.send_command("actions")
    listed = await staff.wait_text("未关闭的整改：1 项")
    assert "一(一)2" not in listed.text
