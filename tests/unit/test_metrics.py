"""The pure parts of bot.metrics: kinds of update, classes of Bot API error, the backup's age."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bot.metrics import Metrics, api_method, error_class, newest_backup_mtime, update_kind

USER = User(7, "Li", is_bot=False)
CHAT = Chat(7, Chat.PRIVATE)


def message(text: str, entities: tuple[MessageEntity, ...] = ()) -> Message:
    return Message(1, datetime.now(UTC), CHAT, from_user=USER, text=text, entities=entities)


def test_update_kinds():
    command = message("/help", (MessageEntity(MessageEntity.BOT_COMMAND, 0, 5),))
    assert update_kind(Update(1, message=command)) == "command"
    assert update_kind(Update(2, message=message("你好"))) == "message"
    # A command further in the text is a message, as the bot reads it.
    assert update_kind(Update(3, message=message("see /help", (MessageEntity(MessageEntity.BOT_COMMAND, 4, 5),)))) == (
        "message"
    )
    assert update_kind(Update(4, callback_query=CallbackQuery("q", USER, "inst", data="x"))) == "callback"
    assert update_kind(Update(5, edited_message=message("edited"))) == "other"
    assert update_kind("not an update") == "other"


@pytest.mark.parametrize(
    ("status", "description", "expected"),
    [
        (429, "Too Many Requests: retry after 5", "flood"),
        (401, "Unauthorized", "token"),
        (404, "Not Found", "token"),
        (409, "Conflict: terminated by other getUpdates request", "conflict"),
        (502, "Bad Gateway", "server"),
        (403, "Forbidden: bot was blocked by the user", "blocked"),
        (403, "Forbidden: user is deactivated", "blocked"),
        (403, "Forbidden: bot can't initiate conversation with a user", "blocked"),
        (403, "Forbidden: something new", "forbidden"),
        (400, "Bad Request: message is not modified: specified new message content ...", "not_modified"),
        (400, "Bad Request: message to edit not found", "message_not_found"),
        (400, "Bad Request: query is too old and response timeout expired or query ID is invalid", "query_expired"),
        (400, "Bad Request: chat not found", "chat_not_found"),
        (
            400,
            "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 12",
            "bad_markup",
        ),
        (400, "Bad Request: message is too long", "too_long"),
        (400, "Bad Request: file is too big", "file_too_big"),
        (400, "Bad Request: wrong file identifier/HTTP URL specified", "bad_file"),
        (400, "Bad Request: something new", "bad_request"),
        (418, "", "other"),
    ],
)
def test_error_classes_are_a_fixed_vocabulary(status, description, expected):
    assert error_class(status, description) == expected


def test_api_method_of_a_url_never_names_a_file():
    assert api_method("https://api.telegram.org/bot123:abc/sendMessage") == "sendMessage"
    assert api_method("https://api.telegram.org/file/bot123:abc/photos/file_12.jpg") == "file"
    assert api_method("http://127.0.0.1:8081/file/bot123:abc/documents/报告.pdf") == "file"


def test_newest_backup_is_found_by_name_and_time(tmp_path: Path):
    assert newest_backup_mtime(tmp_path / "missing") is None
    assert newest_backup_mtime(tmp_path) is None
    now = time.time()
    for name, age in (("bot-1.sqlite3", 7200), ("bot-2.sqlite3", 3600), ("other.sqlite3", 10), ("bot-3.tmp", 5)):
        (tmp_path / name).write_bytes(b"")
        os.utime(tmp_path / name, (now - age, now - age))
    assert newest_backup_mtime(tmp_path) == pytest.approx(now - 3600)


def test_each_metrics_object_has_its_own_registry():
    # Two Applications in one process (tests, the benches) must not share or clash over series.
    first, second = Metrics(), Metrics()
    first.update_handled("command", 0.02)
    first.api_error("sendMessage", "400", "bad_markup")
    first.flood(broadcast=True, wait=1.1, gave_up=False)
    assert first.registry.get_sample_value("dudao_updates_total", {"kind": "command"}) == 1
    assert second.registry.get_sample_value("dudao_updates_total", {"kind": "command"}) == 0
    assert (
        first.registry.get_sample_value("dudao_update_handling_seconds_bucket", {"kind": "command", "le": "0.025"}) == 1
    )
    assert (
        first.registry.get_sample_value("dudao_update_handling_seconds_bucket", {"kind": "command", "le": "0.01"}) == 0
    )
    assert first.registry.get_sample_value("dudao_bot_api_429_wait_seconds_total", {"traffic": "broadcast"}) == 1.1
    text = first.exposition().decode()
    assert "dudao_bot_api_errors_total" in text and "_created" not in text
