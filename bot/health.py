"""Is the bot healthy: the database answers, when the last update was handled, what waits to be sent.

One look serves both /healthz and a /metrics scrape (which also reads the newest backup's age).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.ext import Application

from bot.clock import iso
from bot.metrics import Metrics, Snapshot, newest_backup_mtime
from bot.services import SERVICES_KEY, Services
from storage.health import backlog

DATABASE_TIMEOUT = 5.0  # a database that takes longer than this to count a few rows is not healthy


@dataclass(frozen=True)
class Health:
    # "ok", or one word for what is wrong: "starting", "missing", "timeout", "error". /healthz may
    # face the internet in webhook mode, so the details (paths, driver messages) go to the log only.
    database: str
    last_update_age_s: float | None
    outbox_backlog: int | None
    last_tick_age_s: float | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.database == "ok"

    def as_json(self) -> dict[str, Any]:
        def rounded(seconds: float | None) -> float | None:
            return None if seconds is None else round(seconds, 1)

        return {
            "database": self.database,
            "last_update_age_s": rounded(self.last_update_age_s),
            "outbox_backlog": self.outbox_backlog,
            "last_tick_age_s": rounded(self.last_tick_age_s),
        }


async def look(app: Application, metrics: Metrics, *, backups: bool = False) -> Health:
    """Query the database (bounded by DATABASE_TIMEOUT) and refresh ``metrics.snapshot``."""
    snap = Snapshot(last_update_age=metrics.last_update_age(), last_tick_age=metrics.last_tick_age())
    svc: Services | None = app.bot_data.get(SERVICES_KEY)
    problem: str | None = None
    if svc is None:
        database, problem = "starting", "the database is not open (starting or stopping)"
    elif not svc.db.path.exists():
        # An open connection keeps working on a deleted or moved file, writing into nothing.
        database, problem = "missing", f"{svc.db.path} is missing"
    else:
        now = svc.clock.now()
        try:
            figures = await asyncio.wait_for(backlog(svc.db, iso(now)), DATABASE_TIMEOUT)
        except TimeoutError:
            database, problem = "timeout", f"{svc.db.path} gave no answer within {DATABASE_TIMEOUT:.0f} s"
        except Exception as exc:  # whatever the driver raises, the answer is the same: not healthy
            database, problem = "error", f"{svc.db.path}: {exc.__class__.__name__}: {exc}"
        else:
            database = "ok"
            snap.database_up = True
            snap.outbox_backlog = figures.outbox_backlog
            snap.duties_overdue = figures.duties_overdue
            snap.oldest_pending_age = (
                max((now - datetime.fromisoformat(figures.oldest_pending_at)).total_seconds(), 0.0)
                if figures.oldest_pending_at
                else 0.0
            )
    if backups and svc is not None:
        newest = await asyncio.to_thread(newest_backup_mtime, svc.settings.backup_dir)
        snap.backup_age = None if newest is None else max(time.time() - newest, 0.0)
    metrics.snapshot = snap
    return Health(database, snap.last_update_age, snap.outbox_backlog, snap.last_tick_age, problem)
