"""What corrective actions tell people, through the duty engine's outbox, the real Application and the
Bot API stand-in, with a moved clock: the 整改通知单 to the site's staff and group, one message per
batch of proof to the verifier, the result to whoever sent the proof, overdue follow-ups and one
escalation per manager per day; nothing twice across ticks and a restart; nobody told of their own act."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.clock import ManualClock, iso
from bot.scheduler import tick_now
from config.duties import DutySettings
from config.settings import ReportSettings
from tests.conftest import BotUnderTest, make_settings, running_bot
from tests.harness.botapi import FakeBotAPI
from tests.harness.driver import Person
from tests.harness.media import make_png
from tests.integration.test_actions import INSPECTOR, MANAGER, OTHER_STAFF, STAFF, a_draft_with_two_findings, submit

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 4, 6, 10, 0, tzinfo=SHANGHAI)
GROUP = -1005001
# Working days without public holidays, so the dates below are plain weekdays; the engine ticks only
# when a test says so (no periodic duties).
QUIET_DUTIES = DutySettings(enabled=False, public_holidays="none")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest_asyncio.fixture
async def bot(botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotUnderTest]:
    settings = make_settings(botapi, tmp_path / "data", duties=QUIET_DUTIES, reports=ReportSettings(pdf=False))
    async with running_bot(botapi, settings, clock) as under_test:
        yield under_test


async def tick(bot: BotUnderTest, at: datetime | None = None) -> None:
    if at is not None:
        bot.clock.set(at)
    await tick_now(bot.app)


async def submitted_with_group(bot: BotUnderTest) -> dict[str, int]:
    """The inspection with two findings submitted; the site's group linked; everyone has written to
    the bot before (it may write to them). Action ids by clause code."""
    for user_id, name in ((STAFF, "前台小张"), (OTHER_STAFF, "前台小李"), (MANAGER, "李经理"), (INSPECTOR, "王督导")):
        bot.api.person(user_id, name, started=True)
    bot.api.group(GROUP, "阳光花园前台")
    await a_draft_with_two_findings(bot)
    await bot.services.db.execute("UPDATE sites SET group_chat_id = ? WHERE name = '阳光花园'", (GROUP,))
    await submit(bot)
    await bot.api.person(MANAGER, "李经理").wait_text("提交了")  # the submit's own notice, before this
    rows = await bot.services.db.fetchall("SELECT id, clause_id FROM actions ORDER BY id")
    return {"一(一)2" if row["clause_id"] == "1.1.2" else "二(一)4": row["id"] for row in rows}


async def outbox(bot: BotUnderTest) -> list[tuple[str, int, str]]:
    rows = await bot.services.db.fetchall("SELECT kind, chat_id, status FROM duty_outbox ORDER BY id")
    return [(row["kind"], row["chat_id"], row["status"]) for row in rows]


async def prove_and_submit(staff: Person, notice_id: int, label: str, photo_seed: int) -> None:
    """From the notice's button: the card, a photo as proof, 提交整改."""
    await staff.press(label, notice_id)
    card = await staff.wait_text("经过")
    await staff.press("📷 提交整改材料", card.message_id)
    await staff.wait_text("整改后的照片")
    await staff.send_photo(make_png(seed=photo_seed))
    saved = await staff.wait_text("已收到照片")
    await staff.press("✅ 提交整改", saved.message_id)
    await staff.wait_text("已提交整改")


