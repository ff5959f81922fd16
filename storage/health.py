"""The figures /healthz and /metrics read from the database, in one trip to its thread."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class Backlog:
    outbox_backlog: int  # outbox rows pending or being sent
    oldest_pending_at: str | None  # created_at of the oldest of them (stored UTC ISO text)
    duties_overdue: int  # open duties whose due moment has passed


async def backlog(db: Database, now: str) -> Backlog:
    """Raises whatever the database raises: the caller turns that into "unhealthy"."""

    def work(conn: sqlite3.Connection) -> Backlog:
        count, oldest = conn.execute(
            "SELECT COUNT(*), MIN(created_at) FROM duty_outbox WHERE status IN ('pending', 'sending')"
        ).fetchone()
        (overdue,) = conn.execute(
            "SELECT COUNT(*) FROM duties WHERE status = 'open' AND due_at <= ?", (now,)
        ).fetchone()
        return Backlog(count, oldest, overdue)

    return await db.read(work)
