"""``python -m bot demo``: the real bot against the local Bot API stand-in, chatted with in a terminal.

No token and no network: the stand-in from ``tests/harness`` plays Telegram, and a few preset
people (an admin, an inspector, site staff and an unregistered visitor) take turns typing.
Data goes to ``<data_dir>/demo`` so a real database is never touched.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace

from bot.app import build_application, start_in_loop, stop_in_loop
from bot.clock import SystemClock, iso
from bot.logging_setup import setup_logging
from config.settings import Settings
from storage.db import Database
from storage.sites import SiteRepository
from storage.users import UserRepository

ADMIN, INSPECTOR, STAFF, VISITOR = 1001, 1002, 1003, 1004


def run_demo(settings: Settings) -> int:
    try:
        from tests.harness.botapi import FakeBotAPI  # noqa: F401 - checked before starting anything
    except ImportError:
        print(
            "The demo needs the repository's tests/ folder and the dev extras: run `make demo`.",
            file=sys.stderr,
        )
        return 2
    asyncio.run(_demo(settings))
    return 0


async def _demo(settings: Settings) -> None:
    from tests.harness.botapi import FakeBotAPI
    from tests.harness.terminal import run_terminal_chat

    data_dir = settings.data_dir / "demo"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = (data_dir / "demo.log").open("a", encoding="utf-8")
    api = FakeBotAPI()
    await api.start()
    setup_logging("INFO", secrets=(api.token,), stream=log_file)
    demo_settings = replace(
        settings,
        token=api.token,
        api_base_url=api.base_url,
        api_file_url=api.base_file_url,
        data_dir=data_dir,
        admin_ids=frozenset({ADMIN}),
    )
    await _seed_people(demo_settings)
    people = [
        api.person(ADMIN, "管理员 Admin"),
        api.person(INSPECTOR, "督导员 Inspector"),
        api.person(STAFF, "客服 Staff"),
        api.person(VISITOR, "Visitor", language_code="en"),
    ]
    app = build_application(demo_settings)
    await start_in_loop(app)
    print(f"督导助手 demo — data in {data_dir}, log in {data_dir / 'demo.log'}")
    try:
        await run_terminal_chat(api, people)
    finally:
        await stop_in_loop(app)
        await api.stop()
        logging.shutdown()
        log_file.close()


DEMO_SITES = (("阳光花园", "华东"), ("翠湖天地", "华东"))


async def _seed_people(settings: Settings) -> None:
    """Two sites, an inspector for both and staff of the first, so every role has something to do."""
    db = await Database.open(settings.database_path)
    try:
        users, sites = UserRepository(db), SiteRepository(db)
        now = iso(SystemClock().now())
        known = {site.name: site.id for site in await sites.visible_to(ADMIN, (), everything=True)}
        for name, region in DEMO_SITES:
            if name not in known:
                known[name] = await sites.add(name, now, region)
        first_site = known[DEMO_SITES[0][0]]
        for user_id, name, role, site_id in (
            (INSPECTOR, "督导员 Inspector", "inspector", None),
            (STAFF, "客服 Staff", "staff", first_site),
        ):
            await users.touch(user_id, name, None, "zh-hans", now, await users.get(user_id))
            await users.grant(user_id, role, now, site_id=site_id)
    finally:
        await db.close()
