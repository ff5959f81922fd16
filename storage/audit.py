"""The audit log's entry, written inside the transaction of the change it records (its own module so
that any repository can write one without importing another's)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    """What to record next to a change: who did what to which target."""

    actor_id: int | None
    action: str
    target: str | None = None
    detail: dict[str, Any] | str | None = None

    def detail_text(self) -> str | None:
        if self.detail is None or isinstance(self.detail, str):
            return self.detail
        return json.dumps(self.detail, ensure_ascii=False, sort_keys=True)


_AUDIT = "INSERT INTO audit_log (at, actor_id, action, target, detail) VALUES (?, ?, ?, ?, ?)"


def write_audit_sync(conn: sqlite3.Connection, entry: AuditEntry, at: str) -> None:
    """An audit log entry, inside the one-trip ``Database.transaction`` of the change it records."""
    conn.execute(_AUDIT, (at, entry.actor_id, entry.action, entry.target, entry.detail_text()))
