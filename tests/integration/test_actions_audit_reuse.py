"""Issue #15's rules through the real Application and the Bot API stand-in: every transition of an
action leaves its audit entry (shown by /audit), and a "before" photo sent back as proof (forwarded as
a photo, or saved and sent as a file), or an earlier round's proof sent again, is flagged to the
verifier (the review message, the proof screen, the photo itself) and its sender told; it is still
accepted."""

from __future__ import annotations

import hashlib
import json

from tests.conftest import ADMIN_ID, BotUnderTest
from tests.harness.driver import Person
from tests.harness.media import make_png
from tests.integration.actions_bot import actions_bot, monday_clock  # noqa: F401 (the bot and clock fixtures)
from tests.integration.test_actions import INSPECTOR, MANAGER, OTHER_STAFF, STAFF, a_draft_with_two_findings, submit
from tests.integration.test_actions_extend import ask_for_time, extension_id
from tests.integration.test_actions_loop import open_card
from tests.integration.test_actions_messages import tick

BEFORE = make_png(seed=41)  # the inspector's photo of the finding 二(一)4
NEW, NEWER = make_png(seed=42), make_png(seed=43)


async def submitted_with_a_before_photo(bot: BotUnderTest) -> dict[str, int]:
    """The two findings submitted, 二(一)4 with the inspector's photo stored as the walk stores it (the
    largest size's ids, the sha256 of its bytes). Action ids by clause code."""
    for user_id, name in ((STAFF, "前台小张"), (OTHER_STAFF, "前台小李"), (MANAGER, "李经理"), (INSPECTOR, "王督导")):
        bot.api.person(user_id, name, started=True)
    inspection_id, _ = await a_draft_with_two_findings(bot)
    largest = bot.api.add_photo(BEFORE)[-1]
    await bot.services.db.execute(
        """INSERT INTO photos (inspection_id, clause_id, file_id, file_unique_id, sha256, size, mime_type, created_at)
           VALUES (?, '2.1.4', ?, ?, ?, ?, 'image/jpeg', '2026-04-06T01:00:00+00:00')""",
        (inspection_id, largest["file_id"], largest["file_unique_id"], hashlib.sha256(BEFORE).hexdigest(), len(BEFORE)),
    )
    await submit(bot)
    rows = await bot.services.db.fetchall("SELECT id, clause_id FROM actions ORDER BY id")
    return {"一(一)2" if row["clause_id"] == "1.1.2" else "二(一)4": row["id"] for row in rows}


async def start_proof(staff: Person, action_id: int) -> None:
    card = await open_card(staff, action_id)
    await staff.press("📷 提交整改材料", card)
    await staff.wait_text("整改后的照片")


async def audit_rows(bot: BotUnderTest, action_id: int) -> list[tuple[str, int, dict]]:
    rows = await bot.services.db.fetchall(
        "SELECT action, actor_id, detail FROM audit_log WHERE target = ? ORDER BY id", (f"action:{action_id}",)
    )
    return [(row["action"], row["actor_id"], json.loads(row["detail"])) for row in rows]


