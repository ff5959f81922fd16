"""Who is responsible, and who may verify (issue #15), through the real Application and the Bot API
stand-in: a manager assigns an action to one of the site's staff (指派), who alone then sends proof and
hears of it, of its follow-ups and of its result; back to the whole staff; forged, doubled and stale
指派 buttons are refused and change nothing; long ids fit Telegram's 64 bytes. Nobody verifies their
own proof: a staff member who is also the finding inspector submits, the buttons are hidden from them,
a forged 通过 or 退回 is refused, and the proof goes to the site's other verifiers."""

from __future__ import annotations

from datetime import datetime

from tests.conftest import ADMIN_ID, BotUnderTest
from tests.harness.media import make_png
from tests.harness.models import BotMessage
from tests.integration.actions_bot import actions_bot, monday_clock  # noqa: F401 (the bot and clock fixtures)
from tests.integration.test_actions import INSPECTOR, MANAGER, STAFF, a_draft_with_two_findings, submit
from tests.integration.test_actions_loop import open_card
from tests.integration.test_actions_messages import (
    GROUP,
    SHANGHAI,
    outbox,
    prove_and_submit,
    submitted_with_group,
    tick,
)

STAFF_2, OTHER_INSPECTOR = 4003, 3002
SERIOUS = "二(一)4"  # submitted Monday 6 April 2026: due Thursday 9th, followed up from Friday 10th
STALE = "状态已经变了"


async def site_id(bot: BotUnderTest) -> int:
    return int(await bot.services.db.fetchval("SELECT id FROM sites WHERE name = '阳光花园'"))


async def assignment(bot: BotUnderTest, action_id: int) -> tuple[int | None, list[tuple]]:
    """The action's assignee and its 指派 events (actor, detail)."""
    db = bot.services.db
    assignee = await db.fetchval("SELECT assignee_id FROM actions WHERE id = ?", (action_id,))
    events = await db.fetchall(
        "SELECT actor_id, detail FROM action_events WHERE action_id = ? AND event = 'assigned' ORDER BY id",
        (action_id,),
    )
    return assignee, [tuple(e) for e in events]


