"""复查: the next inspection of a site begins by re-checking its corrective actions, through the real
Application and the Bot API stand-in: all three outcomes, a stale double tap, someone else's forged
button, and the walk going on with its clauses afterwards."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import iso
from tests.conftest import BotUnderTest
from tests.harness.driver import Person
from tests.integration.test_actions import INSPECTOR, STAFF, a_draft_with_two_findings, submit


async def second_visit(bot: BotUnderTest, fixed_meanwhile: bool = True) -> tuple[Person, dict[str, int]]:
    """The first inspection submitted (二(一)4 不符合, 一(一)2 基本符合); 一(一)2's action closed since;
    a week later the inspector starts the next visit. Action ids by clause code."""
    first, _ = await a_draft_with_two_findings(bot)
    await submit(bot)
    rows = await bot.services.db.fetchall("SELECT id, clause_id FROM actions WHERE inspection_id = ?", (first,))
    ids = {"一(一)2" if row["clause_id"] == "1.1.2" else "二(一)4": row["id"] for row in rows}
    bot.clock.advance(timedelta(days=3))
    if fixed_meanwhile:
        await bot.services.db.execute(
            "UPDATE actions SET status = 'closed', closed_at = ? WHERE id = ?", (iso(bot.clock.now()), ids["一(一)2"])
        )
    bot.clock.advance(timedelta(days=4))
    inspector = bot.api.person(INSPECTOR, "王督导")
    await inspector.send_command("inspect")
    picked = await inspector.wait_text("请选择要督导的项目")
    await inspector.press("阳光花园", picked.message_id)
    return inspector, ids


async def action(bot: BotUnderTest, action_id: int) -> dict:
    row = await bot.services.db.fetchone("SELECT status, round, found_again FROM actions WHERE id = ?", (action_id,))
    events = await bot.services.db.fetchall(
        "SELECT event, detail FROM action_events WHERE action_id = ? ORDER BY id", (action_id,)
    )
    return {**dict(row), "events": [tuple(e) for e in events]}


async def test_the_walk_opens_with_the_recheck_and_all_three_outcomes(bot: BotUnderTest) -> None:
    inspector, ids = await second_visit(bot)
    card = await inspector.wait_text("复查 1/2")
    assert "二(一)4" in card.content and "待整改" in card.content  # the most urgent first
    assert inspector.buttons(card) == ["✅ 已整改", "❌ 未整改", "🖼 整改前后照片", "⏭ 跳过"]

    await inspector.press("🖼 整改前后照片", card.message_id)
    await inspector.wait_text("这一项没有整改前后的照片")
    await inspector.press("❌ 未整改", card.message_id)
    card = await inspector.wait_text("复查 2/2")
    assert "一(一)2" in card.content and "已关闭" in card.content
    assert inspector.buttons(card) == ["✅ 已整改", "❌ 未整改", "🔁 整改后复发", "🖼 整改前后照片", "⏭ 跳过"]

    # A second tap on the first card's button (its message now shows the second): refused, nothing changes.
    query = await inspector.press_data(f"rk:{await draft(bot)}:{ids['二(一)4']}:f", card.message_id)
    assert "已经复查过了" in (await inspector.wait_callback_answer(query)).text
    await inspector.press("🔁 整改后复发", card.message_id)
    done = await inspector.wait_text("复查完成")
    assert "未整改 1 项" in done.content and "整改后复发 1 项" in done.content
    await inspector.wait_text("一(一)1")  # on to the clauses

    not_fixed, recurred = await action(bot, ids["二(一)4"]), await action(bot, ids["一(一)2"])
    assert (not_fixed["status"], not_fixed["found_again"]) == ("open", 1)
    assert not_fixed["events"][-1][0] == "not_fixed" and not_fixed["events"][-1][1].startswith("recheck:")
    assert (recurred["status"], recurred["found_again"]) == ("closed", 1)
    assert recurred["events"][-1][0] == "recurred"
    assert [e[0] for e in not_fixed["events"]].count("not_fixed") == 1  # the stale tap changed nothing

    staff = bot.api.person(STAFF, "前台小张")
    await staff.send_command("actions")
    listed = await staff.wait_text("未关闭的整改：1 项")
    assert "二(一)4" in listed.content and "🔁 重复问题" in listed.content

    # Resumed later, the walk does not ask again.
    await inspector.send_command("resume")
    await inspector.wait_text("一(一)1")
    assert "复查" not in inspector.last_text


async def draft(bot: BotUnderTest) -> int:
    return int(await bot.services.db.fetchval("SELECT id FROM inspections WHERE status = 'draft'"))


async def test_fixed_closes_an_open_action_and_a_stranger_cannot_decide(bot: BotUnderTest) -> None:
    inspector, ids = await second_visit(bot, fixed_meanwhile=False)
    card = await inspector.wait_text("复查 1/2")
    inspection_id = await draft(bot)
    other = bot.api.person(3002, "李督导")
    await bot.add_person(3002, "inspector", "李督导")
    await other.send_command("help")
    await other.wait_reply()
    query = await other.press_data(f"rk:{inspection_id}:{ids['二(一)4']}:f", other.last_message.message_id)
    assert (await other.wait_callback_answer(query)).text  # refused, with a reason
    assert (await action(bot, ids["二(一)4"]))["status"] == "open"

    await inspector.press("✅ 已整改", card.message_id)
    card = await inspector.wait_text("复查 2/2")
    await inspector.press("⏭ 跳过", card.message_id)
    done = await inspector.wait_text("复查完成")
    assert "已整改 1 项" in done.content and "未检查 1 项" in done.content
    closed = await action(bot, ids["二(一)4"])
    assert closed["status"] == "closed" and closed["events"][-1][0] == "closed"
    assert (await action(bot, ids["一(一)2"]))["events"][-1][0] == "recheck_skipped"


async def test_an_inspector_does_not_confirm_a_fix_whose_proof_they_submitted(bot: BotUnderTest) -> None:
    """Someone who is both the site's staff and its inspector sent the proof: at the next visit's 复查
    they may say it is not fixed, but 已整改 (closing it on their own proof) is for someone else."""
    inspector, ids = await second_visit(bot, fixed_meanwhile=False)
    card = await inspector.wait_text("复查 1/2")
    action_id = ids["二(一)4"]
    await bot.services.db.execute("UPDATE actions SET status = 'submitted' WHERE id = ?", (action_id,))
    await bot.services.db.execute(
        "INSERT INTO action_events (action_id, at, actor_id, event, round) VALUES (?, ?, ?, 'submitted', 1)",
        (action_id, iso(bot.clock.now()), INSPECTOR),
    )
    query = await inspector.press_data(f"rk:{await draft(bot)}:{action_id}:f", card.message_id)
    assert "不能验证自己提交的整改" in (await inspector.wait_callback_answer(query)).text
    assert (await action(bot, action_id))["status"] == "submitted"

    await inspector.send_command("resume")  # the card drawn again offers no 已整改
    card = await inspector.wait_text("复查 1/2")
    assert inspector.buttons(card) == ["❌ 未整改", "🖼 整改前后照片", "⏭ 跳过"]