async def test_the_notice_reaches_staff_and_group_once(bot: BotUnderTest) -> None:
    ids = await submitted_with_group(bot)
    group = bot.api.group(GROUP, "阳光花园前台")
    staff = bot.api.person(STAFF, "前台小张")
    inspector = bot.api.person(INSPECTOR, "王督导")
    inspector.drain()
    await tick(bot)

    notice = await staff.wait_text("整改通知单")
    assert "阳光花园" in notice.content and "发现 2 个问题" in notice.content
    assert notice.content.index("一(一)2") < notice.content.index("二(一)4")  # the rubric's order
    assert staff.buttons(notice) == ["🟡 一(一)2 · 阳光花园", "🔴 二(一)4 · 阳光花园", "📄 打印整改通知单"]
    in_group = await group.wait_text("整改通知单")
    assert in_group.buttons == ["📄 打印整改通知单"] and "/actions" in in_group.content  # no cards in a group
    for person in (inspector, bot.api.person(OTHER_STAFF, "前台小李"), bot.api.person(MANAGER, "李经理")):
        await person.assert_no_reply()  # not the finder (their own act), not another site, not managers

    # A second tick and a restart send nothing again.
    await tick(bot)
    await bot.restart()
    await tick(bot)
    await staff.assert_no_reply()
    assert sorted(await outbox(bot)) == [("action_notice", GROUP, "sent"), ("action_notice", STAFF, "sent")]

    # A button opens the action's card as a new message; the notice stays as it was.
    await staff.press("🔴 二(一)4 · 阳光花园", notice.message_id)
    card = await staff.wait_text("经过")
    assert card.message_id != notice.message_id and f"整改 #{ids['二(一)4']}" in card.content
    assert staff.buttons(notice.message_id) == ["🟡 一(一)2 · 阳光花园", "🔴 二(一)4 · 阳光花园", "📄 打印整改通知单"]

    # Its printable form: one HTML page with both items, their notes, and the lines to sign.
    number = await bot.services.db.fetchval("SELECT inspection_id FROM actions WHERE id = ?", (ids["二(一)4"],))
    await staff.press("📄 打印整改通知单", notice.message_id)
    printed = await staff.wait_reply(predicate=lambda m: m.kind == "document")
    assert printed.document is not None and printed.document["file_name"] == f"阳光花园-{number}.html"
    page = bot.api.file_bytes(printed.document["file_id"]).decode()
    assert "整改通知单" in page and "二(一)4" in page and "没有投诉分析报告" in page and "项目负责人签收" in page
    assert page.index("一(一)2") < page.index("二(一)4")
    stranger = bot.api.person(OTHER_STAFF, "前台小李")  # another site's staff: refused, nothing sent
    query = await stranger.press_data(f"an:{number}", None)
    assert "找不到" in (await stranger.wait_callback_answer(query)).text


async def test_one_message_per_batch_to_verify_and_the_results_to_the_sender(bot: BotUnderTest) -> None:
    ids = await submitted_with_group(bot)
    staff = bot.api.person(STAFF, "前台小张")
    inspector = bot.api.person(INSPECTOR, "王督导")
    await tick(bot)
    notice = await staff.wait_text("整改通知单")
    await prove_and_submit(staff, notice.message_id, "🟡 一(一)2 · 阳光花园", 1)
    await prove_and_submit(staff, notice.message_id, "🔴 二(一)4 · 阳光花园", 2)
    inspector.drain()
    await tick(bot)

    batch = await inspector.wait_text("有 2 项整改待您验证")
    assert inspector.buttons(batch) == ["📨 一(一)2 · 阳光花园", "📨 二(一)4 · 阳光花园"]
    await staff.assert_no_reply()  # they submitted it: nothing to tell them

    await inspector.press("📨 一(一)2 · 阳光花园", batch.message_id)
    card = await inspector.wait_text("本轮整改材料：1 项")
    await inspector.press("✅ 通过", card.message_id)
    await inspector.wait_text("验证通过，整改关闭")
    await inspector.press("📨 二(一)4 · 阳光花园", batch.message_id)
    card = await inspector.wait_text("本轮整改材料：1 项")
    await inspector.press("↩ 退回", card.message_id)
    await inspector.wait_text("请发送退回整改")
    await inspector.send_text("照片看不清门禁型号")
    await inspector.wait_text("现在是第 2 轮")
    await tick(bot)

    result = await staff.wait_text("整改验证结果")
    assert "一(一)2：验证通过，整改已关闭" in result.content
    assert "二(一)4：被退回，原因：照片看不清门禁型号" in result.content
    assert "被退回的请重新提交整改材料" in result.content
    await inspector.assert_no_reply()
    await tick(bot)
    await staff.assert_no_reply()
    kinds = [row[0] for row in await outbox(bot)]
    assert kinds.count("action_review") == 1 and kinds.count("action_result") == 1
    assert ids  # both actions were told in one message each way


