"""Scheduled backups inside the running bot, on PTB's JobQueue ([backup] in the settings).

The work (storage/backup.py) runs in a thread with its own sqlite3 connection: the event loop keeps
serving taps, and no lock of the bot's is taken. The first backup comes ``every_hours`` after the
newest one in the folder (at least a few minutes after start), so a bot restarted more often than
that still backs up on time. A failure is logged every time and told to the admins once per streak
of failures; the first success after a streak tells them it is fixed.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass

from telegram.ext import Application, CallbackContext

from bot.services import Services, app_services
from storage.backup import BackupReport, IntegrityError, newest_age_seconds, take_backup

log = logging.getLogger(__name__)

JOB_NAME = "backup"
STATE_KEY = "backup_state"
START_DELAY_SECONDS = 300.0  # let a starting bot settle; a bot in a crash loop has nothing worth copying
_LATE_OK = {"misfire_grace_time": None}  # a backup that comes late still runs (once: jobs coalesce)
_REASON_LIMIT = 300


@dataclass
class BackupState:
    busy: bool = False
    failing: bool = False  # the last backup failed: admins have been told, not again until one succeeds


async def schedule_backups(app: Application) -> None:
    """From ``post_init``: the repeating backup job, when ``[backup] enabled``."""
    svc = app_services(app)
    conf = svc.settings.backup
    app.bot_data[STATE_KEY] = BackupState()
    if not conf.enabled:
        log.info("scheduled backups are off ([backup] enabled = false)")
        return
    assert app.job_queue is not None, "python-telegram-bot[job-queue] is a dependency"
    interval = conf.every_hours * 3600
    age = await asyncio.to_thread(newest_age_seconds, svc.settings.backup_dir, svc.clock.now())
    first = first_delay(interval, age)
    app.job_queue.run_repeating(_backup_job, interval=interval, first=first, name=JOB_NAME, job_kwargs=_LATE_OK)
    log.info(
        "backups every %d h into %s, keeping %d; the next in %.0f min",
        conf.every_hours,
        svc.settings.backup_dir,
        conf.keep,
        first / 60,
    )


def first_delay(interval: float, newest_age: float | None) -> float:
    """Seconds from start to the first backup: ``interval`` after the newest one, never sooner than
    the start delay, and never later than ``interval`` (a newest backup "from the future", the clock
    having been set back, must not put the next one off)."""
    if newest_age is None:
        return START_DELAY_SECONDS
    return min(float(interval), max(START_DELAY_SECONDS, interval - newest_age))


async def _backup_job(context: CallbackContext) -> None:
    await backup_now(context.application)


async def backup_now(app: Application) -> BackupReport | None:
    """One backup, awaited (the job, and tests). None when it failed or another one is running."""
    svc = app_services(app)
    state: BackupState = app.bot_data.setdefault(STATE_KEY, BackupState())
    if state.busy:
        return None
    state.busy = True
    folder = svc.settings.backup_dir
    try:
        report = await asyncio.to_thread(
            take_backup,
            svc.settings.database_path,
            svc.settings.data_dir / "files",
            folder,
            svc.settings.backup.keep,
            svc.clock.now(),
        )
    except Exception as exc:
        expected = isinstance(exc, OSError | sqlite3.Error | IntegrityError)
        log.error("backup into %s failed: %s", folder, exc, exc_info=not expected)
        if not state.failing:
            state.failing = True
            await _tell_admins(app, svc, "ops.backup_failed", reason=_reason(exc), folder=str(folder))
        return None
    finally:
        state.busy = False
    log.info(
        "backup %s: %.1f MB in %.2f s; %d new evidence file(s), %.1f MB; %d old copy(ies) pruned",
        report.path,
        report.size / 1e6,
        report.seconds,
        report.files_copied,
        report.files_bytes / 1e6,
        len(report.pruned),
    )
    if state.failing:
        state.failing = False
        await _tell_admins(app, svc, "ops.backup_recovered", path=str(report.path))
    return report


def _reason(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"


async def _tell_admins(app: Application, svc: Services, screen: str, **values: str) -> None:
    try:
        recipients = await svc.people.admin_recipients()
    except Exception:  # the database itself may be what fails: the configured admins still hear of it
        log.exception("could not read the admins from the database; telling the configured ones")
        recipients = sorted(svc.settings.admin_ids)
    for admin_id in recipients:
        try:
            admin = await svc.people.caller_of(admin_id)
        except Exception:
            admin = None
        lang = admin.lang if admin else svc.settings.default_language
        await svc.send_safely(app.bot, admin_id, svc.texts.render(lang, screen, **values))
