"""`BOT_LOG_LEVEL=DEBUG` logs every update and every send: invitation codes must not be among them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.clock import iso
from storage.db import Database
from storage.sites import SiteRepository
from tests.harness.botapi import FakeBotAPI
from tests.integration.test_process import bot_env, start_bot, stop_bot

LINK = re.compile(r"https://t\.me/dudao_test_bot\?start=([A-Za-z0-9_-]+)")


async def test_debug_log_has_no_invitation_code(botapi: FakeBotAPI, tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        await SiteRepository(db).add("阳光花园", iso(datetime.now(UTC)))
    finally:
        await db.close()
    process = await start_bot(bot_env(botapi, tmp_path))  # BOT_LOG_LEVEL=DEBUG
    try:
        admin = botapi.person(7001, "管理员")
        await admin.send_command("invite")
        await admin.wait_text("请选择", timeout=20)
        await admin.press("督导员")
        await admin.wait_text("请选择")
        await admin.press("阳光花园")
        forward = await admin.wait_text("邀请您以")
        match = LINK.search(forward.text)
        assert match is not None
        code = match.group(1)
        newcomer = botapi.person(7002, "王督导")
        await newcomer.send_command("start", code)
        await newcomer.wait_text("欢迎")
    finally:
        exit_code, log = await stop_bot(process)
    assert exit_code == 0, log[-3000:]
    assert code not in log and code[:12] not in log
    # The places it would have been: the update that came in and the link that went out.
    assert "/start <redacted>" in log and "?start=<redacted>" in log