def callback_data(message: BotMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [str(button["callback_data"]) for row in rows for button in row if "callback_data" in button]


async def test_a_manager_assigns_a_staff_member_who_alone_fixes_it_then_gives_it_back(bot: BotUnderTest) -> None:
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    await bot.add_person(STAFF_2, "staff", "前台小王", site_id=await site_id(bot))
    staff, staff_2 = bot.api.person(STAFF, "前台小张"), bot.api.person(STAFF_2, "前台小王", started=True)
    manager, inspector = bot.api.person(MANAGER, "李经理"), bot.api.person(INSPECTOR, "王督导")
    group = bot.api.group(GROUP, "阳光花园前台")
    await tick(bot)
    await staff.wait_text("整改通知单")
    await staff_2.wait_text("整改通知单")  # staff when the inspection was submitted: the site's staff
    group.drain()

    # The manager opens the card: 👤 指派 lists the site's staff (not the other site's).
    card = await open_card(manager, action_id)
    assert "👤 指派" in manager.buttons(card)
    await manager.press("👤 指派", card)
    listed = await manager.wait_text(f"指派整改 #{action_id}")
    assert "现在由全站员工负责" in listed.content
    assert manager.buttons(listed) == ["👤 前台小张", "👤 前台小王", "↩ 返回整改"]
    query = await manager.press("👤 前台小王", listed.message_id)
    assert (await manager.wait_callback_answer(query)).text == "已指派给 前台小王"
    assigned = await manager.wait_text("负责人：前台小王")
    assert "指派给 前台小王 · 李经理" in assigned.content
    assert await assignment(bot, action_id) == (STAFF_2, [(MANAGER, str(STAFF_2))])

    # A double tap of the same choice applies nothing.
    query = await manager.press_data(f"ak:{action_id}:0:{STAFF_2}", listed.message_id)
    assert STALE in (await manager.wait_callback_answer(query)).text
    assert await assignment(bot, action_id) == (STAFF_2, [(MANAGER, str(STAFF_2))])

    # The assignee is told once; not the manager (their own act), not the other staff, not the group;
    # a second tick and a restart send nothing again.
    await tick(bot)
    told = await staff_2.wait_text("1 项整改指派给您负责")
    assert SERIOUS in told.content and staff_2.buttons(told) == [f"🔴 {SERIOUS} · 阳光花园"]
    for person in (manager, staff, inspector):
        await person.assert_no_reply()
    await group.assert_no_reply()
    await tick(bot)
    await bot.restart()
    await tick(bot)
    await staff_2.assert_no_reply()
    assert [row for row in await outbox(bot) if row[0] == "action_assigned"] == [("action_assigned", STAFF_2, "sent")]

    # The other staff member no longer sends proof: no button, and a forged one is refused.
    card = await open_card(staff, action_id, "负责人：前台小王")
    assert "📷 提交整改材料" not in staff.buttons(card) and "⏳ 申请延期" not in staff.buttons(card)
    query = await staff.press_data(f"ap:{action_id}", card)
    assert "已指派给专人负责" in (await staff.wait_callback_answer(query)).text
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM pending_inputs") == 0

    # Overdue: the follow-up goes to the assignee only.
    await tick(bot, datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI))
    late = await staff_2.wait_text("1 项整改已逾期")
    assert SERIOUS in late.content
    await staff.assert_no_reply()

    # The assignee fixes it from the message's button; the finder returns it; the result reaches them.
    await prove_and_submit(staff_2, told.message_id, f"🔴 {SERIOUS} · 阳光花园", 1)
    await tick(bot)
    review = await inspector.wait_text("有 1 项整改待您验证")
    await inspector.press(f"📨 {SERIOUS} · 阳光花园", review.message_id)
    card_id = (await inspector.wait_text("本轮整改材料：1 项")).message_id
    await inspector.press("↩ 退回", card_id)
    await inspector.wait_text("请发送退回整改")
    await inspector.send_text("看不清")
    await inspector.wait_text("现在是第 2 轮")
    await tick(bot)
    assert "被退回，原因：看不清" in (await staff_2.wait_text("整改验证结果")).content
    await staff.assert_no_reply()

    # Back to the whole staff: the list leaves out the assignee and offers the default.
    card = await open_card(manager, action_id, "负责人：前台小王")
    await manager.press("👤 指派", card)
    listed = await manager.wait_text(f"指派整改 #{action_id}")
    assert manager.buttons(listed) == ["👤 前台小张", "👥 恢复默认（全站员工）", "↩ 返回整改"]
    query = await manager.press("👥 恢复默认（全站员工）", listed.message_id)
    assert (await manager.wait_callback_answer(query)).text == "已恢复由全站员工负责"
    back = await manager.wait_text("恢复全站员工 · 李经理")
    assert "负责人：" not in back.content
    assert await assignment(bot, action_id) == (None, [(MANAGER, str(STAFF_2)), (MANAGER, None)])
    await tick(bot)
    for person in (staff, staff_2):
        assert SERIOUS in (await person.wait_text("1 项整改恢复由全站员工负责")).content
    await manager.assert_no_reply()
    card = await open_card(staff, action_id)
    assert "📷 提交整改材料" in staff.buttons(card)


async def test_forged_stale_and_unknown_assignments_change_nothing(bot: BotUnderTest) -> None:
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    staff, manager = bot.api.person(STAFF, "前台小张"), bot.api.person(MANAGER, "李经理")
    inspector = bot.api.person(INSPECTOR, "王督导")

    # Staff and the inspector may not assign: no button, and forged ones are refused.
    for person in (staff, inspector):
        card = await open_card(person, action_id)
        assert "👤 指派" not in person.buttons(card)
        for data in (f"aa:{action_id}:0", f"ak:{action_id}:0:{STAFF}"):
            query = await person.press_data(data, card)
            assert "由该项目的经理指派" in (await person.wait_callback_answer(query)).text
    assert await assignment(bot, action_id) == (None, [])

    # Someone who is not staff of the site (the other site's, the manager) is refused.
    card = await open_card(manager, action_id)
    for person_id in (4002, MANAGER):
        query = await manager.press_data(f"ak:{action_id}:0:{person_id}", card)
        assert "不是该项目的员工" in (await manager.wait_callback_answer(query)).text
    assert await assignment(bot, action_id) == (None, [])

    # A list drawn before an admin assigned it meanwhile is stale: its choice applies nothing.
    await manager.press("👤 指派", card)
    listed = await manager.wait_text(f"指派整改 #{action_id}")
    admin = bot.api.person(ADMIN_ID, "管理员")
    query = await admin.press_data(f"ak:{action_id}:0:{STAFF}", None)
    assert (await admin.wait_callback_answer(query)).text == "已指派给 前台小张"
    await bot.add_person(STAFF_2, "staff", "前台小王", site_id=await site_id(bot))
    query = await manager.press_data(f"ak:{action_id}:0:{STAFF_2}", listed.message_id)
    assert STALE in (await manager.wait_callback_answer(query)).text
    assert await assignment(bot, action_id) == (STAFF, [(ADMIN_ID, str(STAFF))])

    # A closed action is no longer assigned.
    await bot.services.db.execute("UPDATE actions SET status = 'closed' WHERE id = ?", (action_id,))
    query = await manager.press_data(f"ak:{action_id}:{STAFF}:0", listed.message_id)
    assert STALE in (await manager.wait_callback_answer(query)).text
    assert await assignment(bot, action_id) == (STAFF, [(ADMIN_ID, str(STAFF))])


