"""``python -m tests.harness.frozen_bot ISO_TIME``: the real bot process with its clock stopped at ISO_TIME.

For drills that need a process (SIGKILL) at a chosen moment of the schedule, e.g. a quarter's
first reminder time. Configured from the BOT_* environment like ``python -m bot run``.
"""

from __future__ import annotations

import sys
from datetime import datetime

from bot.app import run
from bot.clock import ManualClock
from bot.logging_setup import setup_logging
from config.settings import load_settings
from storage.migrate import migrate


def main(at: str) -> None:
    settings = load_settings()
    setup_logging(settings.log_level, secrets=(settings.token,))
    migrate(settings.database_path)
    run(settings, ManualClock(datetime.fromisoformat(at)))


if __name__ == "__main__":
    main(sys.argv[1])
