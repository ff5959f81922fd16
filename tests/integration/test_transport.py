"""The bot's aiohttp transport behaves like PTB's own: results, uploads, and its errors."""

from __future__ import annotations

import asyncio
import base64
import socket

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.transport import AiohttpRequest
from tests.harness.botapi import FakeBotAPI


def bot_for(api: FakeBotAPI, **request: float) -> Bot:
    return Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url, request=AiohttpRequest(**request))


async def test_calls_uploads_and_downloads(botapi: FakeBotAPI):
    botapi.person(4101, "王", started=True)
    async with bot_for(botapi) as bot:
        assert (await bot.get_me()).username == botapi.bot_user["username"]
        await bot.send_message(4101, "<b>你好</b>", parse_mode="HTML")
        await bot.send_document(4101, b"%PDF-1.4 report", filename="翠湖天地-2026Q1.pdf", caption="报告")
        sent = botapi.sent_messages(4101)
        assert sent[0].text == "你好"
        assert sent[1].document["file_name"] == "翠湖天地-2026Q1.pdf"
        data = await (await bot.get_file(sent[1].document["file_id"])).download_as_bytearray()
        assert bytes(data) == b"%PDF-1.4 report"


async def test_timeouts_and_unreachable_servers_raise_ptbs_errors(botapi: FakeBotAPI):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    request = AiohttpRequest(read_timeout=0.3, connect_timeout=0.3, write_timeout=0.3)
    await request.initialize()
    try:
        botapi.set_unreachable(True, mode="timeout")
        with pytest.raises(TimedOut):
            await request.do_request(f"{botapi.base_url}{botapi.token}/getMe", "POST")
        botapi.set_unreachable(False)
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{closed_port}/bot{botapi.token}/getMe", "POST")
        status, body = await request.do_request(f"{botapi.base_url}{botapi.token}/getMe", "POST")
        assert status == 200 and b'"ok":true' in body.replace(b" ", b"")
    finally:
        await request.shutdown()


async def test_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch):
    """Where api.telegram.org is only reachable through a proxy, calls go through it, with its login."""
    seen: list[str] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await reader.readuntil(b"\r\n\r\n")).decode())
        body = b'{"ok":true,"result":true}'
        if not seen[-1].startswith("CONNECT"):  # a CONNECT is left unanswered: this proxy speaks no TLS
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    address = f"http://duty:s3cret@127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", address)
    monkeypatch.setenv("HTTPS_PROXY", address)
    login = "Proxy-Authorization: Basic " + base64.b64encode(b"duty:s3cret").decode()
    request = AiohttpRequest(connect_timeout=1, read_timeout=1)
    await request.initialize()
    try:
        for _ in range(2):
            status, body = await request.do_request("http://api.telegram.test/bot1:x/getMe", "POST")
            assert status == 200 and body == b'{"ok":true,"result":true}'
        with pytest.raises(NetworkError):
            await request.do_request("https://api.telegram.test/bot1:x/getMe", "POST")
    finally:
        await request.shutdown()
        server.close()
    assert [head.split("\r\n")[0] for head in seen] == [
        "POST http://api.telegram.test/bot1:x/getMe HTTP/1.1",
        "POST http://api.telegram.test/bot1:x/getMe HTTP/1.1",
        "CONNECT api.telegram.test:443 HTTP/1.1",
    ]
    assert all(login in head for head in seen)
