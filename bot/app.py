"""Building the python-telegram-bot Application and running it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from pathlib import Path
from urllib.parse import urlsplit

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot.backups import schedule_backups
from bot.clock import Clock, SystemClock
from bot.handlers import register_handlers
from bot.handlers.menus import set_default_menus
from bot.i18n import Texts
from bot.metrics import METRICS_KEY, Metrics, app_metrics
from bot.rate_limits import TrafficRateLimiter
from bot.scheduler import start_scheduler
from bot.services import SERVICES_KEY, Services
from bot.transport import AiohttpRequest
from bot.update_processor import PerUserUpdateProcessor, TimedRequest
from bot.web import WebServer
from config.settings import Settings, WebhookSettings
from rubric.registry import RubricRegistry
from storage.db import Database
from storage.lock import DataLock

log = logging.getLogger(__name__)

# The signals PTB's run_polling stops on; the bootstrap before it, and our webhook server, stop on the same.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)
MAX_RETRY_SECONDS = 30
LOCK_KEY = "data_lock"
METRICS_SERVER_KEY = "metrics_server"  # bot_data: the /metrics server, while it runs


class TokenRejectedError(Exception):
    """The Bot API refused the token (getMe answered 401 or 404). Carries no token in its message."""


class ListenError(Exception):
    """The webhook's server cannot listen on its address (the port is taken, or the address is not ours)."""


