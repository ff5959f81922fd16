"""Extensions (申请延期) through the real Application and the Bot API stand-in, with a moved clock: staff
ask for a later due date (each date form; wrong dates refused), the managers are told, one approves
(the due date and the overdue dates move) or refuses with a reason, the requester is told; a second
request while one is pending, stale and doubled buttons, and people without the right are refused
and change nothing."""

from __future__ import annotations

from datetime import datetime

from tests.conftest import ADMIN_ID, BotUnderTest
from tests.harness.driver import Person
from tests.harness.media import make_png
from tests.integration.actions_bot import actions_bot, monday_clock  # noqa: F401 (the bot and clock fixtures)
from tests.integration.test_actions import INSPECTOR, MANAGER, OTHER_STAFF, STAFF
from tests.integration.test_actions_loop import open_card
from tests.integration.test_actions_messages import SHANGHAI, submitted_with_group, tick

# Submitted Monday 6 April 2026: 二(一)4 (严重) is due Thursday 9 April.
SERIOUS = "二(一)4"


async def state(bot: BotUnderTest, action_id: int) -> dict:
    db = bot.services.db
    action = await db.fetchone(
        "SELECT status, due_date, follow_up_on, escalate_on FROM actions WHERE id = ?", (action_id,)
    )
    requests = await db.fetchall(
        """SELECT requested_by, reason, old_due_date, new_due_date, status, decided_by, refusal_reason
           FROM action_extensions WHERE action_id = ? ORDER BY id""",
        (action_id,),
    )
    events = await db.fetchall(
        "SELECT event, actor_id, due_date, detail FROM action_events WHERE action_id = ? AND event != 'created' "
        "ORDER BY id",
        (action_id,),
    )
    pending = await db.fetchall("SELECT user_id, kind FROM pending_inputs ORDER BY user_id")
    return {
        "action": dict(action),
        "requests": [tuple(r) for r in requests],
        "events": [tuple(e) for e in events],
        "pending": [tuple(p) for p in pending],
    }


async def extension_id(bot: BotUnderTest) -> int:
    return int(await bot.services.db.fetchval("SELECT MAX(id) FROM action_extensions"))


async def ask_for_time(staff: Person, action_id: int, date_text: str, reason: str) -> None:
    card = await open_card(staff, action_id)
    await staff.press("⏳ 申请延期", card)
    await staff.wait_text("请发送新的截止日期")
    await staff.send_text(date_text)
    await staff.wait_text("请用一条文字说明申请延期的原因")
    await staff.send_text(reason)
    await staff.wait_text("的延期申请（新的截止日期")


