"""/metrics, /healthz and traced log lines, with the real Application against the Bot API stand-in."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.app import metrics_server
from bot.clock import ManualClock
from bot.logging_setup import REDACTED, make_handler
from bot.metrics import app_metrics
from bot.scheduler import tick_now
from config.duties import DutySettings
from config.settings import MetricsSettings
from tests.conftest import ADMIN_ID, BotUnderTest, make_settings
from tests.harness.botapi import FakeBotAPI

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 30, 10, 0, tzinfo=SHANGHAI)  # two days before the Q2 reminders
Q2 = datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI)  # the quarter's first reminders
AFTER_DUE = datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI)  # past the complaint report's due date (15 April)
STAFF = 5101
METRICS_ON = MetricsSettings(enabled=True, listen="127.0.0.1", port=0)  # port 0: any free port


@asynccontextmanager
async def running(
    botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock, **overrides: Any
) -> AsyncIterator[BotUnderTest]:
    """The bot with metrics on (and ``overrides``); ends checking nothing malformed was sent."""
    bot = BotUnderTest(botapi, make_settings(botapi, tmp_path / "data", metrics=METRICS_ON, **overrides), clock)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
    botapi.assert_well_formed()


async def get(bot: BotUnderTest, path: str) -> tuple[int, str]:
    assert bot.app is not None
    server = metrics_server(bot.app)
    assert server is not None, "the metrics server did not start"
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{server.port}{path}") as response:
        return response.status, await response.text()


async def all_handled(bot: BotUnderTest, count: int) -> None:
    """Replies arrive before their update's handling ends (and is counted): wait for the count."""
    assert bot.app is not None
    registry = app_metrics(bot.app).registry

    def handled() -> float:
        kinds = ("message", "command", "callback", "other")
        return sum(registry.get_sample_value("dudao_updates_total", {"kind": kind}) or 0 for kind in kinds)

    await bot.api.wait_for(lambda: handled() >= count, 5, f"{count} updates handled")


class Scrape:
    def __init__(self, text: str) -> None:
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def get(self, name: str, **labels: str) -> float | None:
        return self.samples.get((name, frozenset(labels.items())))

    def __getitem__(self, name: str) -> float:
        value = self.get(name)
        assert value is not None, f"{name} is not in the scrape"
        return value


async def scrape(bot: BotUnderTest) -> Scrape:
    status, text = await get(bot, "/metrics")
    assert status == 200
    return Scrape(text)


