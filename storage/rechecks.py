"""The 复查 (re-check) of a site's corrective actions at its next inspection (migration 0012).

The list is made when the inspection begins (``plan_rechecks_sync``, in its transaction); each
decision is one transaction with the action's change, its event and what the site is told.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.action_history import alert_sync, event_sync
from storage.db import Database

FIXED, NOT_FIXED, RECURRED, SKIPPED = "fixed", "not_fixed", "recurred", "skipped"


@dataclass(frozen=True)
class RecheckRow:
    action_id: int
    outcome: str | None


@dataclass(frozen=True)
class Pictures:
    """Telegram file ids of a finding's photos (before) and of its last proof's photos (after)."""

    before: tuple[str, ...]
    after: tuple[str, ...]


class RecheckRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def of_inspection(self, inspection_id: int) -> list[RecheckRow]:
        """In the order they are asked: the most urgent action first."""
        rows = await self._db.fetchall(
            """SELECT r.action_id, r.outcome FROM action_rechecks r JOIN actions a ON a.id = r.action_id
               WHERE r.inspection_id = ? ORDER BY a.due_date, a.id""",
            (inspection_id,),
        )
        return [RecheckRow(row[0], row[1]) for row in rows]

    async def pictures(self, action_id: int) -> Pictures:
        def read(conn: sqlite3.Connection) -> Pictures:
            before = conn.execute(
                """SELECT p.file_id FROM photos p JOIN actions a ON a.inspection_id = p.inspection_id
                   AND a.clause_id = p.clause_id WHERE a.id = ? ORDER BY p.id""",
                (action_id,),
            ).fetchall()
            after = conn.execute(
                """SELECT file_id FROM action_evidence WHERE action_id = ? AND kind = 'photo'
                   AND round = (SELECT MAX(round) FROM action_evidence WHERE action_id = ?) ORDER BY id""",
                (action_id, action_id),
            ).fetchall()
            return Pictures(tuple(r[0] for r in before), tuple(r[0] for r in after))

        return await self._db.read(read)

    async def decide(self, inspection_id: int, action_id: int, outcome: str, actor_id: int, now: str) -> bool:
        """Record the outcome and apply it to the action. False: decided already (a double tap), or
        the action moved meanwhile so that this outcome no longer applies."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE action_rechecks SET outcome = ?, decided_at = ?
                   WHERE inspection_id = ? AND action_id = ? AND outcome IS NULL""",
                (outcome, now, inspection_id, action_id),
            )
            if cursor.rowcount != 1:
                return False
            status, round_ = conn.execute("SELECT status, round FROM actions WHERE id = ?", (action_id,)).fetchone()
            detail = f"recheck:{inspection_id}"
            if outcome == FIXED and status in ("open", "submitted"):
                conn.execute(
                    "UPDATE actions SET status = 'closed', closed_at = ?, updated_at = ? WHERE id = ?",
                    (now, now, action_id),
                )
                _record_and_tell(conn, action_id, now, actor_id, "closed", round_, detail, alert="closed")
            elif outcome == NOT_FIXED:
                if status == "closed":  # the fix did not hold: the site has it again, next round
                    conn.execute(
                        """UPDATE actions SET status = 'open', round = round + 1, closed_at = NULL,
                           found_again = found_again + 1, updated_at = ? WHERE id = ?""",
                        (now, action_id),
                    )
                    _record_and_tell(conn, action_id, now, actor_id, "reopened", round_ + 1, detail, alert="notice")
                else:
                    conn.execute(
                        "UPDATE actions SET found_again = found_again + 1, updated_at = ? WHERE id = ?",
                        (now, action_id),
                    )
                    event_sync(conn, action_id, now, actor_id, "not_fixed", round_, detail)
            elif outcome == RECURRED:
                if status != "closed":
                    raise _Stale
                conn.execute(
                    "UPDATE actions SET found_again = found_again + 1, updated_at = ? WHERE id = ?", (now, action_id)
                )
                event_sync(conn, action_id, now, actor_id, "recurred", round_, detail)
            else:
                event_sync(
                    conn,
                    action_id,
                    now,
                    actor_id,
                    "confirmed" if outcome == FIXED else "recheck_skipped",
                    round_,
                    detail,
                )
            return True

        try:
            return await self._db.transaction(work)
        except _Stale:
            return False


class _Stale(Exception):
    """Rolls the decision back: the outcome does not fit the action's state any more."""


def _record_and_tell(
    conn: sqlite3.Connection, action_id: int, now: str, actor_id: int, event: str, round_: int, detail: str, alert: str
) -> None:
    event_sync(conn, action_id, now, actor_id, event, round_, detail)
    alert_sync(conn, action_id, alert, round_, actor_id, now)