async def test_a_before_photo_sent_as_proof_is_flagged_and_each_transition_audited(bot: BotUnderTest) -> None:
    action_id = (await submitted_with_a_before_photo(bot))["二(一)4"]
    staff = bot.api.person(STAFF, "前台小张")
    inspector = bot.api.person(INSPECTOR, "王督导")
    await tick(bot)
    await staff.wait_text("整改通知单")

    # Round 1: the before photo forwarded (the same Telegram file), then saved and sent as a file (the
    # same bytes), then a genuinely new photo. Each is accepted; the sender is told of the first two.
    await start_proof(staff, action_id)
    await staff.send_photo(BEFORE)
    said = await staff.wait_text("已收到照片（本轮共 1 项）")
    assert "⚠️ 这张照片与整改前的照片相同，验证人会看到提示。" in said.content
    await staff.send_document(BEFORE, "门禁.png", "image/png")
    said = await staff.wait_text("已收到文件（本轮共 2 项）")
    assert "⚠️ 这个文件与整改前的照片相同，验证人会看到提示。" in said.content
    await staff.send_photo(NEW)
    saved = await staff.wait_text("已收到照片（本轮共 3 项）")
    assert "⚠️" not in saved.content
    await staff.press("✅ 提交整改", saved.message_id)
    await staff.wait_text(f"已提交整改 #{action_id}（第 1 轮，3 项材料）")

    # The verifier's message marks the action's line.
    inspector.drain()
    await tick(bot)
    review = await inspector.wait_text("有 1 项整改待您验证")
    line = next(text for text in review.content.splitlines() if "二(一)4" in text)
    assert line.endswith("⚠️ 材料中有整改前的照片")

    # The proof screen says which; the photo itself and the file carry the mark too.
    card = await open_card(inspector, action_id, "本轮整改材料：3 项")
    await inspector.press("🖼 查看材料（3）", card)
    header = await inspector.wait_text("第 1 轮的材料：3 项")
    assert "⚠️ 第 1 张整改照片与整改前照片相同" in header.content
    assert "⚠️ 文件“门禁.png”与整改前照片相同" in header.content
    assert "第 2 张" not in header.content  # the new photo is not flagged
    shown = await inspector.wait_replies(3)
    assert [m.kind for m in shown] == ["photo", "photo", "document"]
    assert shown[0].caption == "⚠️ 与整改前照片相同" and shown[1].caption is None
    assert shown[2].caption == "门禁.png\n⚠️ 与整改前照片相同"

    # Returned; round 2 sends round 1's new photo again (flagged, worded so) and a newer one.
    await inspector.press("↩ 退回", card)
    await inspector.wait_text("请发送退回整改")
    await inspector.send_text("这是整改前的照片")
    await inspector.wait_text("现在是第 2 轮")
    await start_proof(staff, action_id)
    await staff.send_photo(NEW)
    said = await staff.wait_text("已收到照片（本轮共 1 项）")
    assert "⚠️ 这张照片上一轮已经提交过，验证人会看到提示。" in said.content
    await staff.send_photo(NEWER)
    saved = await staff.wait_text("已收到照片（本轮共 2 项）")
    assert "⚠️" not in saved.content
    await staff.press("✅ 提交整改", saved.message_id)
    await staff.wait_text(f"已提交整改 #{action_id}（第 2 轮，2 项材料）")
    await tick(bot)
    review = await inspector.wait_text("有 1 项整改待您验证")
    assert "⚠️ 材料与上一轮相同" in review.content and "整改前" not in review.content
    card = await open_card(inspector, action_id, "本轮整改材料：2 项")
    await inspector.press("🖼 查看材料（2）", card)
    header = await inspector.wait_text("第 2 轮的材料：2 项")
    assert "⚠️ 第 1 张整改照片与上一轮提交的照片相同" in header.content and "第 2 张" not in header.content
    await inspector.wait_replies(1)  # the album
    await inspector.press("✅ 通过", card)
    await inspector.wait_text("验证通过，整改关闭")

    # Each transition has one audit entry: who, and why where there is one.
    assert await audit_rows(bot, action_id) == [
        ("action.created", INSPECTOR, {"site": "阳光花园", "round": 1}),
        ("action.submitted", STAFF, {"site": "阳光花园", "round": 1}),
        ("action.returned", INSPECTOR, {"site": "阳光花园", "round": 1, "reason": "这是整改前的照片"}),
        ("action.submitted", STAFF, {"site": "阳光花园", "round": 2}),
        ("action.closed", INSPECTOR, {"site": "阳光花园", "round": 2}),
    ]
    # ... written with its event: one entry per person's event, at the event's moment.
    events = await bot.services.db.fetchall(
        "SELECT at, event FROM action_events WHERE action_id = ? ORDER BY id", (action_id,)
    )
    entries = await bot.services.db.fetchall(
        "SELECT at, action FROM audit_log WHERE target = ? ORDER BY id", (f"action:{action_id}",)
    )
    assert [(e["at"], f"action.{e['event']}") for e in events] == [(a["at"], a["action"]) for a in entries]

    # /audit shows them readably.
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("audit")
    page = await admin.wait_text("最近的操作记录")
    assert f"王督导 · 整改关闭 · 整改 #{action_id} — 阳光花园 · 第 2 轮" in page.text
    assert f"王督导 · 退回整改 · 整改 #{action_id} — 阳光花园 · 第 1 轮 · 原因：这是整改前的照片" in page.text
    assert f"前台小张 · 提交整改 · 整改 #{action_id} — 阳光花园 · 第 1 轮" in page.text


async def test_an_extension_asked_and_approved_is_audited(bot: BotUnderTest) -> None:
    action_id = (await submitted_with_a_before_photo(bot))["二(一)4"]
    staff = bot.api.person(STAFF, "前台小张")
    manager = bot.api.person(MANAGER, "李经理")
    await tick(bot)
    await staff.wait_text("整改通知单")
    await ask_for_time(staff, action_id, "4-16", "门禁配件缺货")
    card = await open_card(manager, action_id, "延期申请待经理审批")
    query = await manager.press_data(f"xa:{await extension_id(bot)}", card)
    await manager.wait_callback_answer(query)
    await manager.wait_text("同意延期：截止 4月9日 → 4月16日")

    assert await audit_rows(bot, action_id) == [
        ("action.created", INSPECTOR, {"site": "阳光花园", "round": 1}),
        (
            "action.extension_requested",
            STAFF,
            {"site": "阳光花园", "round": 1, "reason": "门禁配件缺货", "due": "2026-04-16"},
        ),
        ("action.extended", MANAGER, {"site": "阳光花园", "round": 1, "old_due": "2026-04-09", "due": "2026-04-16"}),
    ]
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("audit")
    page = await admin.wait_text("最近的操作记录")
    assert f"李经理 · 同意延期 · 整改 #{action_id} — 阳光花园 · 第 1 轮 · 截止 2026-04-09 → 2026-04-16" in page.text
    assert (
        f"前台小张 · 申请延期 · 整改 #{action_id} — 阳光花园 · 第 1 轮 · 申请延至 2026-04-16 · 原因：门禁配件缺货"
        in page.text
    )
