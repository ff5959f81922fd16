"""A SIGKILL drill in the middle of the fix-and-verify loop of a corrective action (issue #15), in the
style of test_fault_drills.py: the real bot process, killed at two moments, restarted each time.

1. While a verifier's 退回 reason is in flight: the return is committed whole (open, round 2, its
   event, the question cleared) or not at all (still submitted, the question still open; the
   update, never confirmed to Telegram, comes again after the restart and is applied then).
2. Right after a verifier's 通过 was acknowledged, before the engine's next tick could tell anyone
   (``tick_seconds`` is an hour: the engine ticks only when the bot starts).

After each restart the state and the history are consistent, and every pending message (the
notice, the proof to verify, the results) is delivered exactly once; a further restart sends
nothing again."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from datetime import datetime
from pathlib import Path

from bot.clock import iso
from rubric.model import Answer
from rubric.registry import RubricRegistry
from storage.db import Database
from tests.harness.botapi import FakeBotAPI
from tests.harness.driver import Person
from tests.harness.media import make_png
from tests.integration.test_fault_drills import frozen_bot
from tests.integration.test_process import bot_env
from tests.seeding import add_person, add_site, answers_by_pattern, seed_inspection

INSPECTOR, STAFF = 8101, 8201
AT = "2026-04-06T10:00:00+08:00"  # a Monday, in working hours; the bot's clock stands still
RUBRIC = RubricRegistry.load().get(2)
FAIL = RUBRIC.clause_by_code("二(一)4").id


async def seed(data_dir: Path) -> None:
    """阳光花园 with its inspector and staff, and a draft with every clause answered, one 不符合."""
    db = await Database.open(data_dir / "bot.sqlite3")
    try:
        when = datetime.fromisoformat(AT)
        now = iso(when)
        site_id = await add_site(db, "阳光花园", None, now)
        await add_person(db, INSPECTOR, "王督导", "inspector", now, site_id=site_id)
        await add_person(db, STAFF, "前台小张", "staff", now, site_id=site_id)
        answers = answers_by_pattern(RUBRIC, [Answer.OK]) | {FAIL: Answer.FAIL}
        await seed_inspection(db, RUBRIC, site_id, INSPECTOR, when, answers, status="draft")
    finally:
        await db.close()


def snapshot(data_dir: Path) -> dict:
    with sqlite3.connect(data_dir / "bot.sqlite3") as conn:
        action = conn.execute("SELECT id, status, round FROM actions").fetchall()
        events = conn.execute("SELECT event, round FROM action_events ORDER BY id").fetchall()
        pending = conn.execute("SELECT user_id, kind FROM pending_inputs").fetchall()
        outbox = conn.execute("SELECT kind, chat_id, status FROM duty_outbox ORDER BY id").fetchall()
    return {"action": action, "events": events, "pending": pending, "outbox": outbox}


async def started(botapi: FakeBotAPI, env: dict[str, str]) -> asyncio.subprocess.Process:
    """A bot process, once it polls for updates (its first tick is then under way or done)."""
    polls = len(botapi.calls("getUpdates"))
    process = await frozen_bot(env, AT)
    await botapi.wait_for(lambda: len(botapi.calls("getUpdates")) > polls, 30, "the bot to start")
    return process


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def stop(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, stderr.decode()[-2000:]


async def send_proof(staff: Person, action_id: int, seed_: int) -> None:
    await staff.send_command("actions")
    listed = await staff.wait_text("未关闭的整改", timeout=15)
    await staff.press_data(f"ao:{action_id}", listed.message_id)
    card = await staff.wait_text("经过", timeout=15)
    await staff.press("📷 提交整改材料", card.message_id)
    await staff.wait_text("整改后的照片", timeout=15)
    await staff.send_photo(make_png(seed=seed_))
    saved = await staff.wait_text("已收到照片", timeout=15)
    await staff.press("✅ 提交整改", saved.message_id)
    await staff.wait_text("已提交整改", timeout=15)


def count(person: Person, fragment: str) -> int:
    return sum(1 for message in person.messages if fragment in message.content)


async def test_sigkill_in_the_verification_loop_loses_nothing_and_tells_once(botapi: FakeBotAPI, tmp_path):
    await seed(tmp_path)
    config = tmp_path / "bot.toml"
    config.write_text("[duties]\nenabled = false\ntick_seconds = 3600\n", encoding="utf-8")
    env = bot_env(botapi, tmp_path, BOT_CONFIG=str(config), BOT_LOG_LEVEL="WARNING")
    inspector = botapi.person(INSPECTOR, "王督导")
    staff = botapi.person(STAFF, "前台小张")

    process = await started(botapi, env)
    try:
        await inspector.send_command("resume")
        await inspector.wait_text("复核", timeout=20)
        await inspector.press("✅ 提交")
        await inspector.wait_text("总分", timeout=15)
        (action_id,) = [row[0] for row in snapshot(tmp_path)["action"]]
        await send_proof(staff, action_id, 1)
        # The verifier returns it; killed while the reason is in flight.
        await inspector.press_data(f"ar:{action_id}", None)
        await inspector.wait_text("请发送退回整改", timeout=15)
        await inspector.send_text("照片看不清")
        await kill(process)
    finally:
        if process.returncode is None:
            process.kill()
    killed = snapshot(tmp_path)
    returned = [event for event in killed["events"] if event[0] == "returned"]
    if killed["action"] == [(action_id, "open", 2)]:  # committed whole
        assert returned == [("returned", 1)] and killed["pending"] == []
    else:  # or not at all: the question is still open
        assert killed["action"] == [(action_id, "submitted", 1)] and returned == []
        assert killed["pending"] == [(INSPECTOR, "action_return")]
    # The start's tick is the JobQueue's first job, which races the first updates: it may have come
    # before the submit (nothing told yet) or just after it (the notice told, once). Nothing more.
    assert killed["outbox"] in ([], [("action_notice", STAFF, "sent")])

    process = await started(botapi, env)
    try:
        if not returned:
            # Its update was never confirmed to Telegram, so it comes again and is applied now; were
            # it lost, the question survived the kill and the reason is simply sent again.
            try:
                await inspector.wait_text("现在是第 2 轮", timeout=10)
            except AssertionError:
                await inspector.send_text("照片看不清")
                await inspector.wait_text("现在是第 2 轮", timeout=15)
        # The start's tick told the site (the notice, unless the first start's did) and the inspector
        # (the proof to verify).
        await staff.wait_until(lambda: count(staff, "整改通知单") >= 1, timeout=15)
        if returned:  # the result went out with the same tick
            await staff.wait_text("被退回，原因：照片看不清", timeout=15)
        await send_proof(staff, action_id, 2)
        # The verifier passes round 2; killed as soon as it is acknowledged, before any tick.
        query = await inspector.press_data(f"av:{action_id}", None)
        assert "整改已关闭" in (await inspector.wait_callback_answer(query, timeout=15)).text
        await kill(process)
    finally:
        if process.returncode is None:
            process.kill()
    closed = snapshot(tmp_path)
    assert closed["action"] == [(action_id, "closed", 2)]
    assert closed["events"] == [("created", 1), ("submitted", 1), ("returned", 1), ("submitted", 2), ("closed", 2)]

    # The restart tells what was pending, once; a further restart tells nothing again.
    process = await started(botapi, env)
    try:
        await staff.wait_text("验证通过，整改已关闭", timeout=15)
        await asyncio.sleep(1.0)
        await stop(process)
        process = await started(botapi, env)
        await asyncio.sleep(1.5)
    finally:
        if process.returncode is None:
            await stop(process)
    final = snapshot(tmp_path)
    assert final["events"] == closed["events"] and final["action"] == closed["action"]
    assert count(staff, "整改通知单") == 1
    assert count(staff, "被退回，原因：照片看不清") == 1
    assert count(staff, "验证通过，整改已关闭") == 1
    # Round 1's proof was asked about once at most (not when it was returned before the tick that
    # would have asked), round 2's never (passed before any tick); nothing was left unsent.
    reviews = [status for kind, _, status in final["outbox"] if kind == "action_review"]
    assert count(inspector, "整改待您验证") == reviews.count("sent") <= 1
    assert {status for _, _, status in final["outbox"]} <= {"sent", "skipped"}
    assert [row for row in final["outbox"] if row[0] == "action_notice"] == [("action_notice", STAFF, "sent")]
    assert {chat for kind, chat, _ in final["outbox"] if kind == "action_result"} == {STAFF}
