"""Reusable pytest fixtures. In ``tests/conftest.py``: ``from tests.harness.fixtures import botapi``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from .botapi import FakeBotAPI

__all__ = ["botapi", "botapi_in_thread"]


@pytest_asyncio.fixture
async def botapi() -> AsyncIterator[FakeBotAPI]:
    """A started `FakeBotAPI` on a free port, stopped after the test."""
    api = FakeBotAPI()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
def botapi_in_thread() -> Iterator[FakeBotAPI]:
    """A `FakeBotAPI` serving from its own thread / event loop (the bot under test runs elsewhere)."""
    api = FakeBotAPI().start_in_thread()
    try:
        yield api
    finally:
        api.stop_in_thread()
