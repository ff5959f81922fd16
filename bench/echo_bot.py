"""The baseline: a bare python-telegram-bot echo bot, configured from the same BOT_* variables.

Echoes texts and commands, answers button presses, acknowledges photos. Run as ``python -m
bench.echo_bot``; with ``BOT_BENCH_TIMINGS`` it records each update's handling time like the bot.
``ECHO_TRANSPORT=aiohttp`` runs it on the bot's own transport (the fair baseline: the same HTTP
cost per call); the default is PTB's httpx transport.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.update_processor import TimedHTTPXRequest, TimedRequest, timed


class TimingProcessor(BaseUpdateProcessor):
    """Records [handling time, of which waiting for the Bot API] per update, like the bot's processor."""

    def __init__(self, timings: list[list[float]]) -> None:
        super().__init__(256)
        self.timings = timings

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await timed(coroutine, self.timings)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(message.text or message.caption or "photo")


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer("ok")


def main() -> None:
    timings: list[list[float]] = []
    transport = TimedRequest if os.environ.get("ECHO_TRANSPORT") == "aiohttp" else TimedHTTPXRequest
    app = (
        ApplicationBuilder()
        .request(transport(connection_pool_size=256))
        .token(os.environ["BOT_TOKEN"])
        .base_url(os.environ["BOT_API_BASE_URL"])
        .base_file_url(os.environ["BOT_API_FILE_URL"])
        .concurrent_updates(TimingProcessor(timings))
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    app.run_polling(timeout=1, allowed_updates=Update.ALL_TYPES)
    if os.environ.get("BOT_BENCH_TIMINGS"):
        Path(os.environ["BOT_BENCH_TIMINGS"]).write_text(json.dumps(timings))


if __name__ == "__main__":
    main()
