"""The next visit of a site remembers the last one: a clause found below 符合 last time says so on its
card, with where its action stands, and a clause found below 符合 two visits running is a repeat
finding (重复问题), flagged on its action, through the real Application and the Bot API stand-in."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import iso
from tests.conftest import BotUnderTest
from tests.integration.test_actions import INSPECTOR, STAFF, a_draft_with_two_findings, submit


async def test_the_next_visit_shows_last_times_findings_and_flags_a_repeat(bot: BotUnderTest) -> None:
    first, _ = await a_draft_with_two_findings(bot)
    await submit(bot)
    partial_action = await bot.services.db.fetchval(
        "SELECT id FROM actions WHERE inspection_id = ? AND clause_id = '1.1.2'", (first,)
    )
    # Fixed and verified (the loop itself has its own tests).
    await bot.services.db.execute(
        "UPDATE actions SET status = 'closed', closed_at = ? WHERE id = ?", (iso(bot.clock.now()), partial_action)
    )

    # A week later the inspector starts the next visit: 一(一)2's card recalls last time, fixed.
    bot.clock.advance(timedelta(days=7))
    inspector = bot.api.person(INSPECTOR, "王督导")
    await inspector.send_command("inspect")
    picked = await inspector.wait_text("请选择要督导的项目")
    await inspector.press("阳光花园", picked.message_id)
    for position in (1, 2):  # the 复查 of last time's actions comes first (its own tests): skipped here
        recheck = await inspector.wait_text(f"复查 {position}/2")
        await inspector.press("⏭ 跳过", recheck.message_id)
    card = await inspector.wait_text("一(一)1")
    assert "上次" not in card.content  # 一(一)1 was fine last time
    await inspector.press("✅ 符合", card.message_id)
    card = await inspector.wait_text("一(一)2")
    assert "上次：基本符合 · 已整改 ✅" in card.content

    # The same inspection's 二(一)4, not fixed, recalled as such; found again, it is a repeat finding.
    second = await bot.services.db.fetchval("SELECT id FROM inspections WHERE status = 'draft'")
    state = await bot.services.inspections.repo.state(second)
    assert state is not None and set(state.previous) == {"1.1.2", "2.1.4"}
    assert state.previous["2.1.4"].action_status == "open"
    # 二(一)4 answered 不符合 again (a tap on its button); the rest marked 不适用 at once.
    rest = [(c.id, c.category_id) for c in bot.services.rubrics.get(2).clauses if c.id not in ("1.1.1", "2.1.4")]
    await bot.services.inspections.repo.fill_unanswered(second, rest, iso(bot.clock.now()))
    await inspector.press_data(f"i:{second}:2.1.4:fail", card.message_id)
    await inspector.wait_text("二(一)4 不符合")
    await submit(bot)
    rows = await bot.services.db.fetchall(
        "SELECT clause_id, repeat_of FROM actions WHERE inspection_id != ? ORDER BY id", (first,)
    )
    assert [tuple(row) for row in rows] == [("2.1.4", first)]

    staff = bot.api.person(STAFF, "前台小张")
    await staff.send_command("actions")
    listed = await staff.wait_text("未关闭的整改")
    lines = [line for line in listed.content.splitlines() if "二(一)4" in line]
    assert len(lines) == 2 and sum("🔁 重复问题" in line for line in lines) == 1
