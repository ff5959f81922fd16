"""Every private use of aiosqlite, in one place (tests/unit/test_private_apis.py checks their shape).

Why: each aiosqlite call is a hand-off to the connection's thread (~70 µs of CPU). Running several
statements of a tap in one hand-off needs the connection's own queue (``Connection._execute``) and
the plain sqlite3 connection it wraps (``Connection._conn``); aiosqlite has no public API for that.
Written for aiosqlite 0.22 (pyproject pins the upper bound); a release that changes either fails the
shape test with the version in its message, not a tap in production.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

import aiosqlite

T = TypeVar("T")


async def run_on_connection_thread(conn: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` with the plain sqlite3 connection, on aiosqlite's thread, in one hand-off."""
    raw: sqlite3.Connection = conn._conn
    return await conn._execute(lambda: work(raw))
