"""What corrective actions tell people, on its way to the duty engine's outbox (migrations 0012, 0014).

An alert (a thing to tell) is written with the change that causes it. The engine's tick then, each
step one transaction: picks the alert's recipients; packs each chat's waiting alerts of one kind
into one outbox row (``message`` = its key). Every step checks the state it starts from, so a step
repeated after a crash changes nothing and nothing is told twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.action_extensions import ExtensionRepository, ExtensionRow
from storage.action_history import alert_sync
from storage.actions import REUSED_SQL
from storage.db import Database


@dataclass(frozen=True)
class WaitingAlert:
    id: int
    action_id: int
    kind: str  # notice, review, returned, closed, overdue, escalation, extension, extension_decided, assigned
    round: int
    actor_id: int | None
    site_id: int
    inspection_id: int
    inspector_id: int
    assignee_id: int | None
    proof_by: int | None  # who submitted the proof of the alert's round (returned, closed)
    requester: int | None = None  # extension, extension_decided: who asked for more time
    assigned_to: int | None = None  # assigned: the person named (None: back to the site's staff)


@dataclass(frozen=True)
class WaitingRecipient:
    alert_id: int
    chat_id: int
    kind: str
    inspection_id: int


@dataclass(frozen=True)
class MessageItem:
    """One line of a packed message, with its action's state now."""

    kind: str
    round: int
    action_id: int
    status: str
    action_round: int
    reason: str | None  # returned: why; assigned: the person's id (None: back to the site's staff)
    extension_id: int | None = None  # extension, extension_decided: the request
    extension_status: str | None = None  # ... its status now: pending, approved, refused
    assignee_id: int | None = None  # the action's assignee now
    reused: str | None = None  # review: the round's proof has a file seen before (REUSED_BEFORE first)


@dataclass(frozen=True)
class NoticeHead:
    """What a printed 整改通知单 says of its inspection."""

    inspection_id: int
    site_id: int
    site_name: str
    inspector_name: str
    submitted_at: str | None
    notes: dict[str, tuple[str, ...]]  # the inspector's notes, by clause
    on_the_spot: frozenset[str] = frozenset()  # clauses marked fixed on the spot (当场整改) in review


class ActionMessageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- alerts and their recipients ----------------------------------------------------------------

    async def waiting(self, limit: int) -> list[WaitingAlert]:
        rows = await self._db.fetchall(
            """SELECT l.id, l.action_id, l.kind, l.round, l.actor_id, a.site_id, a.inspection_id, i.inspector_id,
                      a.assignee_id,
                      (SELECT e.actor_id FROM action_events e WHERE e.action_id = a.id AND e.event = 'submitted'
                         AND e.round = l.round ORDER BY e.id DESC LIMIT 1) AS proof_by,
                      (SELECT x.requested_by FROM action_extensions x WHERE x.id = l.round
                         AND l.kind IN ('extension', 'extension_decided')) AS requester,
                      (SELECT CAST(e.detail AS INTEGER) FROM action_events e WHERE e.id = l.round
                         AND l.kind = 'assigned' AND e.action_id = a.id) AS assigned_to
               FROM action_alerts l JOIN actions a ON a.id = l.action_id JOIN inspections i ON i.id = a.inspection_id
               WHERE l.planned_at IS NULL ORDER BY l.id LIMIT ?""",
            (limit,),
        )
        return [WaitingAlert(*row) for row in rows]

    async def choose_recipients(self, alert_id: int, chats: Sequence[int], now: str) -> bool:
        """Records who is told of the alert (no one: it is done). False: chosen already."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE action_alerts SET planned_at = ? WHERE id = ? AND planned_at IS NULL", (now, alert_id)
            )
            if cursor.rowcount != 1:
                return False
            conn.executemany(
                "INSERT OR IGNORE INTO action_recipients (alert_id, chat_id) VALUES (?, ?)",
                [(alert_id, chat) for chat in dict.fromkeys(chats)],
            )
            return True

        return await self._db.transaction(work)

    async def waiting_recipients(self) -> list[WaitingRecipient]:
        rows = await self._db.fetchall(
            """SELECT r.alert_id, r.chat_id, l.kind, a.inspection_id
               FROM action_recipients r JOIN action_alerts l ON l.id = r.alert_id JOIN actions a ON a.id = l.action_id
               WHERE r.message IS NULL ORDER BY r.chat_id, l.id"""
        )
        return [WaitingRecipient(*row) for row in rows]

    async def pack(self, chat_id: int, kind: str, alert_ids: Sequence[int], day: str | None, now: str) -> bool:
        """One outbox row (``kind`` = action_<...>) carrying these waiting alerts to ``chat_id``.
        False: nothing packed (already packed, or an escalation message went to this chat ``day``)."""
        key = f"{kind}:{chat_id}:{min(alert_ids)}"
        marks = ",".join("?" * len(alert_ids))

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO duty_outbox (key, kind, chat_id, day, created_at) VALUES (?, ?, ?, ?, ?)",
                (key, kind, chat_id, day, now),
            )
            if cursor.rowcount != 1:
                return False
            conn.execute(
                f"""UPDATE action_recipients SET message = ?
                    WHERE chat_id = ? AND message IS NULL AND alert_id IN ({marks})""",
                (key, chat_id, *alert_ids),
            )
            return True

        return await self._db.transaction(work)

    async def items(self, key: str) -> list[MessageItem]:
        rows = await self._db.fetchall(
            f"""SELECT l.kind, l.round, a.id, a.status, a.round,
                      CASE l.kind
                          WHEN 'assigned' THEN (SELECT e.detail FROM action_events e WHERE e.id = l.round
                                                  AND e.action_id = a.id)
                          ELSE (SELECT e.detail FROM action_events e WHERE e.action_id = a.id
                                  AND e.event = 'returned' AND e.round = l.round ORDER BY e.id DESC LIMIT 1)
                      END,
                      x.id, x.status, a.assignee_id,
                      -- MIN: 'before' (the finding's own photo) outranks 'earlier' (an earlier round's)
                      (SELECT MIN({REUSED_SQL}) FROM action_evidence e
                         WHERE l.kind = 'review' AND e.action_id = a.id AND e.round = l.round)
               FROM action_recipients r JOIN action_alerts l ON l.id = r.alert_id JOIN actions a ON a.id = l.action_id
                    LEFT JOIN action_extensions x ON x.id = l.round AND l.kind IN ('extension', 'extension_decided')
               WHERE r.message = ? ORDER BY l.id""",
            (key,),
        )
        return [MessageItem(*row) for row in rows]

    async def extension(self, extension_id: int) -> ExtensionRow | None:
        return await ExtensionRepository(self._db).get(extension_id)

    # -- overdue: follow-ups to the site, and the managers told ------------------------------------

    async def due_follow_ups(self, today: str, limit: int) -> list[tuple[int, int]]:
        """(action id, follow-ups so far) of open actions whose next follow-up is due by ``today``."""
        rows = await self._db.fetchall(
            """SELECT id, follow_ups FROM actions WHERE status = 'open' AND follow_up_on <= ?
               ORDER BY follow_up_on, id LIMIT ?""",
            (today, limit),
        )
        return [(row[0], row[1]) for row in rows]

    async def follow_up(self, action_id: int, number: int, next_on: str, now: str) -> bool:
        """Follow-up ``number`` of an overdue action, and the date of the next. False: done already."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE actions SET follow_ups = ?, follow_up_on = ?
                   WHERE id = ? AND status = 'open' AND follow_ups = ?""",
                (number, next_on, action_id, number - 1),
            )
            if cursor.rowcount != 1:
                return False
            alert_sync(conn, action_id, "overdue", number, None, now)
            return True

        return await self._db.transaction(work)

    async def due_escalations(self, today: str, limit: int) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT id FROM actions WHERE status = 'open' AND escalate_on <= ? ORDER BY escalate_on, id LIMIT ?",
            (today, limit),
        )
        return [row[0] for row in rows]

    async def escalate(self, action_id: int, now: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE actions SET escalate_on = NULL WHERE id = ? AND status = 'open' AND escalate_on IS NOT NULL",
                (action_id,),
            )
            if cursor.rowcount != 1:
                return False
            # Numbered: an action whose due date an extension moved may be escalated again.
            conn.execute(
                """INSERT OR IGNORE INTO action_alerts (action_id, kind, round, created_at)
                   SELECT ?, 'escalation', COUNT(*) + 1, ? FROM action_alerts
                   WHERE action_id = ? AND kind = 'escalation'""",
                (action_id, now, action_id),
            )
            return True

        return await self._db.transaction(work)

    async def fixed_on_the_spot(self, inspection_id: int) -> int:
        """How many of the inspection's actions were closed at its submit, fixed on the spot."""
        return int(
            await self._db.fetchval(
                """SELECT COUNT(*) FROM actions a JOIN on_the_spot o
                       ON o.inspection_id = a.inspection_id AND o.clause_id = a.clause_id
                   WHERE a.inspection_id = ? AND a.status = 'closed'""",
                (inspection_id,),
            )
        )

    async def notice_head(self, inspection_id: int) -> NoticeHead | None:
        """The inspection a printed 整改通知单 is about, with its inspector's notes."""

        def read(conn: sqlite3.Connection) -> NoticeHead | None:
            row = conn.execute(
                """SELECT i.id, i.site_id, s.name, i.submitted_at,
                          COALESCE(u.registered_name, TRIM(u.first_name || ' ' || COALESCE(u.last_name, '')))
                   FROM inspections i JOIN sites s ON s.id = i.site_id LEFT JOIN users u ON u.id = i.inspector_id
                   WHERE i.id = ?""",
                (inspection_id,),
            ).fetchone()
            if row is None:
                return None
            notes: dict[str, list[str]] = {}
            for clause_id, text in conn.execute(
                "SELECT clause_id, text FROM notes WHERE inspection_id = ? ORDER BY id", (inspection_id,)
            ):
                notes.setdefault(clause_id, []).append(text)
            spot = conn.execute("SELECT clause_id FROM on_the_spot WHERE inspection_id = ?", (inspection_id,))
            notes_by_clause = {k: tuple(v) for k, v in notes.items()}
            return NoticeHead(
                row[0], row[1], row[2], row[4] or "", row[3], notes_by_clause, frozenset(r[0] for r in spot)
            )

        return await self._db.read(read)
