"""Corrective actions and their history. Actions are created in the same transaction as the submit
of the inspection that found them, so a crash can never leave a submitted inspection without them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.action_assignees import AssigneeRepository
from storage.action_extensions import ExtensionRepository, ExtensionRow
from storage.action_history import alert_sync, event_sync
from storage.db import Database, Row


@dataclass(frozen=True)
class NewAction:
    clause_id: str
    answer: str
    severity: str
    due_date: str  # local ISO dates: fixed by, first overdue follow-up, managers told
    follow_up_on: str
    escalate_on: str
    repeat_of: int | None = None  # the previous inspection that found it too (重复问题)


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
    repeat_of: int | None = None
    found_again: int = 0  # visits since that found it not fixed, or back


@dataclass(frozen=True)
class ActionEvent:
    at: str
    actor_id: int | None
    actor_name: str | None
    event: str
    round: int
    due_date: str | None
    detail: str | None
    asked_due: str | None = None  # an extension's request: the date asked for


@dataclass(frozen=True)
class ProofItem:
    id: int
    round: int
    kind: str  # photo, document, note
    file_id: str | None
    sha256: str | None
    file_name: str | None
    text: str | None
    sent_by: int
    created_at: str
    reused: str | None = None  # a file seen before: REUSED_BEFORE or REUSED_EARLIER (see REUSED_SQL)


@dataclass(frozen=True)
class ProofAdded:
    added: bool  # False: not added (the same file again in this round, or the action moved on)
    reused: str | None = None  # the file was the finding's "before" photo, or proof of an earlier round


REUSED_BEFORE, REUSED_EARLIER = "before", "earlier"
# Whether proof ``e`` (of action ``a``) is a file seen before: one of the finding's own photos (the
# "before", table photos) or proof of an earlier round of the action (sent again after a return).
# Same bytes (sha256: a file, a saved photo sent again) or the same stored Telegram file
# (file_unique_id: a forwarded photo). Computed where proof is read, so no extra query.
REUSED_SQL = f"""CASE WHEN e.kind = 'note' THEN NULL
    WHEN EXISTS (SELECT 1 FROM photos p WHERE p.inspection_id = a.inspection_id AND p.clause_id = a.clause_id
                 AND (p.sha256 = e.sha256 OR p.file_unique_id = e.file_unique_id)) THEN '{REUSED_BEFORE}'
    WHEN EXISTS (SELECT 1 FROM action_evidence o WHERE o.action_id = e.action_id AND o.round < e.round
                 AND (o.sha256 = e.sha256 OR o.file_unique_id = e.file_unique_id)) THEN '{REUSED_EARLIER}'
    END"""


_SELECT = """SELECT a.*, s.name AS site_name, i.rubric_hash, i.inspector_id
    FROM actions a JOIN sites s ON s.id = a.site_id JOIN inspections i ON i.id = a.inspection_id"""


def reconcile_for_inspection_sync(
    conn: sqlite3.Connection,
    inspection_id: int,
    site_id: int,
    actions: Sequence[NewAction],
    actor_id: int,
    now: str,
) -> None:
    """Inside the submit's transaction: one action per finding, each with its history. After a
    reopen, a finding still there keeps its action (and due date), a new one gets an action, and the
    action of a finding no longer there is cancelled, recorded. A finding marked 当场整改 in review
    gets its action closed at once (event ``on_the_spot``, its "after" photo as round-1 proof) and no
    notice; a mark on what is no longer a finding is dropped."""
    rows = conn.execute(
        "SELECT id, clause_id, answer, severity, status, round FROM actions WHERE inspection_id = ?", (inspection_id,)
    ).fetchall()
    existing = {row["clause_id"]: row for row in rows}
    wanted = {action.clause_id: action for action in actions}
    marks = {m["clause_id"]: m for m in conn.execute(_MARKS, (inspection_id,)).fetchall()}
    for action in actions:
        row = existing.get(action.clause_id)
        mark = marks.get(action.clause_id)
        if row is None:
            cursor = conn.execute(
                """INSERT INTO actions (inspection_id, site_id, clause_id, answer, severity, due_date, follow_up_on,
                                        escalate_on, repeat_of, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    inspection_id,
                    site_id,
                    action.clause_id,
                    action.answer,
                    action.severity,
                    action.due_date,
                    action.follow_up_on,
                    action.escalate_on,
                    action.repeat_of,
                    now,
                    now,
                ),
            )
            action_id = cursor.lastrowid
            assert action_id is not None
            event_sync(conn, action_id, now, actor_id, "created", 1)
            if mark is not None:
                _close_on_the_spot_sync(conn, action_id, 1, mark, actor_id, now)
            else:
                alert_sync(conn, action_id, "notice", 1, actor_id, now)
            continue
        status = row["status"]
        if status == "cancelled" or (row["answer"], row["severity"]) != (action.answer, action.severity):
            status = "open" if status == "cancelled" else status
            conn.execute(
                "UPDATE actions SET answer = ?, severity = ?, status = ?, updated_at = ? WHERE id = ?",
                (action.answer, action.severity, status, now, row["id"]),
            )
            event_sync(conn, row["id"], now, actor_id, "changed", row["round"], action.answer)
            if row["status"] == "cancelled" and mark is None:  # back after a reopen: the site hears of it again
                alert_sync(conn, row["id"], "notice", row["round"], actor_id, now)
        if mark is not None and status in ("open", "submitted"):  # marked after a reopen
            _close_on_the_spot_sync(conn, row["id"], row["round"], mark, actor_id, now)
    for clause_id, row in existing.items():
        if clause_id not in wanted and row["status"] in ("open", "submitted"):
            conn.execute("UPDATE actions SET status = 'cancelled', updated_at = ? WHERE id = ?", (now, row["id"]))
            event_sync(conn, row["id"], now, actor_id, "cancelled", row["round"], "finding_removed")
    stale = [clause_id for clause_id in marks if clause_id not in wanted]
    conn.executemany(
        "DELETE FROM on_the_spot WHERE inspection_id = ? AND clause_id = ?", [(inspection_id, c) for c in stale]
    )


