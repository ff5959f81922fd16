"""Reminder fan-out: 3,000 sends under Telegram's limits (target: at least 80% of the broadcast share).

The Bot API stand-in enforces 30 messages/s overall and 1/s per chat, answering 429 with
retry_after beyond that. The bot runs its shipped limits: broadcasts get ``broadcast_percent`` (80%)
of ``max_messages_per_second`` (30/s), the rest is kept for people's own taps. The bot (in this
process, with a moved clock) reaches the first working day of a quarter, when the quarterly
complaint-report reminder goes to every site's staff. The achieved rate is sends over the time
from the first to the last delivered message; then every staff chat is checked for exactly one
reminder: none lost, none duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import machine, table
from bot.app import build_application, start_in_loop, stop_in_loop
from bot.clock import ManualClock, iso
from bot.scheduler import tick_now
from bot.services import app_services
from config.duties import DutySettings
from config.settings import Settings
from storage.sites import SiteRepository
from storage.users import UserRepository
from tests.harness.botapi import FakeBotAPI

SHANGHAI = ZoneInfo("Asia/Shanghai")
BEFORE = datetime(2026, 3, 30, 10, 0, tzinfo=SHANGHAI)
FIRST_WORKING_DAY = datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI)
LIMIT = 30.0
STAFF_PER_SITE = 10
FIRST_STAFF = 100_000


async def fanout(sends: int) -> int:
    sites = max(1, sends // STAFF_PER_SITE)
    async with FakeBotAPI() as api:
        with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
            clock = ManualClock(BEFORE)
            only_complaints = tuple(
                replace(rule, enabled=rule.id == "complaint_report") for rule in DutySettings().rules
            )
            settings = Settings(
                token=api.token,
                api_base_url=api.base_url,
                api_file_url=api.base_file_url,
                data_dir=Path(tmp),
                polling_timeout=1,
                duties=DutySettings(rules=only_complaints, tick_seconds=3600),
            )
            app = build_application(settings, clock)
            await start_in_loop(app)
            try:
                staff = await seed(app, sites, clock)
                for user_id in staff:
                    api.person(user_id, "客服", started=True)
                api.set_rate_limit(global_per_s=LIMIT, per_chat_per_s=1)
                clock.set(FIRST_WORKING_DAY)
                started = time.perf_counter()
                report = await tick_now(app)
                elapsed = time.perf_counter() - started
            finally:
                await stop_in_loop(app)
            counts = {user_id: sum(1 for m in api.sent_messages(user_id) if "投诉" in m.text) for user_id in staff}
    delivered = sum(1 for n in counts.values() if n >= 1)
    duplicated = sum(1 for n in counts.values() if n > 1)
    lost = len(staff) - delivered
    rate = report.sent / elapsed
    share = Settings().max_messages_per_second * Settings().broadcast_percent / 100
    rows = [
        ("sends", "seconds", "msg/s", f"of the broadcast share ({share:g}/s)", "429s received", "lost", "duplicated"),
        (
            report.sent,
            f"{elapsed:.1f}",
            f"{rate:.1f}",
            f"{100 * rate / share:.0f}%",
            api.rate_limit_hits,
            lost,
            duplicated,
        ),
    ]
    print(table(rows))
    print(f"target ≥ 80% of the broadcast share, none lost or duplicated — {machine()}")
    return 0 if lost == 0 and duplicated == 0 and rate >= 0.8 * share else 1


async def seed(app, sites: int, clock: ManualClock) -> list[int]:
    """Sites with their staff, in place before the quarter starts (as an admin's import would leave them)."""
    db = app_services(app).db
    site_repo, users = SiteRepository(db), UserRepository(db)
    now = iso(clock.now())
    staff = []
    for n in range(sites):
        site_id = await site_repo.add(f"项目{n:04d}", now)
        for k in range(STAFF_PER_SITE):
            user_id = FIRST_STAFF + n * STAFF_PER_SITE + k
            await users.touch(user_id, "客服", None, "zh-hans", now, None)
            await users.grant(user_id, "staff", now, site_id=site_id)
            staff.append(user_id)
    await tick_now(app)  # the engine sees the sites before the quarter, so they get its reminders
    return staff


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench fanout")
    parser.add_argument("--sends", type=int, default=3000)
    args, _ = parser.parse_known_args(argv)
    return asyncio.run(fanout(args.sends))
