"""Shared fixtures: the real Application, polling a local Bot API stand-in, on a temp data dir."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from telegram.ext import Application

from bot.app import build_application, start_in_loop, stop_in_loop
from bot.clock import ManualClock, iso
from bot.services import Services, app_services
from config.duties import DutySettings
from config.plans import PlanSettings
from config.settings import BackupSettings, ReportSettings, Settings
from storage.db import Database
from storage.files import FileStore
from storage.sites import SiteRepository
from storage.users import UserRepository
from tests.fixtures_reports import Company, build_company
from tests.harness.botapi import FakeBotAPI
from tests.harness.fixtures import botapi, botapi_in_thread

__all__ = ["botapi", "botapi_in_thread"]

ADMIN_ID = 9001

# Everything in the tests talks to loopback: keep a machine's HTTP(S)_PROXY (the bot honours it,
# as Telegram may only be reachable through one) away from the stand-in, here and in subprocesses.
for _name in ("NO_PROXY", "no_proxy"):
    _hosts = [h for h in os.environ.get(_name, "").split(",") if h]
    os.environ[_name] = ",".join([*_hosts, *(h for h in ("127.0.0.1", "localhost") if h not in _hosts)])


@dataclass
class BotUnderTest:
    api: FakeBotAPI
    settings: Settings
    clock: ManualClock
    app: Application | None = None

    @property
    def services(self) -> Services:
        assert self.app is not None
        return app_services(self.app)

    async def start(self) -> None:
        self.app = build_application(self.settings, self.clock)
        await start_in_loop(self.app, poll_timeout=1)

    async def stop(self) -> None:
        if self.app is not None:
            await stop_in_loop(self.app)
            self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def add_site(self, name: str, region: str | None = None) -> int:
        return await SiteRepository(self.services.db).add(name, iso(self.clock.now()), region)

    async def add_person(
        self, user_id: int, role: str, name: str = "测试用户", site_id: int | None = None, region: str | None = None
    ) -> None:
        """Registers someone the way an accepted invitation would (people management has its own tests)."""
        users = UserRepository(self.services.db)
        now = iso(self.clock.now())
        await users.touch(user_id, name, None, None, now, await users.get(user_id))
        await users.grant(user_id, role, now, site_id=site_id, region=region)

    async def db(self) -> Database:
        return self.services.db


def make_settings(api: FakeBotAPI, data_dir: Path, **overrides: object) -> Settings:
    settings = Settings(
        token=api.token,
        api_base_url=api.base_url,
        api_file_url=api.base_file_url,
        data_dir=data_dir,
        admin_ids=frozenset({ADMIN_ID}),
        polling_timeout=1,
        # The duty engine only where a test asks for it: a moved clock must not send reminders elsewhere.
        duties=DutySettings(enabled=False),
        backup=BackupSettings(enabled=False),  # likewise the scheduled backups (tests call backup_now)
        plans=PlanSettings(enabled=False),  # likewise the inspection plans' visits and reminders
    )
    return replace(settings, **overrides) if overrides else settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@asynccontextmanager
async def running_bot(botapi: FakeBotAPI, settings: Settings, clock: ManualClock) -> AsyncIterator[BotUnderTest]:
    """The bot started on ``settings``, stopped at the end; then, whatever the test did, checked to have
    sent nothing Telegram would refuse as malformed or show wrongly. Every bot fixture is one of these."""
    under_test = BotUnderTest(botapi, settings, clock)
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()
    botapi.assert_well_formed()


@pytest_asyncio.fixture
async def bot(botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotUnderTest]:
    async with running_bot(botapi, make_settings(botapi, tmp_path / "data"), clock) as under_test:
        yield under_test


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest_asyncio.fixture
async def company_bot(
    botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[tuple[BotUnderTest, Company]]:
    """The bot on the seeded company of the reports tests (tests/fixtures_reports.py), PDF off, on the
    requesting module's ``clock``; ends, as ``bot`` does, by checking nothing malformed was sent."""
    settings = replace(make_settings(botapi, tmp_path / "data"), reports=ReportSettings(pdf=False))
    async with running_bot(botapi, settings, clock) as under_test:
        svc = under_test.services
        yield under_test, await build_company(svc.db, FileStore(settings.data_dir / "files"), svc.rubrics)
