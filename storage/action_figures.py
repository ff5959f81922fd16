"""Read-only figures of corrective actions (整改, issue #15) for the managers' reports.

The fix-and-verify loop itself lives in :mod:`storage.actions`; this module only reads the same
``actions`` table, bounded by a site scope (:class:`storage.reports.Scope`) and a period. Due dates
are local ISO dates, ``created_at``/``closed_at`` stored UTC: local dates of those are the caller's
business (the zone is configuration), so closed actions come back as rows, everything else as counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Database, Row
from storage.reports import Scope

LIVE = "a.status IN ('open', 'submitted')"  # not closed and not cancelled: what still needs a fix


@dataclass(frozen=True)
class ClosedRow:
    due_date: str
    created_at: str
    closed_at: str


@dataclass(frozen=True)
class PeriodRows:
    due: int  # due in the period, not cancelled
    closed: tuple[ClosedRow, ...]  # of those, the closed ones
    repeats: int  # created in the period, not cancelled, a repeat finding


@dataclass(frozen=True)
class ActionListRow:
    id: int
    inspection_id: int
    site_id: int
    site_name: str
    clause_id: str
    rubric_hash: str
    answer: str
    severity: str
    status: str
    round: int
    due_date: str
    created_at: str
    closed_at: str | None
    repeat: bool


_LIST = """SELECT a.id, a.inspection_id, a.site_id, s.name AS site_name, a.clause_id, i.rubric_hash, a.answer,
                  a.severity, a.status, a.round, a.due_date, a.created_at, a.closed_at,
                  (a.repeat_of IS NOT NULL OR a.found_again > 0) AS repeat
           FROM actions a JOIN sites s ON s.id = a.site_id JOIN inspections i ON i.id = a.inspection_id"""


def _row(r: Row) -> ActionListRow:
    return ActionListRow(
        r["id"],
        r["inspection_id"],
        r["site_id"],
        r["site_name"],
        r["clause_id"],
        r["rubric_hash"],
        r["answer"],
        r["severity"],
        r["status"],
        r["round"],
        r["due_date"],
        r["created_at"],
        r["closed_at"],
        bool(r["repeat"]),
    )


class ActionFigureRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def period(self, scope: Scope, first_day: str, after_day: str, start: str, end: str) -> PeriodRows:
        """Due in ``[first_day, after_day)`` (local dates); repeats created in ``[start, end)`` (UTC)."""
        where, params = scope.sql("a.site_id")
        due = await self._db.fetchval(
            f"""SELECT COUNT(*) FROM actions a
                WHERE a.due_date >= ? AND a.due_date < ? AND a.status != 'cancelled'{where}""",
            (first_day, after_day, *params),
        )
        closed = await self._db.fetchall(
            f"""SELECT a.due_date, a.created_at, a.closed_at FROM actions a
                WHERE a.status = 'closed' AND a.due_date >= ? AND a.due_date < ?{where}""",
            (first_day, after_day, *params),
        )
        repeats = await self._db.fetchval(
            f"""SELECT COUNT(*) FROM actions a
                WHERE a.created_at >= ? AND a.created_at < ? AND a.status != 'cancelled'
                  AND (a.repeat_of IS NOT NULL OR a.found_again > 0){where}""",
            (start, end, *params),
        )
        return PeriodRows(
            int(due or 0),
            tuple(ClosedRow(r["due_date"], r["created_at"], r["closed_at"] or r["created_at"]) for r in closed),
            int(repeats or 0),
        )

    async def live_counts(self, scope: Scope, today: str) -> tuple[int, int]:
        """(open, overdue) now: not yet closed, and of those past their due date."""
        where, params = scope.sql("a.site_id")
        row = await self._db.fetchone(
            f"""SELECT COUNT(*) AS live, TOTAL(a.due_date < ?) AS late FROM actions a WHERE {LIVE}{where}""",
            (today, *params),
        )
        return (int(row["live"]), int(row["late"])) if row else (0, 0)

    async def by_site(self, site_ids: Sequence[int], today: str) -> dict[int, tuple[int, int]]:
        """(open, overdue) of each of ``site_ids`` that has any open action."""
        if not site_ids:
            return {}
        where, params = Scope(all_sites=False, site_ids=tuple(site_ids)).sql("a.site_id")
        rows = await self._db.fetchall(
            f"""SELECT a.site_id, COUNT(*) AS live, TOTAL(a.due_date < ?) AS late FROM actions a
                WHERE {LIVE}{where} GROUP BY a.site_id""",
            (today, *params),
        )
        return {r["site_id"]: (int(r["live"]), int(r["late"])) for r in rows}

    async def overdue(self, scope: Scope, today: str, limit: int) -> tuple[int, list[ActionListRow]]:
        """How many open actions are past their due date, and the ``limit`` oldest of them."""
        where, params = scope.sql("a.site_id")
        count = await self._db.fetchval(
            f"SELECT COUNT(*) FROM actions a WHERE {LIVE} AND a.due_date < ?{where}", (today, *params)
        )
        rows = await self._db.fetchall(
            f"{_LIST} WHERE {LIVE} AND a.due_date < ?{where} ORDER BY a.due_date, s.name, a.id LIMIT ?",
            (today, *params, limit),
        )
        return int(count or 0), [_row(r) for r in rows]

    async def of_inspection(self, inspection_id: int) -> list[ActionListRow]:
        rows = await self._db.fetchall(f"{_LIST} WHERE a.inspection_id = ? ORDER BY a.id", (inspection_id,))
        return [_row(r) for r in rows]

    async def created_in(self, scope: Scope, start: str, end: str) -> list[ActionListRow]:
        """Every action created in ``[start, end)`` (UTC), cancelled ones too: the export's 整改 sheet."""
        where, params = scope.sql("a.site_id")
        rows = await self._db.fetchall(
            f"{_LIST} WHERE a.created_at >= ? AND a.created_at < ?{where} ORDER BY s.name, a.created_at, a.id",
            (start, end, *params),
        )
        return [_row(r) for r in rows]
