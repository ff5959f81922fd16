"""Putting a backup back: ``python -m bot restore BACKUP`` (run with the data folder's lock held).

The backup is first copied beside the database and checked there (integrity, a schema this bot
knows), so a bad backup changes nothing. Only then is the current database moved aside, with its
-wal and -shm, to ``bot.sqlite3.before-restore-YYYYMMDD-HHMMSS`` (never deleted), and the copy renamed
into its place. Evidence files the data folder lacks are copied back from the backup's ``files/``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.backup import FILES, IntegrityError, backups_in, copy_database, copy_new_files

_SIDE_FILES = ("", "-wal", "-shm")  # SQLite finds a database's journal by these suffixes


class BackupUnusableError(RuntimeError):
    """The backup cannot be restored (missing, not a database, damaged, too new); nothing was changed."""


@dataclass(frozen=True)
class RestoreReport:
    backup: Path
    schema: int
    set_aside: Path | None  # where the database that was in place went (None: there was none)
    files_copied: int
    files_bytes: int
    files_problem: str | None = None  # the database is back, but copying evidence files back failed


def find_backup(path: Path) -> Path:
    """``path`` itself, or the newest ``bot-*.sqlite3`` when it is a backup folder."""
    if path.is_dir():
        copies = backups_in(path)
        if not copies:
            raise BackupUnusableError(f"folder {path} holds no backup (bot-YYYYMMDD-HHMMSS.sqlite3)")
        return copies[-1]
    if not path.is_file():
        raise BackupUnusableError(f"{path} does not exist")
    return path


def restore(backup: Path, database: Path, files: Path, known_version: int, now: datetime) -> RestoreReport:
    """Restore ``backup`` (a file or a backup folder) as ``database``; evidence files into ``files``."""
    backup = find_backup(backup)
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(f".{database.name}.restoring")
    try:
        try:
            copy_database(backup, incoming)
        except IntegrityError as exc:
            raise BackupUnusableError(str(exc)) from None
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed" …
            raise BackupUnusableError(f"{backup}: {exc}") from None
        schema = _schema_of(incoming, backup)
        if schema > known_version:
            raise BackupUnusableError(
                f"{backup} has schema version {schema}, this bot knows up to {known_version}: "
                "it was written by a newer version; upgrade the bot first"
            )
        aside = _set_aside(database, now)
        try:
            os.replace(incoming, database)
        except OSError:
            if aside is not None:
                _put_back(aside, database)
            raise
    finally:
        with contextlib.suppress(OSError):
            incoming.unlink()
    try:
        copied, size = copy_new_files(backup.parent / FILES, files)
    except OSError as exc:
        return RestoreReport(backup, schema, aside, 0, 0, str(exc))
    return RestoreReport(backup, schema, aside, copied, size)


def _schema_of(copy: Path, backup: Path) -> int:
    conn = sqlite3.connect(copy)
    try:
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        if not has_table:
            raise BackupUnusableError(f"{backup} is an SQLite database but not one of this bot (no schema_migrations)")
        return int(conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0)
    finally:
        conn.close()


def _set_aside(database: Path, now: datetime) -> Path | None:
    """Move the database (and its journal) to ``<name>.before-restore-<now>``; None if there is none."""
    if not database.exists():
        return None
    with contextlib.suppress(sqlite3.Error):
        # Fold the -wal into the file: the database set aside then stands alone.
        conn = sqlite3.connect(database)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    stem = f"{database.name}.before-restore-{now.astimezone(UTC):%Y%m%d-%H%M%S}"
    aside, n = database.with_name(stem), 1
    while aside.exists():  # two restores in one second: the first one's copy stays too
        n += 1
        aside = database.with_name(f"{stem}-{n}")
    for suffix in _SIDE_FILES:
        source = Path(f"{database}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{aside}{suffix}"))
    return aside


def _put_back(aside: Path, database: Path) -> None:
    for suffix in _SIDE_FILES:
        with contextlib.suppress(OSError):
            os.replace(Path(f"{aside}{suffix}"), Path(f"{database}{suffix}"))
