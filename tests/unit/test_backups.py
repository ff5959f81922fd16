"""Backups (storage/backup.py), restore (storage/restore.py) and the data folder's lock, on real files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.backups import START_DELAY_SECONDS, first_delay
from storage import migrate
from storage.backup import (
    FILES,
    IntegrityError,
    backup_name,
    backups_in,
    copy_database,
    copy_new_files,
    newest_age_seconds,
    prune,
    take_backup,
    taken_at,
)
from storage.files import FileStore
from storage.lock import DataLock, LockedError
from storage.restore import BackupUnusableError, restore

NOW = datetime(2027, 1, 4, 1, 2, 3, tzinfo=UTC)


def database(path: Path, sites: tuple[str, ...] = ("阳光花园",)) -> Path:
    migrate.migrate(path)
    with sqlite3.connect(path) as conn:
        for name in sites:
            conn.execute("INSERT INTO sites (name, created_at) VALUES (?, ?)", (name, NOW.isoformat()))
    return path


def sites_in(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT name FROM sites ORDER BY id")]
    finally:
        conn.close()


def damaged(path: Path) -> Path:
    """A database SQLite opens and copies, whose index no longer matches its table."""
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE t (a, b); CREATE INDEX ti ON t (a); INSERT INTO t VALUES (1, 2), (3, 4);")
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX ti ON t (b)' WHERE name = 'ti'")
    conn.commit()
    conn.close()
    return path


# -- names -----------------------------------------------------------------------------------------


def test_names_are_utc_and_sort_by_age():
    shanghai = timezone(timedelta(hours=8))
    assert backup_name(NOW) == "bot-20270104-010203.sqlite3"
    assert backup_name(NOW.astimezone(shanghai)) == "bot-20270104-010203.sqlite3"
    assert taken_at(Path("/b") / backup_name(NOW)) == NOW
    assert taken_at(Path("bot.sqlite3")) is None and taken_at(Path("bot-2027.sqlite3")) is None
    later = [backup_name(NOW + timedelta(hours=h)) for h in (0, 9, 10, 30, 24 * 40)]
    assert sorted(later) == later


def test_newest_age_reads_the_names(tmp_path: Path):
    assert newest_age_seconds(tmp_path, NOW) is None
    assert newest_age_seconds(tmp_path / "missing", NOW) is None
    for hours in (30, 5):
        (tmp_path / backup_name(NOW - timedelta(hours=hours))).write_bytes(b"")
    (tmp_path / "bot-99999999-999999.sqlite3.tmp").write_bytes(b"")  # not a backup's name
    assert newest_age_seconds(tmp_path, NOW) == 5 * 3600


def test_the_first_backup_after_a_start_keeps_the_rhythm():
    day = 24 * 3600
    assert first_delay(day, None) == START_DELAY_SECONDS  # never backed up: soon
    assert first_delay(day, 20 * 3600) == 4 * 3600  # a restart does not reset the clock
    assert first_delay(day, 3 * day) == START_DELAY_SECONDS  # overdue: soon, not at once
    assert first_delay(day, -5 * day) == day  # a backup named in the future: at most one interval


# -- pruning ---------------------------------------------------------------------------------------


def test_prune_keeps_the_newest_and_touches_nothing_else(tmp_path: Path):
    names = [backup_name(NOW - timedelta(days=d)) for d in range(6)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    others = ["bot.sqlite3", "notes.txt", "bot-2027.sqlite3"]
    for name in others:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / FILES).mkdir()
    gone = prune(tmp_path, 4)
    assert sorted(p.name for p in gone) == sorted(names[4:])
    assert [p.name for p in backups_in(tmp_path)] == sorted(names[:4])
    assert all((tmp_path / name).exists() for name in others) and (tmp_path / FILES).is_dir()
    assert prune(tmp_path, 4) == []
    assert [p.name for p in prune(tmp_path, 1)] == sorted(names[1:4])


def test_prune_removes_a_crashs_old_temporaries_only(tmp_path: Path):
    old, fresh = tmp_path / ".bot-bot-1.sqlite3.abc.tmp", tmp_path / ".bot-bot-2.sqlite3.def.tmp"
    old.write_bytes(b"half")
    fresh.write_bytes(b"under way")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    prune(tmp_path, 3)
    assert not old.exists() and fresh.exists()


# -- one backup ------------------------------------------------------------------------------------


def test_a_backup_is_one_checked_file_and_the_evidence_tree_grows_incrementally(tmp_path: Path):
    data = tmp_path / "data"
    db = database(data / "bot.sqlite3")
    store = FileStore(data / "files")
    first = store.put(b"photo one")
    (store.path_of(first).parent / ".0123.tmp").write_bytes(b"a write under way")  # not evidence yet
    folder = tmp_path / "backups"

    report = take_backup(db, data / "files", folder, keep=14, now=NOW)
    assert report.path == folder / "bot-20270104-010203.sqlite3" and report.size == report.path.stat().st_size
    assert (report.files_copied, report.files_bytes) == (1, len(b"photo one")) and report.seconds >= 0
    assert sites_in(report.path) == ["阳光花园"]
    assert not Path(f"{report.path}-wal").exists()
    with sqlite3.connect(report.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    assert (folder / FILES / first[:2] / first).read_bytes() == b"photo one"
    assert not list((folder / FILES).rglob(".*"))  # neither the store's temporary nor ours

    second = store.put(b"photo two")
    again = take_backup(db, data / "files", folder, keep=14, now=NOW + timedelta(days=1))
    assert (again.files_copied, again.files_bytes) == (1, len(b"photo two"))  # only the new one
    assert (folder / FILES / second[:2] / second).is_file()
    assert [p.name for p in backups_in(folder)] == [report.path.name, again.path.name]
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_a_scheduled_backup_prunes_to_keep(tmp_path: Path):
    db = database(tmp_path / "bot.sqlite3")
    for day in range(4):
        report = take_backup(db, tmp_path / "files", tmp_path / "b", keep=2, now=NOW + timedelta(days=day))
    assert [p.name for p in backups_in(tmp_path / "b")] == [
        backup_name(NOW + timedelta(days=2)),
        backup_name(NOW + timedelta(days=3)),
    ]
    assert len(report.pruned) == 1


def test_a_damaged_database_fails_the_check_and_leaves_nothing(tmp_path: Path):
    db = damaged(database(tmp_path / "bot.sqlite3"))
    folder = tmp_path / "backups"
    with pytest.raises(IntegrityError, match="integrity check failed: row 1 missing from index ti"):
        take_backup(db, tmp_path / "files", folder, keep=3, now=NOW)
    assert list(folder.iterdir()) == []  # no copy, no temporary


def test_a_failed_copy_keeps_the_previous_file(tmp_path: Path):
    db = damaged(database(tmp_path / "bot.sqlite3"))
    target = tmp_path / "copy.sqlite3"
    target.write_bytes(b"last week's backup")
    with pytest.raises(IntegrityError):
        copy_database(db, target)
    assert target.read_bytes() == b"last week's backup"


def test_a_backup_folder_that_is_a_file_is_refused(tmp_path: Path):
    db = database(tmp_path / "bot.sqlite3")
    blocker = tmp_path / "backups"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        take_backup(db, tmp_path / "files", blocker, keep=3, now=NOW)


def test_copying_files_skips_what_is_there(tmp_path: Path):
    source, target = tmp_path / "a", tmp_path / "b"
    (source / "ab").mkdir(parents=True)
    (source / "ab" / "abc").write_bytes(b"1")
    (target / "ab").mkdir(parents=True)
    (target / "ab" / "abc").write_bytes(b"1")
    (source / "cd").mkdir()
    (source / "cd" / "cde").write_bytes(b"22")
    assert copy_new_files(source, target) == (1, 2)
    assert copy_new_files(source, target) == (0, 0)
    assert copy_new_files(tmp_path / "missing", target) == (0, 0)


# -- restore ---------------------------------------------------------------------------------------


def test_restore_sets_the_current_database_aside_with_its_journal(tmp_path: Path):
    data = tmp_path / "data"
    current = database(data / "bot.sqlite3", ("现在",))
    folder = tmp_path / "backups"
    older = take_backup(database(tmp_path / "old.sqlite3", ("旧",)), tmp_path / "nofiles", folder, 5, NOW)
    newer = take_backup(
        database(tmp_path / "new.sqlite3", ("新",)), tmp_path / "nofiles", folder, 5, NOW + timedelta(1)
    )
    # A bot that died with writes still in its -wal: they must go aside with the file, not onto the backup.
    keeper = sqlite3.connect(current)
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.execute("PRAGMA wal_autocheckpoint=0")
    keeper.execute("INSERT INTO sites (name, created_at) VALUES ('只在 wal 里', '2027-01-01')")
    keeper.commit()

    report = restore(folder, current, data / "files", migrate.latest_version(), NOW)  # a folder: its newest
    keeper.close()
    assert report.backup == newer.path and report.schema == migrate.latest_version()
    assert sites_in(current) == ["新"]
    assert report.set_aside == data / "bot.sqlite3.before-restore-20270104-010203"
    assert sites_in(report.set_aside) == ["现在", "只在 wal 里"]

    again = restore(older.path, current, data / "files", migrate.latest_version(), NOW)  # the same second
    assert sites_in(current) == ["旧"]
    assert again.set_aside == data / "bot.sqlite3.before-restore-20270104-010203-2"
    assert sites_in(report.set_aside) == ["现在", "只在 wal 里"] and sites_in(again.set_aside) == ["新"]
    assert not [p for p in data.iterdir() if p.name.startswith(".")]


def test_restore_onto_an_empty_data_folder_brings_the_files_back(tmp_path: Path):
    data, folder = tmp_path / "old-server", tmp_path / "backups"
    store = FileStore(data / "files")
    digest = store.put(b"evidence")
    take_backup(database(data / "bot.sqlite3"), data / "files", folder, 5, NOW)
    fresh = tmp_path / "new-server"
    report = restore(folder, fresh / "bot.sqlite3", fresh / "files", migrate.latest_version(), NOW)
    assert report.set_aside is None and (report.files_copied, report.files_bytes) == (1, len(b"evidence"))
    assert FileStore(fresh / "files").get(digest) == b"evidence"
    assert sites_in(fresh / "bot.sqlite3") == ["阳光花园"]


def text_file(path: Path) -> None:
    path.write_text("not a database at all, just text. " * 100, encoding="utf-8")


def another_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE x (a)")


def from_a_newer_bot(path: Path) -> None:
    with sqlite3.connect(database(path)) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (9999, 'future', '2099-01-01')")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (text_file, "not a database"),
        (lambda path: damaged(database(path)), "integrity check failed"),
        (another_database, "no schema_migrations"),
        (from_a_newer_bot, "schema version 9999, this bot knows up to"),
    ],
    ids=["text", "damaged", "another-database", "newer-schema"],
)
def test_a_backup_that_cannot_be_used_changes_nothing(tmp_path: Path, make, reason: str):
    current = database(tmp_path / "data" / "bot.sqlite3", ("现在",))
    backup = tmp_path / "bad.sqlite3"
    make(backup)
    before = sorted(p.name for p in current.parent.iterdir())
    with pytest.raises(BackupUnusableError, match=reason):
        restore(backup, current, tmp_path / "data" / "files", migrate.latest_version(), NOW)
    assert sorted(p.name for p in current.parent.iterdir()) == before
    assert sites_in(current) == ["现在"]


def test_restore_names_a_missing_backup_or_an_empty_folder(tmp_path: Path):
    with pytest.raises(BackupUnusableError, match="does not exist"):
        restore(tmp_path / "nope.sqlite3", tmp_path / "bot.sqlite3", tmp_path / "files", 1, NOW)
    with pytest.raises(BackupUnusableError, match="holds no backup"):
        restore(tmp_path, tmp_path / "bot.sqlite3", tmp_path / "files", 1, NOW)


# -- the lock --------------------------------------------------------------------------------------


def test_the_lock_is_exclusive_names_its_holder_and_goes_with_it(tmp_path: Path):
    path = tmp_path / "data" / "bot.lock"
    with DataLock(path) as held:
        assert held.held
        with pytest.raises(LockedError, match=f"process {os.getpid()}") as refused:
            DataLock(path).acquire()  # another descriptor, even in the same process
        assert refused.value.pid == os.getpid()
    DataLock(path).acquire().release()
    # A holder that dies without releasing: the kernel drops its lock.
    code = "import sys; from storage.lock import DataLock; DataLock(__import__('pathlib').Path(sys.argv[1])).acquire()"
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=Path(__file__).parents[2])
    DataLock(path).acquire().release()
