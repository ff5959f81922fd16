"""The bot's HTTP transport to the Bot API: a python-telegram-bot ``BaseRequest`` on aiohttp.

PTB's default transport (httpx) costs about 1.5-2 ms of CPU per Bot API call on our 2-core
machine, and every button tap needs at least two calls (answer the button, edit the card). aiohttp's
client does the same work for much less (bench/RESULTS.md). Behaviour is PTB's: the same timeouts,
``TimedOut`` and ``NetworkError`` for failures, status and body handed back for PTB to parse.

Every call passes here, retries included, so this is where failed calls are counted (``bot.metrics``)
and logged, one line each naming the method, the code and Telegram's description.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from aiohttp import hdrs
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.metrics import Metrics, api_method, error_class
from bot.private_aiohttp import env_proxy_for
from bot.private_ptb import DefaultValue

log = logging.getLogger(__name__)
_DEFAULT = BaseRequest.DEFAULT_NONE


class _JsonBody(aiohttp.BytesPayload):
    def __init__(self, value: bytes) -> None:
        super().__init__(value, content_type="application/json")


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        media_write_timeout: float | None = 20.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, dict[str, Any]] = {}  # origin -> proxy arguments, see proxy_for

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = _DEFAULT,
        write_timeout: Any = _DEFAULT,
        connect_timeout: Any = _DEFAULT,
        pool_timeout: Any = _DEFAULT,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        # Timeouts left at PTB's defaults are this transport's own, as with PTB's HTTPXRequest.
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        write = write_timeout
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        # aiohttp has no separate write timeout: a request may take as long as writing and reading.
        total = None if read is None or write is None else read + write + (connect or 0)
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(
                method, url, data=_body(fields, files), timeout=timeout, **self.proxy_for(url)
            ) as response:
                status, body = response.status, await response.read()
        except TimeoutError as exc:
            self._failed(url, "timeout", "timeout", "no answer in time")
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            self._failed(url, "network", "network", f"{exc.__class__.__name__}: {exc}")
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
        if status != 200:
            description = _description(body)
            self._failed(url, str(status), error_class(status, description), description)
        return status, body

    def _failed(self, url: str, code: str, reason: str, description: str) -> None:
        method = api_method(url)
        if self._metrics is not None:
            self._metrics.api_error(method, code, reason)
        # getUpdates' long poll ends in a timeout or a network error whenever the connection drops;
        # PTB logs and retries those itself.
        level = logging.DEBUG if method == "getUpdates" and code in ("timeout", "network") else logging.INFO
        log.log(level, "Bot API %s failed: %s %s (%s)", method, code, reason, description)

    @property
    def open_session(self) -> aiohttp.ClientSession | None:
        """The session while it is open: downloads reuse its connections to the Bot API."""
        return self._session if self._session is not None and not self._session.closed else None

    def proxy_for(self, url: str) -> dict[str, Any]:
        """HTTPS_PROXY / HTTP_PROXY / NO_PROXY, honoured as PTB's httpx transport does.

        Where api.telegram.org is only reachable through a proxy, that is how the bot gets there.
        aiohttp's own ``trust_env`` reads the environment and ~/.netrc on every request, two thread
        hops that cost more CPU than the call itself; like httpx, we read it once (per origin).
        """
        origin = url[: url.find("/", url.find("//") + 2)]
        if origin not in self._proxies:
            self._proxies[origin] = _proxy_arguments(url)
        return self._proxies[origin]


def _description(body: bytes) -> str:
    """Telegram's description of an error, or the start of whatever else answered (a proxy's page)."""
    try:
        return str(json.loads(body).get("description", ""))
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


def _proxy_arguments(url: str) -> dict[str, Any]:
    try:
        proxy, auth = env_proxy_for(url)
    except LookupError:
        return {}
    if auth is None:
        return {"proxy": proxy}
    login = {hdrs.PROXY_AUTHORIZATION: auth.encode()}
    # The proxy's login goes on the CONNECT for https; for plain http the request itself is the proxy's.
    return {"proxy": proxy, "proxy_headers" if url.startswith("https:") else "headers": login}


def _body(fields: dict[str, str] | None, files: dict[str, Any] | None) -> Any:
    """The fields as PTB encoded them, as JSON; files make it multipart, like httpx's ``files=``.

    The Bot API takes a JSON body as it takes a form, and json.dumps costs a fraction of aiohttp's
    form encoding (a multipart writer and a percent-encoding of every Chinese character).
    """
    if not files:
        return _JsonBody(json.dumps(fields).encode()) if fields else None
    # Unquoted, as httpx sends them: Telegram shows a file named 翠湖天地.html, not %E7%BF%A0….html.
    form = aiohttp.FormData(quote_fields=False)
    for name, value in (fields or {}).items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename or name, content_type=mime_type)
    return form
