"""Helpers to run a python-telegram-bot Application against a `FakeBotAPI`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application, ApplicationBuilder

from .botapi import FakeBotAPI

__all__ = ["ptb_builder", "running"]


def ptb_builder(api: FakeBotAPI, token: str | None = None) -> ApplicationBuilder:
    """``ApplicationBuilder`` pointed at the fake server (add handlers / rate limiter / defaults yourself)."""
    return ApplicationBuilder().token(token or api.token).base_url(api.base_url).base_file_url(api.base_file_url)


@asynccontextmanager
async def running(
    app: Application[Any, Any, Any, Any, Any, Any],
    *,
    poll_timeout: int = 1,
    drop_pending_updates: bool = False,
    allowed_updates: Sequence[str] | None = None,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """initialize + start_polling(poll_interval=0) + start; stop everything on exit.

    Keep `poll_timeout` short: it bounds how long a getUpdates long poll may stay open when stopping.
    """
    await app.initialize()
    try:
        assert app.updater is not None, "build the Application with an Updater"
        await app.updater.start_polling(
            poll_interval=0,
            timeout=poll_timeout,
            drop_pending_updates=drop_pending_updates,
            allowed_updates=allowed_updates,
        )
        await app.start()
        yield app
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
