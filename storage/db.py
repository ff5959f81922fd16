"""The bot's two aiosqlite connections: one that writes and one that reads.

aiosqlite runs every call of a connection on its own thread, one after the other, in the order
they were queued. Every write is one call: a single statement (:meth:`Database.execute`,
:meth:`Database.change`) or several in one transaction run whole on that thread
(:meth:`Database.transaction`, ``BEGIN IMMEDIATE`` to ``COMMIT``). So no statement ever lands inside
another coroutine's transaction, and no lock is needed: writers wait only in the thread's queue,
each for the few milliseconds of the writes before it. (A transaction that spanned several calls,
once ``Database.write()``, needed an asyncio lock held across its trips; under 200 inspectors that
lock was the slowest taps' wait: bench crowd, bench/RESULTS.md.)

Reads go to a second, read-only connection (WAL lets it read while the writer writes), each in one
snapshot, so a read never queues behind a write's trip and never sees an uncommitted one.

The small reads of every tap (a person and their roles, an inspection and its answers: by key, on
an index, well under a millisecond) run inline on the event loop instead, through a third read-only
connection (:meth:`Database.read_inline`). On aiosqlite's thread such a read costs more than its
work: the thread must win the GIL from the busy event loop to start, after each row it fetches and
to hand back, and under 200 inspectors the slowest taps waited ~200 ms in the reader thread's queue
and ~100 ms in hand-offs for ~14 ms of SQL (bench crowd, bench/RESULTS.md). Scans (summaries,
reports, exports) stay on the thread: the event loop would wait for them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.migrate import latest_version, migrate
from storage.private_aiosqlite import run_on_connection_thread

Row = aiosqlite.Row
T = TypeVar("T")

# Benchmarks only, set per update by bot.update_processor.timed(): seconds the current update spent
# [in database calls (queueing included), of those waiting in the writer thread's queue, waiting in
# the reader thread's queue, and running SQL (on aiosqlite's threads or inline)]. The rest of the
# first is the hand-offs back to the event loop.
DB_WAIT: ContextVar[list[float] | None] = ContextVar("db_wait", default=None)
IN_DATABASE, WRITER_QUEUE, READER_QUEUE, RUNNING = 0, 1, 2, 3


@contextmanager
def _timed(*slots: int) -> Iterator[None]:
    waited = DB_WAIT.get()
    if waited is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        for slot in (IN_DATABASE, *slots):
            waited[slot] += time.perf_counter() - started


def _thread_timed(work: Callable[[sqlite3.Connection], T], queue: int) -> Callable[[sqlite3.Connection], T]:
    """``work``, adding (when benchmarked) the wait from now until aiosqlite's thread starts it to the
    update's ``queue`` slot and its run time on the thread to RUNNING."""
    waited = DB_WAIT.get()
    if waited is None:
        return work
    submitted = time.perf_counter()

    def timed_work(conn: sqlite3.Connection) -> T:
        started = time.perf_counter()
        waited[queue] += started - submitted
        try:
            return work(conn)
        finally:
            waited[RUNNING] += time.perf_counter() - started

    return timed_work


class Database:
    def __init__(
        self, conn: aiosqlite.Connection, reader: aiosqlite.Connection, inline: sqlite3.Connection, path: Path
    ) -> None:
        self._conn = conn
        self._reader = reader
        self._inline = inline
        self.path = path

    @classmethod
    async def open(cls, path: Path, *, run_migrations: bool = True) -> Database:
        if run_migrations:
            # Synchronous and quick; refuses a database from a newer version before anything else.
            await asyncio.to_thread(migrate, path)
        conn = await _connect(path, "journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000", "synchronous=NORMAL")
        # query_only: a write sent to the reader by mistake fails at once instead of racing the writer.
        reader = await _connect(path, "busy_timeout=5000", "query_only=ON")
        return cls(conn, reader, _connect_inline(path), path)

    async def close(self) -> None:
        self._inline.close()
        await self._reader.close()
        await self._conn.close()

    # The hot path (a button tap) uses read() and transaction(): each aiosqlite call is a thread
    # handoff costing ~70 µs of CPU, and these do several statements in one. ``work`` runs on
    # aiosqlite's thread with the plain sqlite3 connection; it must not await or touch the event loop.

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Several reads in a single trip to the reader's thread, all from one snapshot."""

        def run(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN")
            try:
                return work(conn)
            finally:
                conn.rollback()  # nothing to keep: ends the snapshot

        return await self._on_reader(run)

    async def read_inline(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """As :meth:`read`, run right here on the event loop: only for small reads by key on an index
        (the event loop waits for them). Async like the others, so a repository can move a read
        between the two without its callers knowing."""
        with _timed(RUNNING):
            self._inline.execute("BEGIN")
            try:
                return work(self._inline)
            finally:
                self._inline.rollback()

    async def fetchone_inline(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetchall_inline(sql, params)
        return rows[0] if rows else None

    async def fetchall_inline(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with _timed(RUNNING):
            return self._inline.execute(sql, params).fetchall()

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """One write transaction in a single trip to aiosqlite's thread; rolled back if ``work`` raises."""

        def run(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return result

        return await self._on_writer(run)

    # Each of these is one trip to a connection's thread (aiosqlite's execute + fetch + close, three).
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._on_reader(lambda conn: conn.execute(sql, params).fetchall())

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """A single-statement write (atomic on its own in autocommit mode); returns lastrowid."""
        return await self._on_writer(lambda conn: conn.execute(sql, params).lastrowid or 0)

    async def change(self, sql: str, params: Sequence[Any] = ()) -> int:
        """As :meth:`execute`; returns how many rows the statement changed (0: its WHERE found none,
        e.g. a double tap after the state moved on)."""
        return await self._on_writer(lambda conn: conn.execute(sql, params).rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Many rows of one statement, in one transaction and one trip."""
        batch = list(rows)
        await self.transaction(lambda conn: conn.executemany(sql, batch))

    async def _on_reader(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with _timed():
            return await run_on_connection_thread(self._reader, _thread_timed(work, READER_QUEUE))

    async def _on_writer(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with _timed():
            return await run_on_connection_thread(self._conn, _thread_timed(work, WRITER_QUEUE))

    async def schema_version(self) -> int:
        return int(await self.fetchval("SELECT MAX(version) FROM schema_migrations") or 0)


async def _connect(path: Path, *pragmas: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=5.0)
    conn.row_factory = aiosqlite.Row
    for pragma in pragmas:
        await conn.execute(f"PRAGMA {pragma}")
    return conn


# WAL readers wait only in rare moments (recovery after a crash, before the bot serves anyone); the
# event loop would wait with them, so not for long.
INLINE_BUSY_MS = 1000


def _connect_inline(path: Path) -> sqlite3.Connection:
    """The event loop's own read-only connection (check_same_thread: used from another thread, it fails)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=INLINE_BUSY_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA query_only=ON")
    return conn


__all__ = ["Database", "Row", "latest_version"]
