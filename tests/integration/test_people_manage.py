"""/people, /role, /deactivate, /audit and role checks, through the real Application."""

from __future__ import annotations

from tests.conftest import ADMIN_ID, BotUnderTest

STAFF = 5301
INSPECTOR = 5302
MANAGER = 5303


async def grants_of(bot: BotUnderTest, user_id: int) -> list[tuple[str, int | None]]:
    rows = await bot.services.db.fetchall(
        "SELECT role, site_id FROM user_roles WHERE user_id = ? ORDER BY id", (user_id,)
    )
    return [(r["role"], r["site_id"]) for r in rows]


async def test_people_list_pages_and_filters(bot: BotUnderTest):
    north = await bot.add_site("北区花园")
    south = await bot.add_site("南区花园")
    for n in range(12):
        await bot.add_person(6000 + n, "staff", f"客服{n:02d}", site_id=north if n % 2 else south)
    await bot.add_person(INSPECTOR, "inspector", "督导甲", site_id=north)
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("people")
    first = await admin.wait_text("人员")
    assert "共 14 人，第 1/2 页" in first.text  # 12 staff, an inspector and the admin who asked
    await admin.press("▶")
    second = await admin.wait_reply()
    assert second.edited and "第 2/2 页" in second.text
    assert "老板：管理员（配置）" in second.text
    await admin.press("督导员")
    inspectors = await admin.wait_reply()
    assert "共 1 人" in inspectors.text and "督导甲：督导员 · 北区花园" in inspectors.text
    await admin.press("项目客服")
    await admin.wait_reply()
    await admin.press("按项目筛选")
    await admin.wait_text("请选择要筛选的项目")
    await admin.press("北区花园")
    filtered = await admin.wait_reply()
    assert "项目客服 · 北区花园" in filtered.text and "共 6 人" in filtered.text
    # A stale page number shows the last page instead of an empty one.
    query = await admin.press_data("pl:staff:0:9", filtered.message_id)
    await admin.wait_callback_answer(query)
    assert "第 2/2 页" in (await admin.wait_reply()).text
    await admin.send_command("people", "客服03")
    found = await admin.wait_text("搜索")
    assert "共 1 人" in found.text and "客服03" in found.text