async def test_metrics_after_real_updates_errors_and_a_stuck_outbox(botapi: FakeBotAPI, tmp_path: Path):
    clock = ManualClock(START)
    # The duty engine on, ticked by the test only (the hourly job never comes within a test).
    duties = DutySettings(public_holidays="none", tick_seconds=3600)
    async with running(botapi, tmp_path, clock, duties=duties) as bot:
        first = await scrape(bot)
        assert first["dudao_database_up"] == 1
        assert first.get("dudao_updates_total", kind="command") == 0
        assert first.get("dudao_last_update_age_seconds") is None  # no update yet: no figure, not a fake one
        assert first["dudao_outbox_backlog"] == 0 and first["dudao_outbox_oldest_pending_age_seconds"] == 0
        assert first.get("dudao_backup_age_seconds") is None  # no backup at all

        admin = botapi.person(ADMIN_ID, "Boss", language_code="en")
        botapi.fail_next("sendMessage", status=429, retry_after=1)  # the answer to /help waits once
        await admin.send_command("help")
        await admin.wait_reply(timeout=8)
        await admin.send_command("lang")
        await admin.wait_reply()
        await admin.press("繁體中文")
        await admin.wait_reply()
        await admin.send_text("hello")
        await admin.wait_reply()
        await all_handled(bot, 4)

        # Q2 begins: the site's staff member is due two reminders, and the Bot API fails every send.
        site = await bot.add_site("阳光花园")
        await bot.add_person(STAFF, "staff", "小李", site_id=site)
        botapi.person(STAFF, "小李", started=True)
        await tick_now(bot.app)  # the site appears before Q2: its duties start with Q2
        clock.set(Q2)
        botapi.fail_next("sendMessage", status=500, count=1000)
        report = await tick_now(bot.app)
        assert report.retried > 0 and report.sent == 0
        clock.set(AFTER_DUE)
        backups = bot.settings.backup_dir
        backups.mkdir(parents=True)
        newest = backups / "bot-20260420-0300.sqlite3"
        for path, hours in ((backups / "bot-20260419-0300.sqlite3", 26), (newest, 2)):
            path.write_bytes(b"")
            os.utime(path, (time.time() - hours * 3600,) * 2)

        seen = await scrape(bot)
        assert seen.get("dudao_updates_total", kind="command") == 2
        assert seen.get("dudao_updates_total", kind="callback") == 1
        assert seen.get("dudao_updates_total", kind="message") == 1
        assert seen.get("dudao_update_handling_seconds_count", kind="command") == 2
        assert (seen.get("dudao_update_handling_seconds_sum", kind="command") or 0) > 0
        assert seen.get("dudao_update_handling_seconds_bucket", kind="command", le="+Inf") == 2
        assert seen.get("dudao_bot_api_429_total", traffic="interactive") == 1
        assert (seen.get("dudao_bot_api_429_wait_seconds_total", traffic="interactive") or 0) >= 1
        assert seen.get("dudao_bot_api_errors_total", method="sendMessage", code="429", reason="flood") == 1
        assert (seen.get("dudao_bot_api_errors_total", method="sendMessage", code="500", reason="server") or 0) >= 2
        assert seen["dudao_outbox_backlog"] == 2  # the complaint report's and the demand statistics' reminders
        assert seen["dudao_outbox_oldest_pending_age_seconds"] == (AFTER_DUE - Q2).total_seconds()
        assert seen["dudao_duties_overdue"] == 2
        assert 0 <= seen["dudao_last_update_age_seconds"] < 60
        assert 0 <= seen["dudao_duty_last_tick_age_seconds"] < 60  # a tick whose sends all failed still finished
        assert 2 * 3600 - 5 < seen["dudao_backup_age_seconds"] < 2 * 3600 + 60
        assert seen["process_resident_memory_bytes"] > 0

        botapi.clear_faults()
        assert (await tick_now(bot.app)).sent >= 2  # the two stuck reminders, and what today adds
        drained = await scrape(bot)
        assert drained["dudao_outbox_backlog"] == 0 and drained["dudao_outbox_oldest_pending_age_seconds"] == 0


async def test_healthz_answers_200_then_503_when_the_database_is_gone(botapi: FakeBotAPI, tmp_path: Path, caplog):
    async with running(botapi, tmp_path, ManualClock(START)) as bot:
        status, body = await get(bot, "/healthz")
        assert status == 200
        health = json.loads(body)
        tick_age = health.pop("last_tick_age_s")  # the start's tick (the JobQueue's first job) may be done
        assert health == {"database": "ok", "last_update_age_s": None, "outbox_backlog": 0}
        assert tick_age is None or 0 <= tick_age < 60

        admin = botapi.person(ADMIN_ID, "Boss", language_code="en")
        await admin.send_command("help")
        await admin.wait_reply()
        await all_handled(bot, 1)
        await tick_now(bot.app)
        status, body = await get(bot, "/healthz")
        health = json.loads(body)
        assert status == 200 and health["database"] == "ok" and 0 <= health["last_update_age_s"] < 60
        assert 0 <= health["last_tick_age_s"] < 60

        # The file moved away under the open connection (a volume unmounted, a bad restore): SQLite
        # would go on writing into the unlinked file, so the check looks at the path too.
        path = bot.settings.database_path
        path.rename(path.with_suffix(".moved"))
        status, body = await get(bot, "/healthz")
        assert status == 503 and json.loads(body)["database"] == "missing"
        assert any(f"{path} is missing" in r.getMessage() for r in caplog.records)  # the path in the log only
        assert str(path) not in body
        path.with_suffix(".moved").rename(path)
        assert (await get(bot, "/healthz"))[0] == 200

        # The connection itself gone: every query fails.
        await bot.services.db.close()
        status, body = await get(bot, "/healthz")
        health = json.loads(body)
        assert status == 503 and health["database"] == "error" and health["outbox_backlog"] is None
        assert (await scrape(bot))["dudao_database_up"] == 0


