"""Sites (项目/小区) and which of them a person may see."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database, Row


@dataclass(frozen=True)
class Site:
    id: int
    name: str
    region: str | None
    group_chat_id: int | None
    active: bool


def _site(row: Row) -> Site:
    return Site(row["id"], row["name"], row["region"], row["group_chat_id"], bool(row["active"]))


class SiteRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, name: str, now: str, region: str | None = None) -> int:
        return await self._db.execute(
            "INSERT INTO sites (name, region, created_at) VALUES (?, ?, ?)", (name, region, now)
        )

    async def get(self, site_id: int) -> Site | None:
        row = await self._db.fetchone("SELECT * FROM sites WHERE id = ?", (site_id,))
        return _site(row) if row else None

    async def visible_to(self, user_id: int, roles: tuple[str, ...], everything: bool = False) -> list[Site]:
        """Active sites the person reaches through one of ``roles``: a grant without site and region
        means every site; otherwise the granted sites and the sites of granted regions."""
        if everything:
            rows = await self._db.fetchall("SELECT * FROM sites WHERE active = 1 ORDER BY name")
            return [_site(row) for row in rows]
        marks = ",".join("?" * len(roles))
        rows = await self._db.fetchall(
            f"""SELECT DISTINCT s.* FROM sites s JOIN user_roles r ON r.user_id = ? AND r.role IN ({marks})
                WHERE s.active = 1 AND (
                    (r.site_id IS NULL AND r.region IS NULL) OR r.site_id = s.id OR r.region = s.region)
                ORDER BY s.name""",
            (user_id, *roles),
        )
        return [_site(row) for row in rows]
