"""Inspections, their answers, notes and photos. Every write commits before the bot replies."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.actions import NewAction, plan_rechecks_sync, reconcile_for_inspection_sync
from storage.audit import AuditEntry, write_audit_sync
from storage.db import Database, Row


@dataclass(frozen=True)
class InspectionRow:
    id: int
    site_id: int
    site_name: str
    inspector_id: int
    rubric_hash: str
    edition: int
    status: str
    cursor: str | None
    awaiting: str | None
    started_at: str
    submitted_at: str | None
    percent: float | None
    grade: str | None
    card_message_id: int | None = None  # the live card: the one message whose buttons act
    card_clause: str | None = None  # the clause that card shows
    evidence_clause: str | None = None  # where more photos and notes go after evidence moved the walk
    answered_count: int | None = None  # frozen at submit: answered by hand (the rest marked 不适用)

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"


@dataclass(frozen=True)
class Coverage:
    """How much of the rubric a submitted score stands on, frozen with it."""

    answered: int  # answered by the inspector (not marked 不适用 wholesale at submit)
    not_applicable: int  # 不适用, by hand or wholesale
    clauses: int
    incomplete: bool  # below the rubric's minimum coverage


@dataclass(frozen=True)
class ClauseEvidence:
    notes: tuple[str, ...]
    photos: int


@dataclass(frozen=True)
class StoredAnswer:
    clause_id: str
    answer: str
    answered_at: str


@dataclass(frozen=True)
class PreviousFinding:
    """A clause found below 符合 at the site's previous inspection, and where its action stands."""

    inspection_id: int
    answer: str  # partial | fail
    action_status: str | None  # open, submitted, closed, cancelled; None: found before actions existed


@dataclass(frozen=True)
class SpotMark:
    """A finding the inspector marked fixed on the spot (当场整改) in review."""

    clause_id: str
    reason: str
    file_id: str | None  # the "after" photo
    sha256: str | None


@dataclass(frozen=True)
class StoredDeduction:
    """The repeat-finding deduction frozen at submit: ``count`` repeats at ``points`` each came to
    ``amount`` (capped so the net never goes below 0)."""

    amount: float = 0.0
    count: int = 0
    points: float = 0.0


@dataclass(frozen=True)
class InspectionState:
    """An inspection with its answers and evidence, read together."""

    row: InspectionRow
    answers: dict[str, StoredAnswer]
    evidence: dict[str, ClauseEvidence]
    previous: dict[str, PreviousFinding] = field(default_factory=dict)  # by clause id


# The findings of the site's inspection submitted last before this one was started ("last time").
_PREVIOUS = """SELECT a.inspection_id, a.clause_id, a.answer, act.status
    FROM answers a LEFT JOIN actions act ON act.inspection_id = a.inspection_id AND act.clause_id = a.clause_id
    WHERE a.answer IN ('partial', 'fail') AND a.inspection_id = (
        SELECT p.id FROM inspections p WHERE p.site_id = ? AND p.status = 'submitted' AND p.id != ?
            AND p.started_at < ? ORDER BY p.submitted_at DESC LIMIT 1)"""


def previous_findings_sync(conn: sqlite3.Connection, row: InspectionRow) -> dict[str, PreviousFinding]:
    found = conn.execute(_PREVIOUS, (row.site_id, row.id, row.started_at)).fetchall()
    return {r["clause_id"]: PreviousFinding(r["inspection_id"], r["answer"], r["status"]) for r in found}


def _inspection(row: Row) -> InspectionRow:
    return InspectionRow(
        id=row["id"],
        site_id=row["site_id"],
        site_name=row["site_name"],
        inspector_id=row["inspector_id"],
        rubric_hash=row["rubric_hash"],
        edition=row["edition"],
        status=row["status"],
        cursor=row["cursor"],
        awaiting=row["awaiting"],
        started_at=row["started_at"],
        submitted_at=row["submitted_at"],
        percent=row["percent"],
        grade=row["grade"],
        card_message_id=row["card_message_id"],
        card_clause=row["card_clause"],
        evidence_clause=row["evidence_clause"],
        answered_count=row["answered_count"],
    )


