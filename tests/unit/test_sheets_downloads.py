"""download_limited: refuses a file over the limit by the bytes that actually arrive, and stops reading."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from telegram import Bot, File
from telegram.request import HTTPXRequest

from bot.handlers.downloads import download_limited
from bot.transport import AiohttpRequest

LIMIT = 1024 * 1024
TOKEN = "123:abc"


@dataclass
class Server:
    url: str
    sent: dict[str, int] = field(default_factory=dict)  # path -> bytes written before the client left
    hits: list[str] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server("")

    async def endless(request: web.Request) -> web.StreamResponse:
        """No Content-Length, no end: what a client must not read whole."""
        state.hits.append(request.path)
        response = web.StreamResponse()
        await response.prepare(request)
        sent = 0
        try:
            while sent < 200 * LIMIT:
                await response.write(b"x" * 65536)
                sent += 65536
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            state.sent[request.path] = sent
        return response

    async def small(request: web.Request) -> web.Response:
        state.hits.append(request.path)
        return web.Response(body=b"id,name\n1,\xe6\x9d\x8e\n")

    async def declared(request: web.Request) -> web.Response:
        state.hits.append(request.path)
        return web.Response(body=b"y" * (LIMIT + 1))

    async def route(request: web.Request) -> web.StreamResponse:
        handler = {"endless.csv": endless, "人员.csv": small, "declared.csv": declared}[request.match_info["name"]]
        return await handler(request)

    app = web.Application()
    app.router.add_get("/file/bot{token}/{name}", route)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}/file/bot{TOKEN}/"
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.fixture(params=["aiohttp", "httpx"])
async def bot(request) -> AsyncIterator[Bot]:
    transport = AiohttpRequest() if request.param == "aiohttp" else HTTPXRequest()
    bot = Bot(TOKEN, request=transport)
    await transport.initialize()
    try:
        yield bot
    finally:
        await transport.shutdown()


def telegram_file(bot: Bot, url: str, size: int | None = None) -> File:
    file = File("id", "unique", file_size=size, file_path=url)
    file.set_bot(bot)
    return file


async def test_an_undeclared_endless_file_is_refused_and_reading_stops(server: Server):
    transport = AiohttpRequest()
    bot = Bot(TOKEN, request=transport)
    await transport.initialize()
    try:
        result = await asyncio.wait_for(download_limited(telegram_file(bot, server.url + "endless.csv"), LIMIT), 30)
    finally:
        await transport.shutdown()
    assert result is None
    for _ in range(100):  # the server notices the closed connection on its next write
        if server.sent:
            break
        await asyncio.sleep(0.05)
    (sent,) = server.sent.values()
    assert sent < 40 * LIMIT, sent  # stopped early: socket buffers hold a few MB at most, not 200


async def test_small_files_arrive_whole_and_declared_sizes_are_trusted_when_too_big(server: Server, bot: Bot):
    data = await download_limited(telegram_file(bot, server.url + "人员.csv"), LIMIT)
    assert data == "id,name\n1,李\n".encode()
    assert await download_limited(telegram_file(bot, server.url + "declared.csv"), LIMIT) is None
    hits = len(server.hits)
    assert await download_limited(telegram_file(bot, server.url + "人员.csv", size=LIMIT + 1), LIMIT) is None
    assert len(server.hits) == hits  # refused by its declared size: nothing downloaded


async def test_a_local_file_of_a_local_bot_api_server(tmp_path, bot: Bot):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a" * (LIMIT + 1))
    assert await download_limited(telegram_file(bot, str(path)), LIMIT) is None
    path.write_bytes(b"a" * LIMIT)
    assert await download_limited(telegram_file(bot, str(path)), LIMIT) == b"a" * LIMIT
