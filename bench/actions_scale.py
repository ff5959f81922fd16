"""Corrective actions at scale: /actions and /summary (with the actions' figures) at 100,000 actions.

2,000 sites in 10 regions, each inspected once a quarter for 10 quarters with the 65-clause rubric;
every inspection found 5 clauses below 符合, so 20,000 inspections, 1.3M answers and 100,000
actions. Older quarters' actions are nearly all closed (a few cancelled, a few still open and long
overdue); the current quarter's are half open, some submitted, the rest closed; one in ten is a
repeat finding. The baseline is the same company with 1,000 actions (one quarter of 200 sites),
built and timed in the same run: the table ends with the ratio of the two.

Timed through the real flows (aiosqlite): ``ActionFlow.live_page`` (a page of /actions, its last:
the deepest offset) for an admin and for a manager of one region, and /summary as its handler
reads it (``ReportFlow.summary`` plus ``ActionFigureFlow.quarter``). Exits 1 when any is over
200 ms at full size. Run it with ``python -m bench actions`` (``--sizes`` takes other action
counts, e.g. for a smoke test).
"""

from __future__ import annotations

import asyncio
import json
import platform
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.scale import median_ms, scale_options
from bot.clock import ManualClock, iso
from bot.flows.access import Caller, Role
from bot.flows.actions.views import ActionFlow
from bot.flows.reports.actions import ActionFigureFlow
from bot.flows.reports.periods import Quarter
from bot.flows.reports.views import ReportFlow
from config.settings import Settings
from rubric.model import Answer
from rubric.registry import RubricRegistry
from rubric.scoring import clause_score, grade_for, percent_of
from storage.action_figures import ActionFigureRepository
from storage.actions import ActionRepository
from storage.db import Database
from storage.files import FileStore
from storage.migrate import migrate
from storage.reports import ReportRepository
from storage.sites import SiteRepository

SITES = 2_000
REGIONS = 10
FINDINGS = 5  # actions per inspection
DEFAULT_SIZES = (1_000, 100_000)
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)  # two thirds into 2026-Q4 (Shanghai)
ADMIN = Caller(1, "bench", "zh-hans", frozenset({Role.ADMIN}))
REGION_MANAGER = Caller(2, "east", "zh-hans", frozenset({Role.MANAGER}))
RUNS = 7
LIMIT_MS = 200.0

PAGE = 10  # lines of an /actions page (bot/handlers/actions/views.py)
LAST = 10**9  # a page index past the end: the last page


@dataclass(frozen=True)
class Timing:
    actions: int
    live_admin: int  # lines /actions lists for the admin
    actions_admin_ms: float
    actions_region_ms: float
    summary_admin_ms: float
    summary_region_ms: float
    figures_ms: float  # of /summary for the admin: the actions' figures alone

    @property
    def worst(self) -> float:
        return max(self.actions_admin_ms, self.actions_region_ms, self.summary_admin_ms, self.summary_region_ms)