_SELECT = "SELECT i.*, s.name AS site_name FROM inspections i JOIN sites s ON s.id = i.site_id"
# The pointer to the inspection a person saw or tapped last, written with the change that moved it.
_FOCUS = """INSERT INTO inspection_focus (user_id, inspection_id)
            SELECT inspector_id, id FROM inspections WHERE id = ?
            ON CONFLICT (user_id) DO UPDATE SET inspection_id = excluded.inspection_id"""
_ANSWERS = "SELECT clause_id, answer, answered_at FROM answers WHERE inspection_id = ?"
# Notes in the order written, and photo counts (text NULL) per clause: one query for both.
_EVIDENCE = """SELECT clause_id, text, 0 AS photos, id FROM notes WHERE inspection_id = ?
               UNION ALL
               SELECT clause_id, NULL, COUNT(*), 0 FROM photos WHERE inspection_id = ? GROUP BY clause_id
               ORDER BY id"""


def _answers(rows: Iterable[Row]) -> dict[str, StoredAnswer]:
    return {row["clause_id"]: StoredAnswer(row["clause_id"], row["answer"], row["answered_at"]) for row in rows}


def _evidence(rows: Iterable[Row]) -> dict[str, ClauseEvidence]:
    notes: dict[str, list[str]] = {}
    photos: dict[str, int] = {}
    for row in rows:
        if row["text"] is None:
            photos[row["clause_id"]] = row["photos"]
        else:
            notes.setdefault(row["clause_id"], []).append(row["text"])
    clauses = set(notes) | set(photos)
    return {clause: ClauseEvidence(tuple(notes.get(clause, ())), photos.get(clause, 0)) for clause in clauses}


