"""Manager summary over a growing history: /summary, /ranking and /weak at 0.25M .. 2M stored answers.

The company is fixed (300 sites in 6 regions, each inspected monthly with the 65-clause rubric,
so 58,500 answers a quarter); history grows backwards in time, quarter by quarter. The commands
read the current quarter, so with indexed range queries their time should stay flat while the
history grows: the table ends with the growth ratio at the largest size against the smallest.

Data goes straight into SQLite with ``executemany`` in large transactions, into a temporary
folder; the timings run the real flow (aiosqlite, ReportFlow) as the bot does. Run it with
``python -m bench summary`` (or ``make bench``); ``--sizes`` takes other sizes, e.g. for a smoke test.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import platform
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.scale import median_ms, scale_options
from bot.clock import ManualClock, iso
from bot.flows.access import Caller, Role
from bot.flows.reports.periods import Quarter
from bot.flows.reports.views import ReportFlow
from config.settings import Settings
from rubric.model import Answer
from rubric.registry import RubricRegistry
from rubric.scoring import clause_score, grade_for, percent_of
from storage.db import Database
from storage.files import FileStore
from storage.migrate import migrate
from storage.reports import ReportRepository
from storage.sites import SiteRepository

SITES = 300
REGIONS = 6
VISITS_PER_QUARTER = 3
DEFAULT_SIZES = (250_000, 500_000, 1_000_000, 2_000_000)
NOW = datetime(2026, 12, 31, 4, 0, tzinfo=UTC)  # the end of 2026-Q4 in Shanghai: a full current quarter
ADMIN = Caller(1, "bench", "zh-hans", frozenset({Role.ADMIN}))
REGION_MANAGER = Caller(2, "bench", "zh-hans", frozenset({Role.MANAGER}))
RUNS = 7
LIMIT_MS = 200.0
BATCH = 20_000  # inspections per transaction (1.3M answers)


@dataclass(frozen=True)
class Timing:
    answers: int
    summary_ms: float
    ranking_ms: float
    weak_ms: float
    regional_summary_ms: float


class HistoryBuilder:
    """Appends quarters of inspections, newest first, until the answer count reaches a target."""

    def __init__(self, path: Path) -> None:
        migrate(path)
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")  # a throwaway database: build speed only
        self.rubric = RubricRegistry.load().get(2)
        self.tz = Settings().tz
        self.answers = 0
        self._slots = self._visits()
        self._random = 12345
        self._setup()
        self._scores = {answer: clause_score(self.rubric.scoring, self.rubric.clauses[0], answer) for answer in Answer}

    def _setup(self) -> None:
        now = iso(NOW)
        rubric = self.rubric
        self.conn.execute("BEGIN")
        self.conn.execute(
            "INSERT INTO rubric_versions VALUES (?, ?, ?, ?, ?, ?)",
            (rubric.content_hash, rubric.id, rubric.edition, rubric.title, json.dumps(rubric.to_dict()), now),
        )
        self.conn.execute(
            "INSERT INTO users (id, first_name, created_at, updated_at) VALUES (1, 'bench', ?, ?)", (now, now)
        )
        self.conn.execute(
            "INSERT INTO users (id, first_name, created_at, updated_at) VALUES (2, 'east', ?, ?)", (now, now)
        )
        self.conn.execute(
            "INSERT INTO user_roles (user_id, role, region, granted_at) VALUES (2, 'manager', 'region-1', ?)", (now,)
        )
        self.conn.executemany(
            "INSERT INTO sites (id, name, region, created_at) VALUES (?, ?, ?, ?)",
            [(n, f"项目{n:03d}", f"region-{n % REGIONS}", now) for n in range(1, SITES + 1)],
        )
        self.conn.execute("COMMIT")

    def _answer(self) -> Answer:
        # A small LCG: reproducible, and much faster than the random module for millions of draws.
        self._random = (self._random * 1103515245 + 12345) & 0x7FFFFFFF
        roll = self._random % 100
        if roll < 80:
            return Answer.OK
        if roll < 92:
            return Answer.PARTIAL
        if roll < 97:
            return Answer.FAIL
        return Answer.NA

    def _visits(self) -> Iterator[tuple[int, datetime]]:
        """(site, local time) of every inspection, newest quarter first, back in time without end."""
        quarter = Quarter.containing(NOW, self.tz)
        while True:
            first = quarter.first_day()
            for visit in range(VISITS_PER_QUARTER):
                month = date(first.year, first.month + visit, 1)
                for site in range(1, SITES + 1):
                    yield site, datetime(month.year, month.month, 1 + site % 27, 9 + site % 8, tzinfo=self.tz)
            quarter = quarter.previous()

    def grow_to(self, target: int) -> None:
        """Add inspections until the stored answers reach ``target`` (to within one inspection)."""
        per_inspection = len(self.rubric.clauses)
        while self.answers < target:
            count = min(BATCH, -(-(target - self.answers) // per_inspection))
            self._add(list(itertools.islice(self._slots, count)))
        # A running bot checkpoints its WAL as it goes; a fresh 1M-row WAL would slow every read instead.
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _add(self, visits: list[tuple[int, datetime]]) -> None:
        clauses = self.rubric.clauses
        inspections, answers = [], []
        next_id = (self.conn.execute("SELECT IFNULL(MAX(id), 0) FROM inspections").fetchone()[0]) + 1
        for site, local in visits:
            submitted = local.astimezone(UTC)
            started = submitted - timedelta(minutes=45)
            earned = possible = 0.0
            for clause in clauses:
                answer = self._answer()
                score = self._scores[answer]
                applicable = answer is not Answer.NA
                if applicable:
                    earned += score.earned
                    possible += score.possible
                answers.append(
                    (
                        next_id,
                        clause.id,
                        clause.category_id,
                        answer.value,
                        score.earned if applicable else None,
                        score.possible if applicable else None,
                        iso(started),
                    )
                )
            percent = percent_of(earned, possible)
            inspections.append(
                (
                    next_id,
                    site,
                    1,
                    self.rubric.content_hash,
                    2,
                    "submitted",
                    iso(started),
                    iso(submitted),
                    iso(submitted),
                    earned,
                    possible,
                    percent,
                    grade_for(percent, self.rubric.scoring.grades),
                )
            )
            next_id += 1
        self.conn.execute("BEGIN")
        self.conn.executemany(
            """INSERT INTO inspections (id, site_id, inspector_id, rubric_hash, edition, status, started_at,
                   updated_at, submitted_at, earned, possible, percent, grade) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            inspections,
        )
        self.conn.executemany(
            """INSERT INTO answers (inspection_id, clause_id, category_id, answer, earned, possible, answered_at)
               VALUES (?,?,?,?,?,?,?)""",
            answers,
        )
        self.conn.execute("COMMIT")
        self.answers += len(answers)

    def close(self) -> None:
        self.conn.close()


