"""Periodic duties, their evidence, the people they concern, the outbox of every send, the facts
managers are told in their daily digest, and files waiting to be filed under a duty."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from storage.db import Database, Row
from storage.users import display_name_sql

OPEN, DONE, NA = "open", "done", "na"


@dataclass(frozen=True)
class DutyRow:
    id: int
    rule_id: str
    site_id: int
    site_name: str
    period: str
    period_start: date
    period_end: date
    remind_at: str
    due_date: date
    due_at: str
    escalate_at: str | None
    status: str
    next_remind_at: str | None
    rounds: int
    escalated_at: str | None
    done_by: int | None
    done_by_name: str | None
    done_at: str | None
    note: str | None
    na_reason: str | None
    evidence_count: int


@dataclass(frozen=True)
class NewDuty:
    rule_id: str
    site_id: int
    period: str
    period_start: date
    period_end: date
    remind_at: str
    due_date: date
    due_at: str
    escalate_at: str | None


@dataclass(frozen=True)
class SiteRow:
    id: int
    name: str
    region: str | None
    group_chat_id: int | None
    created_at: str


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str
    language: str | None
    tg_language: str | None
    unreachable: bool


@dataclass(frozen=True)
class EvidenceRow:
    id: int
    duty_id: int
    kind: str  # photo | document
    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    size: int | None
    caption: str | None
    created_at: str


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    duty_id: int | None  # None for a digest
    kind: str  # reminder | digest (escalation | unreachable: rows from before the digests)
    chat_id: int
    round: int  # reminder: its round; digest: its part
    about: int | None
    status: str
    attempts: int
    message_id: int | None
    interrupted: bool = False  # a crash cut its send short: it may have arrived already
    day: str | None = None  # digest: the local day it is for
    parts: int | None = None  # digest: how many parts that day's digest has


@dataclass(frozen=True)
class AlertRow:
    """A fact a manager is told in the daily digest (``storage/migrations/0008_duties_digests.sql``)."""

    id: int
    duty_id: int
    chat_id: int
    kind: str  # escalation | unreachable | nobody
    about: int  # unreachable: the chat not reached; 0 otherwise
    reason: str | None
    digest: str | None


@dataclass(frozen=True)
class PendingFile:
    """A file received while it was not clear which duty it is for."""

    id: int
    batch: int
    kind: str
    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    size: int | None
    sha256: str | None
    caption: str | None


_PERSON_NAME = display_name_sql()
_DUTY_SELECT = f"""
    SELECT d.*, s.name AS site_name, {_PERSON_NAME} AS done_by_name,
           (SELECT COUNT(*) FROM duty_evidence e WHERE e.duty_id = d.id) AS evidence_count
    FROM duties d JOIN sites s ON s.id = d.site_id LEFT JOIN users u ON u.id = d.done_by
