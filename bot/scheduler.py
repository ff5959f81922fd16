"""Waking the duty engine through PTB's JobQueue.

The JobQueue holds no schedule of its own: a repeating job calls :meth:`DutyEngine.tick` every
``[duties] tick_seconds`` (and once right at start), and the engine reads what is due from the
database. APScheduler's in-memory jobs would silently skip what fell due while the bot was down;
these ticks simply find it in the tables and send it, once.

A tick stops claiming new sends as soon as the Application begins to stop; ``Application.stop()``
waits for the running job, so the sends in flight finish and are recorded before the database
closes.
"""

from __future__ import annotations

import logging

from telegram.ext import Application, CallbackContext

from bot.flows.duties.engine import TickReport
from bot.handlers.duties.answers import make_sender
from bot.metrics import app_metrics
from bot.rate_limits import broadcasting
from bot.services import app_services
from bot.tracing import traced

log = logging.getLogger(__name__)

JOB_NAME = "duty-engine"
_LATE_OK = {"misfire_grace_time": None}  # a wake-up that comes late still runs (once: jobs coalesce)


async def start_scheduler(app: Application) -> None:
    """From ``post_init``: prepare the engine (requeue interrupted sends) and schedule its ticks."""
    svc = app_services(app)
    await svc.duties.engine.start()
    if not svc.settings.duties.enabled:
        # The engine still ticks: corrective actions' messages go through its outbox.
        log.info("periodic duties are off ([duties] enabled = false)")
    assert app.job_queue is not None, "python-telegram-bot[job-queue] is a dependency"
    interval = svc.settings.duties.tick_seconds
    # The JobQueue starts after post_init, possibly much later (the Bot API may be unreachable): an
    # interval job's first run would then slip a whole interval, so the first tick is a one-off job
    # that runs however late the queue starts (misfire_grace_time None).
    schedule_tick(app)
    app.job_queue.run_repeating(_tick_job, interval=interval, first=interval, name=JOB_NAME, job_kwargs=_LATE_OK)


def schedule_tick(app: Application) -> None:
    """Wake the engine now, as a job: a stopping Application waits for it to finish its sends."""
    assert app.job_queue is not None
    app.job_queue.run_once(_tick_job, when=0.0, name=f"{JOB_NAME}-now", job_kwargs=_LATE_OK)


async def tick_now(app: Application) -> TickReport:
    """One tick, awaited (tests move the clock and call this). Its sends are broadcast traffic."""
    svc = app_services(app)
    with broadcasting():
        report = await svc.duties.engine.tick(make_sender(app.bot, svc.texts), keep_going=lambda: app.running)
    app_metrics(app).tick_finished()  # /healthz and /metrics tell how long ago (a failed tick does not count)
    return report


async def _tick_job(context: CallbackContext) -> None:
    app = context.application
    engine = app_services(app).duties.engine
    if engine.busy:
        return  # the previous tick is still sending; it will pick up whatever is new
    with traced():  # the tick's sends and their log lines share one request id
        try:
            report = await tick_now(app)
        except Exception:
            log.exception("the duty engine's tick failed; the next one tries again")
            return
        _log_report(report)


def _log_report(report: TickReport) -> None:
    if report.sent or report.blocked or report.failed or report.created:
        log.info(
            "duties: %d created, %d rounds planned, %d escalated; %d sent, %d blocked, %d failed, %d to retry",
            report.created,
            report.planned,
            report.escalated,
            report.sent,
            report.blocked,
            report.failed,
            report.retried,
        )
