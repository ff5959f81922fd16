"""What a person's next free text is for, when a feature asked a question."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class PendingInput:
    kind: str
    payload: str


class PendingInputRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> PendingInput | None:
        row = await self._db.fetchone_inline("SELECT kind, payload FROM pending_inputs WHERE user_id = ?", (user_id,))
        return PendingInput(row["kind"], row["payload"]) if row else None

    async def set(self, user_id: int, kind: str, payload: str, now: str) -> None:
        await self._db.execute(
            """INSERT INTO pending_inputs (user_id, kind, payload, created_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind, payload = excluded.payload,
                   created_at = excluded.created_at""",
            (user_id, kind, payload, now),
        )

    async def clear(self, user_id: int) -> bool:
        return await self._db.change("DELETE FROM pending_inputs WHERE user_id = ?", (user_id,)) > 0