async def test_proof_passed_meanwhile_is_left_out_of_the_verifiers_message(bot: BotUnderTest) -> None:
    """The batch is composed when it is sent: what another verifier passed in between is not asked for."""
    ids = await submitted_with_group(bot)
    staff = bot.api.person(STAFF, "前台小张")
    await tick(bot)
    notice = await staff.wait_text("整改通知单")
    await prove_and_submit(staff, notice.message_id, "🔴 二(一)4 · 阳光花园", 1)
    await bot.services.actions.repo.close(ids["二(一)4"], 1, MANAGER, iso(bot.clock.now()))
    inspector = bot.api.person(INSPECTOR, "王督导")
    inspector.drain()
    await tick(bot)
    await inspector.assert_no_reply()
    assert ("action_review", INSPECTOR, "skipped") in await outbox(bot)


async def test_overdue_follow_ups_and_one_escalation_per_manager_per_day(bot: BotUnderTest) -> None:
    # Submitted Monday 6 April: 二(一)4 (严重) is due Thursday 9th, 一(一)2 (一般) Wednesday 15th.
    await submitted_with_group(bot)
    staff = bot.api.person(STAFF, "前台小张")
    manager = bot.api.person(MANAGER, "李经理")
    group = bot.api.group(GROUP, "阳光花园前台")
    await tick(bot)
    await staff.wait_text("整改通知单")
    await group.wait_text("整改通知单")

    await tick(bot, datetime(2026, 4, 9, 18, 0, tzinfo=SHANGHAI))  # the due day itself: not late yet
    await tick(bot, datetime(2026, 4, 10, 8, 0, tzinfo=SHANGHAI))  # late, but before working hours
    await staff.assert_no_reply()
    await tick(bot, datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI))  # Friday: the first follow-up
    late = await staff.wait_text("1 项整改已逾期")
    assert "二(一)4" in late.content and "已逾期 1 天" in late.content and "一(一)2" not in late.content
    await tick(bot)
    await bot.restart()
    await tick(bot)
    await tick(bot, datetime(2026, 4, 13, 10, 0, tzinfo=SHANGHAI))  # Monday: the next is two working days on
    await staff.assert_no_reply()
    await manager.assert_no_reply()
    await group.assert_no_reply()  # follow-ups go to the staff, not the group

    await tick(bot, datetime(2026, 4, 14, 10, 0, tzinfo=SHANGHAI))  # Tuesday: follow-up 2, and the managers
    assert "二(一)4" in (await staff.wait_text("1 项整改已逾期")).content
    escalated = await manager.wait_text("1 项整改逾期未完成")
    assert "阳光花园" in escalated.content and manager.buttons(escalated) == ["⏰ 二(一)4 · 阳光花园"]
    await tick(bot, datetime(2026, 4, 14, 16, 0, tzinfo=SHANGHAI))
    await manager.assert_no_reply()

    # Thursday 16th: both are late now (one message), and 一(一)2's managers wait for Monday 20th.
    await tick(bot, datetime(2026, 4, 16, 10, 0, tzinfo=SHANGHAI))
    both = await staff.wait_text("2 项整改已逾期")
    assert "一(一)2" in both.content and "二(一)4" in both.content
    await manager.assert_no_reply()
    await tick(bot, datetime(2026, 4, 20, 10, 0, tzinfo=SHANGHAI))
    second = await manager.wait_text("1 项整改逾期未完成")
    assert "一(一)2" in second.content
    escalations = [row for row in await outbox(bot) if row[0] == "action_escalation"]
    assert escalations == [("action_escalation", MANAGER, "sent")] * 2