def build_application(
    settings: Settings,
    clock: Clock | None = None,
    timings: list[list[float]] | None = None,
    loop_lag: list[float] | None = None,
    data_lock: DataLock | None = None,
) -> Application:
    """``timings`` and ``loop_lag`` (benchmarks only) collect each update's handling time and the
    event loop's lateness in waking a 10 ms sleep, the queueing every update and callback suffers.

    ``data_lock``: the data folder's lock, already held by the caller (``python -m bot run`` takes
    it before migrating). Without one, the application takes it at start and releases it at stop:
    ``restore`` must never swap the database under a running bot.
    """
    clock = clock or SystemClock()
    metrics = Metrics()

    async def post_init(app: Application) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if data_lock is None:
            app.bot_data[LOCK_KEY] = DataLock(settings.lock_path).acquire()  # LockedError: another bot runs
        db = await Database.open(settings.database_path)
        rubrics = RubricRegistry.load(settings.rubric_dirs)
        texts = Texts()
        texts.compile_all()
        app.bot_data[SERVICES_KEY] = Services(settings=settings, db=db, texts=texts, clock=clock, rubrics=rubrics)
        await set_default_menus(app)
        await start_scheduler(app)  # the duty engine: requeue interrupted sends, tick every few seconds
        await schedule_backups(app)
        if loop_lag is not None:
            app.bot_data["loop_lag_probe"] = asyncio.create_task(probe_loop_lag(loop_lag))
        if settings.metrics.enabled:
            await _start_metrics_server(app, settings, metrics)
        log.info("bot @%s ready (data in %s)", app.bot.username, settings.data_dir)

    async def post_shutdown(app: Application) -> None:
        server: WebServer | None = app.bot_data.pop(METRICS_SERVER_KEY, None)
        if server is not None:
            await server.stop()
        probe = app.bot_data.pop("loop_lag_probe", None)
        if probe is not None:
            probe.cancel()
        services: Services | None = app.bot_data.pop(SERVICES_KEY, None)
        if services:
            await services.db.close()
        own_lock: DataLock | None = app.bot_data.pop(LOCK_KEY, None)
        if own_lock is not None:
            own_lock.release()

    # aiohttp instead of PTB's default httpx transport: the same behaviour for much less CPU per call.
    transport = TimedRequest if timings is not None else AiohttpRequest
    builder = (
        ApplicationBuilder()
        .request(transport(connection_pool_size=256, metrics=metrics))
        .get_updates_request(AiohttpRequest(connection_pool_size=1, metrics=metrics))
    )
    app = (
        builder.token(settings.token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Taps and replies at once, broadcasts paced to their share, groups at 20/min; 429s retried.
        .rate_limiter(
            TrafficRateLimiter(settings.max_messages_per_second, settings.broadcast_percent / 100, metrics=metrics)
        )
        .concurrent_updates(PerUserUpdateProcessor(timings=timings, metrics=metrics))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data[METRICS_KEY] = metrics
    register_handlers(app)
    return app


def metrics_server(app: Application) -> WebServer | None:
    """The /metrics server while it runs (tests read the port it listens on)."""
    return app.bot_data.get(METRICS_SERVER_KEY)


async def _start_metrics_server(app: Application, settings: Settings, metrics: Metrics) -> None:
    """A port already taken is logged, not fatal: the bot's work matters more than its metrics."""
    where = settings.metrics
    server = WebServer(app, metrics, where.listen, where.port, serve_metrics=True)
    try:
        await server.start()
    except OSError as exc:
        log.error("cannot serve metrics on %s:%d (%s); the bot runs without them", where.listen, where.port, exc)
        return
    app.bot_data[METRICS_SERVER_KEY] = server
    log.info("metrics on http://%s:%d/metrics, health on /healthz", where.listen, server.port)


def run(settings: Settings, clock: Clock | None = None, data_lock: DataLock | None = None) -> None:
    """Serve until SIGINT/SIGTERM. Retries the Bot API with backoff if it is unreachable at start.

    Raises :class:`TokenRejectedError` if Telegram refuses the token.

    ``BOT_BENCH_TIMINGS=FILE`` (benchmarks only) writes each update's handling time to FILE at exit,
    and the event loop's lag to FILE.lag.
    """
    timings_file = os.environ.get("BOT_BENCH_TIMINGS")
    timings: list[list[float]] | None = [] if timings_file else None
    loop_lag: list[float] | None = [] if timings_file else None
    app = build_application(settings, clock, timings, loop_lag, data_lock)
    # run_polling serves on the current event loop (and closes it): bootstrap and the webhook use the same one.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        started = loop.run_until_complete(_bootstrap(app, settings.api_base_url))
    except BaseException:
        loop.close()
        raise
    if not started:  # stopped by a signal before the Bot API answered
        loop.close()
        return
    if settings.webhook.enabled:
        try:
            loop.run_until_complete(_serve_webhook(app, settings))
        finally:
            loop.close()
    else:
        # bootstrap_retries still matters: it retries deleteWebhook; initialize() is done already.
        app.run_polling(
            timeout=settings.polling_timeout,
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=-1,
        )
    if timings_file and timings is not None:
        Path(timings_file).write_text(json.dumps(timings), encoding="utf-8")
        Path(f"{timings_file}.lag").write_text(json.dumps(loop_lag), encoding="utf-8")


async def _serve_webhook(app: Application, settings: Settings) -> None:
    """Webhook mode on our own server (``bot.web``: the webhook's path and /healthz on one listener),
    which puts updates on ``app.update_queue``. Around it, what PTB's run_webhook does around its
    tornado server: post_init, listen, start, setWebhook (retried until answered), wait for a stop
    signal, then stop (the updates in hand finish), shut down and post_shutdown."""
    hook = settings.webhook
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    server = WebServer(
        app, app_metrics(app), hook.listen, hook.port, webhook_path=hook.path, secret_token=hook.secret_token
    )
    register: asyncio.Task[None] | None = None
    try:
        if app.post_init:
            await app.post_init(app)
        try:
            await server.start()  # listening before Telegram is told where to post
        except OSError as exc:
            raise ListenError(f"cannot listen on {hook.listen}:{hook.port} for the webhook: {exc}") from None
        await app.start()
        register = asyncio.create_task(_set_webhook_until_answered(app, f"{hook.url.rstrip('/')}/{hook.path}", hook))
        log.info("webhook: listening on %s:%d (/%s, /healthz)", hook.listen, server.port, hook.path)
        await stopping.wait()
    finally:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
        if register is not None:
            register.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await register
        await server.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


async def _set_webhook_until_answered(app: Application, url: str, hook: WebhookSettings) -> None:
    wait = 1
    while True:
        try:
            await app.bot.set_webhook(url, allowed_updates=Update.ALL_TYPES, secret_token=hook.secret_token)
            log.info("webhook set: Telegram posts updates to %s", url)
            return
        except TelegramError as exc:
            log.warning("setWebhook failed (%s); retrying in %d s", exc, wait)
        await asyncio.sleep(wait)
        wait = min(wait * 2, MAX_RETRY_SECONDS)


LAG_PROBE_SECONDS = 0.01


async def probe_loop_lag(lags: list[float]) -> None:
    """How much later than asked the loop wakes a short sleep: time every ready callback waited."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(LAG_PROBE_SECONDS)
        lags.append(loop.time() - asked - LAG_PROBE_SECONDS)


async def _bootstrap(app: Application, api_base_url: str) -> bool:
    """``app.initialize()`` (getMe) until the Bot API answers; False if a stop signal came first.

    Ours rather than PTB's ``bootstrap_retries=-1`` loop, which logs its failures at DEBUG only
    (nobody sees why the bot is silent), lets a refused token out as a traceback naming the token,
    and on SIGTERM skips ``shutdown()`` of the half-initialized bot, leaving its HTTP sessions
    unclosed. run_polling and _serve_webhook then find the application initialized and go straight on.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError):  # event loops without signal support
            loop.add_signal_handler(sig, task.cancel)
    try:
        await _initialize_until_answered(app, _host_of(api_base_url))
    except BaseException as exc:
        # Application.shutdown() does nothing until initialize() has finished: close the bot's sessions here.
        await app.bot.shutdown()
        if isinstance(exc, asyncio.CancelledError):
            return False
        if isinstance(exc, InvalidToken):
            raise TokenRejectedError("the Bot API refused the token") from None
        raise
    finally:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    return True


async def _initialize_until_answered(app: Application, host: str) -> None:
    """Retry with backoff (1, 2, 4 … 30 s), one WARNING per failure naming the host, never the token."""
    wait = 1
    while True:
        try:
            await app.initialize()
            return
        except InvalidToken:
            raise
        except TelegramError as exc:
            log.warning("Bot API %s unreachable (%s); retrying in %d s", host, exc, wait)
        await asyncio.sleep(wait)
        wait = min(wait * 2, MAX_RETRY_SECONDS)


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host


async def start_in_loop(app: Application, poll_timeout: float = 1.0) -> None:
    """Start polling inside an already running event loop (tests and the demo)."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES)
    await app.start()


async def stop_in_loop(app: Application) -> None:
    if app.updater and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
