"""An action's event and its audit entry are one transaction (storage/action_history.py); a proof file
seen before is flagged (storage/actions.py REUSED_SQL): by its bytes or by its Telegram file, against
the finding's "before" photos and the action's earlier rounds. On a real SQLite file."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio

from bot.flows.actions.loop import ReusedFile, reused_files
from rubric.model import Answer
from rubric.registry import RubricRegistry
from storage.action_history import audit_detail, event_sync
from storage.actions import REUSED_BEFORE, REUSED_EARLIER, ActionRepository, ProofItem
from storage.db import Database
from storage.rechecks import FIXED, RecheckRepository
from tests.seeding import add_person, add_site, answers_by_pattern, seed_inspection

NOW = "2026-04-06T02:00:00+00:00"
INSPECTOR, STAFF = 3001, 4001
BEFORE = b"\x89PNG before the fix"


class Boom(Exception):
    pass


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        yield database
    finally:
        await database.close()


async def an_action(db: Database) -> int:
    """An open action of 二(一)4, whose inspection has one photo of it (file u-before, bytes BEFORE)."""
    site = await add_site(db, "阳光花园", None, NOW)
    await add_person(db, INSPECTOR, "王督导", "inspector", NOW, site_id=site)
    await add_person(db, STAFF, "前台小张", "staff", NOW, site_id=site)
    rubric = RubricRegistry.load().get(2)
    clause = rubric.clause_by_code("二(一)4").id
    answers = answers_by_pattern(rubric, [Answer.OK]) | {clause: Answer.FAIL}
    seeded = await seed_inspection(db, rubric, site, INSPECTOR, datetime.fromisoformat(NOW), answers)
    await db.execute(
        """INSERT INTO photos (inspection_id, clause_id, file_id, file_unique_id, sha256, created_at)
           VALUES (?, ?, 'f-before', 'u-before', ?, ?)""",
        (seeded.inspection_id, clause, hashlib.sha256(BEFORE).hexdigest(), NOW),
    )
    return await db.execute(
        """INSERT INTO actions (inspection_id, site_id, clause_id, answer, severity, due_date, follow_up_on,
                                escalate_on, created_at, updated_at)
           VALUES (?, ?, ?, 'fail', 'serious', '2026-04-09', '2026-04-10', '2026-04-14', ?, ?)""",
        (seeded.inspection_id, site, clause, NOW, NOW),
    )


async def counts(db: Database) -> tuple[int, int]:
    events = await db.fetchval("SELECT COUNT(*) FROM action_events")
    entries = await db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'action.%'")
    return int(events), int(entries)


async def test_a_failure_after_the_event_rolls_back_the_event_and_its_audit_entry(db: Database) -> None:
    action_id = await an_action(db)

    def work(conn: sqlite3.Connection) -> None:
        event_sync(conn, action_id, NOW, INSPECTOR, "returned", 1, "看不清")
        assert conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == 1  # written, not yet kept
        raise Boom

    with pytest.raises(Boom):
        await db.transaction(work)
    assert await counts(db) == (0, 0)

    await db.transaction(lambda conn: event_sync(conn, action_id, NOW, INSPECTOR, "returned", 1, "看不清"))
    assert await counts(db) == (1, 1)
    row = await db.fetchone("SELECT at, actor_id, action, target, detail FROM audit_log")
    assert (row["at"], row["actor_id"], row["action"], row["target"]) == (
        NOW,
        INSPECTOR,
        "action.returned",
        f"action:{action_id}",
    )
    assert json.loads(row["detail"]) == {"site": "阳光花园", "round": 1, "reason": "看不清"}


async def test_an_event_without_a_person_is_not_audited(db: Database) -> None:
    action_id = await an_action(db)
    await db.transaction(lambda conn: event_sync(conn, action_id, NOW, None, "closed", 1))
    assert await counts(db) == (1, 0)


async def test_the_loops_transitions_each_leave_one_audit_entry(db: Database) -> None:
    action_id = await an_action(db)
    repo = ActionRepository(db)
    await repo.add_proof(action_id, 1, "note", STAFF, NOW, text="已整改")
    assert await repo.submit(action_id, 1, STAFF, NOW, "action_proof")
    assert not await repo.submit(action_id, 1, STAFF, NOW, "action_proof")  # a double tap: nothing
    assert await repo.return_(action_id, 1, INSPECTOR, "看不清", NOW, "action_return")
    await repo.add_proof(action_id, 2, "note", STAFF, NOW, text="重新整改")
    assert await repo.submit(action_id, 2, STAFF, NOW, "action_proof")
    assert await repo.close(action_id, 2, INSPECTOR, NOW)
    rows = await db.fetchall("SELECT action, actor_id FROM audit_log ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("action.submitted", STAFF),
        ("action.returned", INSPECTOR),
        ("action.submitted", STAFF),
        ("action.closed", INSPECTOR),
    ]


async def test_a_recheck_decision_is_audited_with_its_inspection(db: Database) -> None:
    action_id = await an_action(db)
    inspection_id = await db.fetchval("SELECT inspection_id FROM actions WHERE id = ?", (action_id,))
    await db.execute("INSERT INTO action_rechecks (inspection_id, action_id) VALUES (?, ?)", (inspection_id, action_id))
    assert await RecheckRepository(db).decide(inspection_id, action_id, FIXED, INSPECTOR, NOW)
    row = await db.fetchone("SELECT action, actor_id, detail FROM audit_log")
    assert (row["action"], row["actor_id"]) == ("action.closed", INSPECTOR)
    assert json.loads(row["detail"]) == {"site": "阳光花园", "round": 1, "inspection": inspection_id}


async def test_proof_seen_before_is_flagged_by_bytes_or_by_telegram_file(db: Database) -> None:
    action_id = await an_action(db)
    repo = ActionRepository(db)

    async def add(unique: str, data: bytes, round_: int = 1) -> str | None:
        digest = hashlib.sha256(data).hexdigest()
        result = await repo.add_proof(
            action_id, round_, "photo", STAFF, NOW, file_id=f"f-{unique}", file_unique_id=unique, sha256=digest
        )
        assert result.added
        return result.reused

    assert await add("u-forwarded", b"re-encoded bytes") is None  # new bytes, new file: nothing
    assert await add("u-before", b"other bytes") == REUSED_BEFORE  # forwarded: the same Telegram file
    assert await add("u-saved", BEFORE) == REUSED_BEFORE  # saved and sent as a file: the same bytes
    repeated = await repo.add_proof(action_id, 1, "photo", STAFF, NOW, file_id="f", file_unique_id="u-before")
    assert not repeated.added and repeated.reused is None  # the same file twice in a round: kept once
    note = await repo.add_proof(action_id, 1, "note", STAFF, NOW, text="已整改")
    assert note.added and note.reused is None

    # A second round: round 1's proof sent again is flagged as such; the before photo still as before.
    await repo.submit(action_id, 1, STAFF, NOW, "action_proof")
    await repo.return_(action_id, 1, INSPECTOR, "看不清", NOW, "action_return")
    assert await add("u-forwarded", b"re-encoded bytes", 2) == REUSED_EARLIER
    assert await add("u-before", b"other bytes", 2) == REUSED_BEFORE
    assert await add("u-fresh", b"fresh", 2) is None
    assert [item.reused for item in await repo.proof(action_id, 2)] == [REUSED_EARLIER, REUSED_BEFORE, None]
    assert [item.reused for item in await repo.proof(action_id, 1)] == [None, REUSED_BEFORE, REUSED_BEFORE, None]


def item(id_: int, kind: str, reused: str | None = None, name: str | None = None) -> ProofItem:
    return ProofItem(id_, 1, kind, f"f{id_}", None, name, None, STAFF, NOW, reused)


def test_flagged_photos_are_numbered_as_the_album_shows_them() -> None:
    items = (
        item(1, "note"),
        item(2, "photo"),
        item(3, "document", REUSED_BEFORE, "门禁.jpg"),
        item(4, "photo", REUSED_BEFORE),
        item(5, "photo", REUSED_EARLIER),
    )
    assert reused_files(items) == (
        ReusedFile("document", 0, "门禁.jpg", REUSED_BEFORE),
        ReusedFile("photo", 2, None, REUSED_BEFORE),
        ReusedFile("photo", 3, None, REUSED_EARLIER),
    )
    assert reused_files((item(1, "photo"), item(2, "note"))) == ()


def test_the_audit_detail_keeps_why() -> None:
    assert audit_detail("submitted", 1, None, site="阳光花园") == {"site": "阳光花园", "round": 1}
    assert audit_detail("returned", 2, "看不清", site="阳光花园") == {
        "site": "阳光花园",
        "round": 2,
        "reason": "看不清",
    }
    assert audit_detail("closed", 1, "recheck:9") == {"round": 1, "inspection": 9}
    assert audit_detail("extension_requested", 1, "缺货", asked_due="2026-04-16", due_date="2026-04-09") == {
        "round": 1,
        "reason": "缺货",
        "due": "2026-04-16",
    }
    assert audit_detail("extended", 1, "2026-04-09", due_date="2026-04-16") == {
        "round": 1,
        "old_due": "2026-04-09",
        "due": "2026-04-16",
    }
    assert audit_detail("cancelled", 1, "finding_removed") == {"round": 1, "note": "finding_removed"}