"""


def _duty(row: Row) -> DutyRow:
    return DutyRow(
        id=row["id"],
        rule_id=row["rule_id"],
        site_id=row["site_id"],
        site_name=row["site_name"],
        period=row["period"],
        period_start=date.fromisoformat(row["period_start"]),
        period_end=date.fromisoformat(row["period_end"]),
        remind_at=row["remind_at"],
        due_date=date.fromisoformat(row["due_date"]),
        due_at=row["due_at"],
        escalate_at=row["escalate_at"],
        status=row["status"],
        next_remind_at=row["next_remind_at"],
        rounds=row["rounds"],
        escalated_at=row["escalated_at"],
        done_by=row["done_by"],
        done_by_name=row["done_by_name"] if row["done_by"] is not None else None,
        done_at=row["done_at"],
        note=row["note"],
        na_reason=row["na_reason"],
        evidence_count=row["evidence_count"],
    )


def _outbox(row: Row) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        key=row["key"],
        duty_id=row["duty_id"],
        kind=row["kind"],
        chat_id=row["chat_id"],
        round=row["round"],
        about=row["about"],
        status=row["status"],
        attempts=row["attempts"],
        message_id=row["message_id"],
        interrupted=bool(row["interrupted"]),
        day=row["day"],
        parts=row["parts"],
    )


def _alert(row: Row) -> AlertRow:
    return AlertRow(row["id"], row["duty_id"], row["chat_id"], row["kind"], row["about"], row["reason"], row["digest"])


def _pending_file(row: Row) -> PendingFile:
    return PendingFile(
        row["id"],
        row["batch"],
        row["kind"],
        row["file_id"],
        row["file_unique_id"],
        row["file_name"],
        row["mime_type"],
        row["size"],
        row["sha256"],
        row["caption"],
    )


_ALERT_INSERT = """INSERT OR IGNORE INTO duty_alerts (duty_id, chat_id, kind, about, reason, created_at)
                   VALUES (?, ?, ?, ?, ?, ?)"""
_REACHED_OR_WAITING = """SELECT 1 FROM duty_outbox WHERE duty_id = ? AND kind = 'reminder' AND round = ?
                         AND status IN ('sent', 'pending', 'sending') LIMIT 1"""


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


_APPEND_NOTE = """UPDATE duties SET note = CASE WHEN note IS NULL OR note = '' THEN ? ELSE note || char(10) || ? END,
                      updated_at = ? WHERE id = ?"""


class _DigestExistsError(Exception):
    """Rolls back a digest whose day was planned already (see ``plan_digest``)."""


class DutyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- rules and sites ---------------------------------------------------------------------------

    async def ensure_rules(self, rule_ids: Iterable[str], now: str) -> dict[str, str]:
        """Record rules seen for the first time; return when each was first seen."""
        ids = list(rule_ids)
        if ids:
            await self._db.executemany(
                "INSERT OR IGNORE INTO duty_rules (rule_id, first_seen_at) VALUES (?, ?)", [(i, now) for i in ids]
            )
        rows = await self._db.fetchall("SELECT rule_id, first_seen_at FROM duty_rules")
        return {row["rule_id"]: row["first_seen_at"] for row in rows}

    async def active_sites(self) -> list[SiteRow]:
        rows = await self._db.fetchall(
            "SELECT id, name, region, group_chat_id, created_at FROM sites WHERE active = 1 ORDER BY name"
        )
        return [SiteRow(r["id"], r["name"], r["region"], r["group_chat_id"], r["created_at"]) for r in rows]

    async def site(self, site_id: int) -> SiteRow | None:
        r = await self._db.fetchone(
            "SELECT id, name, region, group_chat_id, created_at FROM sites WHERE id = ?", (site_id,)
        )
        return SiteRow(r["id"], r["name"], r["region"], r["group_chat_id"], r["created_at"]) if r else None

    # -- people ------------------------------------------------------------------------------------

    async def site_people(self, site_id: int, roles: Sequence[str]) -> list[PersonRow]:
        """Active people holding one of ``roles`` at this very site (the ones a duty reminds)."""
        rows = await self._db.fetchall(
            f"""SELECT DISTINCT u.id, {_PERSON_NAME} AS name, u.language, u.tg_language, u.unreachable_at
                FROM users u JOIN user_roles r ON r.user_id = u.id
                WHERE r.site_id = ? AND r.role IN ({_marks(roles)}) AND u.active = 1
                ORDER BY u.id""",
            (site_id, *roles),
        )
        return [_person(row) for row in rows]

    async def person(self, user_id: int) -> PersonRow | None:
        row = await self._db.fetchone(
            f"SELECT u.id, {_PERSON_NAME} AS name, u.language, u.tg_language, u.unreachable_at FROM users u "
            "WHERE u.id = ?",
            (user_id,),
        )
        return _person(row) if row else None

    async def mark_reachable(self, user_id: int, now: str) -> None:
        """The person wrote to the bot: reminders may reach them again (cleared only if it was set)."""
        await self._db.execute(
            "UPDATE users SET unreachable_at = NULL, updated_at = ? WHERE id = ? AND unreachable_at IS NOT NULL",
            (now, user_id),
        )

    # -- duties ------------------------------------------------------------------------------------

    async def sites_with_duty(self, rule_id: str, period: str) -> set[int]:
        rows = await self._db.fetchall("SELECT site_id FROM duties WHERE rule_id = ? AND period = ?", (rule_id, period))
        return {row["site_id"] for row in rows}

    async def create(self, duties: Sequence[NewDuty], now: str) -> None:
        """Insert duties that do not exist yet (the unique (rule, site, period) makes this idempotent).
        The first reminder is due at ``remind_at``."""
        await self._db.executemany(
            """INSERT OR IGNORE INTO duties (rule_id, site_id, period, period_start, period_end, remind_at,
                   due_date, due_at, escalate_at, next_remind_at, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    d.rule_id,
                    d.site_id,
                    d.period,
                    d.period_start.isoformat(),
                    d.period_end.isoformat(),
                    d.remind_at,
                    d.due_date.isoformat(),
                    d.due_at,
                    d.escalate_at,
                    d.remind_at,
                    now,
                    now,
                )
                for d in duties
            ],
        )

    async def get(self, duty_id: int) -> DutyRow | None:
        row = await self._db.fetchone(_DUTY_SELECT + " WHERE d.id = ?", (duty_id,))
        return _duty(row) if row else None

    async def open_duties(self) -> list[DutyRow]:
        rows = await self._db.fetchall(_DUTY_SELECT + " WHERE d.status = 'open' ORDER BY d.id")
        return [_duty(row) for row in rows]

    async def due_for_reminder(self, rule_ids: Sequence[str], now: str, limit: int = 500) -> list[DutyRow]:
        rows = await self._db.fetchall(
            _DUTY_SELECT
            + f""" WHERE d.status = 'open' AND d.next_remind_at <= ? AND d.rule_id IN ({_marks(rule_ids)})
                ORDER BY d.next_remind_at, d.id LIMIT ?""",
            (now, *rule_ids, limit),
        )
        return [_duty(row) for row in rows]

    async def due_for_escalation(self, rule_ids: Sequence[str], now: str, limit: int = 500) -> list[DutyRow]:
        rows = await self._db.fetchall(
            _DUTY_SELECT
            + f""" WHERE d.status = 'open' AND d.escalated_at IS NULL AND d.escalate_at <= ?
                AND d.rule_id IN ({_marks(rule_ids)}) ORDER BY d.escalate_at, d.id LIMIT ?""",
            (now, *rule_ids, limit),
        )
        return [_duty(row) for row in rows]

    async def _of_sites(
        self, site_ids: Sequence[int], where: str = "1", params: Sequence[object] = ()
    ) -> list[DutyRow]:
        if not site_ids:
            return []
        rows = await self._db.fetchall(
            _DUTY_SELECT + f" WHERE d.site_id IN ({_marks(site_ids)}) AND ({where}) ORDER BY s.name, d.remind_at, d.id",
            (*site_ids, *params),
        )
        return [_duty(row) for row in rows]

    async def started_open(self, site_ids: Sequence[int], now: str) -> list[DutyRow]:
        return await self._of_sites(site_ids, "d.status = 'open' AND d.remind_at <= ?", (now,))

    async def overlapping(self, site_ids: Sequence[int], start: date, end: date) -> list[DutyRow]:
        return await self._of_sites(
            site_ids, "d.period_start < ? AND d.period_end > ?", (end.isoformat(), start.isoformat())
        )

    async def overdue(self, site_ids: Sequence[int], now: str) -> list[DutyRow]:
        return await self._of_sites(site_ids, "d.status = 'open' AND d.due_at <= ?", (now,))

    async def latest_started(self, site_id: int, rule_ids: Sequence[str], now: str) -> DutyRow | None:
        if not rule_ids:
            return None
        row = await self._db.fetchone(
            _DUTY_SELECT
            + f""" WHERE d.site_id = ? AND d.rule_id IN ({_marks(rule_ids)}) AND d.remind_at <= ?
                ORDER BY d.remind_at DESC, d.id DESC LIMIT 1""",
            (site_id, *rule_ids, now),
        )
        return _duty(row) if row else None

    async def reschedule(self, duty_id: int, due_date: date, due_at: str, escalate_at: str | None, now: str) -> None:
        """New due and escalation moments for an open duty (the config changed)."""
        await self._db.execute(
            """UPDATE duties SET due_date = ?, due_at = ?, escalate_at = ?, updated_at = ?
               WHERE id = ? AND status = 'open'""",
            (due_date.isoformat(), due_at, escalate_at, now, duty_id),
        )

    async def snooze(self, duty_id: int, until: str, now: str) -> bool:
        changed = await self._db.change(
            "UPDATE duties SET next_remind_at = ?, updated_at = ? WHERE id = ? AND status = 'open'",
            (until, now, duty_id),
        )
        return changed == 1

    async def complete(self, duty_id: int, user_id: int, now: str) -> bool:
        """open -> done; False when it was not open (a double tap, or someone else was first)."""
        changed = await self._db.change(
            """UPDATE duties SET status = 'done', done_by = ?, done_at = ?, next_remind_at = NULL,
                   updated_at = ? WHERE id = ? AND status = 'open'""",
            (user_id, now, now, duty_id),
        )
        return changed == 1

    async def mark_not_applicable(self, duty_id: int, user_id: int, reason: str, now: str) -> bool:
        changed = await self._db.change(
            """UPDATE duties SET status = 'na', na_reason = ?, done_by = ?, done_at = ?, next_remind_at = NULL,
                   updated_at = ? WHERE id = ? AND status = 'open'""",
            (reason, user_id, now, now, duty_id),
        )
        return changed == 1

    async def append_note(self, duty_id: int, text: str, now: str) -> None:
        await self._db.execute(_APPEND_NOTE, (text, text, now, duty_id))

    # -- evidence ----------------------------------------------------------------------------------

    async def add_evidence(
        self,
        duty_id: int,
        kind: str,
        file_id: str,
        file_unique_id: str,
        file_name: str | None,
        mime_type: str | None,
        size: int | None,
        sha256: str | None,
        caption: str | None,
        sent_by: int,
        now: str,
    ) -> bool:
        """False when this very file is already attached to the duty."""
        changed = await self._db.change(
            """INSERT OR IGNORE INTO duty_evidence (duty_id, kind, file_id, file_unique_id, file_name,
                   mime_type, size, sha256, caption, sent_by, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (duty_id, kind, file_id, file_unique_id, file_name, mime_type, size, sha256, caption, sent_by, now),
        )
        return changed == 1

    async def evidence(self, duty_id: int) -> list[EvidenceRow]:
        rows = await self._db.fetchall("SELECT * FROM duty_evidence WHERE duty_id = ? ORDER BY id", (duty_id,))
        return [
            EvidenceRow(
                r["id"],
                r["duty_id"],
                r["kind"],
                r["file_id"],
                r["file_unique_id"],
                r["file_name"],
                r["mime_type"],
                r["size"],
                r["caption"],
                r["created_at"],
            )
            for r in rows
        ]

    # -- planning sends (each in one transaction with the duty's own change) --------------------

    async def plan_round(
        self,
        duty_id: int,
        rounds_before: int,
        chats: Sequence[int],
        next_remind_at: str | None,
        now: str,
        tell_if_nobody: Sequence[int] = (),
    ) -> bool:
        """Round ``rounds_before + 1`` of reminders: outbox rows for ``chats`` and the next reminder time,
        together. A round with no chat at all (every person unreachable, no group) is a fact for the
        managers ``tell_if_nobody``, in the same transaction. False when another tick planned it
        already or the duty closed meanwhile."""
        round_number = rounds_before + 1

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE duties SET rounds = rounds + 1, next_remind_at = ?, updated_at = ?
                   WHERE id = ? AND rounds = ? AND status = 'open'""",
                (next_remind_at, now, duty_id, rounds_before),
            )
            if cursor.rowcount != 1:
                return False
            conn.executemany(
                """INSERT OR IGNORE INTO duty_outbox (key, duty_id, kind, chat_id, round, created_at)
                   VALUES (?, ?, 'reminder', ?, ?, ?)""",
                [(f"reminder:{duty_id}:{chat}:{round_number}", duty_id, chat, round_number, now) for chat in chats],
            )
            if not chats:
                conn.executemany(
                    _ALERT_INSERT, [(duty_id, manager, "nobody", 0, None, now) for manager in tell_if_nobody]
                )
            return True

        return await self._db.transaction(work)

    async def plan_escalation(self, duty_id: int, chats: Sequence[int], now: str) -> bool:
        """The duty is overdue past its escalation moment: a fact for each of ``chats`` (its managers),
        with ``escalated_at``, in one transaction. False when it was escalated already or closed."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE duties SET escalated_at = ?, updated_at = ?
                   WHERE id = ? AND escalated_at IS NULL AND status = 'open'""",
                (now, now, duty_id),
            )
            if cursor.rowcount != 1:
                return False
            conn.executemany(_ALERT_INSERT, [(duty_id, chat, "escalation", 0, None, now) for chat in chats])
            return True

        return await self._db.transaction(work)

    async def note_undelivered(
        self, duty_id: int, round_number: int, about: int, reason: str, chats: Sequence[int], now: str
    ) -> None:
        """A reminder of round ``round_number`` could not reach ``about``: a fact for ``chats``. When no
        reminder of that round reached anyone and none is still on its way, the duty reaches nobody: a
        fact of its own, told at its first reminder rather than at the escalation weeks later."""

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(_ALERT_INSERT, [(duty_id, chat, "unreachable", about, reason, now) for chat in chats])
            if conn.execute(_REACHED_OR_WAITING, (duty_id, round_number)).fetchone() is None:
                conn.executemany(_ALERT_INSERT, [(duty_id, chat, "nobody", 0, None, now) for chat in chats])

        await self._db.transaction(work)

    async def deliveries(self, duty_id: int) -> int:
        """How many reminders of the duty reached a chat (rounds that reached nobody do not count)."""
        return await self._db.fetchval(
            "SELECT COUNT(*) FROM duty_outbox WHERE duty_id = ? AND kind = 'reminder' AND status = 'sent'",
            (duty_id,),
        )

    # -- the managers' daily digest ----------------------------------------------------------------

    async def chats_with_waiting_alerts(self) -> list[int]:
        rows = await self._db.fetchall("SELECT DISTINCT chat_id FROM duty_alerts WHERE digest IS NULL ORDER BY chat_id")
        return [row["chat_id"] for row in rows]

    async def waiting_alerts(self, chat_id: int) -> list[AlertRow]:
        rows = await self._db.fetchall(
            "SELECT * FROM duty_alerts WHERE chat_id = ? AND digest IS NULL ORDER BY id", (chat_id,)
        )
        return [_alert(row) for row in rows]

    async def has_digest(self, chat_id: int, day: str) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM duty_outbox WHERE kind = 'digest' AND chat_id = ? AND day = ? LIMIT 1", (chat_id, day)
        )
        return row is not None

    async def plan_digest(self, chat_id: int, day: str, parts: Sequence[Sequence[int]], now: str) -> bool:
        """The day's digest of ``chat_id``: one outbox row per part, each taking its alerts, in one
        transaction. False when that day's digest exists already (its alerts wait for the next day)."""
        if not parts or not all(parts):
            return False

        def work(conn: sqlite3.Connection) -> None:
            for number, alert_ids in enumerate(parts, start=1):
                key = f"digest:{chat_id}:{day}:{number}"
                cursor = conn.execute(
                    """INSERT OR IGNORE INTO duty_outbox (key, kind, chat_id, round, day, parts, created_at)
                       VALUES (?, 'digest', ?, ?, ?, ?, ?)""",
                    (key, chat_id, number, day, len(parts), now),
                )
                if cursor.rowcount != 1:
                    raise _DigestExistsError
                conn.execute(
                    f"UPDATE duty_alerts SET digest = ? WHERE digest IS NULL AND id IN ({_marks(alert_ids)})",
                    (key, *alert_ids),
                )

        try:
            await self._db.transaction(work)
        except _DigestExistsError:
            return False  # rolled back: nothing of it was written
        return True

    async def alerts_of(self, digest_key: str) -> list[AlertRow]:
        rows = await self._db.fetchall("SELECT * FROM duty_alerts WHERE digest = ? ORDER BY id", (digest_key,))
        return [_alert(row) for row in rows]

    # -- which duty a message is about -------------------------------------------------------------

    async def remember_message(self, chat_id: int, message_id: int, duty_id: int) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO duty_messages (chat_id, message_id, duty_id) VALUES (?, ?, ?)",
            (chat_id, message_id, duty_id),
        )

    async def duty_of_message(self, chat_id: int, message_id: int) -> int | None:
        """The duty a reminder (or another duty message) in this chat was about; None: not a duty's."""
        row = await self._db.fetchone(
            """SELECT duty_id FROM duty_outbox WHERE chat_id = ? AND message_id = ? AND kind = 'reminder'
               UNION ALL SELECT duty_id FROM duty_messages WHERE chat_id = ? AND message_id = ? LIMIT 1""",
            (chat_id, message_id, chat_id, message_id),
        )
        return row["duty_id"] if row else None

    # -- files waiting for the person to say which duty they are for -------------------------------

    async def keep_pending_file(
        self,
        user_id: int,
        media_group_id: str | None,
        kind: str,
        file_id: str,
        file_unique_id: str,
        file_name: str | None,
        mime_type: str | None,
        size: int | None,
        sha256: str | None,
        caption: str | None,
        now: str,
    ) -> int:
        """Keep a file until its duty is chosen; returns its batch. The pictures of one album share a
        batch, so the person is asked once."""

        def work(conn: sqlite3.Connection) -> int:
            batch = None
            if media_group_id:
                found = conn.execute(
                    "SELECT batch FROM duty_pending_files WHERE user_id = ? AND media_group_id = ? LIMIT 1",
                    (user_id, media_group_id),
                ).fetchone()
                batch = found[0] if found else None
            cursor = conn.execute(
                """INSERT INTO duty_pending_files (user_id, batch, media_group_id, kind, file_id, file_unique_id,
                       file_name, mime_type, size, sha256, caption, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    user_id,
                    batch or 0,
                    media_group_id,
                    kind,
                    file_id,
                    file_unique_id,
                    file_name,
                    mime_type,
                    size,
                    sha256,
                    caption,
                    now,
                ),
            )
            if batch is not None:
                return batch
            new_id = cursor.lastrowid
            assert new_id is not None
            conn.execute("UPDATE duty_pending_files SET batch = ? WHERE id = ?", (new_id, new_id))
            return new_id

        return await self._db.transaction(work)

    async def pending_files(self, user_id: int, batch: int) -> list[PendingFile]:
        rows = await self._db.fetchall(
            "SELECT * FROM duty_pending_files WHERE user_id = ? AND batch = ? ORDER BY id", (user_id, batch)
        )
        return [_pending_file(row) for row in rows]

    async def pending_batches(self, user_id: int) -> list[tuple[int, int]]:
        """(batch, how many files) of the person's files still waiting for a duty, oldest first."""
        rows = await self._db.fetchall(
            """SELECT batch, COUNT(*) AS n FROM duty_pending_files WHERE user_id = ?
               GROUP BY batch ORDER BY batch""",
            (user_id,),
        )
        return [(row["batch"], row["n"]) for row in rows]

    async def file_batch(self, user_id: int, batch: int, duty_id: int, note: str | None, now: str) -> int:
        """Move a batch of waiting files to a duty's evidence (and their captions to its note), in one
        transaction: a second tap finds nothing left. Returns how many files were new to the duty."""

        def work(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                """INSERT OR IGNORE INTO duty_evidence (duty_id, kind, file_id, file_unique_id, file_name,
                       mime_type, size, sha256, caption, sent_by, created_at)
                   SELECT ?, kind, file_id, file_unique_id, file_name, mime_type, size, sha256, caption, user_id, ?
                   FROM duty_pending_files WHERE user_id = ? AND batch = ? ORDER BY id""",
                (duty_id, now, user_id, batch),
            )
            added = cursor.rowcount
            conn.execute("DELETE FROM duty_pending_files WHERE user_id = ? AND batch = ?", (user_id, batch))
            if note:
                conn.execute(_APPEND_NOTE, (note, note, now, duty_id))
            return max(added, 0)

        return await self._db.transaction(work)

    # -- the outbox --------------------------------------------------------------------------------

    async def pending(self, limit: int, skip: Sequence[int] = ()) -> list[OutboxRow]:
        skip_clause = f"AND id NOT IN ({_marks(skip)})" if skip else ""
        rows = await self._db.fetchall(
            f"SELECT * FROM duty_outbox WHERE status = 'pending' {skip_clause} ORDER BY id LIMIT ?", (*skip, limit)
        )
        return [_outbox(row) for row in rows]

    async def claim(self, outbox_id: int, now: str) -> bool:
        """Only one sender ever gets a row: pending -> sending, atomically."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                """UPDATE duty_outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1
                   WHERE id = ? AND status = 'pending'""",
                (now, outbox_id),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(work)

    async def finish(
        self, outbox_id: int, status: str, now: str, message_id: int | None = None, error: str | None = None
    ) -> None:
        await self._db.execute(
            "UPDATE duty_outbox SET status = ?, sent_at = ?, message_id = ?, error = ? WHERE id = ?",
            (status, now, message_id, error, outbox_id),
        )

    async def release(self, outbox_id: int, error: str) -> None:
        """A send that failed for a passing reason: pending again, for a later try."""
        await self._db.execute(
            "UPDATE duty_outbox SET status = 'pending', error = ? WHERE id = ? AND status = 'sending'",
            (error, outbox_id),
        )

    async def recover_interrupted(self) -> int:
        """Rows a crash left between claim and answer: pending again (sent once more, see the flow)."""
        return await self._db.change(
            "UPDATE duty_outbox SET status = 'pending', interrupted = 1 WHERE status = 'sending'"
        )

    async def outbox_of(self, duty_id: int) -> list[OutboxRow]:
        rows = await self._db.fetchall("SELECT * FROM duty_outbox WHERE duty_id = ? ORDER BY id", (duty_id,))
        return [_outbox(row) for row in rows]

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT status, COUNT(*) AS n FROM duty_outbox GROUP BY status")
        return {row["status"]: row["n"] for row in rows}


def _person(row: Row) -> PersonRow:
    return PersonRow(row["id"], row["name"], row["language"], row["tg_language"], row["unreachable_at"] is not None)