async def test_long_ids_and_many_staff_fit_in_pages_and_64_bytes(bot: BotUnderTest) -> None:
    """Eleven staff with 16-digit Telegram ids, an action with an 18-digit id: pages of eight, and every
    button's data within Telegram's 64 bytes (the stand-in refuses more)."""
    inspection_id, _ = await a_draft_with_two_findings(bot)
    site = await site_id(bot)
    # A cancelled action of a clause found fine puts the new actions' ids at 18 digits.
    await bot.services.db.execute(
        """INSERT INTO actions (id, inspection_id, site_id, clause_id, answer, severity, status, due_date,
                                created_at, updated_at)
           VALUES (999999999999999000, ?, ?, '1.1.1', 'partial', 'general', 'cancelled', '2026-04-08', ?, ?)""",
        (inspection_id, site, "2026-04-06T02:00:00+00:00", "2026-04-06T02:00:00+00:00"),
    )
    await submit(bot)
    action_id = int(await bot.services.db.fetchval("SELECT id FROM actions WHERE clause_id = '2.1.4'"))
    assert len(str(action_id)) == 18
    people = [4_000_000_000_000_000 + n for n in range(1, 11)]
    for number, person_id in enumerate(people, start=1):
        await bot.add_person(person_id, "staff", f"员工{number:02d}", site_id=site)

    manager = bot.api.person(MANAGER, "李经理")
    card = await open_card(manager, action_id)
    await manager.press("👤 指派", card)
    first = await manager.wait_text("（第 1/2 页）")
    assert manager.buttons(first) == ["👤 前台小张", *(f"👤 员工{n:02d}" for n in range(1, 8)), "▶", "↩ 返回整改"]
    await manager.press("▶", first.message_id)
    second = await manager.wait_text("（第 2/2 页）")
    assert manager.buttons(second) == ["👤 员工08", "👤 员工09", "👤 员工10", "◀", "↩ 返回整改"]
    await manager.press("👤 员工10", second.message_id)
    await manager.wait_text("负责人：员工10")
    card = await open_card(manager, action_id, "负责人：员工10")
    await manager.press("👤 指派", card)
    again = await manager.wait_text("现在的负责人：员工10")
    data = callback_data(again)
    assert f"ak:{action_id}:{people[-1]}:{people[0]}" in data and f"ak:{action_id}:{people[-1]}:0" in data
    assert max(len(item.encode()) for item in data) <= 64
    assert await assignment(bot, action_id) == (people[-1], [(MANAGER, str(people[-1]))])


async def test_nobody_verifies_their_own_proof(bot: BotUnderTest) -> None:
    """The finding inspector is also staff of the site and submits the proof: the verify buttons are
    hidden from them, a forged 通过 or 退回 is refused, and the proof goes to the site's other inspector
    and the manager instead."""
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    site = await site_id(bot)
    await bot.add_person(INSPECTOR, "staff", "王督导", site_id=site)
    await bot.add_person(OTHER_INSPECTOR, "inspector", "赵督导", site_id=site)
    inspector, other = bot.api.person(INSPECTOR, "王督导"), bot.api.person(OTHER_INSPECTOR, "赵督导", started=True)
    manager, staff = bot.api.person(MANAGER, "李经理"), bot.api.person(STAFF, "前台小张")
    await tick(bot)
    await staff.wait_text("整改通知单")
    manager.drain()

    card = await open_card(inspector, action_id)
    await inspector.press("📷 提交整改材料", card)
    await inspector.wait_text("整改后的照片")
    await inspector.send_photo(make_png(seed=1))
    saved = await inspector.wait_text("已收到照片")
    await inspector.press("✅ 提交整改", saved.message_id)
    await inspector.wait_text("已提交整改")
    card = await open_card(inspector, action_id, "本轮整改材料：1 项")
    assert "由其他督导员或经理验证" in inspector.last_text
    assert "✅ 通过" not in inspector.buttons(card) and "↩ 退回" not in inspector.buttons(card)
    for data in (f"av:{action_id}", f"ar:{action_id}"):
        query = await inspector.press_data(data, card)
        assert "不能验证自己提交的整改" in (await inspector.wait_callback_answer(query)).text
    db = bot.services.db
    assert await db.fetchval("SELECT status FROM actions WHERE id = ?", (action_id,)) == "submitted"
    assert await db.fetchval("SELECT COUNT(*) FROM pending_inputs") == 0

    # The proof goes to the site's other inspector and to the manager, not to its submitter.
    await tick(bot)
    for person in (other, manager):
        assert SERIOUS in (await person.wait_text("有 1 项整改待您验证")).content
    await inspector.assert_no_reply()
    await staff.assert_no_reply()

    # Another verifier passes it.
    card = await open_card(other, action_id, "本轮整改材料：1 项")
    assert {"✅ 通过", "↩ 退回"} <= set(other.buttons(card))
    await other.press("✅ 通过", card)
    await other.wait_text("验证通过，整改关闭")
    assert await db.fetchval("SELECT status FROM actions WHERE id = ?", (action_id,)) == "closed"


