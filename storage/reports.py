"""The managers' view: aggregate SQL over submitted inspections, their answers and evidence.

Every query is bounded by a period (``[start, end)`` of stored UTC ISO strings) and a site scope,
and aggregates in SQLite: nothing here loads all answers into Python. Periods come from
``inspections (status, submitted_at)``; answers are reached by their primary key
``(inspection_id, clause_id)``. The covering index of migration 0005 keeps the per-site sums
index-only.

The Excel export reads through :class:`ExportReader`, a plain ``sqlite3`` connection of its own,
so a large workbook is built in a worker thread without holding the bot's event loop.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.db import Database, Row
from storage.users import display_name_sql

SUBMITTED = "i.status = 'submitted' AND i.submitted_at >= ? AND i.submitted_at < ?"
FINDING = "a.answer IN ('partial', 'fail')"


@dataclass(frozen=True)
class Scope:
    """The sites a manager may see: every site, or these ids."""

    all_sites: bool
    site_ids: tuple[int, ...] = ()

    def sql(self, column: str = "i.site_id") -> tuple[str, tuple[Any, ...]]:
        """An ``AND ...`` filter and its parameters (a JSON array: one parameter however many sites)."""
        if self.all_sites:
            return "", ()
        return f" AND {column} IN (SELECT value FROM json_each(?))", (json.dumps(self.site_ids),)

    @property
    def empty(self) -> bool:
        return not self.all_sites and not self.site_ids


@dataclass(frozen=True)
class GradeCount:
    grade: str | None
    inspections: int
    earned: float
    possible: float
    incomplete: int = 0  # of those, below the rubric's minimum coverage


@dataclass(frozen=True)
class Grant:
    """One manager grant: every site (neither set), a region, or one site."""

    site_id: int | None
    region: str | None


@dataclass(frozen=True)
class PartScore:
    """Points of a category (or a quarter, a site...): percent is computed by the flow."""

    key: str
    earned: float
    possible: float
    inspections: int = 0


@dataclass(frozen=True)
class SiteRank:
    site_id: int
    name: str
    region: str | None
    rank: int
    inspections: int
    earned: float
    possible: float
    previous_earned: float | None
    previous_possible: float | None
    incomplete: int = 0  # inspections of the period below the rubric's minimum coverage


@dataclass(frozen=True)
class WeakClause:
    clause_id: str
    category_id: str
    sites: int
    fails: int
    partials: int
    edition: int


@dataclass(frozen=True)
class SiteName:
    id: int
    name: str
    region: str | None


@dataclass(frozen=True)
class InspectionHead:
    id: int
    site_id: int
    site_name: str
    region: str | None
    inspector_id: int
    inspector_name: str
    rubric_hash: str
    edition: int
    status: str
    started_at: str
    submitted_at: str | None
    earned: float | None
    possible: float | None
    percent: float | None
    grade: str | None
    veto: bool
    # Coverage frozen at submit (migration 0007); all None for inspections submitted before it.
    answered_count: int | None = None  # answered by the inspector (the rest marked 不适用 at submit or left open)
    na_count: int | None = None  # 不适用, by hand or wholesale
    clause_count: int | None = None
    incomplete: bool | None = None  # below the rubric's minimum coverage
    applicable: int | None = None  # answers other than 不适用: what the score stands on

    @property
    def has_coverage(self) -> bool:
        return self.clause_count is not None


@dataclass(frozen=True)
class AnswerLine:
    clause_id: str
    answer: str
    earned: float | None
    possible: float | None
    answered_at: str


@dataclass(frozen=True)
class NoteLine:
    clause_id: str
    text: str
    created_at: str


@dataclass(frozen=True)
class PhotoLine:
    id: int
    clause_id: str
    sha256: str | None
    mime_type: str | None
    reused_from: int | None
    created_at: str


@dataclass(frozen=True)
class Evidence:
    photos: int
    notes: int
    reused_photos: int


@dataclass(frozen=True)
class DigestInspection:
    id: int
    site_name: str
    percent: float | None
    grade: str | None
    findings: int
    incomplete: bool = False


def _head(row: Row | sqlite3.Row) -> InspectionHead:
    frozen = row["clause_count"] is not None
    return InspectionHead(
        id=row["id"],
        site_id=row["site_id"],
        site_name=row["site_name"],
        region=row["region"],
        inspector_id=row["inspector_id"],
        inspector_name=row["inspector_name"] or str(row["inspector_id"]),
        rubric_hash=row["rubric_hash"],
        edition=row["edition"],
        status=row["status"],
        started_at=row["started_at"],
        submitted_at=row["submitted_at"],
        earned=row["earned"],
        possible=row["possible"],
        percent=row["percent"],
        grade=row["grade"],
        veto=bool(row["veto"]),
        answered_count=row["answered_count"],
        na_count=row["na_count"],
        clause_count=row["clause_count"],
        incomplete=bool(row["incomplete"]) if frozen else None,
        applicable=row["applicable"] if frozen else None,
    )


# ``applicable`` counts answer rows, not the frozen columns: when a partial submit leaves clauses
# unanswered, answered_count - na_count and clause_count - na_count both miss it.
INSPECTOR_NAME = display_name_sql("i.inspector_id")  # the registered name over Telegram's first name
_HEAD = f"""SELECT i.*, s.name AS site_name, s.region AS region, {INSPECTOR_NAME} AS inspector_name,
               (SELECT COUNT(*) FROM answers a WHERE a.inspection_id = i.id AND a.answer <> 'na') AS applicable
           FROM inspections i JOIN sites s ON s.id = i.site_id LEFT JOIN users u ON u.id = i.inspector_id"""


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- a quarter ------------------------------------------------------------------------------

    async def grade_counts(self, scope: Scope, start: str, end: str) -> list[GradeCount]:
        where, params = scope.sql()
        rows = await self._db.fetchall(
            f"""SELECT i.grade, COUNT(*) AS n, TOTAL(i.earned) AS e, TOTAL(i.possible) AS p,
                    TOTAL(i.incomplete) AS x
                FROM inspections i WHERE {SUBMITTED}{where} GROUP BY i.grade""",
            (start, end, *params),
        )
        return [GradeCount(row["grade"], row["n"], row["e"], row["p"], int(row["x"])) for row in rows]

    async def manager_grants(self, user_id: int) -> list[Grant]:
        """The person's manager grants, to name what their numbers cover (every site, a region, a site)."""
        rows = await self._db.fetchall(
            "SELECT site_id, region FROM user_roles WHERE user_id = ? AND role = 'manager'", (user_id,)
        )
        return [Grant(row["site_id"], row["region"]) for row in rows]

    async def drafts(self, scope: Scope) -> int:
        where, params = scope.sql()
        return int(
            await self._db.fetchval(f"SELECT COUNT(*) FROM inspections i WHERE i.status = 'draft'{where}", params) or 0
        )

    async def uninspected_sites(
        self, scope: Scope, start: str, end: str, limit: int, offset: int = 0
    ) -> tuple[list[SiteName], int]:
        """Active sites in scope without a submitted inspection in the period, by name; and how many."""
        where, params = scope.sql("s.id")
        rows = await self._db.fetchall(
            f"""SELECT s.id, s.name, s.region, COUNT(*) OVER () AS total FROM sites s
                WHERE s.active = 1{where} AND NOT EXISTS (
                    SELECT 1 FROM inspections i WHERE i.site_id = s.id AND {SUBMITTED})
                ORDER BY s.name LIMIT ? OFFSET ?""",
            (*params, start, end, limit, offset),
        )
        total = rows[0]["total"] if rows else await self._count_uninspected(scope, start, end)
        return [SiteName(row["id"], row["name"], row["region"]) for row in rows], total

    async def _count_uninspected(self, scope: Scope, start: str, end: str) -> int:
        where, params = scope.sql("s.id")
        return int(
            await self._db.fetchval(
                f"""SELECT COUNT(*) FROM sites s WHERE s.active = 1{where} AND NOT EXISTS (
                        SELECT 1 FROM inspections i WHERE i.site_id = s.id AND {SUBMITTED})""",
                (*params, start, end),
            )
            or 0
        )

    async def active_sites(self, scope: Scope) -> int:
        where, params = scope.sql("s.id")
        return int(await self._db.fetchval(f"SELECT COUNT(*) FROM sites s WHERE s.active = 1{where}", params) or 0)

    async def category_scores(self, scope: Scope, start: str, end: str) -> list[PartScore]:
        """Σ earned / Σ possible per category over the period's answers (不适用 rows hold NULLs)."""
        where, params = scope.sql()
        rows = await self._db.fetchall(
            f"""SELECT a.category_id AS k, TOTAL(a.earned) AS e, TOTAL(a.possible) AS p
                FROM inspections i JOIN answers a ON a.inspection_id = i.id
                WHERE {SUBMITTED}{where} GROUP BY a.category_id""",
            (start, end, *params),
        )
        return [PartScore(row["k"], row["e"], row["p"]) for row in rows]

    async def ranking(
        self, scope: Scope, start: str, end: str, previous_start: str, limit: int, offset: int
    ) -> tuple[list[SiteRank], int]:
        """Sites with a score in ``[start, end)`` ranked by Σ earned / Σ possible, with the quarter before."""
        where, params = scope.sql()
        rows = await self._db.fetchall(
            f"""WITH per_site AS (
                    SELECT i.site_id,
                        TOTAL(CASE WHEN i.submitted_at >= ? THEN i.earned END) AS e,
                        TOTAL(CASE WHEN i.submitted_at >= ? THEN i.possible END) AS p,
                        COUNT(CASE WHEN i.submitted_at >= ? THEN 1 END) AS n,
                        SUM(CASE WHEN i.submitted_at < ? THEN i.earned END) AS pe,
                        SUM(CASE WHEN i.submitted_at < ? THEN i.possible END) AS pp,
                        TOTAL(CASE WHEN i.submitted_at >= ? THEN i.incomplete END) AS x
                    FROM inspections i WHERE {SUBMITTED}{where} GROUP BY i.site_id),
                ranked AS (
                    SELECT per_site.*, RANK() OVER (ORDER BY e / p DESC) AS rank, COUNT(*) OVER () AS total
                    FROM per_site WHERE n > 0 AND p > 0)
                SELECT ranked.*, s.name, s.region FROM ranked JOIN sites s ON s.id = ranked.site_id
                ORDER BY rank, s.name LIMIT ? OFFSET ?""",
            (start, start, start, start, start, start, previous_start, end, *params, limit, offset),
        )
        ranks = [
            SiteRank(
                row["site_id"],
                row["name"],
                row["region"],
                row["rank"],
                row["n"],
                row["e"],
                row["p"],
                row["pe"],
                row["pp"],
                int(row["x"]),
            )
            for row in rows
        ]
        return ranks, (rows[0]["total"] if rows else 0)

    async def weak_clauses(
        self, scope: Scope, start: str, end: str, limit: int, offset: int, category_id: str | None = None
    ) -> tuple[list[WeakClause], int]:
        """Clauses answered below full in the period, by how many sites had them, then how often 不符合."""
        where, params = scope.sql()
        category = " AND a.category_id = ?" if category_id else ""
        rows = await self._db.fetchall(
            f"""SELECT a.clause_id, MAX(a.category_id) AS category_id, COUNT(DISTINCT i.site_id) AS sites,
                    SUM(a.answer = 'fail') AS fails, SUM(a.answer = 'partial') AS partials,
                    MAX(i.edition) AS edition, COUNT(*) OVER () AS total
                FROM inspections i JOIN answers a ON a.inspection_id = i.id
                WHERE {SUBMITTED} AND {FINDING}{where}{category}
                GROUP BY a.clause_id ORDER BY sites DESC, fails DESC, a.clause_id LIMIT ? OFFSET ?""",
            (start, end, *params, *((category_id,) if category_id else ()), limit, offset),
        )
        weak = [
            WeakClause(
                row["clause_id"], row["category_id"], row["sites"], row["fails"], row["partials"], row["edition"]
            )
            for row in rows
        ]
        return weak, (rows[0]["total"] if rows else 0)

    async def inspected_sites(self, scope: Scope, start: str, end: str) -> int:
        where, params = scope.sql()
        return int(
            await self._db.fetchval(
                f"SELECT COUNT(DISTINCT i.site_id) FROM inspections i WHERE {SUBMITTED}{where}", (start, end, *params)
            )
            or 0
        )

    # -- a site ---------------------------------------------------------------------------------

    async def latest_inspection(self, site_id: int) -> InspectionHead | None:
        row = await self._db.fetchone(
            f"{_HEAD} WHERE i.site_id = ? AND i.status = 'submitted' ORDER BY i.submitted_at DESC LIMIT 1",
            (site_id,),
        )
        return _head(row) if row else None

    async def site_trend(self, site_id: int, periods: Sequence[tuple[str, str, str]]) -> list[PartScore]:
        """Σ earned / Σ possible of a site per ``(key, start, end)`` period, in the order given."""
        values = ", ".join("(?, ?, ?, ?)" for _ in periods)
        flat = [value for index, (key, start, end) in enumerate(periods) for value in (index, key, start, end)]
        rows = await self._db.fetchall(
            f"""WITH q(ord, k, qs, qe) AS (VALUES {values})
                SELECT q.k, TOTAL(i.earned) AS e, TOTAL(i.possible) AS p, COUNT(i.id) AS n
                FROM q LEFT JOIN inspections i ON i.site_id = ? AND i.status = 'submitted'
                    AND i.submitted_at >= q.qs AND i.submitted_at < q.qe
                GROUP BY q.ord ORDER BY q.ord""",
            (*flat, site_id),
        )
        return [PartScore(row["k"], row["e"], row["p"], row["n"]) for row in rows]

    # -- an inspection --------------------------------------------------------------------------

    async def inspection(self, inspection_id: int) -> InspectionHead | None:
        row = await self._db.fetchone(f"{_HEAD} WHERE i.id = ?", (inspection_id,))
        return _head(row) if row else None

    async def inspection_categories(self, inspection_id: int) -> list[PartScore]:
        rows = await self._db.fetchall(
            """SELECT category_id AS k, TOTAL(earned) AS e, TOTAL(possible) AS p FROM answers
               WHERE inspection_id = ? GROUP BY category_id""",
            (inspection_id,),
        )
        return [PartScore(row["k"], row["e"], row["p"]) for row in rows]

    async def answers(self, inspection_id: int) -> list[AnswerLine]:
        """One inspection's answers (at most a rubric's worth of rows)."""
        rows = await self._db.fetchall(
            "SELECT clause_id, answer, earned, possible, answered_at FROM answers WHERE inspection_id = ?",
            (inspection_id,),
        )
        return [
            AnswerLine(row["clause_id"], row["answer"], row["earned"], row["possible"], row["answered_at"])
            for row in rows
        ]

    async def findings(self, inspection_id: int) -> list[AnswerLine]:
        rows = await self._db.fetchall(
            f"""SELECT clause_id, answer, earned, possible, answered_at FROM answers a
                WHERE a.inspection_id = ? AND {FINDING}""",
            (inspection_id,),
        )
        return [
            AnswerLine(row["clause_id"], row["answer"], row["earned"], row["possible"], row["answered_at"])
            for row in rows
        ]

    async def notes(self, inspection_id: int, clause_ids: Sequence[str] | None = None) -> list[NoteLine]:
        only = " AND clause_id IN (SELECT value FROM json_each(?))" if clause_ids is not None else ""
        extra = (json.dumps(list(clause_ids)),) if clause_ids is not None else ()
        rows = await self._db.fetchall(
            f"SELECT clause_id, text, created_at FROM notes WHERE inspection_id = ?{only} ORDER BY id",
            (inspection_id, *extra),
        )
        return [NoteLine(row["clause_id"], row["text"], row["created_at"]) for row in rows]

    async def photos(self, inspection_id: int) -> list[PhotoLine]:
        rows = await self._db.fetchall(
            """SELECT id, clause_id, sha256, mime_type, reused_from, created_at FROM photos
               WHERE inspection_id = ? ORDER BY id""",
            (inspection_id,),
        )
        return [
            PhotoLine(
                row["id"], row["clause_id"], row["sha256"], row["mime_type"], row["reused_from"], row["created_at"]
            )
            for row in rows
        ]

    async def photo_counts(self, inspection_id: int) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT clause_id, COUNT(*) AS n FROM photos WHERE inspection_id = ? GROUP BY clause_id", (inspection_id,)
        )
        return {row["clause_id"]: row["n"] for row in rows}

    async def evidence(self, inspection_id: int) -> Evidence:
        row = await self._db.fetchone(
            """SELECT (SELECT COUNT(*) FROM photos WHERE inspection_id = ?) AS photos,
                      (SELECT COUNT(*) FROM notes WHERE inspection_id = ?) AS notes,
                      (SELECT COUNT(*) FROM photos WHERE inspection_id = ? AND reused_from IS NOT NULL) AS reused""",
            (inspection_id, inspection_id, inspection_id),
        )
        assert row is not None
        return Evidence(row["photos"], row["notes"], row["reused"])

    async def rubric_snapshot(self, content_hash: str) -> dict[str, Any] | None:
        text = await self._db.fetchval("SELECT snapshot FROM rubric_versions WHERE content_hash = ?", (content_hash,))
        return json.loads(text) if text else None

    # -- the weekly digest ----------------------------------------------------------------------

    async def managers(self) -> list[int]:
        """Active, reachable people holding the manager role."""
        rows = await self._db.fetchall(
            """SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'manager'
               WHERE u.active = 1 AND u.unreachable_at IS NULL ORDER BY u.id"""
        )
        return [row["id"] for row in rows]

    async def database_born(self) -> str | None:
        """When this database was created (its first migration): digests never reach back before it."""
        value = await self._db.fetchval("SELECT MIN(applied_at) FROM schema_migrations")
        return str(value) if value else None

    async def claim_digest(self, manager_id: int, week: str, now: str) -> bool:
        """Record the digest as sent before sending it: False when this week's was already claimed."""
        changed = await self._db.change(
            "INSERT OR IGNORE INTO report_digests (manager_id, week, sent_at) VALUES (?, ?, ?)",
            (manager_id, week, now),
        )
        return changed > 0

    async def week_inspections(self, scope: Scope, start: str, end: str, limit: int) -> list[DigestInspection]:
        where, params = scope.sql()
        rows = await self._db.fetchall(
            f"""SELECT i.id, s.name, i.percent, i.grade, i.incomplete,
                    (SELECT COUNT(*) FROM answers a WHERE a.inspection_id = i.id AND {FINDING}) AS findings
                FROM inspections i JOIN sites s ON s.id = i.site_id
                WHERE {SUBMITTED}{where} ORDER BY i.submitted_at LIMIT ?""",
            (start, end, *params, limit),
        )
        return [
            DigestInspection(
                row["id"], row["name"], row["percent"], row["grade"], row["findings"], bool(row["incomplete"])
            )
            for row in rows
        ]

    async def week_findings(self, scope: Scope, start: str, end: str) -> tuple[int, int]:
        """(inspections, below-full answers) submitted in the period."""
        where, params = scope.sql()
        row = await self._db.fetchone(
            f"""SELECT COUNT(DISTINCT i.id) AS n, COUNT(a.clause_id) AS f
                FROM inspections i LEFT JOIN answers a ON a.inspection_id = i.id AND {FINDING}
                WHERE {SUBMITTED}{where}""",
            (start, end, *params),
        )
        assert row is not None
        return row["n"], row["f"]

    async def overdue_duties(self, scope: Scope, now: str, limit: int) -> list[tuple[str, str, str]]:
        """(site, rule id, due date) of periodic duties still open past their due moment, oldest first."""
        if not await self._has_table("duties"):
            return []
        where, params = scope.sql("d.site_id")
        rows = await self._db.fetchall(
            f"""SELECT s.name, d.rule_id, d.due_date FROM duties d JOIN sites s ON s.id = d.site_id
                WHERE d.status = 'open' AND d.due_at <= ?{where} ORDER BY d.due_at, s.name LIMIT ?""",
            (now, *params, limit),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def _has_table(self, name: str) -> bool:
        return bool(await self._db.fetchval("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))


# -- the Excel export (synchronous; runs in a worker thread) ------------------------------------


class ExportReader:
    """A read-only connection of its own: WAL lets it read while the bot writes."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self._conn.row_factory = sqlite3.Row

    def close(self) -> None:
        self._conn.close()

    def _rows(self, sql: str, params: Sequence[Any]) -> Iterator[sqlite3.Row]:
        cursor = self._conn.execute(sql, params)
        while batch := cursor.fetchmany(2000):
            yield from batch

    def inspections(self, scope: Scope, start: str, end: str) -> Iterator[sqlite3.Row]:
        where, params = scope.sql()
        return self._rows(
            f"""SELECT i.id, s.name AS site, s.region, {INSPECTOR_NAME} AS inspector, i.edition, i.started_at,
                    i.submitted_at, i.earned, i.possible, i.percent, i.grade, i.veto,
                    i.answered_count, i.na_count, i.clause_count, i.incomplete,
                    (SELECT COUNT(*) FROM answers a WHERE a.inspection_id = i.id AND {FINDING}) AS findings,
                    (SELECT COUNT(*) FROM photos p WHERE p.inspection_id = i.id) AS photos
                FROM inspections i JOIN sites s ON s.id = i.site_id LEFT JOIN users u ON u.id = i.inspector_id
                WHERE {SUBMITTED}{where} ORDER BY i.submitted_at, i.id""",
            (start, end, *params),
        )

    def answers(self, scope: Scope, start: str, end: str) -> Iterator[sqlite3.Row]:
        where, params = scope.sql()
        return self._rows(
            f"""SELECT i.id AS inspection_id, s.name AS site, i.submitted_at, i.edition, a.clause_id,
                    a.category_id, a.answer, a.earned, a.possible, a.answered_at,
                    (SELECT group_concat(n.text, ' / ') FROM notes n
                        WHERE n.inspection_id = i.id AND n.clause_id = a.clause_id) AS notes,
                    (SELECT COUNT(*) FROM photos p WHERE p.inspection_id = i.id AND p.clause_id = a.clause_id) AS photos
                FROM inspections i JOIN sites s ON s.id = i.site_id JOIN answers a ON a.inspection_id = i.id
                WHERE {SUBMITTED}{where} ORDER BY i.submitted_at, i.id""",
            (start, end, *params),
        )

    def categories(self, scope: Scope, start: str, end: str) -> Iterator[sqlite3.Row]:
        where, params = scope.sql()
        return self._rows(
            f"""SELECT i.id AS inspection_id, s.name AS site, i.submitted_at, i.edition, a.category_id,
                    TOTAL(a.earned) AS earned, TOTAL(a.possible) AS possible
                FROM inspections i JOIN sites s ON s.id = i.site_id JOIN answers a ON a.inspection_id = i.id
                WHERE {SUBMITTED}{where} GROUP BY i.id, a.category_id ORDER BY i.submitted_at, i.id""",
            (start, end, *params),
        )

    def duties(self, scope: Scope, start: str, end: str) -> Iterator[sqlite3.Row]:
        """Periodic duties due in the period: site, rule id, period, due date and moment, status, done at."""
        exists = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'duties'").fetchone()
        if not exists:
            return iter(())
        where, params = scope.sql("d.site_id")
        return self._rows(
            f"""SELECT s.name AS site, d.rule_id, d.period, d.due_date, d.due_at, d.status, d.done_at
                FROM duties d JOIN sites s ON s.id = d.site_id
                WHERE d.due_at >= ? AND d.due_at < ?{where} ORDER BY d.due_at, s.name""",
            (start, end, *params),
        )
