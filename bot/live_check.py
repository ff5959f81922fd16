"""``python -m bot check --live``: ask the configured Bot API who the bot is (getMe).

Through the bot's own transport (bot/transport.py), so HTTPS_PROXY / HTTP_PROXY / NO_PROXY are
honoured exactly as when it serves. Each outcome is one line, never with the token in it.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut

from bot.private_aiohttp import env_proxy_for
from bot.transport import AiohttpRequest
from config.settings import Settings

TOKEN_REJECTED, API_UNREACHABLE = 4, 5
TIMEOUT_SECONDS = 10.0


def check_bot_api(settings: Settings) -> tuple[int, str]:
    """(0, "Bot API: @name …") when getMe answers; else (exit code, the reason in one line)."""
    return asyncio.run(_get_me(settings))


async def _get_me(settings: Settings) -> tuple[int, str]:
    host = _host_of(settings.api_base_url) + _through_proxy(settings.api_base_url)
    request = AiohttpRequest(
        connection_pool_size=1,
        read_timeout=TIMEOUT_SECONDS,
        write_timeout=TIMEOUT_SECONDS,
        connect_timeout=TIMEOUT_SECONDS,
    )
    bot = Bot(settings.token, base_url=settings.api_base_url, base_file_url=settings.api_file_url, request=request)
    try:
        await request.initialize()
        me = await bot.get_me()
    except InvalidToken:
        return TOKEN_REJECTED, (
            f"Bot API {host}: 令牌被拒绝 / the token was refused (401/404): check BOT_TOKEN or [bot] token "
            "(@BotFather: /mybots, API Token)"
        )
    except (TimedOut, NetworkError) as exc:
        return API_UNREACHABLE, (
            f"Bot API {host}: 无法连接 / unreachable ({exc}); check the network, DNS, and HTTPS_PROXY if "
            "Telegram is only reachable through a proxy"
        )
    except TelegramError as exc:
        return API_UNREACHABLE, f"Bot API {host}: unexpected answer to getMe: {exc}"
    finally:
        await request.shutdown()
    return 0, f"Bot API {host}: ok, the bot is @{me.username} ({me.first_name}, id {me.id})"


def _through_proxy(url: str) -> str:
    """ " via proxy HOST:PORT" when the environment routes ``url`` through one (never its login)."""
    try:
        proxy, _ = env_proxy_for(url)
    except LookupError:
        return ""
    return f" via proxy {_host_of(str(proxy))}"


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host