def repeat_deductions_in(database: Path, start: str, end: str) -> dict[int, float]:
    """The export's column: inspections submitted in ``[start, end)`` with a repeat-finding
    deduction, by id (the rest took none). A read-only connection of its own, like the export's."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            """SELECT id, repeat_deduction FROM inspections WHERE status = 'submitted' AND submitted_at >= ?
                 AND submitted_at < ? AND repeat_count > 0""",
            (start, end),
        ).fetchall()
    finally:
        conn.close()
    return {row[0]: row[1] for row in rows}


class InspectionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- rubric versions ------------------------------------------------------------------------

    async def remember_rubric(
        self, content_hash: str, rubric_id: str, edition: int, title: str, document: dict[str, Any], now: str
    ) -> None:
        await self._db.execute(
            """INSERT OR IGNORE INTO rubric_versions
               (content_hash, rubric_id, edition, title, snapshot, first_seen_at) VALUES (?, ?, ?, ?, ?, ?)""",
            (content_hash, rubric_id, edition, title, json.dumps(document, ensure_ascii=False), now),
        )

    async def rubric_snapshot(self, content_hash: str) -> dict[str, Any] | None:
        text = await self._db.fetchval("SELECT snapshot FROM rubric_versions WHERE content_hash = ?", (content_hash,))
        return json.loads(text) if text else None

    # -- inspections ----------------------------------------------------------------------------

    async def create(
        self, site_id: int, inspector_id: int, rubric_hash: str, edition: int, first_clause: str | None, now: str
    ) -> int:
        """A new draft, with its 复查 list (the site's actions to re-check), in one transaction."""

        def work(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                """INSERT INTO inspections (site_id, inspector_id, rubric_hash, edition, status, cursor,
                   started_at, updated_at) VALUES (?, ?, ?, ?, 'draft', ?, ?, ?)""",
                (site_id, inspector_id, rubric_hash, edition, first_clause, now, now),
            )
            inspection_id = cursor.lastrowid
            assert inspection_id is not None
            conn.execute(
                "INSERT INTO inspection_events (inspection_id, at, actor_id, event) VALUES (?, ?, ?, 'started')",
                (inspection_id, now, inspector_id),
            )
            plan_rechecks_sync(conn, inspection_id, site_id)
            return inspection_id

        return await self._db.transaction(work)

    async def get(self, inspection_id: int) -> InspectionRow | None:
        row = await self._db.fetchone_inline(f"{_SELECT} WHERE i.id = ?", (inspection_id,))
        return _inspection(row) if row else None

    async def drafts_of(self, inspector_id: int) -> list[InspectionRow]:
        rows = await self._db.fetchall_inline(
            f"{_SELECT} WHERE i.inspector_id = ? AND i.status = 'draft' ORDER BY i.updated_at DESC", (inspector_id,)
        )
        return [_inspection(row) for row in rows]

    async def active_draft(self, inspector_id: int) -> InspectionRow | None:
        """The draft whose card the person saw or tapped last: where a free text or photo goes."""
        row = await self._db.fetchone_inline(
            f"""{_SELECT} JOIN inspection_focus f ON f.inspection_id = i.id
                WHERE f.user_id = ? AND i.status = 'draft'""",
            (inspector_id,),
        )
        if row is not None:
            return _inspection(row)
        drafts = await self.drafts_of(inspector_id)  # no pointer yet (a draft from before it existed)
        return drafts[0] if drafts else None

    async def set_cursor(
        self,
        inspection_id: int,
        clause_id: str | None,
        now: str,
        awaiting: str | None = None,
        evidence_clause: str | None = None,
    ) -> None:
        """Move the walk (any tap on the card ends a burst of evidence for an earlier clause)."""

        def store(conn: sqlite3.Connection) -> None:
            conn.execute(
                """UPDATE inspections SET cursor = ?, awaiting = ?, evidence_clause = ?, updated_at = ?
                   WHERE id = ? AND status = 'draft'""",
                (clause_id, awaiting, evidence_clause, now, inspection_id),
            )
            conn.execute(_FOCUS, (inspection_id,))

        await self._db.transaction(store)

    async def set_card(self, inspection_id: int, message_id: int, clause_id: str) -> None:
        """The message now showing the walk's live card, and its clause."""

        def store(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE inspections SET card_message_id = ?, card_clause = ? WHERE id = ?",
                (message_id, clause_id, inspection_id),
            )
            conn.execute(_FOCUS, (inspection_id,))

        await self._db.transaction(store)

    async def switch_rubric(
        self, inspection_id: int, rubric_hash: str, edition: int, first: str | None, now: str
    ) -> bool:
        """Another edition for a draft with no answers yet. False: it has answers (or is not a draft)."""

        def store(conn: sqlite3.Connection) -> bool:
            changed = conn.execute(
                """UPDATE inspections SET rubric_hash = ?, edition = ?, cursor = ?, awaiting = NULL,
                       evidence_clause = NULL, updated_at = ?
                   WHERE id = ? AND status = 'draft'
                     AND NOT EXISTS (SELECT 1 FROM answers WHERE inspection_id = ?)""",
                (rubric_hash, edition, first, now, inspection_id, inspection_id),
            )
            return changed.rowcount > 0

        return await self._db.transaction(store)

    async def touch(self, inspection_id: int, now: str) -> None:
        await self._db.execute("UPDATE inspections SET updated_at = ? WHERE id = ?", (now, inspection_id))

    # -- answers --------------------------------------------------------------------------------

    async def answer(
        self,
        inspection_id: int,
        clause_id: str,
        category_id: str,
        answer: str,
        earned: float | None,
        possible: float | None,
        now: str,
        next_cursor: str | None,
        awaiting: str | None = None,
    ) -> bool:
        """Store one answer and move the cursor in one transaction. False if the inspection is locked."""

        def store(conn: sqlite3.Connection) -> bool:
            moved = conn.execute(
                """UPDATE inspections SET cursor = ?, awaiting = ?, evidence_clause = NULL, updated_at = ?
                   WHERE id = ? AND status = 'draft'""",
                (next_cursor, awaiting, now, inspection_id),
            )
            if moved.rowcount == 0:
                return False
            conn.execute(_FOCUS, (inspection_id,))
            conn.execute(
                """INSERT INTO answers (inspection_id, clause_id, category_id, answer, earned, possible, answered_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (inspection_id, clause_id) DO UPDATE SET answer = excluded.answer,
                       earned = excluded.earned, possible = excluded.possible, answered_at = excluded.answered_at""",
                (inspection_id, clause_id, category_id, answer, earned, possible, now),
            )
            return True

        # The hot path of a walk: one trip to the database thread instead of four.
        return await self._db.transaction(store)

    async def answers(self, inspection_id: int) -> dict[str, StoredAnswer]:
        return _answers(await self._db.fetchall_inline(_ANSWERS, (inspection_id,)))

    async def state(self, inspection_id: int) -> InspectionState | None:
        """The inspection, its answers and its evidence in one snapshot (the tap path: read inline)."""

        def read(conn: sqlite3.Connection) -> InspectionState | None:
            row = conn.execute(f"{_SELECT} WHERE i.id = ?", (inspection_id,)).fetchone()
            if row is None:
                return None
            answers = conn.execute(_ANSWERS, (inspection_id,)).fetchall()
            evidence = conn.execute(_EVIDENCE, (inspection_id, inspection_id)).fetchall()
            inspection = _inspection(row)
            previous = previous_findings_sync(conn, inspection)
            return InspectionState(inspection, _answers(answers), _evidence(evidence), previous)

        return await self._db.read_inline(read)

    async def fill_unanswered(self, inspection_id: int, rows: list[tuple[str, str]], now: str) -> None:
        """Mark (clause_id, category_id) pairs 不适用 (review: "mark the rest N/A")."""

        def store(conn: sqlite3.Connection) -> None:
            conn.executemany(
                """INSERT OR IGNORE INTO answers (inspection_id, clause_id, category_id, answer, earned, possible,
                   answered_at) VALUES (?, ?, ?, 'na', NULL, NULL, ?)""",
                [(inspection_id, clause_id, category_id, now) for clause_id, category_id in rows],
            )

        await self._db.transaction(store)

    # -- 当场整改: findings fixed on the spot, marked in review ------------------------------------

    async def mark_on_the_spot(self, inspection_id: int, clause_id: str, reason: str, actor_id: int, now: str) -> bool:
        """Mark (or re-mark, keeping its photo) a finding fixed on the spot. False: not a draft any more."""

        def store(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """INSERT INTO on_the_spot (inspection_id, clause_id, reason, marked_by, created_at)
                   SELECT id, ?, ?, ?, ? FROM inspections WHERE id = ? AND status = 'draft'
                   ON CONFLICT (inspection_id, clause_id) DO UPDATE SET reason = excluded.reason,
                       marked_by = excluded.marked_by, created_at = excluded.created_at""",
                (clause_id, reason, actor_id, now, inspection_id),
            )
            return cursor.rowcount > 0

        return await self._db.transaction(store)

    async def on_the_spot_photo(
        self, inspection_id: int, clause_id: str, file_id: str, file_unique_id: str, sha256: str, size: int, mime: str
    ) -> bool:
        """The mark's "after" photo (a later one replaces it). False: no such mark on a draft."""

        def store(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE on_the_spot SET file_id = ?, file_unique_id = ?, sha256 = ?, size = ?, mime_type = ?
                   WHERE inspection_id = ? AND clause_id = ?
                     AND EXISTS (SELECT 1 FROM inspections WHERE id = ? AND status = 'draft')""",
                (file_id, file_unique_id, sha256, size, mime, inspection_id, clause_id, inspection_id),
            )
            return cursor.rowcount > 0

        return await self._db.transaction(store)

    async def unmark_on_the_spot(self, inspection_id: int, clause_id: str) -> bool:
        """撤销 before submit. False: there was no mark (a double tap) or the inspection is submitted."""

        def store(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """DELETE FROM on_the_spot WHERE inspection_id = ? AND clause_id = ?
                     AND EXISTS (SELECT 1 FROM inspections WHERE id = ? AND status = 'draft')""",
                (inspection_id, clause_id, inspection_id),
            )
            return cursor.rowcount > 0

        return await self._db.transaction(store)

    async def on_the_spot(self, inspection_id: int) -> dict[str, SpotMark]:
        rows = await self._db.fetchall(
            "SELECT clause_id, reason, file_id, sha256 FROM on_the_spot WHERE inspection_id = ?", (inspection_id,)
        )
        return {r["clause_id"]: SpotMark(r["clause_id"], r["reason"], r["file_id"], r["sha256"]) for r in rows}

    async def repeat_deduction(self, inspection_id: int) -> StoredDeduction:
        row = await self._db.fetchone(
            "SELECT repeat_deduction, repeat_count, repeat_points FROM inspections WHERE id = ?", (inspection_id,)
        )
        if row is None:
            return StoredDeduction()
        return StoredDeduction(row["repeat_deduction"], row["repeat_count"], row["repeat_points"])

    # -- evidence -------------------------------------------------------------------------------

    async def add_note(self, inspection_id: int, clause_id: str, text: str, now: str) -> None:
        def store(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO notes (inspection_id, clause_id, text, created_at) VALUES (?, ?, ?, ?)",
                (inspection_id, clause_id, text, now),
            )
            conn.execute("UPDATE inspections SET awaiting = NULL, updated_at = ? WHERE id = ?", (now, inspection_id))

        await self._db.transaction(store)

    async def add_photo(
        self,
        inspection_id: int,
        clause_id: str,
        file_id: str,
        file_unique_id: str,
        sha256: str | None,
        size: int | None,
        mime_type: str | None,
        now: str,
    ) -> bool:
        """False when this picture is already attached to this clause (same file_unique_id)."""

        def store(conn: sqlite3.Connection) -> bool:
            reused = conn.execute(
                "SELECT inspection_id FROM photos WHERE file_unique_id = ? AND inspection_id != ? LIMIT 1",
                (file_unique_id, inspection_id),
            ).fetchone()
            inserted = conn.execute(
                """INSERT OR IGNORE INTO photos (inspection_id, clause_id, file_id, file_unique_id, sha256, size,
                   mime_type, reused_from, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    inspection_id,
                    clause_id,
                    file_id,
                    file_unique_id,
                    sha256,
                    size,
                    mime_type,
                    reused[0] if reused else None,
                    now,
                ),
            )
            conn.execute("UPDATE inspections SET awaiting = NULL, updated_at = ? WHERE id = ?", (now, inspection_id))
            return inserted.rowcount > 0

        return await self._db.transaction(store)

    async def evidence(self, inspection_id: int) -> dict[str, ClauseEvidence]:
        return _evidence(await self._db.fetchall_inline(_EVIDENCE, (inspection_id, inspection_id)))

    # -- submit ---------------------------------------------------------------------------------

    async def submit(
        self,
        inspection_id: int,
        earned: float,
        possible: float,
        percent: float | None,
        grade: str,
        veto: bool,
        coverage: Coverage,
        actor_id: int,
        now: str,
        actions: Sequence[NewAction] = (),
        deduction: StoredDeduction | None = None,
    ) -> bool:
        """Lock the inspection with its frozen score (net of ``deduction``), and create (or, after a
        reopen, reconcile) the corrective actions of its findings in the same transaction, one trip.
        False when it was not a draft (double submit)."""
        taken = deduction or StoredDeduction()

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE inspections SET status = 'submitted', submitted_at = ?, updated_at = ?, cursor = NULL,
                   awaiting = NULL, evidence_clause = NULL, earned = ?, possible = ?, percent = ?, grade = ?,
                   veto = ?, answered_count = ?, na_count = ?, clause_count = ?, incomplete = ?,
                   repeat_deduction = ?, repeat_count = ?, repeat_points = ?
                   WHERE id = ? AND status = 'draft'""",
                (
                    now,
                    now,
                    earned,
                    possible,
                    percent,
                    grade,
                    int(veto),
                    coverage.answered,
                    coverage.not_applicable,
                    coverage.clauses,
                    int(coverage.incomplete),
                    taken.amount,
                    taken.count,
                    taken.points,
                    inspection_id,
                ),
            )
            if cursor.rowcount == 0:
                return False
            conn.execute(
                "INSERT INTO inspection_events (inspection_id, at, actor_id, event) VALUES (?, ?, ?, 'submitted')",
                (inspection_id, now, actor_id),
            )
            site_id = conn.execute("SELECT site_id FROM inspections WHERE id = ?", (inspection_id,)).fetchone()[0]
            reconcile_for_inspection_sync(conn, inspection_id, site_id, actions, actor_id, now)
            return True

        return await self._db.transaction(work)

    async def reopen(self, inspection_id: int, actor_id: int, reason: str, now: str, audit: AuditEntry) -> bool:
        """Unlock a submitted inspection; its event and the audit entry are written in the same transaction."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE inspections SET status = 'draft', updated_at = ?, reopened_count = reopened_count + 1,
                   earned = NULL, possible = NULL, percent = NULL, grade = NULL, veto = 0,
                   repeat_deduction = 0, repeat_count = 0, repeat_points = 0
                   WHERE id = ? AND status = 'submitted'""",
                (now, inspection_id),
            )
            if cursor.rowcount == 0:
                return False
            conn.execute(
                """INSERT INTO inspection_events (inspection_id, at, actor_id, event, detail)
                   VALUES (?, ?, ?, 'reopened', ?)""",
                (inspection_id, now, actor_id, reason),
            )
            write_audit_sync(conn, audit, now)
            return True

        return await self._db.transaction(work)
