"""Inspection plans: the plans of sites and regions, the planned visits, missed-visit facts for the
managers, and the plan rows of the duty engine's outbox (``storage/migrations/0012_plans.sql``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from storage.audit import AuditEntry, write_audit_sync
from storage.db import Database, Row
from storage.users import display_name_sql

_NAME = display_name_sql()


@dataclass(frozen=True)
class PlanRow:
    id: int
    site_id: int | None
    region: str | None
    frequency: str | None  # None: inherited (region, then the default)
    inspector_id: int | None
    inspector_name: str | None
    updated_at: str


@dataclass(frozen=True)
class VisitRow:
    id: int
    site_id: int
    site_name: str
    region: str | None
    site_active: bool
    period: str
    frequency: str
    period_start: date
    period_end: date
    due_date: date
    closes_on: date
    inspector_id: int | None
    inspector_name: str | None
    on_watch: bool
    nudged_at: str | None
    closed_at: str | None
    escalated_at: str | None
    waived_reason: str | None
    archived: bool = False  # the site was archived when the visit's window ended


@dataclass(frozen=True)
class NewVisit:
    site_id: int
    period: str
    frequency: str
    period_start: date
    period_end: date
    due_date: date
    closes_on: date
    inspector_id: int | None
    on_watch: bool


@dataclass(frozen=True)
class SubmittedRow:
    id: int
    site_id: int
    first_submitted_at: str  # UTC: a reopened and resubmitted inspection counts from its first submission
    grade: str | None
    inspector_id: int


@dataclass(frozen=True)
class PlanAlertRow:
    id: int
    visit_id: int
    chat_id: int
    kind: str
    digest: str | None


def _plan(row: Row) -> PlanRow:
    return PlanRow(
        row["id"],
        row["site_id"],
        row["region"],
        row["frequency"],
        row["inspector_id"],
        row["inspector_name"],
        row["updated_at"],
    )


def _visit(row: Row) -> VisitRow:
    return VisitRow(
        id=row["id"],
        site_id=row["site_id"],
        site_name=row["site_name"],
        region=row["region"],
        site_active=bool(row["site_active"]),
        period=row["period"],
        frequency=row["frequency"],
        period_start=date.fromisoformat(row["period_start"]),
        period_end=date.fromisoformat(row["period_end"]),
        due_date=date.fromisoformat(row["due_date"]),
        closes_on=date.fromisoformat(row["closes_on"]),
        inspector_id=row["inspector_id"],
        inspector_name=row["inspector_name"] if row["inspector_id"] is not None else None,
        on_watch=bool(row["on_watch"]),
        nudged_at=row["nudged_at"],
        closed_at=row["closed_at"],
        escalated_at=row["escalated_at"],
        waived_reason=row["waived_reason"],
        archived=bool(row["archived"]),
    )


_PLAN_SELECT = f"""SELECT p.*, {_NAME} AS inspector_name FROM plans p LEFT JOIN users u ON u.id = p.inspector_id"""
_VISIT_SELECT = f"""
    SELECT v.*, s.name AS site_name, s.region, s.active AS site_active, {_NAME} AS inspector_name
    FROM plan_visits v JOIN sites s ON s.id = v.site_id LEFT JOIN users u ON u.id = v.inspector_id
