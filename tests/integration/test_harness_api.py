"""FakeBotAPI at the HTTP level (aiohttp client), plus the Telegram text-formatting emulation."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from tests.harness.botapi import FakeBotAPI
from tests.harness.entities import EntityParseError, parse_formatted_text
from tests.harness.fixtures import botapi  # noqa: F401 - pytest fixture
from tests.harness.media import make_png


async def call(
    api: FakeBotAPI,
    method: str,
    *,
    token: str | None = None,
    client_timeout: float = 10.0,
    **params: Any,
) -> tuple[int, dict[str, Any]]:
    """POST like PTB does: form fields, non-strings JSON-encoded."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{api.base_url}{token or api.token}/{method}",
            data=form,
            timeout=aiohttp.ClientTimeout(total=client_timeout),
        ) as response,
    ):
        return response.status, await response.json()


async def ok(api: FakeBotAPI, method: str, **params: Any) -> Any:
    status, body = await call(api, method, **params)
    assert status == 200 and body["ok"], body
    return body["result"]


async def test_form_json_get_and_multipart_bodies(botapi: FakeBotAPI) -> None:  # noqa: F811
    botapi.person(1001, "Alice", started=True)
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]}
    result = await ok(botapi, "sendMessage", chat_id=1001, text="123", reply_markup=markup)
    assert result["text"] == "123" and result["reply_markup"] == markup
    assert result["chat"] == {"id": 1001, "first_name": "Alice", "type": "private"} and result["message_id"] == 1
    assert botapi.calls("sendMessage")[0] == {"chat_id": 1001, "text": "123", "reply_markup": markup}

    async with aiohttp.ClientSession() as session:
        url = f"{botapi.base_url}{botapi.token}"
        async with session.post(f"{url}/sendmessage", json={"chat_id": 1001, "text": "true"}) as response:
            body = await response.json()
            assert body["result"]["text"] == "true" and body["result"]["message_id"] == 2
        async with session.get(f"{url}/getMe") as response:
            me = (await response.json())["result"]
            assert me["username"] == "dudao_test_bot" and me["is_bot"] and me["id"] == 123456
        form = aiohttp.FormData()
        form.add_field("chat_id", "1001")
        form.add_field("caption", "<b>周报</b>")
        form.add_field("parse_mode", "HTML")
        form.add_field("document", b"a,b\n1,2\n", filename="report.csv", content_type="text/csv")
        async with session.post(f"{url}/sendDocument", data=form) as response:
            message = (await response.json())["result"]
        assert message["caption"] == "周报" and message["caption_entities"][0]["type"] == "bold"
        document = message["document"]
        assert document["file_name"] == "report.csv" and document["mime_type"] == "text/csv"
        assert document["file_size"] == 8
        file = await ok(botapi, "getFile", file_id=document["file_id"])
        assert file["file_path"].startswith("documents/") and file["file_path"].endswith(".csv")
        async with session.get(f"{botapi.base_file_url}{botapi.token}/{file['file_path']}") as response:
            assert response.status == 200 and await response.read() == b"a,b\n1,2\n"
        async with session.get(f"{botapi.base_file_url}{botapi.token}/documents/nope.csv") as response:
            assert response.status == 404
    upload = next(r for r in botapi.request_log if r.method == "sendDocument")
    assert upload.files["document"].filename == "report.csv" and upload.files["document"].data == b"a,b\n1,2\n"
    assert [m.kind for m in botapi.sent_messages(1001)] == ["text", "text", "document"]