async def test_asked_with_wrong_dates_then_approved(bot: BotUnderTest) -> None:
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    staff = bot.api.person(STAFF, "前台小张")
    manager = bot.api.person(MANAGER, "李经理")
    inspector = bot.api.person(INSPECTOR, "王督导")
    await tick(bot)
    await staff.wait_text("整改通知单")
    inspector.drain()
    manager.drain()

    card = await open_card(staff, action_id)
    assert "⏳ 申请延期" in staff.buttons(card)
    await staff.press("⏳ 申请延期", card)
    prompt = await staff.wait_text("请发送新的截止日期")
    assert "现在截止 4月9日" in prompt.content and "最晚 5月21日" in prompt.content
    await staff.send_text("下周")
    await staff.wait_text("没有看懂这个日期")
    await staff.send_text("4月8日")
    await staff.wait_text("新的截止日期要晚于 4月9日")
    await staff.send_text("+31")
    await staff.wait_text("不能晚于 5月21日")
    await staff.send_photo(make_png(seed=1))
    await staff.wait_text("日期和原因请用文字发送")
    assert (await state(bot, action_id))["requests"] == []
    await staff.send_text("4-16")
    await staff.wait_text("新的截止日期：4月16日")
    await staff.send_text("门禁配件缺货，厂家下周到货")
    await staff.wait_text(f"已提交整改 #{action_id} 的延期申请（新的截止日期 4月16日）")
    asked = await state(bot, action_id)
    reason = "门禁配件缺货，厂家下周到货"
    assert asked["requests"] == [(STAFF, reason, "2026-04-09", "2026-04-16", "pending", None, None)]
    assert asked["events"] == [("extension_requested", STAFF, "2026-04-09", "门禁配件缺货，厂家下周到货")]
    assert asked["action"]["due_date"] == "2026-04-09" and asked["pending"] == []

    # The card shows the request and no second 申请延期.
    card = await open_card(staff, action_id, "延期申请待经理审批")
    assert "申请延期至 4月16日：门禁配件缺货" in staff.last_text
    assert "⏳ 申请延期" not in staff.buttons(card)

    # The managers are told (not the requester, not the inspector), once.
    await tick(bot)
    told = await manager.wait_text("有 1 份延期申请待您审批")
    assert "前台小张 申请延期 4月9日 → 4月16日，原因：门禁配件缺货" in told.content
    assert manager.buttons(told) == [f"🔴 {SERIOUS} · 阳光花园"]
    await staff.assert_no_reply()
    await inspector.assert_no_reply()
    await tick(bot)
    await manager.assert_no_reply()

    # A double tap on 同意延期: applied once.
    await manager.press(f"🔴 {SERIOUS} · 阳光花园", told.message_id)
    card = await manager.wait_text("延期申请待经理审批")
    assert {"✅ 同意延期", "❌ 不同意"} <= set(manager.buttons(card))
    request = await extension_id(bot)
    first = await manager.press_data(f"xa:{request}", card.message_id)
    second = await manager.press_data(f"xa:{request}", card.message_id)
    answers = sorted([(await manager.wait_callback_answer(q)).text for q in (first, second)])
    assert answers == sorted(["已同意延期", "这份延期申请已经处理过了，结果没有改变。"])
    edited = await manager.wait_text("同意延期：截止 4月9日 → 4月16日")
    assert "✅ 同意延期" not in manager.buttons(edited.message_id) and "截止 4月16日" in edited.content
    approved = await state(bot, action_id)
    # Overdue follow-ups from the first working day after the new date; the managers 3 working days after.
    assert approved["action"] == {
        "status": "open",
        "due_date": "2026-04-16",
        "follow_up_on": "2026-04-17",
        "escalate_on": "2026-04-21",
    }
    assert approved["requests"][0][4:6] == ("approved", MANAGER)
    assert approved["events"][-1] == ("extended", MANAGER, "2026-04-16", "2026-04-09")

    # The requester hears the outcome, once; the manager does not hear of their own act.
    await tick(bot)
    result = await staff.wait_text("延期申请结果")
    assert f"{SERIOUS}：延期申请已同意，新的截止日期 4月16日" in result.content
    await manager.assert_no_reply()
    await bot.restart()
    await tick(bot)
    await staff.assert_no_reply()

    # The old due date passes: no follow-up; the new one does: follow-up, then the managers.
    await tick(bot, datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI))
    await staff.assert_no_reply()
    await tick(bot, datetime(2026, 4, 17, 10, 0, tzinfo=SHANGHAI))
    assert SERIOUS in (await staff.wait_text("项整改已逾期")).content
    await tick(bot, datetime(2026, 4, 21, 10, 0, tzinfo=SHANGHAI))
    assert SERIOUS in (await manager.wait_text("整改逾期未完成")).content


async def test_refused_a_second_request_and_people_without_the_right(bot: BotUnderTest) -> None:
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    staff = bot.api.person(STAFF, "前台小张")
    manager = bot.api.person(MANAGER, "李经理")
    inspector = bot.api.person(INSPECTOR, "王督导")
    other = bot.api.person(OTHER_STAFF, "前台小李")
    await tick(bot)
    await staff.wait_text("整改通知单")

    # Another site's staff and the inspector cannot ask.
    query = await other.press_data(f"ax:{action_id}", None)
    assert "找不到" in (await other.wait_callback_answer(query)).text
    query = await inspector.press_data(f"ax:{action_id}", None)
    assert "不能对这条整改" in (await inspector.wait_callback_answer(query)).text

    await ask_for_time(staff, action_id, "2026-04-14", "等物业公司审批")
    request = await extension_id(bot)
    pending = await state(bot, action_id)

    # A second request while one is pending is refused; so are decisions by anyone but a manager.
    query = await staff.press_data(f"ax:{action_id}", None)
    assert "一次只能申请一份" in (await staff.wait_callback_answer(query)).text
    for person in (staff, inspector):
        for data in (f"xa:{request}", f"xr:{request}"):
            query = await person.press_data(data, None)
            assert "由该项目的经理审批" in (await person.wait_callback_answer(query)).text
    query = await other.press_data(f"xa:{request}", None)
    assert "找不到" in (await other.wait_callback_answer(query)).text
    query = await manager.press_data("xa:999999", None)
    assert "找不到" in (await manager.wait_callback_answer(query)).text
    assert await state(bot, action_id) == pending

    # The manager refuses with a reason (a photo is not one).
    card = await open_card(manager, action_id, "延期申请待经理审批")
    await manager.press("❌ 不同意", card)
    await manager.wait_text("请发送不同意整改")
    await manager.send_photo(make_png(seed=2))
    await manager.wait_text("日期和原因请用文字发送")
    await manager.send_text("理由不充分，请按期整改")
    await manager.wait_text(f"已不同意整改 #{action_id} 的延期申请，截止日期仍为 4月9日")
    refused = await state(bot, action_id)
    assert refused["requests"] == [
        (STAFF, "等物业公司审批", "2026-04-09", "2026-04-14", "refused", MANAGER, "理由不充分，请按期整改")
    ]
    assert refused["events"][-1] == ("extension_refused", MANAGER, "2026-04-09", "理由不充分，请按期整改")
    assert refused["action"]["due_date"] == "2026-04-09" and refused["pending"] == []

    # Stale buttons of the decided request change nothing.
    for data in (f"xa:{request}", f"xr:{request}"):
        query = await manager.press_data(data, card)
        assert "已经处理过了" in (await manager.wait_callback_answer(query)).text
    assert await state(bot, action_id) == refused

    await tick(bot)
    result = await staff.wait_text("延期申请结果")
    assert f"{SERIOUS}：延期申请未同意，原因：理由不充分，请按期整改；截止日期仍为 4月9日" in result.content

    # The history shows the request and the decision; a new request may follow, with another form.
    card = await open_card(staff, action_id, "不同意延期：理由不充分")
    assert "申请延期至 4月14日：等物业公司审批" in staff.last_text
    await staff.press("⏳ 申请延期", card)
    await staff.wait_text("请发送新的截止日期")
    await staff.send_text("4月15日")
    await staff.wait_text("新的截止日期：4月15日")
    await staff.send_text("配件已下单")
    await staff.wait_text("新的截止日期 4月15日")
    # An admin approves; then a third request counted in working days from the new date.
    admin = bot.api.person(ADMIN_ID, "管理员")
    query = await admin.press_data(f"xa:{await extension_id(bot)}", None)
    assert (await admin.wait_callback_answer(query)).text == "已同意延期"
    await ask_for_time(staff, action_id, "+2", "还差验收")
    assert (await state(bot, action_id))["requests"][-1][2:5] == ("2026-04-15", "2026-04-17", "pending")