async def test_grant_and_revoke_through_a_persons_card(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    await bot.add_person(STAFF, "staff", "小李", site_id=site)
    staff = bot.api.person(STAFF, "小李")
    await staff.send_command("help")
    await staff.wait_reply()
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("role", str(STAFF))
    card = await admin.wait_text("小李")
    assert "项目客服 · 阳光花园" in card.text
    await admin.press("授予角色")
    await admin.wait_text("为 小李 授予角色")
    await admin.press("督导员")
    await admin.wait_text("负责范围")
    await admin.press("阳光花园")
    assert "已为 小李 授予" in (await admin.wait_reply()).text
    assert "新角色" in (await staff.wait_text("新角色")).text
    assert await grants_of(bot, STAFF) == [("staff", site), ("inspector", site)]
    await bot.api.idle()
    menu = {c["command"] for c in bot.api.get_commands(scope=f"chat:{STAFF}")}
    assert "inspect" in menu

    await admin.send_command("role", str(STAFF))
    card = await admin.wait_text("小李")
    await admin.press("撤销：督导员 · 阳光花园", card.message_id)
    assert "督导员 · 阳光花园" not in (await admin.wait_reply()).text
    assert await grants_of(bot, STAFF) == [("staff", site)]
    # The same revoke button again (a double tap or an old card) changes nothing.
    revoke = [b for b in card.inline_buttons if b["text"].startswith("✖")][1]["callback_data"]
    query = await admin.press_data(revoke, card.message_id)
    assert "已失效" in (await admin.wait_callback_answer(query)).text
    await staff.send_command("inspect")
    assert "您的角色不能使用这个功能" in (await staff.wait_reply()).text
    actions = [r["action"] for r in await bot.services.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["grant", "revoke"]


async def test_role_command_usage_unknown_ids_and_name_search(bot: BotUnderTest):
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("role")
    assert "用法" in (await admin.wait_reply()).text
    await admin.send_command("role", "123456789")
    assert "找不到 ID 为 123456789 的人" in (await admin.wait_reply()).text
    await bot.add_person(STAFF, "staff", "小李", site_id=await bot.add_site("阳光花园"))
    await admin.send_command("role", "小李")
    assert "搜索“小李”" in (await admin.wait_reply()).text


async def test_a_deactivated_person_is_refused_and_can_be_reactivated(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    await bot.add_person(INSPECTOR, "inspector", "王督导", site_id=site)
    inspector = bot.api.person(INSPECTOR, "王督导")
    await inspector.send_command("inspect")
    await inspector.wait_text("请选择要督导的项目")
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("deactivate")
    assert "用法" in (await admin.wait_reply()).text
    await admin.send_command("deactivate", str(INSPECTOR))
    confirm = await admin.wait_text("确定要停用")
    await admin.press("确定停用")
    assert "已停用" in (await admin.wait_reply()).text
    query = await admin.press_data(f"py:{INSPECTOR}", confirm.message_id)  # a double tap
    assert "没有变化" in (await admin.wait_callback_answer(query)).text

    await inspector.send_command("inspect")
    assert "已停用" in (await inspector.wait_reply()).text
    await inspector.send_command("start")
    assert "已停用" in (await inspector.wait_reply()).text
    query = await inspector.press_data("ss:1", None)
    assert "已停用" in (await inspector.wait_callback_answer(query)).text
    assert await grants_of(bot, INSPECTOR) == [("inspector", site)]  # history kept
    await bot.api.idle()
    menu = {c["command"] for c in bot.api.get_commands(scope=f"chat:{INSPECTOR}")}
    assert menu == {"start", "help"}

    await admin.send_command("role", str(INSPECTOR))
    await admin.wait_text("已停用")
    await admin.press("恢复使用")
    await admin.wait_reply()
    await inspector.send_command("inspect")
    assert "请选择要督导的项目" in (await inspector.wait_reply()).text
    actions = [r["action"] for r in await bot.services.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["deactivate", "reactivate"]


async def test_admins_cannot_deactivate_themselves_or_config_admins(bot: BotUnderTest):
    await bot.add_person(5400, "admin", "副管理员")
    deputy = bot.api.person(5400, "副管理员")
    await deputy.send_command("deactivate", str(ADMIN_ID))
    assert "配置文件" in (await deputy.wait_reply()).text
    await deputy.send_command("deactivate", "5400")
    assert "不能对自己" in (await deputy.wait_reply()).text
    await deputy.send_command("role", "5400")
    card = await deputy.wait_text("副管理员")
    query = await deputy.press_data(f"py:{ADMIN_ID}", card.message_id)
    assert "配置文件" in (await deputy.wait_callback_answer(query)).text
    query = await deputy.press_data("py:5400", card.message_id)
    assert "不能对自己" in (await deputy.wait_callback_answer(query)).text
    revoke_own = await bot.services.db.fetchval("SELECT id FROM user_roles WHERE user_id = 5400")
    query = await deputy.press_data(f"px:{revoke_own}", card.message_id)
    assert "不能对自己" in (await deputy.wait_callback_answer(query)).text
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM users WHERE active = 0") == 0


async def test_staff_cannot_run_manager_inspector_or_admin_commands(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    await bot.add_person(STAFF, "staff", "小李", site_id=site)
    await bot.add_person(INSPECTOR, "inspector", "王督导", site_id=site)
    staff = bot.api.person(STAFF, "小李")
    for command in ("inspect", "resume", "invite", "people", "role 5302", "sites", "addsite 新", "editsite", "import"):
        await staff.send_text("/" + command)
        assert "您的角色不能使用这个功能" in (await staff.wait_reply()).text, command
    for command in ("deactivate 5302", "audit", "linkgroup", "unlinkgroup"):
        await staff.send_text("/" + command)
        assert "您的角色不能使用这个功能" in (await staff.wait_reply()).text, command
    grant = await bot.services.db.fetchval("SELECT id FROM user_roles WHERE user_id = ?", (INSPECTOR,))
    for data in (f"px:{grant}", f"py:{INSPECTOR}", "pi:n", f"ps:n:staff:s{site}", "pl:-:0:0", f"pu:{site}", "pz:5"):
        query = await staff.press_data(data, None)
        assert "您的角色不能使用这个功能" in (await staff.wait_callback_answer(query)).text, data
    assert await grants_of(bot, INSPECTOR) == [("inspector", site)]
    await staff.send_command("help")
    help_text = (await staff.wait_reply()).text
    assert "/invite" not in help_text and "/people" not in help_text


async def test_managers_see_and_manage_only_staff_of_their_sites(bot: BotUnderTest):
    mine = await bot.add_site("阳光花园", region="华东")
    other = await bot.add_site("翠湖天地", region="华南")
    await bot.add_person(MANAGER, "manager", "经理", region="华东")
    await bot.add_person(STAFF, "staff", "本区客服", site_id=mine)
    await bot.add_person(STAFF + 10, "staff", "外区客服", site_id=other)
    await bot.add_person(INSPECTOR, "inspector", "本区督导", site_id=mine)
    manager = bot.api.person(MANAGER, "经理")
    await manager.send_command("people")
    listing = await manager.wait_text("人员")
    assert "本区客服" in listing.text and "外区客服" not in listing.text
    await manager.send_command("role", str(STAFF + 10))
    assert "不能管理" in (await manager.wait_reply()).text
    await manager.send_command("role", str(INSPECTOR))
    card = await manager.wait_text("本区督导")
    assert not any(b["text"].startswith("✖") for b in card.inline_buttons)  # inspectors are not theirs
    assert "停用" not in " ".join(card.buttons)
    grant = await bot.services.db.fetchval("SELECT id FROM user_roles WHERE user_id = ?", (INSPECTOR,))
    query = await manager.press_data(f"px:{grant}", card.message_id)
    assert "不能管理" in (await manager.wait_callback_answer(query)).text
    await manager.send_command("role", str(STAFF))
    card = await manager.wait_text("本区客服")
    await manager.press("撤销：项目客服 · 阳光花园")
    back = await manager.wait_reply()
    assert "人员" in back.text  # the card is no longer theirs to see: back to the list
    assert await grants_of(bot, STAFF) == []
    await manager.send_command("deactivate", str(STAFF))
    assert "您的角色不能使用这个功能" in (await manager.wait_reply()).text


async def test_audit_shows_recent_entries_and_pages_back(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    for n in range(20):
        await bot.add_person(6100 + n, "staff", f"客服{n}", site_id=site)
    admin = bot.api.person(ADMIN_ID, "老板")
    await bot.services.audit.record(ADMIN_ID, "reopen", "inspection:7", {"reason": "照片不清楚"})
    for n in range(17):
        await admin.press_data(f"px:{n + 1}", None)
        await admin.wait_reply()
    await admin.send_command("audit")
    page = await admin.wait_text("最近的操作记录")
    assert "撤销角色 · 客服16 — 项目客服 · 阳光花园" in page.text
    await admin.press("更早的记录")
    older = await admin.wait_text("更早的操作记录")
    assert "重新打开督导 · 督导 #7 — 照片不清楚" in older.text
    assert older.buttons == []


async def test_a_forged_grant_button_cannot_reach_people_off_the_managers_cards(bot: BotUnderTest):
    mine = await bot.add_site("阳光花园", region="华东")
    mine2 = await bot.add_site("星河湾", region="华东")
    other = await bot.add_site("翠湖天地", region="华南")
    await bot.add_person(MANAGER, "manager", "经理", region="华东")
    await bot.add_person(STAFF, "staff", "本区客服", site_id=mine)
    await bot.add_person(STAFF + 10, "staff", "外区客服", site_id=other)
    stranger = bot.api.person(4242, "路人")  # wrote to the bot once, never invited
    await stranger.send_command("start")
    await stranger.wait_reply()
    manager = bot.api.person(MANAGER, "经理")
    await manager.send_command("role", str(STAFF))
    card = await manager.wait_text("本区客服")
    for target in (4242, STAFF + 10):
        for data in (f"ps:{target}:staff:s{mine}", f"pi:{target}", f"pr:{target}:staff", f"pq:{target}:staff:0"):
            query = await manager.press_data(data, card.message_id)
            answer = await manager.wait_callback_answer(query)
            assert answer.show_alert and answer.text and "不能管理" in answer.text, data
    assert await grants_of(bot, 4242) == []
    assert await grants_of(bot, STAFF + 10) == [("staff", other)]
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM audit_log") == 0
    assert manager.messages[-1].text == card.text  # the card was left as it was

    # From a card the manager may see, the grant goes through.
    await manager.press("授予角色", card.message_id)
    await manager.wait_text("请选择所属项目")
    await manager.press("星河湾")
    assert "已为 本区客服 授予" in (await manager.wait_reply()).text
    assert await grants_of(bot, STAFF) == [("staff", mine), ("staff", mine2)]


async def test_audit_pages_fit_in_a_message_and_reach_every_entry(bot: BotUnderTest):
    audit = bot.services.audit
    for n in range(1, 31):  # older entries, some long enough that fifteen would not fit in one message
        reason = f"原因{n}：" + ("照片不清楚，" * 120 if n % 3 == 0 else "补拍")
        await audit.record(ADMIN_ID, "reopen", f"inspection:{n}", {"reason": reason})
    await audit.record(ADMIN_ID, "reopen", "inspection:31", {"reason": "超长原因：" + "现场情况说明" * 650})
    for n in range(32, 35):
        await audit.record(ADMIN_ID, "reopen", f"inspection:{n}", {"reason": f"原因{n}"})
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("audit")
    pages = [await admin.wait_text("最近的操作记录")]
    while pages[-1].buttons:
        await admin.press("更早的记录", pages[-1].message_id)
        pages.append(await admin.wait_text("更早的操作记录"))
    assert len(pages) > 3
    for page in pages:
        assert len(page.text) < 4096 and len(page.raw_text) < 4096
    shown = "\n".join(page.text for page in pages)
    for n in range(1, 35):
        assert f"督导 #{n} — 原因{n}" in shown or f"督导 #{n} — 超长原因" in shown, n
    long_line = next(line for line in shown.splitlines() if "督导 #31" in line)
    assert long_line.endswith("…") and len(long_line) < 3000
