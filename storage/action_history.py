"""An action's history and what it tells, written inside a one-trip ``Database.transaction``: every
change of an action (the loop, the re-check, extensions, overdue follow-ups) writes its event and its
alert through these two, in the transaction of the change itself."""

from __future__ import annotations

import sqlite3


def event_sync(
    conn: sqlite3.Connection,
    action_id: int,
    now: str,
    actor_id: int,
    event: str,
    round_: int,
    detail: str | None = None,
) -> None:
    """An event of the action, with its due date as it stands."""
    conn.execute(
        """INSERT INTO action_events (action_id, at, actor_id, event, round, due_date, detail)
           SELECT id, ?, ?, ?, ?, due_date, ? FROM actions WHERE id = ?""",
        (now, actor_id, event, round_, detail, action_id),
    )


def alert_sync(
    conn: sqlite3.Connection, action_id: int, kind: str, round_: int, actor_id: int | None, now: str
) -> None:
    """Something to tell about an action (the engine's next tick plans it into messages)."""
    conn.execute(
        """INSERT OR IGNORE INTO action_alerts (action_id, kind, round, actor_id, created_at)
           VALUES (?, ?, ?, ?, ?)""",
        (action_id, kind, round_, actor_id, now),
    )
