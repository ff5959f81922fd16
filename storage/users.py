"""People and their roles."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database, Row


def display_name(first_name: str, username: str | None, user_id: int, registered: str | None = None) -> str:
    """How a person is named in messages: first name, else @username, else their id."""
    return registered or first_name or (f"@{username}" if username else str(user_id))


def display_name_sql(id_column: str = "u.id") -> str:
    """:func:`display_name` in SQL, for a ``users`` row joined as ``u`` (``id_column`` when it may be missing)."""
    named = "NULLIF(u.registered_name, ''), NULLIF(u.first_name, '')"
    return f"COALESCE({named}, '@' || u.username, CAST({id_column} AS TEXT))"


@dataclass(frozen=True)
class RoleGrant:
    role: str
    site_id: int | None
    region: str | None


@dataclass(frozen=True)
class UserRecord:
    id: int
    first_name: str
    username: str | None
    tg_language: str | None
    language: str | None
    active: bool
    roles: tuple[RoleGrant, ...]
    unreachable: bool = False  # a send answered 403 since they last wrote to the bot
    registered_name: str | None = None  # the name an admin registered them under, kept over Telegram's

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.username, self.id, self.registered_name)


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> UserRecord | None:
        # One query per update: every update identifies its sender.
        rows = await self._db.fetchall_inline(
            """SELECT u.*, r.role, r.site_id, r.region FROM users u
               LEFT JOIN user_roles r ON r.user_id = u.id WHERE u.id = ? ORDER BY r.id""",
            (user_id,),
        )
        if not rows:
            return None
        return _record(rows[0], [row for row in rows if row["role"] is not None])

    async def touch(
        self,
        user_id: int,
        first_name: str,
        username: str | None,
        tg_language: str | None,
        now: str,
        known: UserRecord | None,
    ) -> None:
        """Insert or refresh what Telegram tells us of a person; writes only when something changed.

        A person who writes to the bot can be reached again, so this also clears ``unreachable_at``.
        """
        if (
            known
            and not known.unreachable
            and (known.first_name, known.username, known.tg_language) == (first_name, username, tg_language)
        ):
            return
        await self._db.execute(
            """INSERT INTO users (id, first_name, username, tg_language, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name,
                   username = excluded.username, tg_language = excluded.tg_language,
                   updated_at = excluded.updated_at, unreachable_at = NULL""",
            (user_id, first_name, username, tg_language, now, now),
        )

    async def set_language(self, user_id: int, language: str, now: str) -> None:
        await self._db.execute("UPDATE users SET language = ?, updated_at = ? WHERE id = ?", (language, now, user_id))

    async def grant(
        self,
        user_id: int,
        role: str,
        now: str,
        site_id: int | None = None,
        region: str | None = None,
        granted_by: int | None = None,
    ) -> None:
        await self._db.execute(
            """INSERT OR IGNORE INTO user_roles (user_id, role, site_id, region, granted_by, granted_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (user_id, role, site_id, region, granted_by, now),
        )

    async def managers_of_site(self, site_id: int) -> list[UserRecord]:
        """Active managers who see this site: everywhere, through its region, or the site itself."""
        rows = await self._db.fetchall(
            """SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'manager'
               JOIN sites s ON s.id = ?
               WHERE u.active = 1 AND u.unreachable_at IS NULL AND (
                   (r.site_id IS NULL AND r.region IS NULL) OR r.site_id = s.id OR r.region = s.region)""",
            (site_id,),
        )
        people = [await self.get(row["id"]) for row in rows]
        return [person for person in people if person is not None]

    async def mark_unreachable(self, user_id: int, now: str) -> None:
        await self._db.execute("UPDATE users SET unreachable_at = ?, updated_at = ? WHERE id = ?", (now, now, user_id))


def _record(row: Row, grants: list[Row]) -> UserRecord:
    return UserRecord(
        id=row["id"],
        first_name=row["first_name"],
        username=row["username"],
        tg_language=row["tg_language"],
        language=row["language"],
        active=bool(row["active"]),
        roles=tuple(RoleGrant(g["role"], g["site_id"], g["region"]) for g in grants),
        unreachable=row["unreachable_at"] is not None,
        registered_name=row["registered_name"],
    )
