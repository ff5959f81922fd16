"""The bot the corrective-action tests share: Monday 6 April 2026, duties quiet so only actions'
messages go out. A test module takes both fixtures (``bot`` and ``clock``) by importing
``actions_bot, monday_clock`` from here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.clock import ManualClock
from tests.conftest import BotUnderTest, make_settings, running_bot
from tests.harness.botapi import FakeBotAPI
from tests.integration.test_actions_messages import MONDAY, QUIET_DUTIES


@pytest.fixture(name="clock")
def monday_clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest_asyncio.fixture(name="bot")
async def actions_bot(botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotUnderTest]:
    async with running_bot(botapi, make_settings(botapi, tmp_path / "data", duties=QUIET_DUTIES), clock) as under_test:
        yield under_test
