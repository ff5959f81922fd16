"""/sites, /addsite, /editsite and site group chats, through the real Application."""

from __future__ import annotations

from tests.conftest import ADMIN_ID, BotUnderTest

GROUP = -1001234567890
STAFF = 5501


async def site_rows(bot: BotUnderTest) -> list[tuple[str, str | None, int]]:
    rows = await bot.services.db.fetchall("SELECT name, region, active FROM sites ORDER BY id")
    return [(r["name"], r["region"], r["active"]) for r in rows]


async def test_addsite_asks_name_then_region(bot: BotUnderTest):
    await bot.add_site("翠湖天地", region="华东")
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("addsite")
    await admin.wait_text("请发送新项目的名称")
    await admin.send_text("翠湖天地")
    assert "已经有名为“翠湖天地”的项目" in (await admin.wait_reply()).text
    await admin.send_text("/x")  # a command is not a name; the question stays open
    await admin.wait_reply()
    await admin.send_text("  阳光  花园 ")
    question = await admin.wait_text("所属区域")
    assert question.buttons == ["华东", "不设区域"]
    await admin.send_text("华南")
    assert "已新增项目 阳光 花园（华南）" in (await admin.wait_reply()).text
    await admin.send_command("addsite", "星河湾")
    await admin.wait_text("所属区域")
    await admin.press("华东")
    await admin.wait_text("已新增项目 星河湾（华东）")
    query = await admin.press_data("pb:1", None)  # the region button again: nothing is pending now
    assert "按钮已失效" in (await admin.wait_callback_answer(query)).text
    assert await site_rows(bot) == [("翠湖天地", "华东", 1), ("阳光 花园", "华南", 1), ("星河湾", "华东", 1)]
    await admin.send_text("随便说点什么")
    assert "没有进行中的操作" in (await admin.wait_reply()).text
    actions = [r["action"] for r in await bot.services.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["site_add", "site_add"]


async def test_sites_list_and_editing_a_site(bot: BotUnderTest):
    await bot.add_site("阳光花园", region="华东")
    await bot.add_site("翠湖天地")
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("sites")
    listing = await admin.wait_text("项目")
    assert "共 2 个" in listing.text and "阳光花园 · 华东" in listing.text
    await admin.press("阳光花园")
    card = await admin.wait_text("编号")
    await admin.press("改名", card.message_id)
    await admin.wait_text("的新名称")
    await admin.send_text("翠湖天地")
    assert "已经有名为" in (await admin.wait_reply()).text
    await admin.send_text("阳光花园二期")
    assert "阳光花园二期" in (await admin.wait_text("编号")).text
    await admin.press("区域")
    await admin.wait_text("所属区域")
    await admin.press("不设区域")
    renamed = await admin.wait_text("编号")
    assert "区域：无" in renamed.text
    await admin.press("停用项目")
    await admin.wait_reply()
    assert await site_rows(bot) == [("阳光花园二期", None, 0), ("翠湖天地", None, 1)]
    await admin.send_command("editsite", "二期")
    await admin.wait_text("阳光花园二期")
    await admin.press("恢复项目")
    await admin.wait_reply()
    await admin.send_command("editsite", "不存在的项目")
    assert "没有找到" in (await admin.wait_reply()).text
    assert (await site_rows(bot))[0][2] == 1


async def test_managers_see_their_sites_read_only(bot: BotUnderTest):
    await bot.add_site("阳光花园", region="华东")
    await bot.add_site("翠湖天地", region="华南")
    await bot.add_person(5600, "manager", "经理", region="华东")
    manager = bot.api.person(5600, "经理")
    await manager.send_command("sites")
    listing = await manager.wait_reply()
    assert "阳光花园" in listing.text and "翠湖天地" not in listing.text and listing.buttons == []
    await manager.send_command("editsite")
    assert "您的角色不能使用这个功能" in (await manager.wait_reply()).text


async def test_a_linked_group_receives_site_notices(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    other = await bot.add_site("翠湖天地")
    await bot.add_person(STAFF, "staff", "小李", site_id=site)
    await bot.add_person(STAFF + 1, "staff", "别处客服", site_id=other)
    group = bot.api.group(GROUP, "阳光花园服务群")
    admin = bot.api.person(ADMIN_ID, "老板")
    staff = bot.api.person(STAFF, "小李")
    outsider = bot.api.person(STAFF + 1, "别处客服")
    stranger = bot.api.person(4242, "路人")

    # Before the link only admins count as members of the group.
    await staff.send_command("linkgroup", chat=group)
    await staff.wait_text("不是本群所属项目的登记成员", chat=group)
    await admin.send_command("linkgroup", chat=group, mention=True)
    picker = await admin.wait_text("请选择本群对应的项目", chat=group)
    query = await staff.press_data(f"pj:{site}", picker.message_id, chat=group)
    assert "不是本群所属项目的登记成员" in (await staff.wait_callback_answer(query)).text
    await admin.press("阳光花园", chat=group)
    await admin.wait_text("本群已关联到项目 阳光花园", chat=group)
    assert await bot.services.db.fetchval("SELECT group_title FROM sites WHERE id = ?", (site,)) == "阳光花园服务群"

    assert await bot.services.notify_site_group(bot.app.bot, site, "📣 本周五前请提交季度投诉分析报告")
    await admin.wait_text("季度投诉分析报告", chat=group)
    assert not await bot.services.notify_site_group(bot.app.bot, other, "没有群")

    # Members of the site may talk to the bot here; others are refused; chatter is ignored.
    await staff.send_command("linkgroup", chat=group)
    await staff.wait_text("您的角色不能使用这个功能", chat=group)
    await staff.send_command("help", chat=group)
    await staff.wait_text("私聊", chat=group)
    for person in (outsider, stranger):
        await person.send_command("help", chat=group)
        await person.wait_text("不是本群所属项目的登记成员", chat=group)
    await bot.api.idle()
    admin.drain(group)
    await stranger.send_text("大家好", chat=group)
    await staff.send_text("收到", chat=group)
    await stranger.send_text("/help@some_other_bot", chat=group)
    await admin.send_sticker(chat=group)
    await bot.api.idle()
    await admin.assert_no_reply(chat=group)

    await admin.send_command("unlinkgroup", chat=group)
    await admin.wait_text("已解除本群与 阳光花园 的关联", chat=group)
    await admin.send_command("unlinkgroup", chat=group)
    await admin.wait_text("还没有关联项目", chat=group)
    assert not await bot.services.notify_site_group(bot.app.bot, site, "不再发到群里")
    actions = [r["action"] for r in await bot.services.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["group_link", "group_unlink"]


async def test_link_commands_in_private_and_relinking_and_site_card_unlink(bot: BotUnderTest):
    first = await bot.add_site("阳光花园")
    second = await bot.add_site("翠湖天地")
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("linkgroup")
    assert "加入项目的群" in (await admin.wait_reply()).text
    await admin.send_command("unlinkgroup")
    assert "/unlinkgroup" in (await admin.wait_reply()).text
    query = await admin.press_data(f"pj:{first}", None)  # forged: a private chat is no group
    assert "按钮已失效" in (await admin.wait_callback_answer(query)).text

    group = bot.api.group(-5001, "物业群")
    await admin.send_command("linkgroup", "阳光", chat=group)
    assert "阳光花园" in (await admin.wait_reply(chat=group)).text
    await admin.send_command("linkgroup", "翠湖天地", chat=group)
    moved = await admin.wait_reply(chat=group)
    assert "原来关联的 阳光花园 已解除" in moved.text
    rows = await bot.services.db.fetchall("SELECT id, group_chat_id FROM sites ORDER BY id")
    assert [(r["id"], r["group_chat_id"]) for r in rows] == [(first, None), (second, -5001)]

    await admin.send_command("editsite", "翠湖天地")
    card = await admin.wait_text("物业群")
    await admin.press("解除群关联", card.message_id)
    assert "未关联" in (await admin.wait_reply()).text
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM sites WHERE group_chat_id IS NOT NULL") == 0


async def test_a_group_upgraded_to_a_supergroup_keeps_its_link(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    admin = bot.api.person(ADMIN_ID, "老板")
    group = bot.api.group(-4001, "阳光花园群")
    await admin.send_command("linkgroup", "阳光花园", chat=group)
    await admin.wait_reply(chat=group)
    await admin.send_message({"migrate_to_chat_id": -1004001}, chat=group)
    await bot.api.idle()
    assert await bot.services.db.fetchval("SELECT group_chat_id FROM sites WHERE id = ?", (site,)) == -1004001


async def test_a_group_upgrade_is_audited_with_the_move(bot: BotUnderTest):
    site = await bot.add_site("阳光花园")
    admin = bot.api.person(ADMIN_ID, "老板")
    group = bot.api.group(-4002, "阳光花园群")
    await admin.send_command("linkgroup", "阳光花园", chat=group)
    await admin.wait_reply(chat=group)
    await admin.send_message({"migrate_to_chat_id": -1004002}, chat=group)
    await bot.api.idle()
    rows = await bot.services.db.fetchall("SELECT actor_id, action, target, detail FROM audit_log ORDER BY id")
    assert [(r["action"], r["target"]) for r in rows] == [
        ("group_link", f"site:{site}"),
        ("group_migrated", f"site:{site}"),
    ]
    assert rows[1]["actor_id"] == ADMIN_ID
    assert "-4002" in rows[1]["detail"] and "-1004002" in rows[1]["detail"]
    await admin.send_command("audit")
    page = await admin.wait_text("最近的操作记录")
    assert "群升级为超级群 · 阳光花园 — 阳光花园 · 群：阳光花园群（-4002 → -1004002）" in page.text
    # Telegram sends the move once more in the new supergroup (migrate_from_chat_id): nothing more to record.
    supergroup = bot.api.group(-1004002, "阳光花园群", supergroup=True)
    await admin.send_message({"migrate_from_chat_id": -4002}, chat=supergroup)
    await bot.api.idle()
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM audit_log") == 2
