"""The bot's own HTTP server (aiohttp): /healthz, and /metrics or the webhook.

Two servers use it. With ``[metrics] enabled`` one serves /metrics and /healthz on ``[metrics]
listen:port`` (loopback by default), started and stopped with the Application. In webhook mode the
webhook's listener serves the webhook path and /healthz: instead of PTB's built-in tornado server,
which has no way to add a route, updates are put on ``application.update_queue`` as PTB's custom
webhook examples do, after the same checks (JSON body, the secret token) and with the same answers
(403 for a wrong or missing token, 400 for a body that is no update, 200 otherwise).
"""

from __future__ import annotations

import hmac
import json
import logging
from http import HTTPStatus

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.health import look
from bot.metrics import Metrics

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebServer:
    def __init__(
        self,
        app: Application,
        metrics: Metrics,
        listen: str,
        port: int,
        *,
        serve_metrics: bool = False,
        webhook_path: str | None = None,
        secret_token: str | None = None,
    ) -> None:
        self._app = app
        self._metrics = metrics
        self._listen, self._port = listen, port
        self._secret = secret_token.encode() if secret_token else None
        self._web = web.Application()
        self._web.router.add_get("/healthz", self._healthz)
        if serve_metrics:
            self._web.router.add_get("/metrics", self._scrape)
        if webhook_path is not None:
            self._web.router.add_post(f"/{webhook_path.strip('/')}", self._update)
            self._web.router.add_post(f"/{webhook_path.strip('/')}/", self._update)
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one asked for, or the one the system chose for port 0)."""
        if self._runner is not None:
            for address in self._runner.addresses:
                if isinstance(address, tuple):
                    return int(address[1])
        return self._port

    async def start(self) -> None:
        # access_log None: a scrape every 15 s is noise; updates are logged by the update processor.
        self._runner = web.AppRunner(self._web, access_log=None, handle_signals=False)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._listen, self._port).start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        health = await look(self._app, self._metrics)
        status = HTTPStatus.OK if health.ok else HTTPStatus.SERVICE_UNAVAILABLE
        if not health.ok:
            log.warning("health check failed: %s", health.problem)
        return web.json_response(health.as_json(), status=status)

    async def _scrape(self, _request: web.Request) -> web.Response:
        await look(self._app, self._metrics, backups=True)
        return web.Response(body=self._metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _update(self, request: web.Request) -> web.Response:
        if self._secret is not None:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not hmac.compare_digest(given, self._secret):
                log.debug("webhook call without the right secret token refused")
                return web.Response(status=HTTPStatus.FORBIDDEN)
        if request.content_type != "application/json":
            return web.Response(status=HTTPStatus.FORBIDDEN)
        try:
            update = Update.de_json(json.loads(await request.read()), self._app.bot)
        except Exception:
            log.warning("webhook call with a body that is no update refused", exc_info=True)
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        if update is not None:
            if isinstance(self._app.bot, ExtBot):
                self._app.bot.insert_callback_data(update)  # as PTB's own webhook handler does
            await self._app.update_queue.put(update)
        return web.Response(status=HTTPStatus.OK)
