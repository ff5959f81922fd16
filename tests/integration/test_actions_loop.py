"""The fix-and-verify loop of corrective actions through the real Application and the Bot API stand-in:
staff send proof (photos, files, notes) and submit it; a verifier returns it with a reason (round 2)
or passes it (closed). Forged and stale buttons, a double tap, a file too big and an empty submit are
refused and change nothing."""

from __future__ import annotations

from tests.conftest import BotUnderTest
from tests.harness.driver import Person
from tests.harness.media import make_png
from tests.integration.test_actions import INSPECTOR, MANAGER, OTHER_STAFF, STAFF, a_draft_with_two_findings, submit


async def the_serious_action(bot: BotUnderTest) -> int:
    """A submitted inspection with two findings; the id of the 不符合 one (二(一)4)."""
    inspection_id, _ = await a_draft_with_two_findings(bot)
    await submit(bot)
    return int(
        await bot.services.db.fetchval(
            "SELECT id FROM actions WHERE inspection_id = ? AND clause_id = '2.1.4'", (inspection_id,)
        )
    )


async def open_card(person: Person, action_id: int, fragment: str = "经过") -> int:
    """The action's card, opened from /actions (or by its button when the list does not show it)."""
    await person.send_command("actions")
    listed = await person.wait_reply()
    query = await person.press_data(f"ao:{action_id}", listed.message_id)
    await person.wait_callback_answer(query)
    card = await person.wait_text(fragment)
    return card.message_id


async def state(bot: BotUnderTest, action_id: int) -> dict:
    db = bot.services.db
    row = await db.fetchone("SELECT status, round, closed_at FROM actions WHERE id = ?", (action_id,))
    events = await db.fetchall(
        "SELECT event, round, actor_id, detail FROM action_events WHERE action_id = ? ORDER BY id", (action_id,)
    )
    proof = await db.fetchall(
        "SELECT round, kind, text, sha256 IS NOT NULL AS stored FROM action_evidence WHERE action_id = ? ORDER BY id",
        (action_id,),
    )
    pending = await db.fetchall("SELECT user_id, kind FROM pending_inputs ORDER BY user_id")
    return {
        "action": dict(row) if row else None,
        "events": [tuple(e) for e in events],
        "proof": [tuple(p) for p in proof],
        "pending": [tuple(p) for p in pending],
    }


async def send_proof(staff: Person, action_id: int) -> None:
    card = await open_card(staff, action_id)
    await staff.press("📷 提交整改材料", card)
    await staff.wait_text("整改后的照片")