async def test_a_request_left_when_the_action_moved_on_changes_nothing(bot: BotUnderTest) -> None:
    """The date was asked, then proof was submitted (the action is no longer open): the reason that
    follows records nothing; a request whose action was closed cannot be approved."""
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    staff = bot.api.person(STAFF, "前台小张")
    manager = bot.api.person(MANAGER, "李经理")
    await tick(bot)
    await staff.wait_text("整改通知单")
    await ask_for_time(staff, action_id, "4-13", "等配件")
    request = await extension_id(bot)
    # Proof submitted meanwhile, and passed: the request can no longer change the due date.
    db = bot.services.db
    await db.execute("UPDATE actions SET status = 'closed', closed_at = '2026-04-06' WHERE id = ?", (action_id,))
    before = await state(bot, action_id)
    query = await manager.press_data(f"xa:{request}", None)
    assert "按钮已过时" in (await manager.wait_callback_answer(query)).text
    assert await state(bot, action_id) == before


async def test_an_escalated_action_extended_and_late_again_is_escalated_again(bot: BotUnderTest) -> None:
    ids = await submitted_with_group(bot)
    action_id = ids[SERIOUS]
    staff = bot.api.person(STAFF, "前台小张")
    manager = bot.api.person(MANAGER, "李经理")
    await tick(bot)
    await staff.wait_text("整改通知单")
    await tick(bot, datetime(2026, 4, 14, 10, 0, tzinfo=SHANGHAI))  # due the 9th: the managers are told
    await manager.wait_text("1 项整改逾期未完成")

    # Late already: "+3" counts from today (Tuesday 14th) -> Friday 17th.
    await ask_for_time(staff, action_id, "+3", "施工队周五进场")
    assert (await state(bot, action_id))["requests"][0][3] == "2026-04-17"
    query = await manager.press_data(f"xa:{await extension_id(bot)}", None)
    assert (await manager.wait_callback_answer(query)).text == "已同意延期"
    await tick(bot)
    await staff.wait_text("延期申请已同意，新的截止日期 4月17日")
    manager.drain()

    # Late again on the 20th; not yet three working days on the 21st (一(一)2 is escalated meanwhile).
    await tick(bot, datetime(2026, 4, 21, 10, 0, tzinfo=SHANGHAI))
    await manager.wait_text("一(一)2")
    await tick(bot, datetime(2026, 4, 21, 16, 0, tzinfo=SHANGHAI))
    assert all(SERIOUS not in message.content for message in manager.drain())
    await tick(bot, datetime(2026, 4, 22, 10, 0, tzinfo=SHANGHAI))
    assert SERIOUS in (await manager.wait_text("1 项整改逾期未完成")).content
    rounds = await bot.services.db.fetchall(
        "SELECT round FROM action_alerts WHERE action_id = ? AND kind = 'escalation' ORDER BY id", (action_id,)
    )
    assert [row[0] for row in rounds] == [1, 2]
