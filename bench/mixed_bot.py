"""The bot for ``bench/mixed.py``: ``python -m bot run`` as shipped, on a clock held just before a
quarter starts. SIGUSR1 moves the clock to the quarter's first working day and ticks the duty engine
at once, which starts the quarterly reminder's fan-out while people keep tapping.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from telegram.ext import Application

import bot.app
from bench.fanout import BEFORE, FIRST_WORKING_DAY
from bot.clock import ManualClock
from bot.logging_setup import setup_logging
from bot.scheduler import tick_now
from config.settings import load_settings


def main() -> int:
    # bench/mixed.py writes the rules (only the quarterly complaint report on) beside the database.
    settings = load_settings(config_path=Path(os.environ["BOT_DATA_DIR"]) / "bench.toml")
    setup_logging(settings.log_level, secrets=(settings.token,))
    clock = ManualClock(BEFORE)
    built = []
    build = bot.app.build_application

    def building(*args: Any, **kwargs: Any) -> Application:  # keeps a handle on the app run() builds
        app = build(*args, **kwargs)
        built.append(app)
        return app

    def start_fanout(signum: int, frame: object) -> None:
        clock.set(FIRST_WORKING_DAY)
        loop = asyncio.get_event_loop()
        loop.call_soon_threadsafe(lambda: loop.create_task(tick_now(built[0])))

    bot.app.build_application = building
    signal.signal(signal.SIGUSR1, start_fanout)
    bot.app.run(settings, clock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