async def test_proof_return_second_round_and_pass(bot: BotUnderTest) -> None:
    action_id = await the_serious_action(bot)
    staff = bot.api.person(STAFF, "前台小张")
    inspector = bot.api.person(INSPECTOR, "王督导")

    # Round 1: a photo and a note, then 提交整改.
    await send_proof(staff, action_id)
    await staff.send_photo(make_png(seed=1), caption="门禁已更换")
    await staff.wait_text("已收到照片（本轮共 1 项）")
    await staff.send_text("投诉分析报告已补齐")
    saved = await staff.wait_text("已记下文字说明（本轮共 2 项）")
    await staff.press("✅ 提交整改", saved.message_id)
    await staff.wait_text(f"已提交整改 #{action_id}（第 1 轮，2 项材料）")
    after_submit = await state(bot, action_id)
    assert after_submit["action"] == {"status": "submitted", "round": 1, "closed_at": None}
    assert after_submit["events"][-1] == ("submitted", 1, STAFF, None)
    assert after_submit["proof"] == [(1, "photo", "门禁已更换", 1), (1, "note", "投诉分析报告已补齐", 0)]
    assert after_submit["pending"] == []  # the proof question is over

    # Staff see it waiting, without the verifier's buttons.
    card = await open_card(staff, action_id, "本轮整改材料：2 项")
    assert "待验证" in staff.last_text
    assert "✅ 通过" not in staff.buttons(card) and "📷 提交整改材料" not in staff.buttons(card)

    # The inspector who found it sees the proof count, views the proof, and returns it with a reason.
    card = await open_card(inspector, action_id, "本轮整改材料：2 项")
    assert {"✅ 通过", "↩ 退回"} <= set(inspector.buttons(card))
    assert "📷 提交整改材料" not in inspector.buttons(card)
    await inspector.press("🖼 查看材料（2）", card)
    await inspector.wait_text("第 1 轮的材料：2 项")
    shown = await inspector.wait_replies(1)  # the photo, re-sent by its file_id
    assert shown[0].kind == "photo" and shown[0].caption is None
    await inspector.press("↩ 退回", card)
    await inspector.wait_text("请发送退回整改")
    await inspector.send_text("照片看不清门禁型号")
    await inspector.wait_text(f"已退回整改 #{action_id}，现在是第 2 轮")
    after_return = await state(bot, action_id)
    assert after_return["action"] == {"status": "open", "round": 2, "closed_at": None}
    assert after_return["events"][-1] == ("returned", 1, INSPECTOR, "照片看不清门禁型号")
    assert after_return["pending"] == []

    # Round 2: staff see the reason and a fresh count; the same photo counts again in the new round.
    card = await open_card(staff, action_id, "上次退回原因：照片看不清门禁型号")
    assert "本轮整改材料：0 项" in staff.last_text
    await staff.press("📷 提交整改材料", card)
    await staff.wait_text("整改后的照片")
    await staff.send_album([make_png(seed=1), make_png(seed=2)])
    await staff.wait_text("已收到照片（本轮共 2 项）")
    await staff.send_document(b"%PDF-1.4 acceptance", "验收单.pdf")
    saved = await staff.wait_text("已收到文件（本轮共 3 项）")
    await staff.press("✅ 提交整改", saved.message_id)
    await staff.wait_text(f"已提交整改 #{action_id}（第 2 轮，3 项材料）")

    # The inspector sees the new round's proof (an album and the file) and passes it: closed.
    card = await open_card(inspector, action_id, "本轮整改材料：3 项")
    await inspector.press("🖼 查看材料（3）", card)
    await inspector.wait_text("第 2 轮的材料：3 项")
    shown = await inspector.wait_replies(3)
    assert [m.kind for m in shown] == ["photo", "photo", "document"]
    assert shown[0].media_group_id is not None and shown[2].caption == "验收单.pdf"
    query = await inspector.press("✅ 通过", card)
    assert "整改已关闭" in (await inspector.wait_callback_answer(query)).text
    closed = await inspector.wait_text("验证通过，整改关闭")
    assert "已关闭" in closed.content and "✅ 通过" not in inspector.buttons(closed.message_id)
    final = await state(bot, action_id)
    assert final["action"]["status"] == "closed" and final["action"]["closed_at"] is not None
    assert [(e[0], e[1], e[2]) for e in final["events"]] == [
        ("created", 1, INSPECTOR),
        ("submitted", 1, STAFF),
        ("returned", 1, INSPECTOR),
        ("submitted", 2, STAFF),
        ("closed", 2, INSPECTOR),
    ]
    assert [p[:2] for p in final["proof"]] == [(1, "photo"), (1, "note"), (2, "photo"), (2, "photo"), (2, "document")]

    # Staff see it closed; it left their list of open actions.
    await staff.send_command("actions")
    listed = await staff.wait_text("未关闭的整改：1 项")
    assert "二(一)4" not in listed.content