async def test_an_admin_who_sent_the_proof_does_not_verify_it(bot: BotUnderTest) -> None:
    """An admin sends proof for an action assigned to a staff member: the admin may not pass it; the
    finder returns it, and the result reaches both the admin (who sent it) and the assignee."""
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    staff, inspector = bot.api.person(STAFF, "前台小张"), bot.api.person(INSPECTOR, "王督导")
    admin = bot.api.person(ADMIN_ID, "管理员", started=True)
    query = await admin.press_data(f"ak:{action_id}:0:{STAFF}", None)
    assert (await admin.wait_callback_answer(query)).text == "已指派给 前台小张"
    await tick(bot)
    assert SERIOUS in (await staff.wait_text("1 项整改指派给您负责")).content
    query = await admin.press_data(f"ac:{action_id}", None)
    await admin.wait_callback_answer(query)
    card = await admin.wait_text("经过")
    await admin.press("📷 提交整改材料", card.message_id)
    await admin.wait_text("整改后的照片")
    await admin.send_text("已更换门禁")
    saved = await admin.wait_text("已记下文字说明")
    await admin.press("✅ 提交整改", saved.message_id)
    await admin.wait_text("已提交整改")
    query = await admin.press_data(f"av:{action_id}", saved.message_id)
    assert "不能验证自己提交的整改" in (await admin.wait_callback_answer(query)).text
    assert await bot.services.db.fetchval("SELECT status FROM actions WHERE id = ?", (action_id,)) == "submitted"
    await tick(bot)
    review = await inspector.wait_text("有 1 项整改待您验证")  # the finder, as ever
    await admin.assert_no_reply()
    await inspector.press(f"📨 {SERIOUS} · 阳光花园", review.message_id)
    card_id = (await inspector.wait_text("本轮整改材料：1 项")).message_id
    await inspector.press("↩ 退回", card_id)
    await inspector.wait_text("请发送退回整改")
    await inspector.send_text("请附照片")
    await inspector.wait_text("现在是第 2 轮")
    await tick(bot)
    for person in (admin, staff):
        assert "被退回，原因：请附照片" in (await person.wait_text("整改验证结果")).content


async def test_own_proof_with_no_other_verifier_goes_to_the_admins(bot: BotUnderTest) -> None:
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    await bot.add_person(INSPECTOR, "staff", "王督导", site_id=await site_id(bot))
    await bot.services.db.execute("DELETE FROM user_roles WHERE user_id = ?", (MANAGER,))
    inspector, admin = bot.api.person(INSPECTOR, "王督导"), bot.api.person(ADMIN_ID, "管理员", started=True)
    card = await open_card(inspector, action_id)
    await inspector.press("📷 提交整改材料", card)
    await inspector.wait_text("整改后的照片")
    await inspector.send_text("已更换门禁")
    saved = await inspector.wait_text("已记下文字说明")
    await inspector.press("✅ 提交整改", saved.message_id)
    await inspector.wait_text("已提交整改")
    await tick(bot)
    assert SERIOUS in (await admin.wait_text("有 1 项整改待您验证")).content
    await inspector.assert_no_reply()
    assert [row for row in await outbox(bot) if row[0] == "action_review"] == [("action_review", ADMIN_ID, "sent")]


