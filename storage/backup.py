"""Backups that restore: database copies checked before they count, and one shared evidence tree.

A backup folder holds ``bot-YYYYMMDD-HHMMSS.sqlite3`` copies (UTC, so names sort by age) and
``files/``, the evidence store's tree (``<sha256[:2]>/<sha256>``) copied incrementally: the files
are content-addressed and never rewritten, so a file already there is the same file.

Everything here is synchronous and opens its own ``sqlite3`` connections: the bot runs it in a
thread (``asyncio.to_thread``), the CLI directly. SQLite's online backup API copies the database in
one step inside one read transaction: a consistent snapshot that, in WAL mode, blocks no writer (the
bot's writes go on meanwhile).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

NAME = re.compile(r"^bot-(\d{8}-\d{6})\.sqlite3$")
FILES = "files"
_TEMP_PREFIX = ".bot-"
_STALE_TEMP_SECONDS = 24 * 3600  # a temporary this old was left by a crash, not by a backup under way


class IntegrityError(RuntimeError):
    """A copy failed ``PRAGMA integrity_check``; the message carries SQLite's first findings."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int  # bytes of the database copy
    files_copied: int
    files_bytes: int
    seconds: float
    pruned: tuple[Path, ...] = field(default=())


def backup_name(when: datetime) -> str:
    return f"bot-{when.astimezone(UTC):%Y%m%d-%H%M%S}.sqlite3"


def taken_at(path: Path) -> datetime | None:
    """When a backup named by :func:`backup_name` was taken; None for any other name."""
    match = NAME.match(path.name)
    return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC) if match else None


def backups_in(folder: Path) -> list[Path]:
    """The database copies in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if NAME.match(p.name) and p.is_file()), key=lambda p: p.name)


def copy_database(source: Path, target: Path) -> int:
    """Online backup of ``source`` to ``target``, checked, then renamed into place; returns its size.

    The copy is written under a temporary name beside ``target`` and passes ``PRAGMA integrity_check``
    before it replaces whatever was there; on any failure nothing is left behind. The copy is switched
    to a rollback journal, so it is one self-contained file (no -wal beside it) to move or restore.
    """
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f"{_TEMP_PREFIX}{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        src = sqlite3.connect(source)  # read-write: a WAL database opened read-only may need a -shm it cannot make
        dst = sqlite3.connect(temporary)
        try:
            src.backup(dst)  # pages=-1: the whole database in one step, one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")
            check_integrity(dst, Path(temporary))
        finally:
            dst.close()
            src.close()
        _fsync(Path(temporary))
        os.replace(temporary, target)
        _fsync_folder(target.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target.stat().st_size


def check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    rows = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
    if rows != ["ok"]:
        raise IntegrityError(f"{path}: integrity check failed: {'; '.join(map(str, rows))}")


def copy_new_files(source: Path, target: Path) -> tuple[int, int]:
    """Copy the files of tree ``source`` missing from ``target`` (same relative paths); (count, bytes).

    Each lands under a temporary name, then is renamed: an interrupted copy never passes for a file.
    Temporary files of the source (dot names, a write under way) are not copied.
    """
    copied = size = 0
    for path in _files_of(source):
        destination = target / path.relative_to(source)
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{path.name[:16]}.", suffix=".tmp")
        os.close(fd)
        try:
            shutil.copyfile(path, temporary)
            os.replace(temporary, destination)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        copied += 1
        size += destination.stat().st_size
    return copied, size


def _files_of(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for folder, folders, names in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                yield Path(folder) / name


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` database copies, and temporaries a crash left; what went."""
    gone = backups_in(folder)[:-keep] if keep > 0 else []
    for path in gone:
        path.unlink(missing_ok=True)
    now = time.time()
    for path in folder.glob(f"{_TEMP_PREFIX}*.tmp") if folder.is_dir() else ():
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > _STALE_TEMP_SECONDS:
                path.unlink()
    return gone


def take_backup(database: Path, files: Path, folder: Path, keep: int, now: datetime) -> BackupReport:
    """One scheduled backup: the database as ``<folder>/bot-<now>.sqlite3``, new evidence files into
    ``<folder>/files``, then prune to the newest ``keep``.

    The database goes first: a file is stored before the row that names it is committed, so every
    file the copy refers to is already on disk when the files are copied after it.
    """
    started = time.perf_counter()
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"backup folder {folder} is not a folder")
    target = folder / backup_name(now)
    size = copy_database(database, target)
    copied, copied_bytes = copy_new_files(files, folder / FILES)
    pruned = prune(folder, keep)
    return BackupReport(target, size, copied, copied_bytes, time.perf_counter() - started, tuple(pruned))


def newest_age_seconds(folder: Path, now: datetime) -> float | None:
    """Seconds since the newest backup in ``folder`` (by its name), None when there is none."""
    copies = backups_in(folder)
    when = taken_at(copies[-1]) if copies else None
    return None if when is None else (now - when).total_seconds()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    # The rename is durable once the folder's entry is: without this a power cut may lose the new name.
    with contextlib.suppress(OSError):
        _fsync(folder)