async def test_forged_and_stale_buttons_change_nothing(bot: BotUnderTest) -> None:
    action_id = await the_serious_action(bot)
    staff = bot.api.person(STAFF, "前台小张")
    inspector = bot.api.person(INSPECTOR, "王督导")
    other = bot.api.person(OTHER_STAFF, "前台小李")

    # 提交整改 with no proof is refused.
    await send_proof(staff, action_id)
    before = await state(bot, action_id)
    query = await staff.press_data(f"as:{action_id}", staff.last_message.message_id)
    assert "还没有整改材料" in (await staff.wait_callback_answer(query)).text
    assert await state(bot, action_id) == before

    # Another site's staff cannot start sending proof, nor submit; the inspector cannot send proof.
    await other.send_command("actions")
    await other.wait_text("没有未关闭的整改")
    for data in (f"ap:{action_id}", f"as:{action_id}", f"av:{action_id}", f"ar:{action_id}", f"ae:{action_id}"):
        query = await other.press_data(data, other.last_message.message_id)
        assert "找不到" in (await other.wait_callback_answer(query)).text
    query = await inspector.press_data(f"ap:{action_id}", None)
    assert "不能对这条整改" in (await inspector.wait_callback_answer(query)).text
    # Not submitted yet: 通过 and 退回 are stale.
    query = await inspector.press_data(f"av:{action_id}", None)
    assert "按钮已过时" in (await inspector.wait_callback_answer(query)).text
    assert await state(bot, action_id) == before

    # A file over the limit is refused before the download; nothing is stored.
    big = (bot.services.settings.inspection.max_photo_mb + 1) * 1024 * 1024
    await staff.send_document(b"%PDF big", "big.pdf", file_size=big)
    await staff.wait_text("文件太大")
    assert (await state(bot, action_id))["proof"] == []

    # A photo, then a double tap on 提交整改: applied once.
    await staff.send_photo(make_png(seed=3))
    saved = await staff.wait_text("已收到照片（本轮共 1 项）")
    first = await staff.press_data(f"as:{action_id}", saved.message_id)
    second = await staff.press_data(f"as:{action_id}", saved.message_id)
    answers = [(await staff.wait_callback_answer(q)).text for q in (first, second)]
    assert sorted(answers) == sorted(
        ["已提交整改", "这条整改的状态已经变了，这个按钮已过时。请用 /actions 重新打开查看。"]
    )
    submitted = await state(bot, action_id)
    assert [e[0] for e in submitted["events"]].count("submitted") == 1
    assert submitted["action"]["status"] == "submitted"

    # Staff pressing 通过 (a forged button) is refused; so is 退回; nothing changes.
    for data in (f"av:{action_id}", f"ar:{action_id}"):
        query = await staff.press_data(data, saved.message_id)
        assert "不能对这条整改" in (await staff.wait_callback_answer(query)).text
    assert await state(bot, action_id) == submitted

    # A photo now (no question open) is not taken as proof.
    await staff.send_photo(make_png(seed=4))
    await staff.wait_reply()
    assert await state(bot, action_id) == submitted

    # An action that no longer exists.
    query = await inspector.press_data("av:999999", None)
    assert "找不到" in (await inspector.wait_callback_answer(query)).text


async def test_the_return_reason_is_text_and_cancel_drops_the_question(bot: BotUnderTest) -> None:
    action_id = await the_serious_action(bot)
    staff = bot.api.person(STAFF, "前台小张")
    manager = bot.api.person(MANAGER, "李经理")
    await send_proof(staff, action_id)
    await staff.send_text("已整改")
    saved = await staff.wait_text("已记下文字说明")
    await staff.press("✅ 提交整改", saved.message_id)
    await staff.wait_text("已提交整改")

    # A manager of every site verifies too; a photo is not a reason; a too long reason is refused.
    card = await open_card(manager, action_id, "本轮整改材料：1 项")
    await manager.press("↩ 退回", card)
    await manager.wait_text("请发送退回整改")
    await manager.send_photo(make_png(seed=9))
    await manager.wait_text("退回原因请用文字发送")
    await manager.send_text("长" * 501)
    await manager.wait_text("太长了")
    assert (await state(bot, action_id))["action"]["status"] == "submitted"
    await manager.send_command("cancel")
    await manager.wait_text("取消")
    await manager.send_text("其实可以")  # no longer a reason
    await manager.wait_reply()
    after = await state(bot, action_id)
    assert after["action"] == {"status": "submitted", "round": 1, "closed_at": None}
    assert after["pending"] == []
