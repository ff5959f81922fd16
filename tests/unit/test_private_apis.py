"""The private library APIs the bot relies on still have the shape it was written for.

Each private use lives in one module per library (storage/private_aiosqlite.py, bot/private_ptb.py,
bot/private_aiohttp.py). An upgrade that removes or reshapes one fails here, naming the library and
its version, instead of failing a tap in production.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import aiosqlite
import pytest
from telegram.ext import ExtBot

from bot.private_aiohttp import env_proxy_for
from bot.private_ptb import DEFAULT_NONE, DefaultValue
from storage.private_aiosqlite import run_on_connection_thread


def broke(library: str, what: str) -> str:
    return f"{library} {version(library)}: {what} changed; see the module holding its private uses"


async def test_aiosqlite_runs_work_on_its_thread_with_the_plain_connection(tmp_path) -> None:
    assert callable(getattr(aiosqlite.Connection, "_execute", None)), broke("aiosqlite", "Connection._execute")
    conn = await aiosqlite.connect(tmp_path / "x.db")
    try:
        assert isinstance(getattr(conn, "_conn", None), object), broke("aiosqlite", "Connection._conn")
        result = await run_on_connection_thread(conn, lambda raw: raw.execute("SELECT 41 + 1").fetchone()[0])
    finally:
        await conn.close()
    assert result == 42, broke("aiosqlite", "Connection._execute / _conn")


def test_ptb_defaults_sentinels_and_post() -> None:
    assert isinstance(DEFAULT_NONE, DefaultValue), broke("python-telegram-bot", "telegram._utils.defaultvalue")
    post = getattr(ExtBot, "_post", None)
    assert post is not None, broke("python-telegram-bot", "ExtBot._post")
    parameters = list(inspect.signature(post).parameters)
    assert parameters[:3] == ["self", "endpoint", "data"], broke("python-telegram-bot", "ExtBot._post's signature")


def test_aiohttp_reads_the_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxy, auth = env_proxy_for("https://api.telegram.org/bot1:x/getMe")
    assert str(proxy) == "http://proxy.example:3128", broke("aiohttp", "helpers.get_env_proxy_for_url")
    assert auth is not None and auth.login == "user", broke("aiohttp", "helpers.get_env_proxy_for_url")
    monkeypatch.setenv("NO_PROXY", "api.telegram.org")
    with pytest.raises(LookupError):
        env_proxy_for("https://api.telegram.org/bot1:x/getMe")
