"""`python -m bot run` starting and stopping as a process: a refused token, an unreachable Bot API, SIGTERM."""

from __future__ import annotations

import asyncio
import re
import socket
import time

from tests.harness.botapi import FakeBotAPI
from tests.integration.test_process import bot_env, run_cli, start_bot, stop_bot

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
WRONG_TOKEN = "999:wrongtoken"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def read_until(stream: asyncio.StreamReader, pattern: re.Pattern[str], within: float) -> list[str]:
    """Lines read from ``stream`` up to and including the first matching ``pattern``."""
    lines: list[str] = []
    deadline = time.monotonic() + within
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no line matching {pattern.pattern!r} within {within} s:\n" + "".join(lines))
        raw = await asyncio.wait_for(stream.readline(), timeout=remaining)
        if not raw:
            raise AssertionError(f"the bot ended before a line matched {pattern.pattern!r}:\n" + "".join(lines))
        lines.append(raw.decode())
        if pattern.search(lines[-1]):
            return lines


def assert_clean_stop(code: int, log: str, token: str) -> None:
    assert code == 0, log
    assert "Unclosed" not in log, log
    assert " ERROR " not in log and "Traceback" not in log, log
    assert token not in log


async def test_a_refused_token_is_one_line_without_the_token(botapi: FakeBotAPI, tmp_path):
    env = bot_env(botapi, tmp_path, BOT_TOKEN=WRONG_TOKEN, BOT_LOG_LEVEL="INFO")
    code, _, err = await run_cli("run", env=env)
    assert code == 2, err
    said = [line for line in err.splitlines() if not LOG_LINE.match(line)]
    assert len(said) == 1, err
    assert "@BotFather" in said[0] and "Telegram" in said[0] and "令牌" in said[0]
    assert said[0].index("令牌") < said[0].index("token")  # Chinese first, then English
    assert "Traceback" not in err and "Unclosed" not in err
    assert WRONG_TOKEN not in err and "wrongtoken" not in err
    # Nor in the debug log, where PTB names the token in its own error.
    code, _, err = await run_cli("run", env=bot_env(botapi, tmp_path, BOT_TOKEN=WRONG_TOKEN))
    assert code == 2 and "wrongtoken" not in err and "Traceback" not in err


async def test_an_unreachable_api_is_warned_naming_the_host(tmp_path):
    token = "123456:unreachable-token-abcdefghijklmnop"
    env = bot_env(
        None,
        tmp_path,
        BOT_TOKEN=token,
        BOT_API_BASE_URL=f"http://127.0.0.1:{closed_port()}/bot",
        BOT_LOG_LEVEL="INFO",
    )
    process = await start_bot(env)
    try:
        assert process.stderr is not None
        lines = await read_until(process.stderr, re.compile(r" WARNING .*unreachable"), within=15)
        warning = lines[-1]
        assert "127.0.0.1" in warning and "retrying in" in warning
        # One warning per backoff step: the next one says a longer wait.
        lines += await read_until(process.stderr, re.compile(r" WARNING .*unreachable"), within=15)
    finally:
        code, log = await stop_bot(process)
    log = "".join(lines) + log
    assert_clean_stop(code, log, token)
    assert token.split(":")[1] not in log


async def test_sigterm_while_the_api_is_unreachable_closes_everything(botapi: FakeBotAPI, tmp_path):
    botapi.set_unreachable(True)
    process = await start_bot(bot_env(botapi, tmp_path))
    try:
        # Polled: refused requests do not wake the stand-in's wait_for.
        for _ in range(150):
            if botapi.unreachable_hits >= 2:
                break
            await asyncio.sleep(0.1)
        assert botapi.unreachable_hits >= 2, "the bot never retried"
    finally:
        code, log = await stop_bot(process)
    assert_clean_stop(code, log, botapi.token)


async def test_sigterm_while_serving_closes_everything(botapi: FakeBotAPI, tmp_path):
    process = await start_bot(bot_env(botapi, tmp_path))
    try:
        person = botapi.person(7001, "管理员")
        await person.send_command("start")
        await person.wait_reply(timeout=20)
    finally:
        code, log = await stop_bot(process)
    assert_clean_stop(code, log, botapi.token)
    assert "bot @dudao_test_bot ready" in log