def build(path: Path, target: int) -> int:
    """A company with ``target`` actions (``FINDINGS`` per inspection), newest quarter first."""
    migrate(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # a throwaway database: build speed only
    rubric = RubricRegistry.load().get(2)
    tz = Settings().tz
    now = iso(NOW)
    scores = {answer: clause_score(rubric.scoring, rubric.clauses[0], answer) for answer in Answer}
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO rubric_versions VALUES (?, ?, ?, ?, ?, ?)",
        (rubric.content_hash, rubric.id, rubric.edition, rubric.title, json.dumps(rubric.to_dict()), now),
    )
    for uid, name in ((1, "bench"), (2, "east")):
        conn.execute(
            "INSERT INTO users (id, first_name, created_at, updated_at) VALUES (?, ?, ?, ?)", (uid, name, now, now)
        )
    conn.execute(
        "INSERT INTO user_roles (user_id, role, region, granted_at) VALUES (2, 'manager', 'region-1', ?)", (now,)
    )
    conn.executemany(
        "INSERT INTO sites (id, name, region, created_at) VALUES (?, ?, ?, ?)",
        [(n, f"项目{n:04d}", f"region-{n % REGIONS}", now) for n in range(1, SITES + 1)],
    )
    conn.execute("COMMIT")
    current = Quarter.containing(NOW, tz)
    today = NOW.astimezone(tz).date()
    inspections, answers, actions = [], [], []
    seed = 12345
    quarter, inspection_id, action_id = current, 0, 0
    quarters = -(-target // (SITES * FINDINGS))
    for age in range(quarters):
        first = quarter.first_day()
        for site in range(1, SITES + 1):
            if action_id >= target:
                break
            inspection_id += 1
            local = datetime(first.year, first.month + site % 2, 1 + site % 27, 9 + site % 8, tzinfo=tz)
            submitted = local.astimezone(UTC)
            findings = {(site * 7 + k * 13) % len(rubric.clauses) for k in range(FINDINGS)}
            earned = possible = 0.0
            for index, clause in enumerate(rubric.clauses):
                answer = (Answer.FAIL if index % 2 else Answer.PARTIAL) if index in findings else Answer.OK
                score = scores[answer]
                earned, possible = earned + score.earned, possible + score.possible
                answers.append(
                    (inspection_id, clause.id, clause.category_id, answer.value, score.earned, score.possible, now)
                )
                if index not in findings:
                    continue
                action_id += 1
                seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
                roll = seed % 100
                due = local.date() + timedelta(days=7 if answer is Answer.FAIL else 14)
                status = _status(roll, quarter == current)
                closed = submitted + timedelta(days=2 + roll % 12) if status == "closed" else None
                if closed is not None and closed.astimezone(tz).date() > today:
                    status, closed = "submitted", None
                # One in ten found at the site's previous (older) inspection too: a repeat finding.
                repeat = inspection_id + SITES if roll % 10 == 0 and age < quarters - 1 else None
                actions.append(
                    (
                        action_id,
                        inspection_id,
                        site,
                        clause.id,
                        answer.value,
                        "serious" if answer is Answer.FAIL else "general",
                        status,
                        due.isoformat(),
                        iso(submitted),
                        iso(closed or submitted),
                        iso(closed) if closed else None,
                        repeat,
                        (due + timedelta(days=3)).isoformat(),
                    )
                )
            percent = percent_of(earned, possible)
            inspections.append(
                (
                    inspection_id,
                    site,
                    1,
                    rubric.content_hash,
                    2,
                    "submitted",
                    iso(submitted - timedelta(minutes=45)),
                    iso(submitted),
                    iso(submitted),
                    earned,
                    possible,
                    percent,
                    grade_for(percent, rubric.scoring.grades),
                )
            )
        quarter = quarter.previous()
    conn.execute("BEGIN")
    conn.executemany(
        """INSERT INTO inspections (id, site_id, inspector_id, rubric_hash, edition, status, started_at,
               updated_at, submitted_at, earned, possible, percent, grade) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        inspections,
    )
    conn.executemany(
        """INSERT INTO answers (inspection_id, clause_id, category_id, answer, earned, possible, answered_at)
           VALUES (?,?,?,?,?,?,?)""",
        answers,
    )
    conn.executemany(
        """INSERT INTO actions (id, inspection_id, site_id, clause_id, answer, severity, status, due_date,
               created_at, updated_at, closed_at, repeat_of, escalate_on) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        actions,
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return len(actions)


def _status(roll: int, current: bool) -> str:
    """The current quarter's actions: half open, some submitted, the rest closed or cancelled; older
    ones nearly all closed, a few cancelled and a few still open (long overdue)."""
    if current:
        return "open" if roll < 50 else "submitted" if roll < 60 else "closed" if roll < 98 else "cancelled"
    return "closed" if roll < 97 else "cancelled" if roll < 99 else "open"


async def time_commands(path: Path, actions: int, runs: int = RUNS) -> Timing:
    db = await Database.open(path, run_migrations=False)
    try:
        settings = Settings(data_dir=path.parent)
        clock = ManualClock(NOW)
        rubrics = RubricRegistry.load()
        sites = SiteRepository(db)
        reports = ReportFlow(ReportRepository(db), sites, rubrics, FileStore(path.parent / "files"), clock, settings)
        figures = ActionFigureFlow(ActionFigureRepository(db), reports, rubrics, clock, settings.tz)
        live = ActionFlow(ActionRepository(db), sites, rubrics, clock, settings.tz)
        quarter = reports.current_quarter()

        async def summary(caller: Caller) -> None:
            await reports.summary(caller, quarter)
            await figures.quarter(caller, quarter)

        return Timing(
            actions,
            (await live.live_page(ADMIN, 0, PAGE)).total,
            # The last page: the deepest OFFSET, the most the database skips (the first is cheaper).
            await median_ms(lambda: live.live_page(ADMIN, LAST, PAGE), runs),
            await median_ms(lambda: live.live_page(REGION_MANAGER, LAST, PAGE), runs),
            await median_ms(lambda: summary(ADMIN), runs),
            await median_ms(lambda: summary(REGION_MANAGER), runs),
            await median_ms(lambda: figures.quarter(ADMIN, quarter), runs),
        )
    finally:
        await db.close()


def run(sizes: Sequence[int] = DEFAULT_SIZES, runs: int = RUNS, folder: Path | None = None) -> list[Timing]:
    timings = []
    for size in sorted(sizes):
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            path = Path(tmp) / "bench.sqlite3"
            started = time.perf_counter()
            count = build(path, size)
            built = time.perf_counter() - started
            timing = asyncio.run(time_commands(path, count, runs))
            print(_row(timing, built), flush=True)
            timings.append(timing)
    return timings


def _row(t: Timing, built: float) -> str:
    return (
        f"{t.actions:>9,} {t.live_admin:>7,} {t.actions_admin_ms:>10.1f} {t.actions_region_ms:>15.1f} "
        f"{t.summary_admin_ms:>10.1f} {t.summary_region_ms:>15.1f} {t.figures_ms:>9.1f} {built:>8.1f}s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = scale_options("python -m bench actions", __doc__.splitlines()[0], DEFAULT_SIZES, RUNS, argv)
    print(f"corrective actions scale: {SITES} sites in {REGIONS} regions, {FINDINGS} actions per inspection")
    print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, {platform.machine()}")
    print(f"median of {args.runs} runs after one warm-up, in ms (reg.: a manager of 1 of {REGIONS} regions)")
    print(
        f"{'actions':>9} {'listed':>7} {'/actions':>10} {'/actions (reg.)':>15} {'/summary':>10} "
        f"{'/summary (reg.)':>15} {'figures':>9} {'build':>9}"
    )
    timings = run(args.sizes, args.runs)
    if len(timings) >= 2:
        small, large = timings[0], timings[-1]
        print(
            f"ratio {large.actions:,}/{small.actions:,} actions: "
            f"/actions {large.actions_admin_ms / small.actions_admin_ms:.2f}x, "
            f"/actions (reg.) {large.actions_region_ms / small.actions_region_ms:.2f}x, "
            f"/summary {large.summary_admin_ms / small.summary_admin_ms:.2f}x, "
            f"/summary (reg.) {large.summary_region_ms / small.summary_region_ms:.2f}x, "
            f"figures {large.figures_ms / small.figures_ms:.2f}x"
        )
    worst = timings[-1].worst
    print(f"slowest at {timings[-1].actions:,} actions: {worst:.1f} ms (target < {LIMIT_MS:.0f} ms)")
    return 1 if worst > LIMIT_MS else 0


if __name__ == "__main__":
    raise SystemExit(main())
