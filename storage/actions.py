"""Corrective actions and their history. Actions are created in the same transaction as the submit
of the inspection that found them, so a crash can never leave a submitted inspection without them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from storage.db import Database, Row


@dataclass(frozen=True)
class NewAction:
    clause_id: str
    answer: str
    severity: str
    due_date: str  # local ISO date


@dataclass(frozen=True)
class ActionRow:
    id: int
    inspection_id: int
    site_id: int
    site_name: str
    clause_id: str
    answer: str
    severity: str
    status: str
    round: int
    due_date: str
    assignee_id: int | None
    created_at: str
    closed_at: str | None
    rubric_hash: str
    inspector_id: int


@dataclass(frozen=True)
class ActionEvent:
    at: str
    actor_id: int | None
    actor_name: str | None
    event: str
    round: int
    due_date: str | None
    detail: str | None


_SELECT = """SELECT a.*, s.name AS site_name, i.rubric_hash, i.inspector_id
    FROM actions a JOIN sites s ON s.id = a.site_id JOIN inspections i ON i.id = a.inspection_id"""


async def reconcile_for_inspection(
    conn: aiosqlite.Connection,
    inspection_id: int,
    site_id: int,
    actions: Sequence[NewAction],
    actor_id: int,
    now: str,
) -> None:
    """Inside the submit's transaction: one action per finding, each with its history. After a
    reopen, a finding still there keeps its action (and due date), a new one gets an action, and the
    action of a finding no longer there is cancelled, recorded."""
    rows = await conn.execute_fetchall(
        "SELECT id, clause_id, answer, severity, status, round FROM actions WHERE inspection_id = ?", (inspection_id,)
    )
    existing = {row["clause_id"]: row for row in rows}
    wanted = {action.clause_id: action for action in actions}
    for action in actions:
        row = existing.get(action.clause_id)
        if row is None:
            cursor = await conn.execute(
                """INSERT INTO actions (inspection_id, site_id, clause_id, answer, severity, due_date, created_at,
                                        updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (inspection_id, site_id, action.clause_id, action.answer, action.severity, action.due_date, now, now),
            )
            await _event(conn, cursor.lastrowid, now, actor_id, "created", 1, action.due_date)
        elif row["status"] == "cancelled" or (row["answer"], row["severity"]) != (action.answer, action.severity):
            status = "open" if row["status"] == "cancelled" else row["status"]
            await conn.execute(
                "UPDATE actions SET answer = ?, severity = ?, status = ?, updated_at = ? WHERE id = ?",
                (action.answer, action.severity, status, now, row["id"]),
            )
            await _event(conn, row["id"], now, actor_id, "changed", row["round"], None, action.answer)
    for clause_id, row in existing.items():
        if clause_id not in wanted and row["status"] in ("open", "submitted"):
            await conn.execute("UPDATE actions SET status = 'cancelled', updated_at = ? WHERE id = ?", (now, row["id"]))
            await _event(conn, row["id"], now, actor_id, "cancelled", row["round"], None, "finding_removed")


async def _event(
    conn: aiosqlite.Connection,
    action_id: int | None,
    now: str,
    actor_id: int | None,
    event: str,
    round_: int,
    due_date: str | None,
    detail: str | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO action_events (action_id, at, actor_id, event, round, due_date, detail)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (action_id, now, actor_id, event, round_, due_date, detail),
    )


class ActionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, action_id: int) -> ActionRow | None:
        row = await self._db.fetchone(f"{_SELECT} WHERE a.id = ?", (action_id,))
        return _action(row) if row else None

    async def of_inspection(self, inspection_id: int) -> list[ActionRow]:
        rows = await self._db.fetchall(f"{_SELECT} WHERE a.inspection_id = ? ORDER BY a.id", (inspection_id,))
        return [_action(row) for row in rows]

    async def listed(
        self, site_ids: Sequence[int] | None, statuses: Sequence[str], due_before: str | None = None
    ) -> list[ActionRow]:
        """Actions of ``site_ids`` (None: every site) in ``statuses``, the most urgent first; with
        ``due_before`` (a local date) only those whose due date has passed it."""
        where = [f"a.status IN ({','.join('?' * len(statuses))})"]
        params: list[object] = list(statuses)
        if site_ids is not None:
            if not site_ids:
                return []
            where.append(f"a.site_id IN ({','.join('?' * len(site_ids))})")
            params.extend(site_ids)
        if due_before is not None:
            where.append("a.due_date < ?")
            params.append(due_before)
        rows = await self._db.fetchall(
            f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY a.due_date, s.name, a.id", params
        )
        return [_action(row) for row in rows]

    async def events(self, action_id: int) -> list[ActionEvent]:
        rows = await self._db.fetchall(
            """SELECT e.*, COALESCE(u.registered_name, TRIM(u.first_name || ' ' || COALESCE(u.last_name, '')))
                      AS actor_name
               FROM action_events e LEFT JOIN users u ON u.id = e.actor_id
               WHERE e.action_id = ? ORDER BY e.id""",
            (action_id,),
        )
        return [
            ActionEvent(r["at"], r["actor_id"], r["actor_name"], r["event"], r["round"], r["due_date"], r["detail"])
            for r in rows
        ]


def _action(row: Row) -> ActionRow:
    return ActionRow(
        id=row["id"],
        inspection_id=row["inspection_id"],
        site_id=row["site_id"],
        site_name=row["site_name"],
        clause_id=row["clause_id"],
        answer=row["answer"],
        severity=row["severity"],
        status=row["status"],
        round=row["round"],
        due_date=row["due_date"],
        assignee_id=row["assignee_id"],
        created_at=row["created_at"],
        closed_at=row["closed_at"],
        rubric_hash=row["rubric_hash"],
        inspector_id=row["inspector_id"],
    )