async def test_proof_begun_before_an_assignment_to_someone_else_is_stopped(bot: BotUnderTest) -> None:
    """Staff who were sending proof when the manager assigned the action to a colleague: their next
    note and their 提交整改 are refused, their question dropped, nothing stored."""
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    await bot.add_person(STAFF_2, "staff", "前台小王", site_id=await site_id(bot))
    staff, manager = bot.api.person(STAFF, "前台小张"), bot.api.person(MANAGER, "李经理")
    card = await open_card(staff, action_id)
    await staff.press("📷 提交整改材料", card)
    await staff.wait_text("整改后的照片")
    await staff.send_text("已经换好了")
    saved = await staff.wait_text("已记下文字说明（本轮共 1 项）")

    card = await open_card(manager, action_id)
    await manager.press("👤 指派", card)
    listed = await manager.wait_text(f"指派整改 #{action_id}")
    await manager.press("👤 前台小王", listed.message_id)
    await manager.wait_text("负责人：前台小王")

    query = await staff.press("✅ 提交整改", saved.message_id)
    assert "已指派给专人负责" in (await staff.wait_callback_answer(query)).text
    await staff.send_text("再补一句")
    await staff.wait_text("已指派给专人负责")
    db = bot.services.db
    assert await db.fetchval("SELECT status FROM actions WHERE id = ?", (action_id,)) == "open"
    assert await db.fetchval("SELECT COUNT(*) FROM action_evidence WHERE action_id = ?", (action_id,)) == 1
    assert await db.fetchval("SELECT COUNT(*) FROM pending_inputs") == 0


async def test_an_assignee_who_stops_being_staff_gives_the_action_back(bot: BotUnderTest) -> None:
    """A revoked staff role, or the person deactivated, gives their actions back to the site's staff
    in the same transaction: otherwise nobody but an admin could act on them."""
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    await bot.add_person(STAFF_2, "staff", "前台小王", site_id=await site_id(bot))
    staff, staff_2 = bot.api.person(STAFF, "前台小张"), bot.api.person(STAFF_2, "前台小王", started=True)
    admin = bot.api.person(ADMIN_ID, "管理员")
    await tick(bot)
    await staff_2.wait_text("整改通知单")
    query = await admin.press_data(f"ak:{action_id}:0:{STAFF_2}", None)
    assert (await admin.wait_callback_answer(query)).text == "已指派给 前台小王"

    # Another of 前台小王's roles revoked: still staff of the site, the action stays theirs.
    await bot.add_person(STAFF_2, "inspector", "前台小王", site_id=await site_id(bot))
    await admin.send_command("role", str(STAFF_2))
    card = await admin.wait_text("项目客服 · 阳光花园")
    await admin.press("撤销：督导员 · 阳光花园", card.message_id)
    assert "督导员 · 阳光花园" not in (await admin.wait_reply()).text
    assert await assignment(bot, action_id) == (STAFF_2, [(ADMIN_ID, str(STAFF_2))])

    # The admin revokes 前台小王's staff role on the person's card.
    await admin.send_command("role", str(STAFF_2))
    card = await admin.wait_text("项目客服 · 阳光花园")
    await admin.press("撤销：项目客服 · 阳光花园", card.message_id)
    assert "项目客服 · 阳光花园" not in (await admin.wait_reply()).text
    assert await assignment(bot, action_id) == (None, [(ADMIN_ID, str(STAFF_2)), (ADMIN_ID, None)])
    await tick(bot)
    assert SERIOUS in (await staff.wait_text("1 项整改恢复由全站员工负责")).content
    await staff_2.assert_no_reply()  # no longer staff: told neither of the assignment nor of its end
    card = await open_card(staff, action_id)
    assert "📷 提交整改材料" in staff.buttons(card)
    audit = await bot.services.db.fetchall("SELECT action FROM audit_log ORDER BY id")
    assert [row[0] for row in audit][-2:] == ["revoke", "action.assigned"]

    # Assigned to 前台小张, who is then deactivated: the same.
    query = await admin.press_data(f"ak:{action_id}:0:{STAFF}", None)
    assert (await admin.wait_callback_answer(query)).text == "已指派给 前台小张"
    await admin.send_command("deactivate", str(STAFF))
    await admin.wait_text("确定要停用")
    await admin.press("确定停用")
    assert "已停用" in (await admin.wait_reply()).text
    assignee, events = await assignment(bot, action_id)
    assert assignee is None and events[-2:] == [(ADMIN_ID, str(STAFF)), (ADMIN_ID, None)]
