"""Invitations, registration, access requests and strangers, through the real Application."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest_asyncio

from config.settings import AccessSettings
from tests.conftest import ADMIN_ID, BotUnderTest, make_settings, running_bot
from tests.harness.driver import Person

NEWCOMER = 7001
LINK = re.compile(r"https://t\.me/dudao_test_bot\?start=([A-Za-z0-9_-]+)")


async def invite(admin: Person, role_label: str | None, scope_label: str) -> str:
    """Run /invite through its buttons; returns the code of the link."""
    await admin.send_command("invite")
    await admin.wait_text("请选择")
    if role_label:
        await admin.press(role_label)
        await admin.wait_text("请选择")
    await admin.press(scope_label)
    await admin.wait_text("邀请已生成")
    forward = await admin.wait_text("邀请您以")
    assert forward.inline_buttons[0]["url"].startswith("https://t.me/dudao_test_bot?start=")
    match = LINK.search(forward.text)
    assert match is not None
    return match.group(1)


def requests_sent(bot: BotUnderTest) -> int:
    """Access-request notices sent to the admin (edits not counted)."""
    sends = bot.api.calls("sendMessage")
    return len([p for p in sends if int(p["chat_id"]) == ADMIN_ID and "想使用督导助手" in p["text"]])


async def grants_of(bot: BotUnderTest, user_id: int) -> list[tuple[str, int | None, str | None]]:
    rows = await bot.services.db.fetchall(
        "SELECT role, site_id, region FROM user_roles WHERE user_id = ? ORDER BY id", (user_id,)
    )
    return [(r["role"], r["site_id"], r["region"]) for r in rows]


async def test_invite_register_and_use_the_role(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    admin = bot.api.person(ADMIN_ID, "老板")
    code = await invite(admin, "督导员", "阳光花园")
    assert len(code) >= 32  # 192 random bits

    newcomer = bot.api.person(NEWCOMER, "王督导")
    await newcomer.send_command("start", code)
    welcome = await newcomer.wait_text("欢迎")
    assert "督导员 · 阳光花园" in welcome.text
    assert await grants_of(bot, NEWCOMER) == [("inspector", site, None)]
    notice = await admin.wait_text("已通过您的邀请登记")
    assert "王督导" in notice.text
    menu = {c["command"] for c in bot.api.get_commands(scope=f"chat:{NEWCOMER}")}
    assert "inspect" in menu and "invite" not in menu

    await newcomer.send_command("inspect")
    assert "请选择要督导的项目" in (await newcomer.wait_reply()).text
    actions = [r["action"] for r in await bot.services.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["invite", "invite_accepted"]


async def test_reused_expired_and_forged_codes_grant_nothing(bot: BotUnderTest):
    await bot.add_site("阳光花园")
    admin = bot.api.person(ADMIN_ID, "老板")
    code = await invite(admin, "项目客服", "阳光花园")
    first = bot.api.person(NEWCOMER, "小李")
    await first.send_command("start", code)
    await first.wait_text("欢迎")

    second = bot.api.person(NEWCOMER + 1, "小张")
    await second.send_command("start", code)
    assert "已经用过" in (await second.wait_reply()).text
    await second.send_command("mytasks")
    assert "还没有登记" in (await second.wait_reply()).text

    for forged in ("A" * 32, "not-a-code", code[:-1] + ("A" if code[-1] != "A" else "B"), "x" * 65):
        await second.send_command("start", forged)
        reply = await second.wait_reply()
        assert "无效" in reply.text and str(NEWCOMER + 1) in reply.text

    expiring = await invite(admin, "项目客服", "阳光花园")
    bot.clock.advance(timedelta(days=7, seconds=1))
    await second.send_command("start", expiring)
    assert "已过期" in (await second.wait_reply()).text
    assert await grants_of(bot, NEWCOMER + 1) == []


async def test_a_deactivated_person_cannot_use_an_invitation(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    await bot.add_person(NEWCOMER, "staff", "小李", site_id=site)
    await bot.services.db.execute("UPDATE users SET active = 0 WHERE id = ?", (NEWCOMER,))
    admin = bot.api.person(ADMIN_ID, "老板")
    code = await invite(admin, "督导员", "阳光花园")
    person = bot.api.person(NEWCOMER, "小李")
    await person.send_command("start", code)
    assert "已停用" in (await person.wait_reply()).text
    assert await grants_of(bot, NEWCOMER) == [("staff", site, None)]
    assert await bot.services.db.fetchval("SELECT used_at FROM invitations") is None


async def test_a_double_tap_makes_one_invitation_and_admins_need_no_site(bot: BotUnderTest):
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("invite")
    picker = await admin.wait_text("请选择角色")
    await admin.press("管理员")
    await admin.wait_text("邀请已生成")
    await admin.wait_text("邀请您以")
    query = await admin.press_data("pr:n:admin", picker.message_id)
    assert "已经生成过了" in (await admin.wait_callback_answer(query)).text
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM invitations") == 1


async def test_regions_and_all_sites_are_offered_to_admins_for_managers(bot: BotUnderTest):
    await bot.add_site("阳光花园", region="华东")
    await bot.add_site("翠湖天地", region="华东")
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("invite")
    await admin.wait_text("请选择角色")
    await admin.press("经理")
    scopes = await admin.wait_text("负责范围")
    assert scopes.buttons == ["🌐 全部项目", "🗺 华东（区域）", "🏢 翠湖天地", "🏢 阳光花园"]
    await admin.press("🗺 华东（区域）")
    code = LINK.search((await admin.wait_text("邀请您以")).text).group(1)
    manager = bot.api.person(NEWCOMER, "区域经理")
    await manager.send_command("start", code)
    await manager.wait_text("欢迎")
    assert await grants_of(bot, NEWCOMER) == [("manager", None, "华东")]


async def test_managers_invite_only_staff_of_their_own_sites(bot: BotUnderTest):
    mine = await bot.add_site("阳光花园", region="华东")
    other = await bot.add_site("翠湖天地", region="华南")
    await bot.add_person(5100, "manager", "经理", region="华东")
    manager = bot.api.person(5100, "经理")
    await manager.send_command("invite")
    page = await manager.wait_text("请选择所属项目")
    assert page.buttons == ["🏢 阳光花园"]
    for forged in (f"ps:n:inspector:s{mine}", f"ps:n:staff:s{other}", "ps:n:manager:*", "pr:n:admin"):
        query = await manager.press_data(forged, page.message_id)
        assert "不能管理" in (await manager.wait_callback_answer(query)).text, forged
    query = await manager.press_data(f"ps:n:staff:r{mine}", page.message_id)
    assert "已失效" in (await manager.wait_callback_answer(query)).text
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM invitations") == 0
    await manager.press("🏢 阳光花园")
    await manager.wait_text("邀请已生成")
    assert await bot.services.db.fetchval("SELECT role || site_id FROM invitations") == f"staff{mine}"


async def test_unknown_people_reach_no_command_and_no_button(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    await bot.add_person(5200, "staff", "小李", site_id=site)
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("role", "5200")
    card = await admin.wait_text("小李")
    stranger = bot.api.person(4242, "路人")
    for command in ("invite", "people", "role 5200", "sites", "addsite 新项目", "import", "audit", "deactivate 5200"):
        await stranger.send_text("/" + command)
        reply = await stranger.wait_reply()
        assert "还没有登记" in reply.text and "4242" in reply.text, command
    # The buttons of the admin's card, as if forwarded to the stranger, and forged ones.
    for data in [b["callback_data"] for b in card.inline_buttons] + ["pi:n", "pk:4242", "pt:0", "pj:1", "pz:9"]:
        query = await stranger.press_data(data, None)
        assert "还没有登记" in (await stranger.wait_callback_answer(query)).text, data
    assert await grants_of(bot, 5200) == [("staff", site, None)]
    assert await grants_of(bot, 4242) == []
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM audit_log") == 0


@pytest_asyncio.fixture
async def asking_bot(botapi, tmp_path: Path, clock):
    """The bot with ``[access] notify_admins_of_requests = true``."""
    settings = make_settings(botapi, tmp_path / "data")
    settings = replace(settings, access=AccessSettings(notify_admins_of_requests=True))
    async with running_bot(botapi, settings, clock) as under_test:
        yield under_test


async def test_admins_hear_of_a_stranger_once_and_approve_them(asking_bot: BotUnderTest):
    bot = asking_bot
    site = await bot.add_site("阳光花园")
    admin = bot.api.person(ADMIN_ID, "老板", started=True)
    stranger = bot.api.person(4343, "新来的", username="newbie")
    await stranger.send_command("start")
    assert "4343" in (await stranger.wait_reply()).text
    notice = await admin.wait_text("想使用督导助手")
    assert "@newbie" in notice.text and "4343" in notice.text
    await stranger.send_text("你好")
    await stranger.wait_reply()
    await bot.api.idle()
    assert requests_sent(bot) == 1

    await admin.press("批准", notice.message_id)
    await admin.wait_text("为 <b>新来的</b>".replace("<b>", "").replace("</b>", ""))
    await admin.press("项目客服")
    await admin.wait_text("请选择所属项目")
    await admin.press("阳光花园")
    assert "已为 新来的 授予" in (await admin.wait_text("已为")).text
    assert "新角色" in (await stranger.wait_reply()).text
    assert await grants_of(bot, 4343) == [("staff", site, None)]
    query = await admin.press_data("pk:4343", notice.message_id)
    assert "已经处理过了" in (await admin.wait_callback_answer(query)).text


async def test_admins_may_dismiss_a_request(asking_bot: BotUnderTest):
    bot = asking_bot
    admin = bot.api.person(ADMIN_ID, "老板", started=True)
    stranger = bot.api.person(4344, "路人")
    await stranger.send_text("在吗")
    await stranger.wait_reply()
    notice = await admin.wait_text("想使用督导助手")
    await admin.press("忽略", notice.message_id)
    assert "已忽略" in (await admin.wait_reply()).text
    await stranger.send_command("start")
    await stranger.wait_reply()
    await bot.api.idle()
    assert requests_sent(bot) == 1
    assert await grants_of(bot, 4344) == []


async def test_open_invitations_are_listed_and_revoked(bot: BotUnderTest):
    """/invites: a manager sees and revokes their own links, an admin everyone's; a revoked link
    registers nobody; a second tap, someone else's link and staff are refused politely."""
    mine = await bot.add_site("阳光花园", region="华东")
    await bot.add_person(5100, "manager", "经理", region="华东")
    await bot.add_person(5101, "staff", "小李", site_id=mine)
    manager, admin = bot.api.person(5100, "经理"), bot.api.person(ADMIN_ID, "老板")
    await manager.send_command("invites")
    assert "没有仍有效的邀请链接" in (await manager.wait_reply()).text
    code = await invite(manager, None, "🏢 阳光花园")
    await invite(admin, "督导员", "阳光花园")

    await manager.send_command("invites")
    listed = await manager.wait_text("仍有效的邀请链接（1 个）")
    assert "1. 项目客服 · 阳光花园" in listed.text and "生成" not in listed.text  # the admin's is not theirs
    await admin.send_command("invites")
    everyone = await admin.wait_text("仍有效的邀请链接（2 个）")
    assert "经理 生成" in everyone.text and len(everyone.buttons) == 2
    theirs = next(b["callback_data"] for b in everyone.inline_buttons if "督导员" in b["text"])
    query = await manager.press_data(theirs, listed.message_id)
    assert "不能管理" in (await manager.wait_callback_answer(query)).text

    query = await manager.press("🚫 撤销 1. 项目客服 · 阳光花园", listed.message_id)
    assert "已撤销" in (await manager.wait_callback_answer(query)).text
    after = await manager.wait_text("已撤销邀请：项目客服 · 阳光花园")
    assert after.message_id == listed.message_id and "没有仍有效的邀请链接" in after.text
    query = await manager.press_data(listed.inline_buttons[0]["callback_data"], listed.message_id)  # a second tap
    assert "已被使用、已撤销或已过期" in (await manager.wait_callback_answer(query)).text

    newcomer = bot.api.person(NEWCOMER, "小张")
    await newcomer.send_command("start", code)
    assert "无效" in (await newcomer.wait_reply()).text
    assert await grants_of(bot, NEWCOMER) == []
    staff = bot.api.person(5101, "小李")
    await staff.send_command("invites")
    assert "您的角色不能使用这个功能" in (await staff.wait_reply()).text
    actions = [r["action"] for r in await bot.services.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["invite", "invite", "invite_revoked"]
