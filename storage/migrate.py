"""Numbered schema migrations (``storage/migrations/NNNN_name.sql``), applied at start.

Runs synchronously with the standard ``sqlite3`` module before the bot touches the network, so a
database written by a newer version stops the start with a clear message instead of half-working.
Each migration runs in one transaction and is recorded in ``schema_migrations``.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the bot."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration numbers must be consecutive: expected {expected:04d}")
    return found


def latest_version() -> int:
    migrations = available_migrations()
    return migrations[-1].version if migrations else 0


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def current_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)"
    )
    row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def migrate(path: Path) -> list[Migration]:
    """Bring the database at ``path`` up to date; return the migrations applied now."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        version = current_version(conn)
        known = latest_version()
        if version > known:
            raise SchemaTooNewError(
                f"database {path} has schema version {version}, this bot knows up to {known}: "
                "it was written by a newer version; upgrade the bot or restore a backup"
            )
        applied = []
        for migration in available_migrations():
            if migration.version <= version:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, datetime.now(UTC).isoformat(timespec="seconds")),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            applied.append(migration)
        return applied
    finally:
        conn.close()


def _statements(sql: str) -> list[str]:
    # executescript() would commit on its own; split so the whole migration stays one transaction.
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not buffer.strip().startswith("--"):
        statements.append(buffer.strip())
    return [s for s in statements if s]


def backup(source: Path, target: Path) -> None:
    """Online backup of ``source`` to ``target``, checked, then renamed over it (storage/backup.py)."""
    from storage.backup import copy_database  # the scheduled backups' code path

    copy_database(source, target)


def write_problem(database: Path) -> str | None:
    """Why the bot could not create or write the database at ``database``, naming the path; None if it can.

    Tried for real, creating nothing that stays: file modes say nothing to root or about a read-only
    mount, and SQLite itself only says "unable to open database file", without the path or why.
    """
    if database.exists() and not database.is_file():
        return f"{database} is not a file"
    folder = database.parent
    while not folder.exists():  # created at start, which needs the nearest existing folder writable
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if database.exists():
        try:
            with database.open("r+b"):
                pass
        except OSError as exc:
            return f"{database}: {exc.strerror or exc}"
    try:
        # SQLite keeps its -wal and -shm files beside the database: the folder must take new files.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"{folder}: {exc.strerror or exc}"
    return None
