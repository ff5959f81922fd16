"""An action's history and what it tells, written inside a one-trip ``Database.transaction``: every
change of an action (the loop, the re-check, extensions, overdue follow-ups) writes its event and its
alert through these two, in the transaction of the change itself. A person's act also gets its audit
log entry there (``action.<event>``, target ``action:<id>``): who, when and why, next to the change."""

from __future__ import annotations

import sqlite3
from typing import Any

from storage.audit import AuditEntry, write_audit_sync

RECHECK = "recheck:"  # the detail of a 复查 decision's event: recheck:<inspection id>
# Events whose detail is a person's words (the reason of a return, of an extension asked or refused).
REASONED = frozenset({"returned", "extension_requested", "extension_refused"})


def event_sync(
    conn: sqlite3.Connection,
    action_id: int,
    now: str,
    actor_id: int | None,
    event: str,
    round_: int,
    detail: str | None = None,
    *,
    extension_id: int | None = None,
) -> int:
    """An event of the action, with its due date as it stands, and its audit entry; returns the
    event's id. Only people's acts are audited: an event with no actor (the engine's own) stays in the
    action's history."""
    event_id = conn.execute(
        """INSERT INTO action_events (action_id, at, actor_id, event, round, due_date, detail, extension_id)
           SELECT id, ?, ?, ?, ?, due_date, ?, ? FROM actions WHERE id = ?""",
        (now, actor_id, event, round_, detail, extension_id, action_id),
    ).lastrowid
    assert event_id is not None
    if actor_id is None:
        return event_id
    found = conn.execute(
        """SELECT s.name, a.due_date, x.new_due_date FROM actions a JOIN sites s ON s.id = a.site_id
           LEFT JOIN action_extensions x ON x.id = ? WHERE a.id = ?""",
        (extension_id, action_id),
    ).fetchone()
    if found is None:
        return event_id
    site, due_date, asked_due = found
    entry = AuditEntry(
        actor_id,
        f"action.{event}",
        f"action:{action_id}",
        audit_detail(event, round_, detail, site=site, due_date=due_date, asked_due=asked_due),
    )
    write_audit_sync(conn, entry, now)
    return event_id


def audit_detail(
    event: str,
    round_: int,
    detail: str | None,
    *,
    site: str | None = None,
    due_date: str | None = None,
    asked_due: str | None = None,
) -> dict[str, Any]:
    """What the audit log keeps of an action's event: its site and round, and why (a person's reason,
    the 复查 it was decided in, or the due dates an extension moved between)."""
    kept: dict[str, Any] = {"site": site, "round": round_}
    if detail and detail.startswith(RECHECK) and detail[len(RECHECK) :].isdigit():
        kept["inspection"] = int(detail[len(RECHECK) :])
    elif event in REASONED:
        kept["reason"] = detail
    elif event == "extended":
        kept["old_due"] = detail
    elif detail:
        kept["note"] = detail
    if event == "extension_requested":
        kept["due"] = asked_due
    elif event == "extended":
        kept["due"] = due_date
    return {key: value for key, value in kept.items() if value is not None}


def alert_sync(
    conn: sqlite3.Connection, action_id: int, kind: str, round_: int, actor_id: int | None, now: str
) -> None:
    """Something to tell about an action (the engine's next tick plans it into messages)."""
    conn.execute(
        """INSERT OR IGNORE INTO action_alerts (action_id, kind, round, actor_id, created_at)
           VALUES (?, ?, ?, ?, ?)""",
        (action_id, kind, round_, actor_id, now),
    )
