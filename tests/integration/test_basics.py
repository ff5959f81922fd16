"""/start, /help, /lang, /cancel, fallbacks and errors through the real Application."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_ID, BotUnderTest


async def test_unknown_person_gets_their_id_and_nothing_else(bot: BotUnderTest):
    stranger = bot.api.person(4242, "路人", language_code="zh-hans")
    await stranger.send_command("start")
    reply = await stranger.wait_reply()
    assert "还没有登记" in reply.text and "4242" in reply.text
    await stranger.send_command("lang")
    assert "还没有登记" in (await stranger.wait_reply()).text
    await stranger.send_text("你好")
    assert "4242" in (await stranger.wait_reply()).text
    await stranger.send_command("help")
    help_text = (await stranger.wait_reply()).text
    assert "/start" in help_text and "/lang" not in help_text


@pytest.mark.parametrize(
    ("language_code", "welcome", "help_line"),
    [
        ("zh-hans", "这里是督导助手", "切换语言"),
        ("zh-TW", "這裡是督導助手", "切換語言"),
        ("en", "Supervision Assistant", "Change language"),
    ],
)
async def test_start_and_help_in_each_language(bot: BotUnderTest, language_code, welcome, help_line):
    admin = bot.api.person(ADMIN_ID, "老板", language_code=language_code)
    await admin.send_command("start")
    assert welcome in (await admin.wait_reply()).text
    await admin.send_command("help")
    text = (await admin.wait_reply()).text
    assert help_line in text and "/inspect" in text
    menu = bot.api.get_commands(scope=f"chat:{ADMIN_ID}")
    assert {c["command"] for c in menu} >= {"start", "help", "lang", "inspect"}


async def test_default_menus_per_language(bot: BotUnderTest):
    assert [c["command"] for c in bot.api.get_commands()] == ["start", "help"]
    assert bot.api.get_commands(language_code="en")[1]["description"] == "Available commands"
    assert bot.api.get_commands(language_code="zh")[1]["description"] == "可用命令"


async def test_lang_switches_language_and_menu(bot: BotUnderTest):
    admin = bot.api.person(ADMIN_ID, "Boss", language_code="en")
    await admin.send_command("lang")
    assert "Choose your language" in (await admin.wait_reply()).text
    await admin.press("繁體中文")
    edited = await admin.wait_reply()
    assert edited.edited and "介面語言已設為 繁體中文" in edited.text
    await admin.send_command("help")
    assert "切換語言" in (await admin.wait_reply()).text
    menu = bot.api.get_commands(scope=f"chat:{ADMIN_ID}")
    assert any(c["description"] == "切換語言" for c in menu)
    # A stale or forged language button changes nothing.
    query = await admin.press_data("lang:xx", edited.message_id)
    assert "按鈕已失效" in (await admin.wait_callback_answer(query)).text


async def test_bad_inputs_get_short_replies(bot: BotUnderTest):
    admin = bot.api.person(ADMIN_ID, "Boss", language_code="en")
    await admin.send_command("frobnicate")
    assert "Unknown command" in (await admin.wait_reply()).text
    await admin.send_sticker()
    assert "not used here" in (await admin.wait_reply()).text
    await admin.send_voice()
    assert "not used here" in (await admin.wait_reply()).text
    await admin.send_location(31.2, 121.5)
    assert "not used here" in (await admin.wait_reply()).text
    await admin.send_text("hello")
    assert "Nothing is in progress" in (await admin.wait_reply()).text
    await admin.send_command("cancel")
    assert "nothing to cancel" in (await admin.wait_reply()).text
    query = await admin.press_data("zz:unknown", None)
    assert "no longer works" in (await admin.wait_callback_answer(query)).text


async def test_role_check_refuses_other_roles(bot: BotUnderTest):
    await bot.add_person(5001, "staff", "客服小李")
    staff = bot.api.person(5001, "客服小李")
    await staff.send_command("inspect")
    assert "您的角色不能使用这个功能" in (await staff.wait_reply()).text
    await staff.send_command("help")
    assert "/inspect" not in (await staff.wait_reply()).text


async def test_errors_are_logged_and_reported_briefly(bot: BotUnderTest, caplog):
    admin = bot.api.person(ADMIN_ID, "Boss", language_code="en")
    await bot.services.db.close()  # the next handler's database call fails
    await admin.send_command("help")
    reply = await admin.wait_reply()
    assert "something went wrong" in reply.text and "Traceback" not in reply.text
    assert any("failed to handle an update" in r.getMessage() for r in caplog.records)


async def test_a_429_answer_is_retried_after_retry_after(bot: BotUnderTest):
    admin = bot.api.person(ADMIN_ID, "Boss", language_code="en")
    bot.api.fail_next("sendMessage", status=429, retry_after=1)
    await admin.send_command("help")
    assert "commands" in (await admin.wait_reply(timeout=8)).text
    assert any(r.status == 429 for r in bot.api.request_log)


async def test_a_blocked_person_is_marked_unreachable(bot: BotUnderTest):
    svc = bot.services
    await bot.add_person(5002, "manager", "经理")
    bot.api.person(5002, "经理", started=True)
    bot.api.block(5002)
    assert not await svc.send_safely(bot.app.bot, 5002, "hello")
    record = await svc.db.fetchval("SELECT unreachable_at FROM users WHERE id = 5002")
    assert record is not None
    # Writing to the bot again makes the person reachable again.
    bot.api.unblock(5002)
    manager = bot.api.person(5002, "经理")
    await manager.send_command("help")
    await manager.wait_reply()
    assert await svc.db.fetchval("SELECT unreachable_at FROM users WHERE id = 5002") is None
