"""People and sites management: invitations, grants, deactivation, access requests, site groups,
bulk imports and the audit log. Every change is written in one transaction with its audit entry.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.action_assignees import release_sync
from storage.audit import AuditEntry, write_audit_sync
from storage.db import Database, Row
from storage.users import display_name, display_name_sql


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    actor_id: int | None
    actor_name: str | None
    action: str
    target: str | None
    target_name: str | None
    detail: str | None


@dataclass(frozen=True)
class Invitation:
    id: int
    role: str
    site_id: int | None
    site_name: str | None
    region: str | None
    created_by: int
    created_at: str
    expires_at: str
    used_by: int | None
    used_at: str | None
    revoked_at: str | None
    inviter_name: str


@dataclass(frozen=True)
class Grant:
    id: int
    user_id: int
    role: str
    site_id: int | None
    site_name: str | None
    region: str | None


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    username: str | None
    active: bool
    unreachable: bool
    language: str | None
    tg_language: str | None
    grants: tuple[Grant, ...] = ()
    registered_name: str | None = None

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.username, self.id, self.registered_name)


@dataclass(frozen=True)
class SiteRow:
    id: int
    name: str
    region: str | None
    group_chat_id: int | None
    group_title: str | None
    active: bool


@dataclass(frozen=True)
class ImportChanges:
    """A validated import: applied in one transaction or not at all."""

    new_sites: list[tuple[str, str | None]] = field(default_factory=list)  # (name, region)
    site_regions: list[tuple[int, str | None]] = field(default_factory=list)  # (site id, new region)
    people: list[tuple[int, str]] = field(default_factory=list)  # (telegram id, name) to create if unknown
    # (telegram id, role, site name or None, region or None); site names resolve after new_sites exist.
    grants: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)
    # (site name, frequency or None, inspector id or None): the site's inspection plan (督导计划).
    plans: list[tuple[str, str | None, int | None]] = field(default_factory=list)


@dataclass(frozen=True)
class ImportCounts:
    sites_added: int
    sites_updated: int
    people_added: int
    grants_added: int
    grants_unchanged: int
    plans_set: int = 0


def _site(row: Row) -> SiteRow:
    return SiteRow(row["id"], row["name"], row["region"], row["group_chat_id"], row["group_title"], bool(row["active"]))


def _grant(row: Row) -> Grant:
    return Grant(row["id"], row["user_id"], row["role"], row["site_id"], row["site_name"], row["region"])


def _invitation(row: Row) -> Invitation:
    return Invitation(
        id=row["id"],
        role=row["role"],
        site_id=row["site_id"],
        site_name=row["site_name"],
        region=row["region"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_by=row["used_by"],
        used_at=row["used_at"],
        revoked_at=row["revoked_at"],
        inviter_name=row["inviter_name"],
    )


_INVITATIONS = f"""
    SELECT i.*, s.name AS site_name, {display_name_sql("i.created_by")} AS inviter_name
    FROM invitations i LEFT JOIN sites s ON s.id = i.site_id LEFT JOIN users u ON u.id = i.created_by"""


def _import_plan(
    conn: sqlite3.Connection, site_id: int, frequency: str | None, inspector: int | None, actor_id: int, now: str
) -> None:
    """A site's inspection plan from an import row (storage/plans.py keeps the rest of the plans' SQL)."""
    found = conn.execute("SELECT id FROM plans WHERE site_id = ?", (site_id,)).fetchone()
    if found is None:
        conn.execute("INSERT INTO plans (site_id, updated_by, updated_at) VALUES (?, ?, ?)", (site_id, actor_id, now))
    if frequency is not None:
        conn.execute("UPDATE plans SET frequency = ? WHERE site_id = ?", (frequency, site_id))
    if inspector is not None:
        conn.execute("UPDATE plans SET inspector_id = ? WHERE site_id = ?", (inspector, site_id))
        # The visits still open take the new inspector at once, as a change in chat does.
        conn.execute(
            "UPDATE plan_visits SET inspector_id = ? WHERE site_id = ? AND closed_at IS NULL", (inspector, site_id)
        )
    conn.execute("UPDATE plans SET updated_by = ?, updated_at = ? WHERE site_id = ?", (actor_id, now, site_id))
    detail = {"frequency": frequency, "inspector": inspector, "via": "import"}
    write_audit_sync(conn, AuditEntry(actor_id, "plan.import", f"site:{site_id}", detail), now)


def _ensure_user(conn: sqlite3.Connection, user_id: int, first_name: str, now: str) -> bool:
    """A users row for someone who has not written to the bot yet. True when it was created."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO users (id, first_name, created_at, updated_at) VALUES (?, ?, ?, ?)",
        (user_id, first_name, now, now),
    )
    return cursor.rowcount > 0