async def time_commands(path: Path, answers: int, runs: int = RUNS) -> Timing:
    db = await Database.open(path, run_migrations=False)
    try:
        settings = Settings(data_dir=path.parent)
        flow = ReportFlow(
            ReportRepository(db),
            SiteRepository(db),
            RubricRegistry.load(),
            FileStore(path.parent / "files"),
            ManualClock(NOW),
            settings,
        )
        quarter = flow.current_quarter()
        return Timing(
            answers,
            await median_ms(lambda: flow.summary(ADMIN, quarter), runs),
            await median_ms(lambda: flow.ranking(ADMIN, quarter, 0), runs),
            await median_ms(lambda: flow.weak(ADMIN, quarter, 0), runs),
            await median_ms(lambda: flow.summary(REGION_MANAGER, quarter), runs),
        )
    finally:
        await db.close()


def run(sizes: Sequence[int] = DEFAULT_SIZES, runs: int = RUNS, folder: Path | None = None) -> list[Timing]:
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = Path(tmp) / "bench.sqlite3"
        builder = HistoryBuilder(path)
        timings = []
        try:
            for size in sorted(sizes):
                started = time.perf_counter()
                builder.grow_to(size)
                built = time.perf_counter() - started
                timing = asyncio.run(time_commands(path, builder.answers, runs))
                print(_row(timing, built), flush=True)
                timings.append(timing)
        finally:
            builder.close()
    return timings


def _row(t: Timing, built: float) -> str:
    return (
        f"{t.answers:>10,} {t.summary_ms:>11.1f} {t.ranking_ms:>11.1f} {t.weak_ms:>9.1f} "
        f"{t.regional_summary_ms:>15.1f} {built:>9.1f}s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = scale_options("python -m bench summary", __doc__.splitlines()[0], DEFAULT_SIZES, RUNS, argv)
    print(f"manager summary scale: {SITES} sites, {VISITS_PER_QUARTER} inspections each per quarter, 65 clauses")
    print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, {platform.machine()}")
    print(f"median of {args.runs} runs after one warm-up, in ms (regional: a manager of 1 of {REGIONS} regions)")
    print(f"{'answers':>10} {'/summary':>11} {'/ranking':>11} {'/weak':>9} {'/summary (reg.)':>15} {'build':>10}")
    timings = run(args.sizes, args.runs)
    if len(timings) >= 2:
        small, large = timings[0], timings[-1]
        ratio = large.answers / small.answers
        print(
            f"growth {large.answers:,}/{small.answers:,} answers ({ratio:.0f}x history): "
            f"/summary {large.summary_ms / small.summary_ms:.2f}x, "
            f"/ranking {large.ranking_ms / small.ranking_ms:.2f}x, /weak {large.weak_ms / small.weak_ms:.2f}x, "
            "regional /summary "
            f"{large.regional_summary_ms / small.regional_summary_ms:.2f}x"
        )
    largest = timings[-1]
    worst = max(largest.summary_ms, largest.ranking_ms, largest.weak_ms, largest.regional_summary_ms)
    print(f"slowest at {largest.answers:,} answers: {worst:.1f} ms (target < {LIMIT_MS:.0f} ms)")
    return 1 if worst > LIMIT_MS else 0


if __name__ == "__main__":
    raise SystemExit(main())
