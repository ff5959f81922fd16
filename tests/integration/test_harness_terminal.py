"""The terminal chat, scripted through StringIO, against a bare PTB bot."""

from __future__ import annotations

import io
from pathlib import Path

from tests.harness.botapi import FakeBotAPI
from tests.harness.fixtures import botapi  # noqa: F401 - pytest fixture
from tests.harness.media import make_png
from tests.harness.ptb import running
from tests.harness.terminal import run_terminal_chat
from tests.integration.test_harness_ptb import EchoBot


async def test_terminal_chat_script(botapi: FakeBotAPI, tmp_path: Path) -> None:  # noqa: F811
    photo = tmp_path / "现场.png"
    photo.write_bytes(make_png(32, 32))
    report = tmp_path / "report.txt"
    report.write_text("ok")
    alice = botapi.person(1001, "Alice")
    bob = botapi.person(1002, "Bob")
    script = "\n".join(
        [
            ":help",
            "/start hello",
            "1",
            "7",
            "你好",
            ":who",
            ":who 2",
            "hi from bob",
            f":photo {photo} 现场照片",
            f":doc {report}",
            "\\:literal",
            ":nonsense",
            ":who Alice",
            ":quit",
            "never read",
        ]
    )
    stdin, stdout = io.StringIO(script + "\n"), io.StringIO()
    bot = EchoBot(botapi)
    async with running(bot.app):
        await run_terminal_chat(botapi, [alice, bob], stdin=stdin, stdout=stdout, settle=3.0)
    out = stdout.getvalue()
    assert ":photo PATH" in out  # help
    assert "欢迎 Alice payload=hello" in out
    assert "[1] ✅ 确认" in out and "[2] 取消   [3] 帮助" in out
    assert "(pressed [1] ✅ 确认)" in out and "[toast] got yes" in out
    assert "[bot (edited) #2]" in out and "you chose yes" in out
    assert "! no message with buttons" in out  # the edit removed the keyboard
    assert "  你好" in out
    assert "[2] Bob (id 1002, zh-hans)" in out and "(you are now Bob, id 1002)" in out
    assert "hi from bob" in out and "Bob> " in out
    assert "photo " in out and "group=None" in out
    assert "document report.txt 2" in out
    assert ":literal" in out and "! unknown or incomplete command" in out
    assert "(you are now Alice, id 1001)" in out
    assert stdin.readline() == "never read\n"  # nothing is read ahead
    assert [m.text for m in bob.messages][:1] == ["hi from bob"]
    botapi.assert_no_errors()
