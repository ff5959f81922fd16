"""`python -m bot` as a real process: serving through a stand-in, SIGTERM, token never logged."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.harness.botapi import FakeBotAPI

REPO = Path(__file__).parents[2]


def bot_env(api: FakeBotAPI | None, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update({"BOT_DATA_DIR": str(data_dir), "BOT_LOG_LEVEL": "DEBUG", "BOT_ADMIN_IDS": "7001"})
    if api is not None:
        env.update({"BOT_TOKEN": api.token, "BOT_API_BASE_URL": api.base_url, "BOT_API_FILE_URL": api.base_file_url})
    env.update(extra)
    return env


async def start_bot(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_bot(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    return process.returncode or 0, stderr.decode()


async def test_serves_through_the_stand_in_and_stops_cleanly_on_sigterm(botapi: FakeBotAPI, tmp_path):
    process = await start_bot(bot_env(botapi, tmp_path))
    try:
        person = botapi.person(7001, "管理员")
        await person.send_command("start")
        reply = await person.wait_reply(timeout=20)
        assert "督导助手" in reply.text
    finally:
        code, log = await stop_bot(process)
    assert code == 0, log
    assert botapi.token not in log and botapi.token.split(":")[1] not in log
    assert "bot @dudao_test_bot ready" in log
    assert "Traceback" not in log


async def test_starts_while_the_api_is_unreachable_and_recovers(botapi: FakeBotAPI, tmp_path):
    botapi.set_unreachable(True)
    process = await start_bot(bot_env(botapi, tmp_path))
    try:
        await botapi.wait_for(lambda: botapi.unreachable_hits >= 2, timeout=15, describe="startup retries")
        botapi.set_unreachable(False)
        person = botapi.person(7001, "管理员")
        await person.send_command("help")
        assert "/start" in (await person.wait_reply(timeout=20)).text
    finally:
        code, log = await stop_bot(process)
    assert code == 0, log
    assert botapi.token not in log


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_run_without_token_explains_botfather(tmp_path):
    code, _, err = await run_cli("run", env=bot_env(None, tmp_path, BOT_CONFIG=str(tmp_path / "none.toml")))
    assert code == 2 and "BOT_CONFIG" in err  # a named config file that is missing is an error
    code, _, err = await run_cli("run", env=bot_env(None, tmp_path))
    assert code != 0 and "@BotFather" in err and "BOT_TOKEN" in err


async def test_invalid_setting_fails_with_one_line(tmp_path):
    code, _, err = await run_cli("run", env=bot_env(None, tmp_path, BOT_TOKEN="1:x", BOT_TIMEZONE="Mars/Base"))
    assert code == 2
    assert err.strip().splitlines() == [
        "配置错误 / config error: BOT_TIMEZONE: unknown time zone 'Mars/Base' (use an IANA name such as Asia/Shanghai)"
    ]


async def test_check_backup_and_version(tmp_path):
    env = bot_env(None, tmp_path, BOT_TOKEN="123:abc")
    code, out, err = await run_cli("check", env=env)
    assert code == 0, err
    assert "rubric: editions 1, 2 ok" in out and "check: ok" in out
    from storage.migrate import migrate

    migrate(tmp_path / "bot.sqlite3")
    code, out, _ = await run_cli("backup", str(tmp_path / "copy.sqlite3"), env=env)
    assert code == 0 and (tmp_path / "copy.sqlite3").stat().st_size > 0
    code, out, _ = await run_cli("--version", env=env)
    assert code == 0 and "督导助手" in out


async def test_a_newer_database_is_refused_at_start(tmp_path):
    import sqlite3

    from storage.migrate import migrate

    migrate(tmp_path / "bot.sqlite3")
    conn = sqlite3.connect(tmp_path / "bot.sqlite3")
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    conn.commit()
    conn.close()
    code, _, err = await run_cli("run", env=bot_env(None, tmp_path, BOT_TOKEN="123:abc"))
    assert code == 3 and "newer version" in err


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_mode_with_a_secret_token(botapi: FakeBotAPI, tmp_path):
    """Our own webhook server: the secret token checked, /healthz beside it, metrics on their own
    port, and the log as JSON lines."""
    import json

    import aiohttp

    port, metrics_port = free_port(), free_port()
    env = bot_env(  # listens on 127.0.0.1 by default, behind a reverse proxy
        botapi,
        tmp_path,
        BOT_WEBHOOK_ENABLED="true",
        BOT_WEBHOOK_URL="https://bot.example.org",
        BOT_WEBHOOK_PORT=str(port),
        BOT_WEBHOOK_SECRET="s3cret-token",
        BOT_METRICS_ENABLED="true",
        BOT_METRICS_PORT=str(metrics_port),
        BOT_LOG_FORMAT="json",
    )
    process = await start_bot(env)
    try:
        await botapi.wait_for(lambda: botapi.webhook, 20, "setWebhook")
        assert botapi.webhook["url"] == "https://bot.example.org/telegram"
        assert botapi.webhook["secret_token"] == "s3cret-token"
        person = botapi.person(7001, "管理员")
        update = await person.send_command("help")
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/telegram"
            # setWebhook may come before the bot's own server listens: wait for it to accept.
            for _ in range(100):
                try:
                    async with http.post(url, json={}, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as bad:
                        assert bad.status == 403
                    break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"the webhook server never listened on port {port}")
            async with http.post(url, json=update) as missing:
                assert missing.status == 403
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}) as ok:
                assert ok.status == 200
            assert "/start" in (await person.wait_reply(timeout=20)).text
            async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                assert health.status == 200
                assert (await health.json())["database"] == "ok"
            async with http.get(f"http://127.0.0.1:{port}/metrics") as hidden:
                assert hidden.status == 404  # metrics stay on their own (loopback) listener
            for _ in range(50):  # the reply comes before its update is counted
                async with http.get(f"http://127.0.0.1:{metrics_port}/metrics") as scrape:
                    assert scrape.status == 200
                    if 'dudao_updates_total{kind="command"} 1.0' in await scrape.text():
                        break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the update was never counted in /metrics")
    finally:
        code, log = await stop_bot(process)
    assert code == 0, log
    assert botapi.token not in log
    entries = [json.loads(line) for line in log.splitlines()]  # every line a JSON object
    handled = [e for e in entries if e["message"].startswith("update ") and " handled in " in e["message"]]
    assert handled and handled[0]["person_id"] == 7001 and handled[0]["request_id"]


async def test_demo_runs_the_bot_in_the_terminal(tmp_path):
    env = bot_env(None, tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(b"/start\n:who 5\n/start\n:quit\n"), timeout=60)
    text = out.decode()
    assert process.returncode == 0, err.decode()
    assert "这里是督导助手" in text and "not registered" in text
    assert (tmp_path / "demo" / "bot.sqlite3").is_file()


async def test_a_webhook_port_already_taken_stops_with_one_line(botapi: FakeBotAPI, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bot_env(
            botapi,
            tmp_path,
            BOT_LOG_LEVEL="WARNING",
            BOT_WEBHOOK_ENABLED="true",
            BOT_WEBHOOK_URL="https://bot.example.org",
            BOT_WEBHOOK_PORT=str(port),
            BOT_WEBHOOK_SECRET="s3cret-token",
        )
        config = tmp_path / "bot.toml"
        config.write_text('[webhook]\nlisten = "127.0.0.1"\n', encoding="utf-8")
        code, _, err = await run_cli("run", env={**env, "BOT_CONFIG": str(config)})
    assert code == 2, err
    assert f"cannot listen on 127.0.0.1:{port} for the webhook" in err and "Traceback" not in err
    assert botapi.webhook is None  # Telegram was never pointed at a server that is not there