_MARKS = """SELECT clause_id, reason, file_id, file_unique_id, sha256, mime_type, size, marked_by
            FROM on_the_spot WHERE inspection_id = ?"""


def _close_on_the_spot_sync(
    conn: sqlite3.Connection, action_id: int, round_: int, mark: sqlite3.Row, actor_id: int, now: str
) -> None:
    """当场整改: closed as of the submit, on time, with the reason and the "after" photo as proof."""
    conn.execute(
        "UPDATE actions SET status = 'closed', closed_at = ?, updated_at = ? WHERE id = ?", (now, now, action_id)
    )
    event_sync(conn, action_id, now, actor_id, "on_the_spot", round_, mark["reason"])
    if mark["file_unique_id"] is not None:
        conn.execute(
            """INSERT OR IGNORE INTO action_evidence (action_id, round, kind, file_id, file_unique_id, sha256,
                   mime_type, size, text, sent_by, created_at)
               VALUES (?, ?, 'photo', ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                action_id,
                round_,
                mark["file_id"],
                mark["file_unique_id"],
                mark["sha256"],
                mark["mime_type"],
                mark["size"],
                mark["reason"],
                mark["marked_by"],
                now,
            ),
        )


def plan_rechecks_sync(conn: sqlite3.Connection, inspection_id: int, site_id: int) -> None:
    """Inside the new inspection's transaction: the site's actions still open, or closed since its
    last visit, are to be re-checked (复查)."""
    conn.execute(
        """INSERT OR IGNORE INTO action_rechecks (inspection_id, action_id)
           SELECT ?, a.id FROM actions a
           WHERE a.site_id = ? AND (a.status IN ('open', 'submitted') OR (a.status = 'closed'
               AND a.closed_at >= COALESCE((SELECT MAX(i.submitted_at) FROM inspections i
                                            WHERE i.site_id = a.site_id AND i.status = 'submitted'), '')))""",
        (inspection_id, site_id),
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
        self,
        site_ids: Sequence[int] | None,
        statuses: Sequence[str],
        due_before: str | None = None,
        page: tuple[int, int] | None = None,
    ) -> list[ActionRow]:
        """Actions of ``site_ids`` (None: every site) in ``statuses``, the most urgent first; with
        ``due_before`` (a local date) only those whose due date has passed it; ``page`` = (offset,
        size) for one page of them."""
        if site_ids is not None and not site_ids:
            return []
        where, params = _listed_where(site_ids, statuses, due_before)
        limit = " LIMIT ? OFFSET ?" if page else ""
        rows = await self._db.fetchall(
            f"{_SELECT} WHERE {where} ORDER BY a.due_date, s.name, a.id{limit}",
            [*params, *((page[1], page[0]) if page else ())],
        )
        return [_action(row) for row in rows]

    async def count_listed(self, site_ids: Sequence[int] | None, statuses: Sequence[str]) -> int:
        if site_ids is not None and not site_ids:
            return 0
        where, params = _listed_where(site_ids, statuses, None)
        return int(await self._db.fetchval(f"SELECT COUNT(*) FROM actions a WHERE {where}", params))

    async def events(self, action_id: int) -> list[ActionEvent]:
        rows = await self._db.fetchall(
            """SELECT e.*, COALESCE(u.registered_name, TRIM(u.first_name || ' ' || COALESCE(u.last_name, '')))
                      AS actor_name, x.new_due_date AS asked_due
               FROM action_events e LEFT JOIN users u ON u.id = e.actor_id
                    LEFT JOIN action_extensions x ON x.id = e.extension_id
               WHERE e.action_id = ? ORDER BY e.id""",
            (action_id,),
        )
        return [
            ActionEvent(
                r["at"],
                r["actor_id"],
                r["actor_name"],
                r["event"],
                r["round"],
                r["due_date"],
                r["detail"],
                r["asked_due"],
            )
            for r in rows
        ]

    async def pending_extension(self, action_id: int) -> ExtensionRow | None:
        return await ExtensionRepository(self._db).pending_of(action_id)

    def assignees(self) -> AssigneeRepository:
        return AssigneeRepository(self._db)

    # -- the fix-and-verify loop. Each transition is one transaction with its event and checks the
    # state it starts from in its UPDATE, so a double tap or a stale button applies nothing.

    async def roles_at(self, user_id: int, site_id: int) -> set[str]:
        """The roles through which ``user_id`` reaches the (active) site: a grant of every site, of
        the site, or of its region."""
        rows = await self._db.fetchall(
            """SELECT DISTINCT r.role FROM user_roles r JOIN sites s ON s.id = ? AND s.active = 1
               WHERE r.user_id = ? AND ((r.site_id IS NULL AND r.region IS NULL) OR r.site_id = s.id
                                        OR r.region = s.region)""",
            (site_id, user_id),
        )
        return {row["role"] for row in rows}

    async def proof_count(self, action_id: int, round_: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM action_evidence WHERE action_id = ? AND round = ?", (action_id, round_)
            )
        )

    async def proof(self, action_id: int, round_: int) -> list[ProofItem]:
        rows = await self._db.fetchall(
            f"""SELECT e.*, {REUSED_SQL} AS reused FROM action_evidence e JOIN actions a ON a.id = e.action_id
                WHERE e.action_id = ? AND e.round = ? ORDER BY e.id""",
            (action_id, round_),
        )
        return [
            ProofItem(
                r["id"],
                r["round"],
                r["kind"],
                r["file_id"],
                r["sha256"],
                r["file_name"],
                r["text"],
                r["sent_by"],
                r["created_at"],
                r["reused"],
            )
            for r in rows
        ]

    async def last_return(self, action_id: int) -> str | None:
        return await self._db.fetchval(
            "SELECT detail FROM action_events WHERE action_id = ? AND event = 'returned' ORDER BY id DESC LIMIT 1",
            (action_id,),
        )

    async def add_proof(
        self,
        action_id: int,
        round_: int,
        kind: str,
        sent_by: int,
        now: str,
        *,
        file_id: str | None = None,
        file_unique_id: str | None = None,
        sha256: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        text: str | None = None,
    ) -> ProofAdded:
        """Proof for the round, kept only while the action is still open in that round; with whether
        the file was seen before (the verifier is warned of it, the sender told)."""

        def work(conn: sqlite3.Connection) -> ProofAdded:
            cursor = conn.execute(
                """INSERT OR IGNORE INTO action_evidence (action_id, round, kind, file_id, file_unique_id, sha256,
                       file_name, mime_type, size, text, sent_by, created_at)
                   SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
                   WHERE EXISTS (SELECT 1 FROM actions WHERE id = ? AND status = 'open' AND round = ?)""",
                (
                    action_id,
                    round_,
                    kind,
                    file_id,
                    file_unique_id,
                    sha256,
                    file_name,
                    mime_type,
                    size,
                    text,
                    sent_by,
                    now,
                    action_id,
                    round_,
                ),
            )
            if cursor.rowcount != 1:
                return ProofAdded(False)
            (reused,) = conn.execute(
                f"""SELECT {REUSED_SQL} FROM action_evidence e JOIN actions a ON a.id = e.action_id
                    WHERE e.id = ?""",
                (cursor.lastrowid,),
            ).fetchone()
            return ProofAdded(True, reused)

        return await self._db.transaction(work)

    async def submit(self, action_id: int, round_: int, actor_id: int, now: str, pending_kind: str) -> bool:
        """open -> submitted, when the round has proof; clears the person's proof question. False:
        nothing changed (already submitted, returned or closed meanwhile, or no proof)."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE actions SET status = 'submitted', updated_at = ?
                   WHERE id = ? AND status = 'open' AND round = ?
                     AND EXISTS (SELECT 1 FROM action_evidence e WHERE e.action_id = actions.id
                                 AND e.round = actions.round)""",
                (now, action_id, round_),
            )
            if cursor.rowcount != 1:
                return False
            event_sync(conn, action_id, now, actor_id, "submitted", round_)
            alert_sync(conn, action_id, "review", round_, actor_id, now)
            _clear_pending_sync(conn, actor_id, pending_kind, action_id)
            return True

        return await self._db.transaction(work)

    async def close(self, action_id: int, round_: int, actor_id: int, now: str) -> bool:
        """submitted -> closed (the verifier accepted the proof)."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE actions SET status = 'closed', closed_at = ?, updated_at = ?
                   WHERE id = ? AND status = 'submitted' AND round = ?""",
                (now, now, action_id, round_),
            )
            if cursor.rowcount != 1:
                return False
            event_sync(conn, action_id, now, actor_id, "closed", round_)
            alert_sync(conn, action_id, "closed", round_, actor_id, now)
            return True

        return await self._db.transaction(work)

    async def return_(
        self, action_id: int, round_: int, actor_id: int, reason: str, now: str, pending_kind: str
    ) -> bool:
        """submitted -> open, round + 1, with the reason; clears the verifier's reason question. The
        event keeps the round whose proof was refused."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE actions SET status = 'open', round = round + 1, updated_at = ?
                   WHERE id = ? AND status = 'submitted' AND round = ?""",
                (now, action_id, round_),
            )
            if cursor.rowcount != 1:
                return False
            event_sync(conn, action_id, now, actor_id, "returned", round_, reason)
            alert_sync(conn, action_id, "returned", round_, actor_id, now)
            _clear_pending_sync(conn, actor_id, pending_kind, action_id)
            return True

        return await self._db.transaction(work)


def _listed_where(
    site_ids: Sequence[int] | None, statuses: Sequence[str], due_before: str | None
) -> tuple[str, list[object]]:
    where = [f"a.status IN ({','.join('?' * len(statuses))})"]
    params: list[object] = list(statuses)
    if site_ids is not None:
        where.append(f"a.site_id IN ({','.join('?' * len(site_ids))})")
        params.extend(site_ids)
    if due_before is not None:
        where.append("a.due_date < ?")
        params.append(due_before)
    return " AND ".join(where), params


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
        repeat_of=row["repeat_of"],
        found_again=row["found_again"],
    )


def _clear_pending_sync(conn: sqlite3.Connection, user_id: int, kind: str, action_id: int) -> None:
    """The person's question about this action (payload ``<action>|<asked at>``), if it still is one."""
    prefix = f"{action_id}|"
    conn.execute(
        "DELETE FROM pending_inputs WHERE user_id = ? AND kind = ? AND substr(payload, 1, ?) = ?",
        (user_id, kind, len(prefix), prefix),
    )
