"""The harness itself, driven by a bare python-telegram-bot Application (no project code)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.harness.botapi import FakeBotAPI
from tests.harness.fixtures import botapi, botapi_in_thread  # noqa: F401 - pytest fixtures
from tests.harness.media import make_png
from tests.harness.ptb import ptb_builder, running

App = Application[Any, Any, Any, Any, Any, Any]


class EchoBot:
    """A tiny bot exercising what the project bot uses."""

    def __init__(self, api: FakeBotAPI, *, rate_limiter: bool = False) -> None:
        builder = ptb_builder(api)
        if rate_limiter:
            builder = builder.rate_limiter(AIORateLimiter(max_retries=2))
        self.app: App = builder.build()
        self.errors: list[BaseException] = []
        self.app.add_handler(CommandHandler("start", self.start))
        self.app.add_handler(CommandHandler("album", self.album))
        self.app.add_handler(CallbackQueryHandler(self.button))
        self.app.add_handler(MessageHandler(filters.PHOTO, self.photo))
        self.app.add_handler(MessageHandler(filters.Document.ALL, self.document))
        self.app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.echo))
        self.app.add_error_handler(self.on_error)

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message and update.effective_user
        payload = " ".join(context.args or [])
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("✅ 确认", callback_data="yes")],
                [InlineKeyboardButton("取消", callback_data="no"), InlineKeyboardButton("帮助", url="https://x.org")],
            ]
        )
        await update.effective_message.reply_text(
            f"欢迎 <b>{update.effective_user.first_name}</b> payload={payload}",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(f"got {query.data}", show_alert=query.data == "no")
        await query.edit_message_text(f"you chose {query.data}")

    async def echo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message and update.effective_message.text
        await update.effective_message.reply_text(update.effective_message.text)

    async def photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message and message.photo
        file = await context.bot.get_file(message.photo[-1].file_id)
        data = bytes(await file.download_as_bytearray())
        digest = hashlib.sha256(data).hexdigest()[:12]
        await message.reply_text(f"photo {len(data)} {digest} group={message.media_group_id}")
        if message.caption == "send it back":
            await message.reply_photo(data, caption="<i>back</i>", parse_mode=ParseMode.HTML)

    async def document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message and message.document
        try:
            file = await context.bot.get_file(message.document.file_id)
        except BadRequest as exc:
            await message.reply_text(f"error: {exc.message}")
            return
        data = bytes(await file.download_as_bytearray())
        await message.reply_text(f"document {message.document.file_name} {len(data)}")

    async def album(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat
        await context.bot.send_media_group(
            update.effective_chat.id,
            [InputMediaPhoto(make_png(4, 4, 1), caption="one"), InputMediaPhoto(make_png(4, 4, 2))],
        )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        self.errors.append(context.error)


@pytest_asyncio.fixture
async def echo(botapi: FakeBotAPI) -> AsyncIterator[EchoBot]:  # noqa: F811
    bot = EchoBot(botapi)
    async with running(bot.app):
        yield bot


async def test_text_echo(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice")
    update = await alice.send_text("你好 <world> & 123")
    assert update["message"]["chat"] == {"id": 1001, "first_name": "Alice", "type": "private"}
    reply = await alice.wait_reply()
    assert reply.text == "你好 <world> & 123"
    assert reply.chat_id == 1001 and reply.message_id == 2 and not reply.edited
    assert reply.raw["from"]["username"] == "dudao_test_bot"
    assert botapi.calls("sendMessage")[-1]["text"] == "你好 <world> & 123"
    await botapi.idle()
    assert not botapi.pending_updates
    await alice.assert_no_reply(0.1)
    await alice.send_text("second")
    assert await alice.wait_until(lambda messages: len(messages) == 2)
    assert await alice.wait_until(lambda: alice.last_text == "second")
    assert alice.texts == ["你好 <world> & 123", "second"]
    botapi.assert_no_errors()


async def test_command_button_and_callback_answer(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice")
    await alice.send_text("/start abc")
    assert botapi.pending_updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    welcome = await alice.wait_reply()
    assert welcome.text == "欢迎 Alice payload=abc"
    assert welcome.raw_text == "欢迎 <b>Alice</b> payload=abc"
    assert welcome.entities == ({"type": "bold", "offset": 3, "length": 5},)
    assert welcome.buttons == ["✅ 确认", "取消", "帮助"]
    assert alice.buttons() == welcome.buttons

    query_id = await alice.press("确认")  # substring match
    answer = await alice.wait_callback_answer(query_id)
    assert answer.text == "got yes" and not answer.show_alert and answer.callback_data == "yes"
    edited = await alice.wait_reply()
    assert edited.edited and edited.message_id == welcome.message_id
    assert edited.text == "you chose yes" and edited.buttons == []  # edit without markup drops the keyboard
    assert alice.last_text == "you chose yes" and len(alice.messages) == 1

    with pytest.raises(AssertionError, match="no inline button 'nope'"):
        await alice.press("nope")

    await alice.send_command("start", "again")
    await alice.wait_reply()
    query_id = await alice.press("取消")
    assert (await alice.wait_callback_answer(query_id)).show_alert
    with pytest.raises(AssertionError, match="has no callback_data"):
        await alice.press("帮助")

    stale = await alice.press_data("yes", 999)  # forged / stale button: InaccessibleMessage
    await alice.wait_callback_answer(stale)
    await botapi.idle()
    assert any(isinstance(e, BadRequest) and "Message to edit not found" in str(e) for e in echo.errors)


async def test_photo_download_and_upload(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice")
    png = make_png(1600, 1200)
    update = await alice.send_photo(png, caption="send it back")
    sizes = update["message"]["photo"]
    assert [(s["width"], s["height"]) for s in sizes] == [(90, 68), (320, 240), (800, 600), (1280, 960)]
    assert len({s["file_id"] for s in sizes}) == 4
    reply = await alice.wait_reply()
    assert reply.text == f"photo {len(png)} {hashlib.sha256(png).hexdigest()[:12]} group=None"
    back = await alice.wait_reply()
    assert back.kind == "photo" and back.caption == "back" and back.text is None
    assert back.file_id is not None and botapi.file_bytes(back.file_id) == png
    assert back.photo is not None and back.photo[-1]["file_unique_id"] == sizes[-1]["file_unique_id"]
    uploads = [r for r in botapi.request_log if r.method == "sendPhoto"]
    assert uploads and uploads[0].files["photo"].data == png
    assert botapi.downloads and botapi.downloads[0].startswith("photos/")

    again = await alice.send_photo(png)
    assert again["message"]["photo"][-1]["file_unique_id"] == sizes[-1]["file_unique_id"]
    other = await alice.send_photo(make_png(1600, 1200, seed=7))
    assert other["message"]["photo"][-1]["file_unique_id"] != sizes[-1]["file_unique_id"]
    await alice.wait_replies(2)


async def test_album_both_ways(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice")
    updates = await alice.send_album([make_png(10, 10, i) for i in range(3)], caption="三张")
    group_ids = {u["message"]["media_group_id"] for u in updates}
    assert len(group_ids) == 1 and updates[0]["message"]["caption"] == "三张"
    assert "caption" not in updates[1]["message"]
    replies = await alice.wait_replies(3)
    assert all(r.text and r.text.endswith(f"group={next(iter(group_ids))}") for r in replies)

    await alice.send_command("album")
    first, second = await alice.wait_replies(2)
    assert first.kind == second.kind == "photo"
    assert first.media_group_id is not None and first.media_group_id == second.media_group_id
    assert first.caption == "one" and second.caption is None
    assert first.file_id and botapi.file_bytes(first.file_id) == make_png(4, 4, 1)


async def test_document_and_too_big(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice")
    await alice.send_document(b"%PDF-1.4 fake", "报告.pdf", "application/pdf", caption="见附件")
    reply = await alice.wait_reply()
    assert reply.text == "document 报告.pdf 13"
    await alice.send_document(b"x" * 10, "huge.zip", "application/zip", file_size=25 * 1024 * 1024)
    reply = await alice.wait_reply()
    assert reply.text == "error: File is too big"
    assert botapi.errors()[-1].description == "Bad Request: file is too big"


async def test_edit_errors_like_telegram(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice", started=True)
    bot = echo.app.bot
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    sent = await bot.send_message(1001, "<b>same</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message is not modified: specified new message content"):
        await bot.edit_message_text("<b>same</b>", 1001, sent.message_id, parse_mode="HTML", reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", 1001, 424242)
    edited = await bot.edit_message_text("<b>same</b>", 1001, sent.message_id, parse_mode="HTML")
    assert not isinstance(edited, bool) and edited.reply_markup is None
    with pytest.raises(BadRequest, match='Can\'t parse entities: unsupported start tag "br" at byte offset 2'):
        await bot.send_message(1001, "a <br> b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(555, "hi")
    mention = await bot.send_message(1001, '<a href="tg://user?id=1001">你</a>好', parse_mode=ParseMode.HTML)
    assert mention.entities[0].type == "text_mention" and mention.entities[0].user is not None
    assert mention.entities[0].user.first_name == "Alice" and mention.text == "你好"
    assert [m.text for m in alice.messages] == ["same", "你好"]
    assert len(botapi.errors()) == 5


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # AIORateLimiter reads retry_after
async def test_429_is_retried_by_aio_rate_limiter(botapi: FakeBotAPI) -> None:  # noqa: F811
    bot = EchoBot(botapi, rate_limiter=True)
    async with running(bot.app):
        alice = botapi.person(1001, "Alice")
        botapi.fail_next("sendMessage", status=429, retry_after=1)
        started = time.monotonic()
        await alice.send_text("ping")
        reply = await alice.wait_reply(timeout=5)
        assert reply.text == "ping"
        assert time.monotonic() - started >= 1.0
    sends = [r for r in botapi.request_log if r.method == "sendMessage"]
    assert [r.status for r in sends] == [429, 200]
    assert sends[0].description == "Too Many Requests: retry after 1" and sends[0].injected
    assert not bot.errors

    # without a rate limiter PTB raises RetryAfter
    plain = EchoBot(botapi).app
    await plain.initialize()
    try:
        botapi.fail_next(status=429, retry_after=3)
        with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
            await plain.bot.send_message(1001, "x")
    finally:
        await plain.shutdown()


async def test_403_blocked(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice")
    botapi.block(1001)
    await alice.send_text("are you there?")
    await botapi.idle()
    assert alice.messages == []
    assert len(echo.errors) == 1 and isinstance(echo.errors[0], Forbidden)
    assert "bot was blocked by the user" in str(echo.errors[0])
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await echo.app.bot.send_message(botapi.person(1002, "Bob").chat_id, "hi")
    botapi.unblock(1001)
    await alice.send_text("back")
    assert (await alice.wait_reply()).text == "back"


async def test_5xx_raises_network_error(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    botapi.person(1001, "Alice", started=True)
    botapi.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await echo.app.bot.send_message(1001, "x")
    botapi.fail_next(status=500, description="Internal Server Error: restart")
    with pytest.raises(NetworkError, match="restart"):
        await echo.app.bot.send_message(1001, "x")
    assert (await echo.app.bot.send_message(1001, "ok")).text == "ok"


async def test_wrong_token_is_invalid_token(botapi: FakeBotAPI) -> None:  # noqa: F811
    app = ptb_builder(botapi, token="654321:WRONG-token").build()
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        await app.initialize()
    assert botapi.request_log[-1].status == 401 and not botapi.request_log[-1].token_ok
    assert botapi.requests == []


async def test_unreachable_then_back(botapi: FakeBotAPI) -> None:  # noqa: F811
    app = ptb_builder(botapi).build()
    botapi.set_unreachable(True)
    with pytest.raises(NetworkError):
        await app.initialize()
    botapi.set_unreachable(True, mode="502")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await app.bot.get_me()
    assert botapi.unreachable_hits == 2
    botapi.set_unreachable(False)
    await app.initialize()
    assert app.bot.username == "dudao_test_bot"
    await app.shutdown()


async def test_commands_webhook_and_misc(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

    bot = echo.app.bot
    assert await bot.set_my_commands([BotCommand("start", "开始")], language_code="zh")
    assert await bot.set_my_commands([BotCommand("help", "help")], scope=BotCommandScopeAllPrivateChats())
    botapi.person(1001, "Alice", started=True)
    await bot.set_my_commands([BotCommand("admin", "admin")], scope=BotCommandScopeChat(1001))
    assert botapi.commands[("default", "zh")] == [{"command": "start", "description": "开始"}]
    assert botapi.get_commands("all_private_chats") == [{"command": "help", "description": "help"}]
    assert botapi.get_commands("chat:1001")[0]["command"] == "admin"
    assert [c.command for c in await bot.get_my_commands(language_code="zh")] == ["start"]
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="Invalid language code specified"):
        await bot.set_my_commands([BotCommand("start", "x")], language_code="zh-hans")
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "x")])
    assert await bot.delete_my_commands(language_code="zh")
    assert ("default", "zh") not in botapi.commands
    assert await bot.send_chat_action(1001, "typing")
    assert botapi.chat_actions == [(1001, "typing")]
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    assert "getWebhookInfo" not in botapi.unknown_methods


async def test_group_chat(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    group = botapi.group(-1001234567890, "督导群")
    alice = botapi.person(1001, "Alice")
    bob = botapi.person(1002, "Bob")
    await alice.send_command("start", chat=group, mention=True)
    welcome = await group.wait_reply()
    assert welcome.chat_id == -1001234567890 and welcome.text == "欢迎 Alice payload="
    assert welcome.raw["chat"]["type"] == "supergroup"
    await bob.press("确认", chat=group)
    seen, edit = await bob.wait_replies(2, chat=group)  # bob has his own cursor in the group
    assert seen.message_id == edit.message_id == welcome.message_id
    assert not seen.edited and edit.edited and edit.text == "you chose yes"
    assert group.last_message is not None and group.last_message.edit_count == 1
    assert alice.messages == [] and group.last_text == "you chose yes"


async def test_unknown_method_404(botapi: FakeBotAPI, echo: EchoBot) -> None:  # noqa: F811
    with pytest.raises(EndPointNotFound, match="sendUnicorn"):
        await echo.app.bot.do_api_request("sendUnicorn", {"chat_id": 1})
    assert botapi.unknown_methods == ["sendUnicorn"]


async def test_bot_with_server_in_another_thread(botapi_in_thread: FakeBotAPI) -> None:  # noqa: F811
    api = botapi_in_thread
    bot = EchoBot(api)
    async with running(bot.app):
        alice = api.person(1001, "Alice")
        await alice.send_command("start")
        assert (await alice.wait_reply()).buttons
        query_id = await alice.press("取消")
        assert (await alice.wait_callback_answer(query_id)).text == "got no"
        assert (await alice.wait_reply()).text == "you chose no"
        await api.idle()
