"""The terminal chat, scripted through StringIO: against a bare PTB bot, and as `make demo` runs it."""

from __future__ import annotations

import asyncio
import io
import threading
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import ManualClock
from bot.demo import demo_session
from config.settings import Settings
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


async def test_the_demo_gives_every_role_its_main_job(botapi: FakeBotAPI, tmp_path: Path) -> None:  # noqa: F811
    """`make demo` as a new user tries it: the manager reads the summary, the staff member answers a
    duty and sends an action's proof, the inspector verifies the proof already sent and starts an
    inspection; the staff's reminders show up while someone else types, marked with who got them."""
    report = tmp_path / "满意度调查报告.pdf"
    report.write_bytes(b"%PDF-1.4 demo")
    script = [
        "/help",
        ":who 2",
        "/summary",
        ":who 4",
        "/mytasks",
        "1",  # ✅ 已完成，上传材料 on the last card (the satisfaction survey)
        f":doc {report} 满意度调查已完成",
        "1",  # ✅ 确认完成
        "/actions",
        "2",  # 一(一)2 · 阳光花园 (the serious 二(一)4 is already waiting for verification)
        "1",  # 📷 提交整改材料
        "已重新归档，补齐台账",
        "1",  # ✅ 提交整改
        ":who 3",
        "/actions",
        "1",  # 📨 二(一)4 · 阳光花园, proof sent by the seed
        "2",  # ✅ 通过
        "/inspect",
        ":quit",
    ]
    stdin, stdout = io.StringIO("\n".join(script) + "\n"), io.StringIO()
    clock = ManualClock(datetime(2026, 11, 18, 2, 0, tzinfo=UTC))  # a Wednesday, 10:00 in Shanghai
    await demo_session(Settings(data_dir=tmp_path / "data"), botapi, stdin=stdin, stdout=stdout, clock=clock)
    out = stdout.getvalue()

    # The staff's reminders are on screen for the admin, marked with who got them and how to answer.
    reminder = out.index("→ for 客服 Staff (:who 4)]")
    assert reminder < out.index("管理员 Admin> ")
    assert "周期工作提醒" in out[reminder : out.index("\n[", reminder)]
    # Manager: the quarter's summary over the seeded inspections.
    manager = out[out.index("经理 Manager> /summary") : out.index("(you are now 客服 Staff")]
    assert "已督导 2 次" in manager and "全公司得分" in manager and "最弱的类别" in manager
    # Staff: duties due, one answered; then proof for an action, submitted.
    staff = out[out.index("客服 Staff> /mytasks") : out.index("(you are now 督导员 Inspector")]
    assert "您有 3 项待完成的周期工作" in staff
    assert "(pressed [1] ✅ 确认完成)" in staff and "[toast] 已完成 ✅" in staff
    assert "未关闭的整改：3 项" in staff and "(pressed [1] ✅ 提交整改)" in staff and "[toast] 已提交整改" in staff
    # Inspector: verifies the proof the seed sent, then starts an inspection.
    inspector = out[out.index("督导员 Inspector> /actions") :]
    assert "(pressed [2] ✅ 通过)" in inspector and "[toast] 验证通过，整改已关闭" in inspector
    assert "阳光花园" in inspector[inspector.index("督导员 Inspector> /inspect") :]
    assert "[bot api error]" not in out
    botapi.assert_well_formed()


class _GatedInput(io.StringIO):
    """Scripted input whose second line waits for the test: the terminal sits at its prompt meanwhile."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("".join(f"{line}\n" for line in lines))
        self.waiting, self.gate, self.calls = threading.Event(), threading.Event(), 0

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.calls += 1
        if self.calls == 2:
            self.waiting.set()
            self.gate.wait(10)
        return super().readline(size)


async def test_a_message_for_someone_else_is_shown_when_it_arrives(botapi: FakeBotAPI) -> None:  # noqa: F811
    """Not only in :history: while Alice sits at the prompt, the bot writes to Bob, and it is on screen
    at once, headed with whom it went to and how to answer as them."""
    alice = botapi.person(1001, "Alice", started=True)
    bob = botapi.person(1002, "Bob", started=True)
    stdin, stdout = _GatedInput(["/start", ":quit"]), io.StringIO()
    bot = EchoBot(botapi)
    async with running(bot.app):
        chat = asyncio.create_task(run_terminal_chat(botapi, [alice, bob], stdin=stdin, stdout=stdout, settle=3.0))
        assert await asyncio.to_thread(stdin.waiting.wait, 10)  # /start done; the terminal waits for input
        await bot.app.bot.send_message(bob.chat_id, "提醒：请提交周报")
        for _ in range(100):
            if "提醒：请提交周报" in stdout.getvalue():
                break
            await asyncio.sleep(0.05)
        stdin.gate.set()
        await chat
    out = stdout.getvalue()
    header = out.index("→ for Bob (:who 2)]")
    assert out.index("  提醒：请提交周报", header) < out.index("Alice> :quit")  # before the next input
    botapi.assert_well_formed()
