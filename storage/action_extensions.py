"""Extensions of corrective actions (申请延期, migration 0014). Each transition is one transaction with
its event and its alert, and checks the state it starts from, so a double tap or a stale button
applies nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.action_history import alert_sync, event_sync
from storage.db import Database, Row


@dataclass(frozen=True)
class ExtensionRow:
    id: int
    action_id: int
    requested_by: int
    requester_name: str | None
    requested_at: str
    reason: str
    old_due_date: str
    new_due_date: str
    status: str  # pending, approved, refused
    decided_by: int | None
    decided_at: str | None
    refusal_reason: str | None


_SELECT = """SELECT x.*, COALESCE(u.registered_name, TRIM(u.first_name || ' ' || COALESCE(u.last_name, '')))
                    AS requester_name
             FROM action_extensions x LEFT JOIN users u ON u.id = x.requested_by"""


def _row(r: Row) -> ExtensionRow:
    return ExtensionRow(
        r["id"],
        r["action_id"],
        r["requested_by"],
        r["requester_name"],
        r["requested_at"],
        r["reason"],
        r["old_due_date"],
        r["new_due_date"],
        r["status"],
        r["decided_by"],
        r["decided_at"],
        r["refusal_reason"],
    )


def _event(
    conn: sqlite3.Connection, action_id: int, now: str, actor_id: int, event: str, extension_id: int, detail: str | None
) -> None:
    """An event of the action (with its audit entry), in its round and with its due date after the event."""
    (round_,) = conn.execute("SELECT round FROM actions WHERE id = ?", (action_id,)).fetchone()
    event_sync(conn, action_id, now, actor_id, event, round_, detail, extension_id=extension_id)


class ExtensionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, extension_id: int) -> ExtensionRow | None:
        row = await self._db.fetchone(f"{_SELECT} WHERE x.id = ?", (extension_id,))
        return _row(row) if row else None

    async def pending_of(self, action_id: int) -> ExtensionRow | None:
        row = await self._db.fetchone(f"{_SELECT} WHERE x.action_id = ? AND x.status = 'pending'", (action_id,))
        return _row(row) if row else None

    async def request(
        self,
        action_id: int,
        due_date: str,
        new_due_date: str,
        reason: str,
        requested_by: int,
        now: str,
        pending_kind: str,
    ) -> int | None:
        """A pending request, while the action is open with ``due_date`` (the one the new date was
        checked against) and has no other request pending; clears the person's question. None:
        nothing recorded (the action moved on, or a request is pending already)."""

        def work(conn: sqlite3.Connection) -> int | None:
            cursor = conn.execute(
                """INSERT INTO action_extensions (action_id, requested_by, requested_at, reason, old_due_date,
                                                  new_due_date)
                   SELECT id, ?, ?, ?, due_date, ? FROM actions WHERE id = ? AND status = 'open' AND due_date = ?
                     AND NOT EXISTS (SELECT 1 FROM action_extensions x WHERE x.action_id = actions.id
                                     AND x.status = 'pending')""",
                (requested_by, now, reason, new_due_date, action_id, due_date),
            )
            if cursor.rowcount != 1:
                return None
            extension_id = int(cursor.lastrowid or 0)
            _event(conn, action_id, now, requested_by, "extension_requested", extension_id, reason)
            alert_sync(conn, action_id, "extension", extension_id, requested_by, now)
            conn.execute(
                "DELETE FROM pending_inputs WHERE user_id = ? AND kind = ? AND substr(payload, 1, ?) = ?",
                (requested_by, pending_kind, len(f"{action_id}|"), f"{action_id}|"),
            )
            return extension_id

        return await self._db.transaction(work)

    async def approve(self, extension_id: int, follow_up_on: str, escalate_on: str, decided_by: int, now: str) -> bool:
        """pending -> approved, and the action's due date becomes the one asked for (its overdue
        follow-ups and escalation planned again from it). Only while the action is still live with the
        due date the request was made against. False: nothing changed."""

        def work(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                """SELECT action_id, old_due_date, new_due_date FROM action_extensions
                   WHERE id = ? AND status = 'pending'""",
                (extension_id,),
            ).fetchone()
            if row is None:
                return False
            action_id, old_due, new_due = row
            cursor = conn.execute(
                """UPDATE actions SET due_date = ?, follow_up_on = ?, escalate_on = ?, updated_at = ?
                   WHERE id = ? AND status IN ('open', 'submitted') AND due_date = ?""",
                (new_due, follow_up_on, escalate_on, now, action_id, old_due),
            )
            if cursor.rowcount != 1:
                return False
            conn.execute(
                "UPDATE action_extensions SET status = 'approved', decided_by = ?, decided_at = ? WHERE id = ?",
                (decided_by, now, extension_id),
            )
            _event(conn, action_id, now, decided_by, "extended", extension_id, old_due)
            alert_sync(conn, action_id, "extension_decided", extension_id, decided_by, now)
            return True

        return await self._db.transaction(work)

    async def refuse(self, extension_id: int, reason: str, decided_by: int, now: str, pending_kind: str) -> bool:
        """pending -> refused, with the reason; clears the decider's reason question."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE action_extensions SET status = 'refused', decided_by = ?, decided_at = ?, refusal_reason = ?
                   WHERE id = ? AND status = 'pending'""",
                (decided_by, now, reason, extension_id),
            )
            if cursor.rowcount != 1:
                return False
            (action_id,) = conn.execute(
                "SELECT action_id FROM action_extensions WHERE id = ?", (extension_id,)
            ).fetchone()
            _event(conn, action_id, now, decided_by, "extension_refused", extension_id, reason)
            alert_sync(conn, action_id, "extension_decided", extension_id, decided_by, now)
            conn.execute(
                "DELETE FROM pending_inputs WHERE user_id = ? AND kind = ? AND substr(payload, 1, ?) = ?",
                (decided_by, pending_kind, len(f"{extension_id}|"), f"{extension_id}|"),
            )
            return True

        return await self._db.transaction(work)
