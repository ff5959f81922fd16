import asyncio
import sqlite3
import threading
import time

import pytest

from storage import migrate
from storage.db import Database


def test_migrations_apply_to_an_empty_file_and_are_recorded(tmp_path):
    path = tmp_path / "bot.sqlite3"
    applied = migrate.migrate(path)
    assert [m.version for m in applied] == list(range(1, migrate.latest_version() + 1))
    conn = sqlite3.connect(path)
    versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m.version for m in applied]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert migrate.migrate(path) == []  # idempotent


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "bot.sqlite3"
    migrate.migrate(path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')")
    conn.commit()
    conn.close()
    with pytest.raises(migrate.SchemaTooNewError, match="schema version 999"):
        migrate.migrate(path)


def test_a_failing_migration_leaves_nothing_half_done(tmp_path, monkeypatch):
    path = tmp_path / "bot.sqlite3"
    good = migrate.available_migrations()
    broken = [*good, migrate.Migration(len(good) + 1, "broken", "CREATE TABLE t (x);\nTHIS IS NOT SQL;")]
    monkeypatch.setattr(migrate, "available_migrations", lambda: broken)
    with pytest.raises(sqlite3.OperationalError):
        migrate.migrate(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == len(good)
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 't'").fetchone() is None
    conn.close()


async def test_database_pragmas_and_write_rollback(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        pragmas = await db.transaction(
            lambda conn: [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("foreign_keys", "busy_timeout")]
        )
        assert pragmas == [1, 5000]
        assert await db.fetchval("PRAGMA busy_timeout") == 5000
        # Reads go to a read-only connection: a write sent there fails instead of racing the writer.
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.fetchall("INSERT INTO audit_log (at, action) VALUES ('x', 'test')")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.fetchall_inline("INSERT INTO audit_log (at, action) VALUES ('x', 'test')")

        def fail(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO audit_log (at, action) VALUES ('x', 'test')")
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await db.transaction(fail)
        assert await db.fetchval("SELECT COUNT(*) FROM audit_log") == 0
        assert await db.schema_version() == migrate.latest_version()
    finally:
        await db.close()


async def test_a_read_sees_only_committed_writes(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        opened, go_on = threading.Event(), threading.Event()

        def slow_write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO audit_log (at, action) VALUES ('x', 'test')")
            opened.set()
            go_on.wait(5)

        writing = asyncio.create_task(db.transaction(slow_write))
        await asyncio.to_thread(opened.wait, 5)
        # Another coroutine's read while that transaction is open: it must not see the row yet.
        assert await db.fetchval("SELECT COUNT(*) FROM audit_log") == 0
        assert await db.read(lambda c: c.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]) == 0
        # The event loop's own reader neither sees it nor waits for it.
        assert (await db.fetchone_inline("SELECT COUNT(*) FROM audit_log"))[0] == 0
        go_on.set()
        await writing
        assert await db.fetchval("SELECT COUNT(*) FROM audit_log") == 1
        assert await db.read_inline(lambda c: c.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]) == 1
        assert not (await db.fetchall_inline("SELECT * FROM audit_log WHERE action = 'none'"))
    finally:
        await db.close()


def test_backup_copies_a_live_database(tmp_path):
    path = tmp_path / "bot.sqlite3"
    migrate.migrate(path)
    migrate.backup(path, tmp_path / "copy" / "b.sqlite3")
    conn = sqlite3.connect(tmp_path / "copy" / "b.sqlite3")
    assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == migrate.latest_version()
    conn.close()


async def test_a_one_trip_transaction_commits_or_leaves_nothing(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        now = "2026-11-27T00:00:00+00:00"

        def add_site(name: str, fail: bool = False):
            def work(conn: sqlite3.Connection) -> int:
                site = conn.execute("INSERT INTO sites (name, created_at) VALUES (?, ?)", (name, now)).lastrowid
                if fail:
                    raise sqlite3.IntegrityError("second statement failed")
                return site

            return work

        assert await db.transaction(add_site("阳光花园")) == 1
        with pytest.raises(sqlite3.IntegrityError):
            await db.transaction(add_site("翠湖天地", fail=True))

        # Transactions and single statements sent together run whole, one after the other, in the
        # order they were sent: nothing lands inside another's transaction (there is no lock to take).
        def two_sites(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO sites (name, created_at) VALUES ('甲', ?)", (now,))
            time.sleep(0.05)
            conn.execute("INSERT INTO sites (name, created_at) VALUES ('乙', ?)", (now,))

        await asyncio.gather(
            db.transaction(two_sites),
            db.execute("INSERT INTO sites (name, created_at) VALUES ('丁', ?)", (now,)),
            db.transaction(add_site("丙")),
        )
        names = [row["name"] for row in await db.fetchall("SELECT name FROM sites ORDER BY id")]
        assert names == ["阳光花园", "甲", "乙", "丁", "丙"]
    finally:
        await db.close()


def test_0014_keeps_the_alerts_and_their_recipients(tmp_path, monkeypatch):
    """action_alerts is made again to widen its kind CHECK; the recipients referring to its rows stay
    valid (the foreign keys are checked at the commit)."""
    path = tmp_path / "bot.sqlite3"
    every = migrate.available_migrations()
    monkeypatch.setattr(migrate, "available_migrations", lambda: every[:13])
    migrate.migrate(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(
        """INSERT INTO rubric_versions VALUES ('h', 'r', 2, 't', '{}', 'x');
           INSERT INTO sites (id, name, created_at) VALUES (1, 's', 'x');
           INSERT INTO users (id, first_name, created_at, updated_at) VALUES (5, 'i', 'x', 'x');
           INSERT INTO inspections (id, site_id, inspector_id, rubric_hash, edition, status, started_at, updated_at)
               VALUES (1, 1, 5, 'h', 2, 'submitted', 'x', 'x');
           INSERT INTO actions (id, inspection_id, site_id, clause_id, answer, severity, due_date, created_at,
                                updated_at) VALUES (1, 1, 1, 'c', 'fail', 'serious', '2026-01-01', 'x', 'x');
           INSERT INTO action_alerts (id, action_id, kind, round, created_at) VALUES (7, 1, 'notice', 1, 'x');
           INSERT INTO action_recipients (alert_id, chat_id, message) VALUES (7, 5, 'k');"""
    )
    conn.close()
    monkeypatch.setattr(migrate, "available_migrations", lambda: every[:14])
    assert [m.version for m in migrate.migrate(path)] == [14]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    assert conn.execute("SELECT id, kind, round FROM action_alerts").fetchall() == [(7, "notice", 1)]
    assert conn.execute("SELECT * FROM action_recipients").fetchall() == [(7, 5, "k")]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.execute("INSERT INTO action_alerts (action_id, kind, round, created_at) VALUES (1, 'extension', 3, 'x')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO action_recipients (alert_id, chat_id) VALUES (999, 5)")
    conn.close()