def _insert_grant(
    conn: sqlite3.Connection,
    user_id: int,
    role: str,
    site_id: int | None,
    region: str | None,
    granted_by: int | None,
    now: str,
) -> bool:
    cursor = conn.execute(
        """INSERT OR IGNORE INTO user_roles (user_id, role, site_id, region, granted_by, granted_at)
           VALUES (?, ?, ?, ?, ?, ?)""",
        (user_id, role, site_id, region, granted_by, now),
    )
    return cursor.rowcount > 0


_GRANTS = """SELECT r.id, r.user_id, r.role, r.site_id, r.region, s.name AS site_name
             FROM user_roles r LEFT JOIN sites s ON s.id = r.site_id"""


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, entry: AuditEntry, at: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            write_audit_sync(conn, entry, at)

        await self._db.transaction(work)

    async def page(self, before_id: int | None, limit: int) -> list[AuditRow]:
        """Newest first; ``before_id`` pages back through older entries."""
        rows = await self._db.fetchall(
            """SELECT a.*, COALESCE(ua.registered_name, ua.first_name) AS actor_name,
                      COALESCE(ut.registered_name, ut.first_name, st.name) AS target_name
               FROM audit_log a
               LEFT JOIN users ua ON ua.id = a.actor_id
               LEFT JOIN users ut ON a.target LIKE 'user:%' AND ut.id = CAST(substr(a.target, 6) AS INTEGER)
               LEFT JOIN sites st ON a.target LIKE 'site:%' AND st.id = CAST(substr(a.target, 6) AS INTEGER)
               WHERE (? IS NULL OR a.id < ?)
               ORDER BY a.id DESC LIMIT ?""",
            (before_id, before_id, limit),
        )
        return [
            AuditRow(
                r["id"],
                r["at"],
                r["actor_id"],
                r["actor_name"],
                r["action"],
                r["target"],
                r["target_name"],
                r["detail"],
            )
            for r in rows
        ]

    async def count(self, action: str | None = None) -> int:
        if action is None:
            return int(await self._db.fetchval("SELECT COUNT(*) FROM audit_log"))
        return int(await self._db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = ?", (action,)))


class InvitationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        code_hash: str,
        role: str,
        site_id: int | None,
        region: str | None,
        created_by: int,
        now: str,
        expires_at: str,
        origin: str | None,
        audit: AuditEntry,
    ) -> int | None:
        """The new invitation's id; None when this picker (``origin``) already made one."""

        def work(conn: sqlite3.Connection) -> int | None:
            cursor = conn.execute(
                """INSERT OR IGNORE INTO invitations
                   (code_hash, role, site_id, region, created_by, created_at, expires_at, origin)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (code_hash, role, site_id, region, created_by, now, expires_at, origin),
            )
            if cursor.rowcount == 0:
                return None
            invitation_id = cursor.lastrowid
            write_audit_sync(
                conn, AuditEntry(audit.actor_id, audit.action, f"invitation:{invitation_id}", audit.detail), now
            )
            return invitation_id

        return await self._db.transaction(work)

    async def by_hash(self, code_hash: str) -> Invitation | None:
        row = await self._db.fetchone(f"{_INVITATIONS} WHERE i.code_hash = ?", (code_hash,))
        return _invitation(row) if row else None

    async def by_id(self, invitation_id: int) -> Invitation | None:
        row = await self._db.fetchone(f"{_INVITATIONS} WHERE i.id = ?", (invitation_id,))
        return _invitation(row) if row else None

    async def open_ones(self, now: str, created_by: int | None, limit: int) -> list[Invitation]:
        """Links still usable (not used, revoked or expired), soonest to expire first; everyone's when
        ``created_by`` is None."""
        mine = "AND i.created_by = ?" if created_by is not None else ""
        rows = await self._db.fetchall(
            f"""{_INVITATIONS} WHERE i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ? {mine}
                ORDER BY i.expires_at, i.id LIMIT ?""",
            (now, *([created_by] if created_by is not None else []), limit),
        )
        return [_invitation(row) for row in rows]

    async def revoke(self, invitation_id: int, now: str, audit: AuditEntry) -> bool:
        """False when it was used, revoked or expired meanwhile."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE invitations SET revoked_at = ?
                   WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?""",
                (now, invitation_id, now),
            )
            if cursor.rowcount == 0:
                return False
            write_audit_sync(conn, audit, now)
            return True

        return await self._db.transaction(work)

    async def accept(self, invitation: Invitation, user_id: int, first_name: str, now: str, audit: AuditEntry) -> bool:
        """Use the invitation and grant its role, in one transaction. False: used, revoked or expired meanwhile."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE invitations SET used_by = ?, used_at = ?
                   WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?""",
                (user_id, now, invitation.id, now),
            )
            if cursor.rowcount == 0:
                return False
            _ensure_user(conn, user_id, first_name, now)
            _insert_grant(
                conn, user_id, invitation.role, invitation.site_id, invitation.region, invitation.created_by, now
            )
            conn.execute(
                "UPDATE access_requests SET status = 'approved', decided_by = ?, decided_at = ? "
                "WHERE user_id = ? AND status = 'pending'",
                (invitation.created_by, now, user_id),
            )
            write_audit_sync(conn, audit, now)
            return True

        return await self._db.transaction(work)

    async def revoke_unused_of(self, created_by: int, now: str) -> int:
        def work(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE invitations SET revoked_at = ? WHERE created_by = ? AND used_at IS NULL AND revoked_at IS NULL",
                (now, created_by),
            )
            return cursor.rowcount

        return await self._db.transaction(work)


class PeopleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- people ---------------------------------------------------------------------------------

    async def person(self, user_id: int) -> Person | None:
        row = await self._db.fetchone("SELECT * FROM users WHERE id = ?", (user_id,))
        if row is None:
            return None
        grants = await self._db.fetchall(f"{_GRANTS} WHERE r.user_id = ? ORDER BY r.id", (user_id,))
        return self._person(row, [_grant(g) for g in grants])

    @staticmethod
    def _person(row: Row, grants: list[Grant]) -> Person:
        return Person(
            id=row["id"],
            first_name=row["first_name"],
            username=row["username"],
            active=bool(row["active"]),
            unreachable=row["unreachable_at"] is not None,
            language=row["language"],
            tg_language=row["tg_language"],
            grants=tuple(grants),
            registered_name=row["registered_name"],
        )

    async def people(
        self,
        *,
        role: str | None,
        site_id: int | None,
        within_sites: Sequence[int] | None,
        active: bool | None,
        search: str | None,
        config_admins: Iterable[int],
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[Person], int]:
        """People with a role (or config admins), filtered (all of them when ``limit`` is None); and how
        many match in all.

        ``site_id`` keeps those tied to the site itself or to its region; ``within_sites`` (a
        manager's view) those with a grant on one of these sites.
        """
        grant_filters, params = ["r.user_id = u.id"], []
        if role is not None:
            grant_filters.append("r.role = ?")
            params.append(role)
        if site_id is not None:
            grant_filters.append(
                "(r.site_id = ? OR (r.site_id IS NULL AND r.region IS NOT NULL "
                "AND r.region = (SELECT region FROM sites WHERE id = ?)))"
            )
            params += [site_id, site_id]
        if within_sites is not None:
            grant_filters.append(f"r.site_id IN ({','.join('?' * len(within_sites)) or 'NULL'})")
            params += list(within_sites)
        where = f"EXISTS (SELECT 1 FROM user_roles r WHERE {' AND '.join(grant_filters)})"
        admins = sorted(config_admins)
        if admins and site_id is None and within_sites is None and role in (None, "admin"):
            where = f"({where} OR u.id IN ({','.join('?' * len(admins))}))"
            params += admins
        if active is not None:
            where += " AND u.active = ?"
            params.append(int(active))
        if search:
            where += " AND (u.first_name LIKE ? ESCAPE '\\' OR u.username LIKE ? ESCAPE '\\' OR CAST(u.id AS TEXT) = ?)"
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [pattern, pattern, search]
        total = int(await self._db.fetchval(f"SELECT COUNT(*) FROM users u WHERE {where}", params))
        rows = await self._db.fetchall(
            f"SELECT u.* FROM users u WHERE {where} ORDER BY u.active DESC, u.first_name, u.id LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],  # LIMIT -1: no limit
        )
        ids = [row["id"] for row in rows]
        grants: dict[int, list[Grant]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):  # bound the number of SQL variables per query
            chunk = ids[start : start + 500]
            for g in await self._db.fetchall(
                f"{_GRANTS} WHERE r.user_id IN ({','.join('?' * len(chunk))}) ORDER BY r.id", chunk
            ):
                grants[g["user_id"]].append(_grant(g))
        return [self._person(row, grants[row["id"]]) for row in rows], total

    async def admin_ids(self) -> list[int]:
        rows = await self._db.fetchall(
            """SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'admin'
               WHERE u.active = 1"""
        )
        return [row["id"] for row in rows]

    async def grant(
        self,
        user_id: int,
        role: str,
        site_id: int | None,
        region: str | None,
        granted_by: int,
        now: str,
        audit: AuditEntry,
        first_name: str = "",
    ) -> bool:
        """False when the person already held exactly this role; then nothing is recorded."""

        def work(conn: sqlite3.Connection) -> bool:
            _ensure_user(conn, user_id, first_name, now)
            if not _insert_grant(conn, user_id, role, site_id, region, granted_by, now):
                return False
            conn.execute(
                "UPDATE access_requests SET status = 'approved', decided_by = ?, decided_at = ? "
                "WHERE user_id = ? AND status = 'pending'",
                (granted_by, now, user_id),
            )
            write_audit_sync(conn, audit, now)
            return True

        return await self._db.transaction(work)

    async def grant_by_id(self, grant_id: int) -> Grant | None:
        row = await self._db.fetchone(f"{_GRANTS} WHERE r.id = ?", (grant_id,))
        return _grant(row) if row else None

    async def revoke(self, grant_id: int, now: str, audit: AuditEntry) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT user_id FROM user_roles WHERE id = ?", (grant_id,)).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM user_roles WHERE id = ?", (grant_id,))
            write_audit_sync(conn, audit, now)
            release_sync(conn, row[0], audit.actor_id, now)
            return True

        return await self._db.transaction(work)

    async def set_active(self, user_id: int, active: bool, now: str, audit: AuditEntry) -> bool:
        """False when the person already was in that state."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE users SET active = ?, updated_at = ? WHERE id = ? AND active != ?",
                (int(active), now, user_id, int(active)),
            )
            if cursor.rowcount == 0:
                return False
            if not active:
                conn.execute("DELETE FROM pending_inputs WHERE user_id = ?", (user_id,))
                conn.execute(
                    "UPDATE invitations SET revoked_at = ? WHERE created_by = ? AND used_at IS NULL "
                    "AND revoked_at IS NULL",
                    (now, user_id),
                )
            write_audit_sync(conn, audit, now)
            if not active:
                release_sync(conn, user_id, audit.actor_id, now)
            return True

        return await self._db.transaction(work)

    # -- access requests ------------------------------------------------------------------------

    async def note_request(self, user_id: int, now: str) -> bool:
        """Record that an unregistered person asked. True only the first time (or again after an
        approval that was later undone); a dismissed request stays dismissed."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """INSERT INTO access_requests (user_id, requested_at) VALUES (?, ?)
                   ON CONFLICT (user_id) DO UPDATE SET status = 'pending', requested_at = excluded.requested_at,
                       decided_by = NULL, decided_at = NULL
                   WHERE access_requests.status = 'approved'""",
                (user_id, now),
            )
            return cursor.rowcount > 0

        return await self._db.transaction(work)

    async def request_status(self, user_id: int) -> str | None:
        return await self._db.fetchval("SELECT status FROM access_requests WHERE user_id = ?", (user_id,))

    async def dismiss_request(self, user_id: int, by: int, now: str, audit: AuditEntry) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE access_requests SET status = 'dismissed', decided_by = ?, decided_at = ?
                   WHERE user_id = ? AND status = 'pending'""",
                (by, now, user_id),
            )
            if cursor.rowcount == 0:
                return False
            write_audit_sync(conn, audit, now)
            return True

        return await self._db.transaction(work)

    # -- sites ----------------------------------------------------------------------------------

    async def sites(self, include_inactive: bool = True) -> list[SiteRow]:
        where = "" if include_inactive else "WHERE active = 1"
        rows = await self._db.fetchall(f"SELECT * FROM sites {where} ORDER BY active DESC, name")
        return [_site(row) for row in rows]

    async def site(self, site_id: int) -> SiteRow | None:
        row = await self._db.fetchone("SELECT * FROM sites WHERE id = ?", (site_id,))
        return _site(row) if row else None

    async def site_by_name(self, name: str) -> SiteRow | None:
        row = await self._db.fetchone("SELECT * FROM sites WHERE name = ?", (name,))
        return _site(row) if row else None

    async def site_of_group(self, chat_id: int) -> SiteRow | None:
        row = await self._db.fetchone("SELECT * FROM sites WHERE group_chat_id = ?", (chat_id,))
        return _site(row) if row else None

    async def regions(self) -> list[tuple[str, int]]:
        """Each region of an active site, with the smallest site id in it (what a button carries)."""
        rows = await self._db.fetchall(
            """SELECT region, MIN(id) AS site_id FROM sites WHERE active = 1 AND region IS NOT NULL
               GROUP BY region ORDER BY region"""
        )
        return [(row["region"], row["site_id"]) for row in rows]

    async def add_site(self, name: str, region: str | None, now: str, audit: AuditEntry) -> int | None:
        """The new site's id; None when the name is taken."""

        def work(conn: sqlite3.Connection) -> int | None:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO sites (name, region, created_at) VALUES (?, ?, ?)", (name, region, now)
            )
            if cursor.rowcount == 0:
                return None
            site_id = cursor.lastrowid
            write_audit_sync(conn, AuditEntry(audit.actor_id, audit.action, f"site:{site_id}", audit.detail), now)
            return site_id

        return await self._db.transaction(work)

    async def update_site(self, site_id: int, now: str, audit: AuditEntry, **values: Any) -> bool:
        """Set ``name``, ``region`` or ``active``. False when the new name is taken."""
        columns = {key: values[key] for key in ("name", "region", "active") if key in values}
        assignments = ", ".join(f"{key} = ?" for key in columns)

        def work(conn: sqlite3.Connection) -> bool:
            if "name" in columns:
                taken = conn.execute(
                    "SELECT 1 FROM sites WHERE name = ? AND id != ?", (columns["name"], site_id)
                ).fetchone()
                if taken:
                    return False
            conn.execute(f"UPDATE sites SET {assignments} WHERE id = ?", [*columns.values(), site_id])
            write_audit_sync(conn, audit, now)
            return True

        return await self._db.transaction(work)

    async def link_group(
        self, site_id: int, chat_id: int, title: str | None, now: str, audit: AuditEntry
    ) -> SiteRow | None:
        """Link the group to the site (a group serves one site). Returns the site it was linked to before."""

        def work(conn: sqlite3.Connection) -> SiteRow | None:
            rows = conn.execute("SELECT * FROM sites WHERE group_chat_id = ?", (chat_id,)).fetchall()
            previous = _site(rows[0]) if rows else None
            conn.execute(
                "UPDATE sites SET group_chat_id = NULL, group_title = NULL WHERE group_chat_id = ?", (chat_id,)
            )
            conn.execute("UPDATE sites SET group_chat_id = ?, group_title = ? WHERE id = ?", (chat_id, title, site_id))
            write_audit_sync(conn, audit, now)
            return previous

        return await self._db.transaction(work)

    async def unlink_group(self, site_id: int, now: str, audit: AuditEntry) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE sites SET group_chat_id = NULL, group_title = NULL WHERE id = ? AND group_chat_id IS NOT NULL",
                (site_id,),
            )
            if cursor.rowcount == 0:
                return False
            write_audit_sync(conn, audit, now)
            return True

        return await self._db.transaction(work)

    async def move_group(self, old_chat_id: int, new_chat_id: int, now: str, audit: AuditEntry) -> bool:
        """A group upgraded to a supergroup gets a new chat id; the link follows it, recorded in the same
        transaction (the audit entry gets the site as its target, and the site's name and group title).
        False when no site was linked to the old chat."""

        def work(conn: sqlite3.Connection) -> bool:
            rows = conn.execute("SELECT * FROM sites WHERE group_chat_id = ?", (old_chat_id,)).fetchall()
            if not rows:
                return False
            site = _site(rows[0])
            conn.execute("UPDATE sites SET group_chat_id = ? WHERE id = ?", (new_chat_id, site.id))
            detail = dict(audit.detail) if isinstance(audit.detail, dict) else {}
            detail.update(site=site.name, group=site.group_title or str(old_chat_id))
            write_audit_sync(conn, AuditEntry(audit.actor_id, audit.action, f"site:{site.id}", detail), now)
            return True

        return await self._db.transaction(work)

    # -- bulk import ----------------------------------------------------------------------------

    async def known_people(self, user_ids: Iterable[int]) -> dict[int, bool]:
        """Telegram id -> active, for those of ``user_ids`` the bot knows."""
        ids = sorted(set(user_ids))
        found: dict[int, bool] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = await self._db.fetchall(
                f"SELECT id, active FROM users WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update({row["id"]: bool(row["active"]) for row in rows})
        return found

    async def apply_import(
        self, changes: ImportChanges, actor_id: int, now: str, summary: AuditEntry, grant_action: str
    ) -> ImportCounts:
        def work(conn: sqlite3.Connection) -> ImportCounts:
            for name, region in changes.new_sites:
                conn.execute("INSERT INTO sites (name, region, created_at) VALUES (?, ?, ?)", (name, region, now))
            for site_id, region in changes.site_regions:
                conn.execute("UPDATE sites SET region = ? WHERE id = ?", (region, site_id))
            site_ids = {row[1]: row[0] for row in conn.execute("SELECT id, name FROM sites")}
            people_added = 0
            for user_id, name in changes.people:
                people_added += _ensure_user(conn, user_id, name, now)
                if name:  # the name the company knows them by, kept when Telegram's first name changes
                    conn.execute("UPDATE users SET registered_name = ? WHERE id = ?", (name, user_id))
            added = unchanged = 0
            for user_id, role, site_name, region in changes.grants:
                site_id = site_ids[site_name] if site_name else None
                if _insert_grant(conn, user_id, role, site_id, region, actor_id, now):
                    added += 1
                    detail = {"role": role, "site": site_name, "region": region, "via": "import"}
                    write_audit_sync(conn, AuditEntry(actor_id, grant_action, f"user:{user_id}", detail), now)
                else:
                    unchanged += 1
            for site_name, frequency, inspector in changes.plans:
                _import_plan(conn, site_ids[site_name], frequency, inspector, actor_id, now)
            counts = ImportCounts(
                len(changes.new_sites), len(changes.site_regions), people_added, added, unchanged, len(changes.plans)
            )
            detail = dict(summary.detail) if isinstance(summary.detail, dict) else {}
            detail.update(
                sites_added=counts.sites_added,
                sites_updated=counts.sites_updated,
                people_added=counts.people_added,
                grants_added=counts.grants_added,
            )
            write_audit_sync(conn, AuditEntry(summary.actor_id, summary.action, summary.target, detail), now)
            return counts

        return await self._db.transaction(work)