async def test_wrong_token_unknown_method_and_missing_chat(botapi: FakeBotAPI) -> None:  # noqa: F811
    status, body = await call(botapi, "getMe", token="123456:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await call(botapi, "sendUnicorn", chat_id=1)
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert botapi.unknown_methods == ["sendUnicorn"]
    status, body = await call(botapi, "sendMessage", chat_id=77, text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    botapi.person(78, "NotStarted")
    status, body = await call(botapi, "sendMessage", chat_id=78, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot can't initiate conversation with a user")


async def test_get_updates_offset_limit_allowed_and_long_poll(botapi: FakeBotAPI) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice")
    first = await alice.send_text("one")
    await alice.send_text("two")
    await alice.send_text("three")
    batch = await ok(botapi, "getUpdates", limit=2)
    assert [u["message"]["text"] for u in batch] == ["one", "two"]
    batch = await ok(botapi, "getUpdates", offset=first["update_id"] + 1)
    assert [u["message"]["text"] for u in batch] == ["two", "three"]
    assert len(botapi.pending_updates) == 2
    batch = await ok(botapi, "getUpdates", offset=-1)
    assert [u["message"]["text"] for u in batch] == ["three"]
    await ok(botapi, "getUpdates", offset=batch[0]["update_id"] + 1)
    assert botapi.pending_updates == []

    # long poll: returns as soon as an update is queued
    async def later() -> None:
        await asyncio.sleep(0.2)
        await alice.send_text("wake up")

    started = time.monotonic()
    task = asyncio.create_task(later())
    batch = await ok(botapi, "getUpdates", timeout=5)
    await task
    assert [u["message"]["text"] for u in batch] == ["wake up"]
    assert 0.15 < time.monotonic() - started < 1.5
    # timeout honoured when nothing comes
    started = time.monotonic()
    assert await ok(botapi, "getUpdates", offset=batch[0]["update_id"] + 1, timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2.0

    # allowed_updates applies to updates queued afterwards
    assert await ok(botapi, "getUpdates", timeout=0, allowed_updates=["callback_query"]) == []
    await alice.send_text("filtered out")
    assert botapi.pending_updates == [] and botapi.dropped_updates[-1]["message"]["text"] == "filtered out"
    await ok(botapi, "getUpdates", allowed_updates=[])
    assert "message" in botapi.allowed_updates and "chat_member" not in botapi.allowed_updates


async def test_concurrent_get_updates_conflict_and_webhook(botapi: FakeBotAPI) -> None:  # noqa: F811
    first = asyncio.create_task(call(botapi, "getUpdates", timeout=3))
    await asyncio.sleep(0.2)
    assert await ok(botapi, "getUpdates", timeout=0) == []
    status, body = await first
    assert status == 409 and body["description"].startswith("Conflict: terminated by other getUpdates request")

    assert await ok(botapi, "setWebhook", url="https://example.org/hook", secret_token="s3")
    assert botapi.webhook is not None and botapi.webhook["secret_token"] == "s3"
    status, body = await call(botapi, "getUpdates")
    assert status == 409 and "webhook is active" in body["description"]
    info = await ok(botapi, "getWebhookInfo")
    assert info["url"] == "https://example.org/hook"
    await botapi.person(1001, "Alice").send_text("queued")
    assert await ok(botapi, "deleteWebhook", drop_pending_updates=True)
    assert botapi.pending_updates == [] and botapi.webhook is None
    assert await ok(botapi, "getUpdates") == []
    assert await ok(botapi, "logOut") is True and await ok(botapi, "close") is True


async def test_edit_delete_and_not_modified(botapi: FakeBotAPI) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice")
    user_msg = await alice.send_text("hi")
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]}
    sent = await ok(botapi, "sendMessage", chat_id=1001, text="x <i>y</i>", parse_mode="HTML", reply_markup=markup)
    assert sent["message_id"] == 2  # private chats share one message id sequence
    status, body = await call(
        botapi,
        "editMessageText",
        chat_id=1001,
        message_id=2,
        text="x <i>y</i> ",
        parse_mode="HTML",
        reply_markup=markup,
    )
    assert status == 400 and body["description"] == (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the "
        "same as a current content and reply markup of the message"
    )
    status, body = await call(botapi, "editMessageText", chat_id=1001, message_id=99, text="z")
    assert body["description"] == "Bad Request: message to edit not found"
    status, body = await call(
        botapi, "editMessageText", chat_id=1001, message_id=user_msg["message"]["message_id"], text="z"
    )
    assert body["description"] == "Bad Request: message can't be edited"
    edited = await ok(botapi, "editMessageReplyMarkup", chat_id=1001, message_id=2)
    assert "reply_markup" not in edited and edited["edit_date"] >= edited["date"]
    events = [await alice.wait_reply(), await alice.wait_reply()]
    assert [(e.edited, e.buttons) for e in events] == [(False, ["a"]), (True, [])]
    assert await ok(botapi, "deleteMessage", chat_id=1001, message_id=2)
    status, body = await call(botapi, "deleteMessage", chat_id=1001, message_id=2)
    assert body["description"] == "Bad Request: message to delete not found"
    assert alice.messages == []
    deleted = await alice.wait_reply(include_deletes=True)
    assert deleted.deleted


async def test_validation_like_telegram(botapi: FakeBotAPI) -> None:  # noqa: F811
    botapi.person(1001, "Alice", started=True)

    async def error(**params: Any) -> str:
        status, body = await call(botapi, "sendMessage", chat_id=1001, **params)
        assert status == 400, body
        return str(body["description"])

    assert await error(text="  \n ") == "Bad Request: message text is empty"
    assert await error(text="x" * 4097) == "Bad Request: message is too long"
    assert await error(text="<b>x", parse_mode="HTML") == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    assert await error(text="1.5", parse_mode="MarkdownV2") == (
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'"
    )
    long_data = {"inline_keyboard": [[{"text": "a", "callback_data": "x" * 65}]]}
    assert await error(text="x", reply_markup=long_data) == "Bad Request: BUTTON_DATA_INVALID"
    text_only = {"inline_keyboard": [[{"text": "a"}]]}
    assert "Text buttons are unallowed" in await error(text="x", reply_markup=text_only)
    assert await error(text="x", reply_parameters={"message_id": 42}) == "Bad Request: message to be replied not found"
    _, body = await call(botapi, "sendChatAction", chat_id=1001, action="dancing")
    assert body["description"] == "Bad Request: wrong parameter action in request"
    assert len(botapi.errors()) == 8
    with pytest.raises(AssertionError, match="BUTTON_DATA_INVALID"):
        botapi.assert_no_errors()


async def test_fault_injection(botapi: FakeBotAPI) -> None:  # noqa: F811
    botapi.person(1001, "Alice", started=True)
    botapi.fail_next(count=2, status=429, retry_after=7)
    assert await ok(botapi, "getUpdates") == []  # method=None never hits getUpdates
    status, body = await call(botapi, "sendMessage", chat_id=1001, text="x")
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    status, _ = await call(botapi, "getMe")
    assert status == 429
    assert (await call(botapi, "getMe"))[0] == 200
    botapi.fail_next("sendMessage", status=502)
    assert (await call(botapi, "sendMessage", chat_id=1001, text="x"))[1]["description"] == "Bad Gateway"
    botapi.fail_next("getUpdates", status=500)
    assert (await call(botapi, "getUpdates"))[0] == 500
    botapi.block(1001)
    status, body = await call(botapi, "sendMessage", chat_id=1001, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    group = botapi.group(-5, "g")
    botapi.block(group.chat_id)
    status, body = await call(botapi, "sendMessage", chat_id=-5, text="x")
    assert body["description"] == "Forbidden: bot was kicked from the group chat"
    assert [r.status for r in botapi.errors(include_injected=True)] == [429, 429, 502, 500, 403, 403]
    assert [r.status for r in botapi.errors()] == [403, 403]


async def test_rate_limit_emulation(botapi: FakeBotAPI) -> None:  # noqa: F811
    for user_id in range(1, 11):
        botapi.person(user_id, f"u{user_id}", started=True)
    botapi.set_rate_limit(global_per_s=None, per_chat_per_s=1, per_chat_burst=1)
    assert (await call(botapi, "sendMessage", chat_id=1, text="a"))[0] == 200
    status, body = await call(botapi, "sendMessage", chat_id=1, text="b")
    assert status == 429 and body["parameters"]["retry_after"] == 1
    assert (await call(botapi, "sendMessage", chat_id=2, text="a"))[0] == 200
    assert (await call(botapi, "sendChatAction", chat_id=1, action="typing"))[0] == 200  # not a send
    assert botapi.rate_limit_hits == 1 and botapi.rate_limit_hits_by_chat == {1: 1}

    botapi.set_rate_limit(global_per_s=5, per_chat_per_s=None)
    started = time.monotonic()
    statuses = [(await call(botapi, "sendMessage", chat_id=c, text="x"))[0] for c in range(1, 11)]
    # A burst of 5, then refused; on a slow run the bucket refills one send per 200 ms meanwhile.
    refilled = int((time.monotonic() - started) * 5)
    assert statuses[:5] == [200] * 5 and 5 <= statuses.count(200) <= 5 + refilled
    assert statuses.count(429) == 10 - statuses.count(200) >= 1
    botapi.set_rate_limit(None, None)
    assert (await call(botapi, "sendMessage", chat_id=1, text="free"))[0] == 200


async def test_unreachable_modes(botapi: FakeBotAPI) -> None:  # noqa: F811
    botapi.set_unreachable(True)
    with pytest.raises(aiohttp.ClientError):
        await call(botapi, "getMe")
    botapi.set_unreachable(True, mode="timeout")
    with pytest.raises(asyncio.TimeoutError):
        await call(botapi, "getMe", client_timeout=0.3)
    botapi.set_unreachable(False)
    assert (await call(botapi, "getMe"))[0] == 200
    assert botapi.unreachable_hits == 2
    assert [m for m, _ in botapi.requests] == ["getMe"]


async def test_idle_and_wait_diagnostics(botapi: FakeBotAPI) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice")
    await alice.send_text("nobody polls")
    with pytest.raises(AssertionError, match="1 unconfirmed update"):
        await botapi.idle(timeout=0.2)
    await call(botapi, "sendMessage", chat_id=1001, text="<b", parse_mode="HTML")
    with pytest.raises(AssertionError) as info:
        await alice.wait_reply(timeout=0.2)
    assert "Unclosed start tag at byte offset 0" in str(info.value)
    assert "not yet confirmed by the bot" in str(info.value)
    batch = await ok(botapi, "getUpdates")
    await ok(botapi, "getUpdates", offset=batch[-1]["update_id"] + 1)
    await botapi.idle(timeout=1)


async def test_server_in_its_own_thread() -> None:
    api = FakeBotAPI().start_in_thread()
    try:
        alice = api.person(1001, "Alice")
        poll = asyncio.create_task(call(api, "getUpdates", timeout=5))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await alice.send_text("cross-thread")
        status, body = await poll
        assert status == 200 and body["result"][0]["message"]["text"] == "cross-thread"
        assert time.monotonic() - started < 1.0

        async def reply_later() -> None:
            await asyncio.sleep(0.2)
            await call(api, "sendMessage", chat_id=1001, text="from the other side")

        task = asyncio.create_task(reply_later())
        assert (await alice.wait_reply(timeout=3)).text == "from the other side"
        await task
    finally:
        api.stop_in_thread()


async def test_people_media_and_buttons(botapi: FakeBotAPI) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice", username="alice")
    sticker = await alice.send_sticker()
    assert sticker["message"]["sticker"]["emoji"] == "👍"
    voice = await alice.send_voice()
    assert voice["message"]["voice"]["mime_type"] == "audio/ogg"
    loc = await alice.send_location(31.23, 121.47)
    assert loc["message"]["location"] == {"latitude": 31.23, "longitude": 121.47}
    contact = await alice.send_contact("+8613800000000")
    assert contact["message"]["contact"]["user_id"] == 1001
    photo = await alice.send_photo(make_png(100, 50))
    assert [(s["width"], s["height"]) for s in photo["message"]["photo"]] == [(90, 45), (100, 50)]
    edit = await alice.edit_text(1, "changed")
    assert edit["edited_message"]["text"] == "changed" or "edited_message" in edit
    markup = {
        "inline_keyboard": [
            [{"text": "查看 A", "callback_data": "a"}, {"text": "查看 B", "callback_data": "b"}],
            [{"text": "查看", "callback_data": "exact"}],
        ]
    }
    await ok(botapi, "sendMessage", chat_id=1001, text="pick", reply_markup=markup)
    with pytest.raises(AssertionError, match="ambiguous"):
        await alice.press("查看 ")
    query_id = await alice.press("查看")  # exact match wins over substrings
    update = botapi.pending_updates[-1]["callback_query"]
    assert update["id"] == query_id and update["data"] == "exact" and update["message"]["text"] == "pick"
    assert await ok(botapi, "answerCallbackQuery", callback_query_id=query_id, text="ok")
    _, body = await call(botapi, "answerCallbackQuery", callback_query_id=query_id)
    assert body["description"].startswith("Bad Request: query is too old")
    assert (await alice.wait_callback_answer(query_id)).text == "ok"


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("<b>粗</b> &lt;tag&gt; &amp; &#169; x", "粗 <tag> & © x", [{"type": "bold", "offset": 0, "length": 1}]),
        (
            '😀 <a href="https://x.org/?a=1&amp;b=2">link</a>',
            "😀 link",
            [{"type": "text_link", "offset": 3, "length": 4, "url": "https://x.org/?a=1&b=2"}],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        ("\n  <i>hi</i>  \n", "hi", [{"type": "italic", "offset": 0, "length": 2}]),
        ('<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>', "sq", None),
    ],
)
def test_html_parsing(html: str, text: str, entities: list[dict[str, Any]] | None) -> None:
    plain, ents = parse_formatted_text(html, "HTML")
    assert plain == text
    if entities is not None:
        assert ents == entities
    else:
        assert [e["type"] for e in ents] == ["spoiler", "expandable_blockquote"]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("中<div>", 'Unsupported start tag "div" at byte offset 3'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        # An unescaped '&' (a name "A & B" put in without escaping): the Bot API says to escape it.
        ("King's Park & Lake", "Unescaped '&' at byte offset 12"),
        ("&copy x", "Unescaped '&' at byte offset 0"),
    ],
)
def test_html_errors(html: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_formatted_text(html, "HTML")
    assert str(info.value) == error


def test_markdown_modes() -> None:
    assert parse_formatted_text("*b* _i_ __u__ ~s~ ||p|| `c` 1\\.5", "MarkdownV2") == (
        "b i u s p c 1.5",
        [
            {"type": "bold", "offset": 0, "length": 1},
            {"type": "italic", "offset": 2, "length": 1},
            {"type": "underline", "offset": 4, "length": 1},
            {"type": "strikethrough", "offset": 6, "length": 1},
            {"type": "spoiler", "offset": 8, "length": 1},
            {"type": "code", "offset": 10, "length": 1},
        ],
    )
    assert parse_formatted_text("[x](https://a.b/\\))", "MarkdownV2")[1][0]["url"] == "https://a.b/)"
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_formatted_text("*open", "MarkdownV2")
    assert parse_formatted_text("*b* 1.5 [l](http://x)", "Markdown")[0] == "b 1.5 l"
    with pytest.raises(EntityParseError, match="Can't find end of the entity starting at byte offset 2"):
        parse_formatted_text("a _b", "Markdown")


async def test_strict_like_telegram_on_presses_and_plain_surfaces(botapi: FakeBotAPI) -> None:  # noqa: F811
    alice = botapi.person(1001, "Alice", started=True)
    markup = {"inline_keyboard": [[{"text": "King&#39;s Park &amp; Lake", "callback_data": "a"}]]}
    await ok(botapi, "sendMessage", chat_id=1001, text="pick", reply_markup=markup)
    await ok(botapi, "editMessageText", chat_id=1001, message_id=1, text="pick <code>1</code>", parse_mode="HTML")
    _, body = await call(
        botapi, "editMessageText", chat_id=1001, message_id=1, text="pick <code>1</code>", parse_mode="HTML"
    )
    assert body["description"].startswith("Bad Request: message is not modified")
    _, body = await call(botapi, "sendMessage", chat_id=1001, text="A & B", parse_mode="HTML")
    assert body["description"] == "Bad Request: can't parse entities: Unescaped '&' at byte offset 2"
    _, body = await call(botapi, "sendPhoto", chat_id=1001, photo="x", caption="y" * 1025)
    assert body["error_code"] == 400

    query_id = await alice.press_data("a", 1)
    _, body = await call(botapi, "answerCallbackQuery", callback_query_id=query_id, text="x" * 201)
    assert body["description"] == "Bad Request: MESSAGE_TOO_LONG"
    assert await ok(
        botapi, "answerCallbackQuery", callback_query_id=query_id, text="已撤销：A &amp; B", show_alert=True
    )
    # Telegram shows toasts, alerts and labels as they are: markup there is an escaping bug.
    assert botapi.plain_text_violations() == [
        "button label: " + repr("King&#39;s Park &amp; Lake"),
        "alert: '已撤销：A &amp; B'",
    ]
    # A press not answered in time can no longer be answered.
    botapi.callback_answer_timeout = 0.01
    late = await alice.press_data("a", 1)
    await asyncio.sleep(0.05)
    _, body = await call(botapi, "answerCallbackQuery", callback_query_id=late)
    assert body["description"].startswith("Bad Request: query is too old")
    with pytest.raises(AssertionError, match="markup shown as plain text"):
        botapi.assert_well_formed()