@contextmanager
def log_lines(secrets: tuple[str, ...], fmt: str) -> Iterator[io.StringIO]:
    """Everything logged (DEBUG up, PTB's Bot API calls included) through the bot's own handler."""
    stream = io.StringIO()
    handler = make_handler(secrets, stream, fmt)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


TEXT_LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) (?P<logger>\S+) req=(?P<req>\S+) user=(?P<user>\S+): (?P<msg>.*)$")
HANDLED = re.compile(r"^update \d+ \((?P<kind>\w+)\) handled in \d+ ms$")


async def two_people_write(bot: BotUnderTest, stream: io.StringIO) -> None:
    admin = bot.api.person(ADMIN_ID, "Boss", language_code="en")
    stranger = bot.api.person(4242, "路人", language_code="zh-hans")
    await admin.send_command("help")
    await admin.wait_reply()
    await stranger.send_command("start")
    await stranger.wait_reply()
    await admin.send_command("help")
    await admin.wait_reply()
    # The reply arrives before the update's last line is written.
    await bot.api.wait_for(lambda: stream.getvalue().count(") handled in ") >= 3, 5, "three updates handled")


async def test_one_request_id_follows_each_update_through_the_log(bot: BotUnderTest):
    with log_lines((bot.api.token,), "text") as stream:
        await two_people_write(bot, stream)
    lines = [m.groupdict() for line in stream.getvalue().splitlines() if (m := TEXT_LINE.match(line))]
    assert len(lines) > 10
    handled = [line for line in lines if HANDLED.match(line["msg"])]
    assert [(line["user"], HANDLED.match(line["msg"])["kind"]) for line in handled] == [
        (str(ADMIN_ID), "command"),
        ("4242", "command"),
        (str(ADMIN_ID), "command"),
    ]
    ids = [line["req"] for line in handled]
    assert len(set(ids)) == 3 and all(re.fullmatch(r"[0-9a-f]{8}", i) for i in ids)
    for request_id, user in zip(ids, (ADMIN_ID, 4242, ADMIN_ID), strict=True):
        own = [line for line in lines if line["req"] == request_id]
        assert {line["user"] for line in own} == {str(user)}
        # The reply's Bot API call is on the update's request id, with the chat it went to.
        assert any("sendMessage" in line["msg"] and f"'chat_id': {user}" in line["msg"] for line in own), own
    # The long poll belongs to no update.
    assert all(line["req"] == "-" for line in lines if "getUpdates" in line["msg"])
    assert bot.api.token not in stream.getvalue()


async def test_json_lines_parse_carry_the_ids_and_stay_redacted(bot: BotUnderTest):
    with log_lines((bot.api.token,), "json") as stream:
        await two_people_write(bot, stream)
        logging.getLogger("bot.test").warning("token %s in a message", bot.api.token)
        try:
            raise RuntimeError(f"failed at /bot{bot.api.token}/sendMessage")
        except RuntimeError:
            logging.getLogger("bot.test").exception("with a traceback")
    text = stream.getvalue()
    entries = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert all(set(e) >= {"time", "level", "logger", "request_id", "person_id", "message"} for e in entries)
    handled = [e for e in entries if HANDLED.match(e["message"])]
    assert [e["person_id"] for e in handled] == [ADMIN_ID, 4242, ADMIN_ID]
    assert len({e["request_id"] for e in handled}) == 3
    for update in handled:
        own = [e for e in entries if e["request_id"] == update["request_id"]]
        assert any("sendMessage" in e["message"] for e in own)
    assert bot.api.token not in text
    tail = entries[-2:]
    assert REDACTED in tail[0]["message"] and tail[0]["request_id"] is None
    assert "RuntimeError" in tail[1]["exception"] and REDACTED in tail[1]["exception"]