"""


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class PlanRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- plans -------------------------------------------------------------------------------------

    async def plans(self) -> list[PlanRow]:
        return [_plan(row) for row in await self._db.fetchall(_PLAN_SELECT + " ORDER BY p.id")]

    async def region_plan(self, region: str) -> PlanRow | None:
        row = await self._db.fetchone(_PLAN_SELECT + " WHERE p.region = ?", (region,))
        return _plan(row) if row else None

    async def set_plan(
        self,
        site_id: int | None,
        region: str | None,
        changes: dict[str, object],
        now: str,
        audit: AuditEntry,
        open_visits_from: date | None = None,
    ) -> None:
        """Create or change a site's or a region's plan (``changes``: frequency, inspector_id), with its
        audit entry. A new inspector also takes the site's open visits (those closing on or after
        ``open_visits_from``), so reminders go to them at once."""
        where, key = ("site_id = ?", site_id) if site_id is not None else ("region = ?", region)

        def work(conn: sqlite3.Connection) -> None:
            found = conn.execute(f"SELECT id FROM plans WHERE {where}", (key,)).fetchone()
            if found is None:
                conn.execute(
                    "INSERT INTO plans (site_id, region, updated_by, updated_at) VALUES (?, ?, ?, ?)",
                    (site_id, region, audit.actor_id, now),
                )
            for column, value in changes.items():
                assert column in ("frequency", "inspector_id")
                conn.execute(
                    f"UPDATE plans SET {column} = ?, updated_by = ?, updated_at = ? WHERE {where}",
                    (value, audit.actor_id, now, key),
                )
            if "inspector_id" in changes and site_id is not None and open_visits_from is not None:
                conn.execute(
                    """UPDATE plan_visits SET inspector_id = ? WHERE site_id = ? AND closed_at IS NULL
                       AND closes_on >= ?""",
                    (changes["inspector_id"], site_id, open_visits_from.isoformat()),
                )
            write_audit_sync(conn, audit, now)

        await self._db.transaction(work)

    # -- visits ------------------------------------------------------------------------------------

    async def latest_visits(self) -> dict[int, VisitRow]:
        """The newest visit of each site."""
        rows = await self._db.fetchall(
            _VISIT_SELECT
            + """ WHERE v.period_start = (SELECT MAX(w.period_start) FROM plan_visits w WHERE w.site_id = v.site_id)"""
        )
        return {row["site_id"]: _visit(row) for row in rows}

    async def create_visits(self, visits: Sequence[tuple[NewVisit, AuditEntry | None]], now: str) -> int:
        """Insert visits (each once: unique per site and first day) with the watch rule's audit entries,
        in one transaction. Returns how many were new."""

        def work(conn: sqlite3.Connection) -> int:
            created = 0
            for visit, audit in visits:
                cursor = conn.execute(
                    """INSERT OR IGNORE INTO plan_visits (site_id, period, frequency, period_start, period_end,
                           due_date, closes_on, inspector_id, on_watch, created_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        visit.site_id,
                        visit.period,
                        visit.frequency,
                        visit.period_start.isoformat(),
                        visit.period_end.isoformat(),
                        visit.due_date.isoformat(),
                        visit.closes_on.isoformat(),
                        visit.inspector_id,
                        int(visit.on_watch),
                        now,
                    ),
                )
                if cursor.rowcount == 1:
                    created += 1
                    if audit is not None:
                        write_audit_sync(conn, audit, now)
            return created

        return await self._db.transaction(work)

    async def visit(self, visit_id: int) -> VisitRow | None:
        row = await self._db.fetchone(_VISIT_SELECT + " WHERE v.id = ?", (visit_id,))
        return _visit(row) if row else None

    async def visits_of(self, visit_ids: Sequence[int]) -> list[VisitRow]:
        if not visit_ids:
            return []
        rows = await self._db.fetchall(
            _VISIT_SELECT + f" WHERE v.id IN ({_marks(visit_ids)}) ORDER BY v.due_date, s.name", tuple(visit_ids)
        )
        return [_visit(row) for row in rows]

    async def visits_overlapping(self, site_ids: Sequence[int] | None, start: date, end: date) -> list[VisitRow]:
        """Visits with a day in ``[start, end)`` (``site_ids`` None: of every site), by site and date."""
        where = "v.period_start < ? AND v.period_end > ?"
        params: list[object] = [end.isoformat(), start.isoformat()]
        if site_ids is not None:
            if not site_ids:
                return []
            where += f" AND v.site_id IN ({_marks(site_ids)})"
            params += list(site_ids)
        rows = await self._db.fetchall(_VISIT_SELECT + f" WHERE {where} ORDER BY s.name, v.period_start", params)
        return [_visit(row) for row in rows]

    async def unsettled(
        self,
        today: date,
        closes_before: date | None = None,
        due_between: tuple[date, date] | None = None,
        not_nudged: bool = False,
    ) -> list[VisitRow]:
        """Visits begun and not settled yet (open, overdue, or over but not yet checked); narrowed to
        those whose grace ends before ``closes_before``, due within ``due_between``, not nudged yet."""
        where, params = ["v.closed_at IS NULL", "v.period_start <= ?"], [today.isoformat()]
        if closes_before is not None:
            where.append("v.closes_on < ?")
            params.append(closes_before.isoformat())
        if due_between is not None:
            where.append("v.due_date BETWEEN ? AND ?")
            params += [due_between[0].isoformat(), due_between[1].isoformat()]
        if not_nudged:
            where.append("v.nudged_at IS NULL AND v.waived_reason IS NULL")
        rows = await self._db.fetchall(
            _VISIT_SELECT + f" WHERE {' AND '.join(where)} ORDER BY v.due_date, v.id", params
        )
        return [_visit(row) for row in rows]

    async def submitted(self, site_ids: Sequence[int], since: str, until: str) -> list[SubmittedRow]:
        """Submitted inspections of ``site_ids`` first submitted in ``[since, until)`` (UTC)."""
        if not site_ids:
            return []
        rows = await self._db.fetchall(
            f"""SELECT * FROM (
                    SELECT i.id, i.site_id, i.grade, i.inspector_id,
                           COALESCE((SELECT MIN(e.at) FROM inspection_events e WHERE e.inspection_id = i.id
                                     AND e.event = 'submitted'), i.submitted_at) AS first_at
                    FROM inspections i
                    WHERE i.status = 'submitted' AND i.site_id IN ({_marks(site_ids)}) AND i.submitted_at >= ?)
                WHERE first_at >= ? AND first_at < ? ORDER BY first_at, id""",
            (*site_ids, since, since, until),
        )
        return [SubmittedRow(r["id"], r["site_id"], r["first_at"], r["grade"], r["inspector_id"]) for r in rows]

    async def waive(self, visit_id: int, reason: str, by: int, now: str, audit: AuditEntry) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE plan_visits SET waived_reason = ?, waived_by = ?, waived_at = ?
                   WHERE id = ? AND waived_reason IS NULL""",
                (reason, by, now, visit_id),
            )
            if cursor.rowcount != 1:
                return False
            write_audit_sync(conn, audit, now)
            return True

        return await self._db.transaction(work)

    # -- reminders and escalations (each in one transaction with the visit's own change) ----------

    async def plan_nudges(self, nudges: Sequence[tuple[int, Sequence[int]]], now: str) -> int:
        """Each visit's nudge (``nudged_at`` and its outbox rows together), in one transaction; a visit
        nudged already (another tick) is left as it is. Returns how many were planned."""

        def work(conn: sqlite3.Connection) -> int:
            planned = 0
            for visit_id, chats in nudges:
                cursor = conn.execute(
                    "UPDATE plan_visits SET nudged_at = ? WHERE id = ? AND nudged_at IS NULL", (now, visit_id)
                )
                if cursor.rowcount != 1:
                    continue
                planned += 1
                conn.executemany(
                    """INSERT OR IGNORE INTO duty_outbox (key, visit_id, kind, chat_id, created_at)
                       VALUES (?, ?, 'plan_nudge', ?, ?)""",
                    [(f"plan_nudge:{visit_id}:{chat}", visit_id, chat, now) for chat in chats],
                )
            return planned

        return await self._db.transaction(work)

    async def plan_week(self, chats: Sequence[int], monday: date, now: str) -> int:
        """The week's list for each of ``chats`` (once per chat and week, whatever happens)."""

        def work(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(
                """INSERT OR IGNORE INTO duty_outbox (key, kind, chat_id, day, created_at)
                   VALUES (?, 'plan_week', ?, ?, ?)""",
                [(f"plan_week:{chat}:{monday.isoformat()}", chat, monday.isoformat(), now) for chat in chats],
            )
            return conn.total_changes - before

        return await self._db.transaction(work)

    async def close_visits(self, visits: Sequence[tuple[int, Sequence[int], bool]], now: str) -> int:
        """Visits whose window is over, each (id, managers to tell, archived): settled, and a missed one
        (managers given) a fact for each of them, in one transaction; a visit another tick settled is
        left as it is. Returns how many missed visits were escalated."""

        def work(conn: sqlite3.Connection) -> int:
            escalated = 0
            for visit_id, managers, archived in visits:
                cursor = conn.execute(
                    """UPDATE plan_visits SET closed_at = ?, escalated_at = CASE WHEN ? THEN ? END, archived = ?
                       WHERE id = ? AND closed_at IS NULL""",
                    (now, int(bool(managers)), now, int(archived), visit_id),
                )
                if cursor.rowcount != 1 or not managers:
                    continue
                escalated += 1
                conn.executemany(
                    """INSERT OR IGNORE INTO plan_alerts (visit_id, chat_id, kind, created_at)
                       VALUES (?, ?, 'missed', ?)""",
                    [(visit_id, chat, now) for chat in managers],
                )
            return escalated

        return await self._db.transaction(work)

    # -- the managers' missed-visit message --------------------------------------------------------

    async def chats_with_waiting_alerts(self) -> list[int]:
        rows = await self._db.fetchall("SELECT DISTINCT chat_id FROM plan_alerts WHERE digest IS NULL ORDER BY chat_id")
        return [row["chat_id"] for row in rows]

    async def waiting_alerts(self, chat_id: int) -> list[PlanAlertRow]:
        rows = await self._db.fetchall(
            "SELECT * FROM plan_alerts WHERE chat_id = ? AND digest IS NULL ORDER BY id", (chat_id,)
        )
        return [PlanAlertRow(r["id"], r["visit_id"], r["chat_id"], r["kind"], r["digest"]) for r in rows]

    async def plan_digest(self, chat_id: int, day: str, parts: Sequence[Sequence[int]], now: str) -> bool:
        """The day's message of ``chat_id``, one outbox row per part taking its alerts, in one
        transaction; False when that day's was planned already (its alerts then wait a day)."""
        if not parts or not all(parts):
            return False

        def work(conn: sqlite3.Connection) -> bool:
            exists = conn.execute(
                "SELECT 1 FROM duty_outbox WHERE kind = 'plan_digest' AND chat_id = ? AND day = ? LIMIT 1",
                (chat_id, day),
            ).fetchone()
            if exists:
                return False
            for number, alert_ids in enumerate(parts, start=1):
                key = f"plan_digest:{chat_id}:{day}:{number}"
                conn.execute(
                    """INSERT INTO duty_outbox (key, kind, chat_id, round, day, parts, created_at)
                       VALUES (?, 'plan_digest', ?, ?, ?, ?, ?)""",
                    (key, chat_id, number, day, len(parts), now),
                )
                conn.execute(
                    f"UPDATE plan_alerts SET digest = ? WHERE digest IS NULL AND id IN ({_marks(alert_ids)})",
                    (key, *alert_ids),
                )
            return True

        return await self._db.transaction(work)

    async def alerts_of(self, digest_key: str) -> list[PlanAlertRow]:
        rows = await self._db.fetchall("SELECT * FROM plan_alerts WHERE digest = ? ORDER BY id", (digest_key,))
        return [PlanAlertRow(r["id"], r["visit_id"], r["chat_id"], r["kind"], r["digest"]) for r in rows]

    # -- people ------------------------------------------------------------------------------------

    async def site_inspectors(self, site_ids: Sequence[int]) -> dict[int, list[tuple[int, str, bool]]]:
        """Active inspectors of each site through a grant for the site or its region (not the
        everywhere grants: they would hear of every site): (id, name, unreachable)."""
        if not site_ids:
            return {}
        rows = await self._db.fetchall(
            f"""SELECT DISTINCT s.id AS site_id, u.id, {_NAME} AS name, u.unreachable_at
                FROM sites s JOIN user_roles r ON r.role = 'inspector'
                     AND (r.site_id = s.id OR (r.site_id IS NULL AND r.region IS NOT NULL AND r.region = s.region))
                JOIN users u ON u.id = r.user_id AND u.active = 1
                WHERE s.id IN ({_marks(site_ids)}) ORDER BY s.id, u.id""",
            tuple(site_ids),
        )
        found: dict[int, list[tuple[int, str, bool]]] = {}
        for row in rows:
            found.setdefault(row["site_id"], []).append((row["id"], row["name"], row["unreachable_at"] is not None))
        return found

    async def managers_of_sites(self, site_ids: Sequence[int]) -> dict[int, list[int]]:
        """Active, reachable managers who see each site (everywhere, its region, or the site itself), as
        ``storage.users.UserRepository.managers_of_site`` finds them one site at a time."""
        if not site_ids:
            return {}
        rows = await self._db.fetchall(
            f"""SELECT DISTINCT s.id AS site_id, u.id FROM sites s
                JOIN user_roles r ON r.role = 'manager' AND ((r.site_id IS NULL AND r.region IS NULL)
                     OR r.site_id = s.id OR r.region = s.region)
                JOIN users u ON u.id = r.user_id AND u.active = 1 AND u.unreachable_at IS NULL
                WHERE s.id IN ({_marks(site_ids)}) ORDER BY s.id, u.id""",
            tuple(site_ids),
        )
        found: dict[int, list[int]] = {}
        for row in rows:
            found.setdefault(row["site_id"], []).append(row["id"])
        return found

    async def reachable(self, user_ids: Sequence[int]) -> set[int]:
        """Those of ``user_ids`` who are active and not marked unreachable."""
        if not user_ids:
            return set()
        rows = await self._db.fetchall(
            f"SELECT id FROM users WHERE id IN ({_marks(user_ids)}) AND active = 1 AND unreachable_at IS NULL",
            tuple(user_ids),
        )
        return {row["id"] for row in rows}

    async def inspector_sites(self, user_id: int) -> set[int]:
        """Sites the person inspects through a site or region grant."""
        rows = await self._db.fetchall(
            """SELECT DISTINCT s.id FROM sites s JOIN user_roles r ON r.user_id = ? AND r.role = 'inspector'
                   AND (r.site_id = s.id OR (r.site_id IS NULL AND r.region IS NOT NULL AND r.region = s.region))""",
            (user_id,),
        )
        return {row["id"] for row in rows}

    async def active_sites(self) -> list[tuple[int, str | None]]:
        rows = await self._db.fetchall("SELECT id, region FROM sites WHERE active = 1 ORDER BY id")
        return [(row["id"], row["region"]) for row in rows]

    async def sites_of_region(self, region: str) -> list[int]:
        rows = await self._db.fetchall("SELECT id FROM sites WHERE region = ? ORDER BY id", (region,))
        return [row["id"] for row in rows]
