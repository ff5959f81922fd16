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
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.migrate import latest_version, migrate
from storage.private_aiosqlite import run_on_connection_thread

Row = aiosqlite.Row
T = TypeVar("T")

# Benchmarks only, set per update by bot.update_processor.timed(): seconds the current update spent
# [in database calls (queueing included), of those waiting in the writer thread's queue before a
# transaction() began, and running read()/transaction() work on aiosqlite's threads]. The rest of the
# first is single statements, reads' queueing and the hand-offs.
DB_WAIT: ContextVar[list[float] | None] = ContextVar("db_wait", default=None)
IN_DATABASE, WRITER_QUEUE, ON_THREAD = 0, 1, 2


@asynccontextmanager
async def _timed() -> AsyncIterator[None]:
    waited = DB_WAIT.get()
    if waited is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        waited[IN_DATABASE] += time.perf_counter() - started


def _thread_timed(work: Callable[[sqlite3.Connection], T], queued: bool = False) -> Callable[[sqlite3.Connection], T]:
    """``work``, adding its run time on aiosqlite's thread to the update's ON_THREAD when benchmarked
    (and with ``queued``, the wait from now until the thread starts it to WRITER_QUEUE)."""
    waited = DB_WAIT.get()
    if waited is None:
        return work
    submitted = time.perf_counter()

    def timed_work(conn: sqlite3.Connection) -> T:
        started = time.perf_counter()
        if queued:
            waited[WRITER_QUEUE] += started - submitted
        try:
            return work(conn)
        finally:
            waited[ON_THREAD] += time.perf_counter() - started

    return timed_work


class Database:
    def __init__(self, conn: aiosqlite.Connection, reader: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._reader = reader
        self.path = path

    @classmethod
    async def open(cls, path: Path, *, run_migrations: bool = True) -> Database:
        if run_migrations:
            # Synchronous and quick; refuses a database from a newer version before anything else.
            await asyncio.to_thread(migrate, path)
        conn = await _connect(path, "journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000", "synchronous=NORMAL")
        # query_only: a write sent to the reader by mistake fails at once instead of racing the writer.
        reader = await _connect(path, "busy_timeout=5000", "query_only=ON")
        return cls(conn, reader, path)

    async def close(self) -> None:
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

        async with _timed():
            return await run_on_connection_thread(self._reader, _thread_timed(run))

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

        async with _timed():
            return await run_on_connection_thread(self._conn, _thread_timed(run, queued=True))

    # execute_fetchall is one trip to aiosqlite's thread; execute + fetch + close would be three.
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with _timed():
            return list(await self._reader.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """A single-statement write (atomic on its own in autocommit mode); returns lastrowid."""
        async with _timed():
            cursor = await self._conn.execute(sql, params)
            return cursor.lastrowid or 0

    async def change(self, sql: str, params: Sequence[Any] = ()) -> int:
        """As :meth:`execute`; returns how many rows the statement changed (0: its WHERE found none,
        e.g. a double tap after the state moved on)."""
        async with _timed():
            return (await self._conn.execute(sql, params)).rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Many rows of one statement, in one transaction and one trip."""
        batch = list(rows)
        await self.transaction(lambda conn: conn.executemany(sql, batch))

    async def schema_version(self) -> int:
        return int(await self.fetchval("SELECT MAX(version) FROM schema_migrations") or 0)


async def _connect(path: Path, *pragmas: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=5.0)
    conn.row_factory = aiosqlite.Row
    for pragma in pragmas:
        await conn.execute(f"PRAGMA {pragma}")
    return conn


__all__ = ["Database", "Row", "latest_version"]
