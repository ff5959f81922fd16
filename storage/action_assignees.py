"""Who is responsible for an action (``actions.assignee_id``; NULL: the site's staff) and who sent the
proof waiting for a verifier (issue #15: a manager may reassign to a person; nobody verifies their
own proof)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from storage.action_history import alert_sync, event_sync
from storage.db import Database
from storage.users import display_name_sql

_NAME = display_name_sql()


class AssigneeRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def names(self, user_ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        rows = await self._db.fetchall(
            f"SELECT u.id, {_NAME} AS name FROM users u WHERE u.id IN ({','.join('?' * len(wanted))})", wanted
        )
        return {row["id"]: row["name"] for row in rows}

    async def submitter(self, action_id: int, round_: int) -> int | None:
        """Who submitted the round's proof (the ``submitted`` event's actor): the one person who may not
        verify it. Proof items others sent in the round do not bar them: the submitter vouched for it."""
        return await self._db.fetchval(
            """SELECT actor_id FROM action_events WHERE action_id = ? AND event = 'submitted' AND round = ?
               ORDER BY id DESC LIMIT 1""",
            (action_id, round_),
        )

    async def assign(self, action_id: int, current: int | None, to: int | None, actor_id: int, now: str) -> bool:
        """``current`` -> ``to`` (None: back to the site's staff), with its event and the alert that
        tells the new assignee, in one transaction. The UPDATE checks the state it starts from: the
        action still live, still assigned to ``current``, and ``to`` still active staff of its very
        site. False: nothing changed (a double tap, a stale list, a person gone)."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE actions SET assignee_id = ?, updated_at = ?
                   WHERE id = ? AND status IN ('open', 'submitted') AND assignee_id IS ? AND assignee_id IS NOT ?
                     AND (? IS NULL OR EXISTS (
                         SELECT 1 FROM user_roles r JOIN users u ON u.id = r.user_id AND u.active = 1
                         WHERE r.user_id = ? AND r.role = 'staff' AND r.site_id = actions.site_id))""",
                (to, now, action_id, current, to, to, to),
            )
            if cursor.rowcount != 1:
                return False
            (round_,) = conn.execute("SELECT round FROM actions WHERE id = ?", (action_id,)).fetchone()
            _recorded_and_told(conn, action_id, round_, to, actor_id, now)
            return True

        return await self._db.transaction(work)


def release_sync(conn: sqlite3.Connection, user_id: int, actor_id: int | None, now: str) -> int:
    """Give back to the site's staff every live action assigned to ``user_id`` who is no longer active
    staff of its site (a role revoked, the person deactivated), in the caller's transaction: each with
    its ``assigned`` event (to nobody, as 👥 恢复默认 writes it) and the alert that tells the site's staff
    it is theirs again. Without it the action would stay with someone who can no longer act on it, and
    only an admin could. Returns how many were given back."""
    rows = conn.execute(
        """SELECT a.id, a.round FROM actions a
           WHERE a.assignee_id = ? AND a.status IN ('open', 'submitted') AND NOT EXISTS (
               SELECT 1 FROM user_roles r JOIN users u ON u.id = r.user_id AND u.active = 1
               WHERE r.user_id = a.assignee_id AND r.role = 'staff' AND r.site_id = a.site_id)""",
        (user_id,),
    ).fetchall()
    for action_id, round_ in rows:
        conn.execute("UPDATE actions SET assignee_id = NULL, updated_at = ? WHERE id = ?", (now, action_id))
        _recorded_and_told(conn, action_id, round_, None, actor_id, now)
    return len(rows)


def _recorded_and_told(
    conn: sqlite3.Connection, action_id: int, round_: int, to: int | None, actor_id: int | None, now: str
) -> None:
    """A change of assignee's event (detail: the new assignee, none for the site's staff) and the alert
    that tells them."""
    event_id = event_sync(conn, action_id, now, actor_id, "assigned", round_, str(to) if to is not None else None)
    alert_sync(conn, action_id, "assigned", event_id, actor_id, now)
