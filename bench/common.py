"""Shared benchmark plumbing: a bot process against the in-process Bot API stand-in, and statistics."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import platform
import signal
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.botapi import FakeBotAPI
from tests.harness.models import BotMessage

REPO = Path(__file__).parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    data_dir: Path
    timings_file: Path
    # [handling, Bot API wait, in database calls, of those the waits in the writer's and the reader's
    # thread queues and the time on the database threads] per update (storage.db.DB_WAIT)
    timings: list[list[float]] = field(default_factory=list)
    loop_lag: list[float] = field(default_factory=list)  # seconds the bot's event loop woke a 10 ms sleep late

    @property
    def handling(self) -> list[float]:
        return [timing[0] for timing in self.timings]

    @property
    def bot_side(self) -> list[float]:
        """Handling time without the time spent waiting for Bot API answers."""
        return [timing[0] - timing[1] for timing in self.timings]

    @property
    def in_database(self) -> list[float]:
        """Time in database calls, queueing for aiosqlite's threads included."""
        return [timing[2] if len(timing) > 2 else 0.0 for timing in self.timings]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the bot process so far (from /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.data_dir / "bot.sqlite3")


def ok_button(card: BotMessage) -> str:
    """The callback data of the 符合 button on a clause card (the answers are its bottom rows)."""
    return next(
        b["callback_data"]
        for row in card.reply_markup["inline_keyboard"]
        for b in row
        if b["callback_data"].endswith(":ok")
    )


@asynccontextmanager
async def bot_process(
    api: FakeBotAPI,
    module: Sequence[str] = ("bot", "run"),
    env: dict[str, str] | None = None,
    prepare: Callable[[Path], None] | None = None,
) -> AsyncIterator[BotProcess]:
    """Start ``python -m <module>`` against ``api``; on exit SIGTERM it and collect its timings.
    ``prepare(data_dir)`` runs first: data the bot must find when it starts."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        data_dir = Path(tmp)
        if prepare is not None:
            prepare(data_dir)
        timings_file = data_dir / "timings.json"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        environment.update(
            {
                "BOT_TOKEN": api.token,
                "BOT_API_BASE_URL": api.base_url,
                "BOT_API_FILE_URL": api.base_file_url,
                "BOT_DATA_DIR": str(data_dir),
                "BOT_LOG_LEVEL": "WARNING",
                "BOT_BENCH_TIMINGS": str(timings_file),
                **(env or {}),
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            *module,
            cwd=REPO,
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        running = BotProcess(process, data_dir, timings_file)
        try:
            yield running
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
            if process.returncode not in (0, -signal.SIGTERM):
                print(stderr.decode()[-2000:], file=sys.stderr)
            if timings_file.exists():
                running.timings = json.loads(timings_file.read_text())
            lag_file = timings_file.with_name(timings_file.name + ".lag")
            if lag_file.exists():
                running.loop_lag = json.loads(lag_file.read_text())


@contextmanager
def load_generator_without_pauses() -> Iterator[None]:
    """No garbage collection in this process (the stand-in and the simulated people) while measuring.

    The stand-in keeps every request, message and event for the checks at the end, so its heap grows
    all run long and its full collections did too: 58 ms at the start of a 200-inspector crowd, 694 ms
    near the end, freezing the stand-in and every tap in flight with it (its event loop's lag peaked at
    691 ms), which the taps' latency then charged to the bot. A few minutes of cyclic garbage is cheap;
    the bot's own collections are left as shipped."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def wait_ready(api: FakeBotAPI, limit: float = 30) -> None:
    """The bot is polling once it has called getUpdates."""
    await api.wait_for(lambda: bool(api.calls("getUpdates")), limit, "the bot to start polling")


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def machine() -> str:
    """The machine, and its load averages at the end of the run: a busy machine (other processes on
    the same cores) explains a slow figure that the bot did not cause."""
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; "
        f"load average (1, 5, 15 min) {load}"
    )


def table(rows: Sequence[Sequence[object]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)) for row in rows)
