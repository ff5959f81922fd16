"""The bot's Prometheus metrics, in a registry each Application owns (tests run several at once).

Counted as things happen: updates by kind and their handling time (``bot.update_processor``), Bot
API errors by code and a fixed class of their description (``bot.transport``), 429s and their waits
(``bot.rate_limits``). Read from the database and the backup folder when scraped (:meth:`refresh`):
the outbox backlog and its oldest row, overdue duties, the newest backup's age. README "Health and
metrics" documents each one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from telegram import MessageEntity, Update
from telegram.ext import Application

# The *_created series (each counter's creation time) only double what is scraped: the process
# start time is there already. A process-wide switch; the bot's registries are its only users.
disable_created_metrics()

# Handling a tap takes 5-50 ms; a report or an import takes seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
UPDATE_KINDS = ("message", "command", "callback", "other")


def update_kind(update: object) -> str:
    """message, command (a message starting with a /command), callback (a button) or other."""
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return "callback"
    message = update.message
    if message is None:
        return "other"
    entities = message.entities
    if entities and entities[0].offset == 0 and entities[0].type == MessageEntity.BOT_COMMAND:
        return "command"
    return "message"


# (substring of the description, lower case) -> class; the first match wins. Descriptions carry
# details (offsets, ids), so the label is this fixed class, never the text itself.
_DESCRIPTION_CLASSES: tuple[tuple[str, str], ...] = (
    ("blocked by the user", "blocked"),
    ("user is deactivated", "blocked"),
    ("bot was kicked", "blocked"),
    ("bot is not a member", "blocked"),
    ("can't initiate conversation", "blocked"),
    ("message is not modified", "not_modified"),
    ("message to edit not found", "message_not_found"),
    ("message to delete not found", "message_not_found"),
    ("message can't be edited", "message_not_found"),
    ("message not found", "message_not_found"),
    ("query is too old", "query_expired"),
    ("query id is invalid", "query_expired"),
    ("chat not found", "chat_not_found"),
    ("can't parse entities", "bad_markup"),
    ("too long", "too_long"),
    ("file is too big", "file_too_big"),
    ("wrong file", "bad_file"),
    ("file reference", "bad_file"),
)


def error_class(status: int, description: str) -> str:
    """A fixed name for a Bot API error, for a metric label and a glance at the log."""
    if status == 429:
        return "flood"
    if status in (401, 404):
        return "token"
    if status == 409:
        return "conflict"
    if status >= 500:
        return "server"
    text = description.lower()
    for needle, name in _DESCRIPTION_CLASSES:
        if needle in text:
            return name
    return {400: "bad_request", 403: "forbidden"}.get(status, "other")


def api_method(url: str) -> str:
    """The Bot API method a URL calls; "file" for a download (its path would be a label per file)."""
    last = url.rsplit("/", 1)[-1]
    return last if last.isascii() and last.isalpha() else "file"


def newest_backup_mtime(folder: Path) -> float | None:
    """The modification time of the newest ``bot-*.sqlite3`` in ``folder``, None if there is none."""
    newest: float | None = None
    try:
        for path in folder.glob("bot-*.sqlite3"):
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue  # removed by rotation while we looked
            newest = mtime if newest is None else max(newest, mtime)
    except OSError:
        return None
    return newest


@dataclass
class Snapshot:
    """What a scrape reads from outside the process; None = unknown (the series is left out)."""

    database_up: bool = False
    outbox_backlog: int | None = None
    oldest_pending_age: float | None = None
    duties_overdue: int | None = None
    backup_age: float | None = None
    last_update_age: float | None = None
    last_tick_age: float | None = None


class _SnapshotCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self._metrics.snapshot
        up = 1.0 if snap.database_up else 0.0
        yield GaugeMetricFamily("dudao_database_up", "1 if the database answered the scrape's queries", value=up)
        gauges = (
            ("dudao_outbox_backlog", "Outbox messages waiting to be sent or being sent", snap.outbox_backlog),
            (
                "dudao_outbox_oldest_pending_age_seconds",
                "Age of the oldest outbox message not sent yet (0 when none waits)",
                snap.oldest_pending_age,
            ),
            ("dudao_duties_overdue", "Open duties past their due time, all sites", snap.duties_overdue),
            ("dudao_backup_age_seconds", "Age of the newest bot-*.sqlite3 in the backup folder", snap.backup_age),
            ("dudao_last_update_age_seconds", "Seconds since the last update was handled", snap.last_update_age),
            (
                "dudao_duty_last_tick_age_seconds",
                "Seconds since the duty engine last finished a tick (reminders, notices, follow-ups)",
                snap.last_tick_age,
            ),
        )
        for name, documentation, value in gauges:
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=float(value))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter("dudao_updates", "Updates handled, by kind", ["kind"], registry=self.registry)
        self.latency = Histogram(
            "dudao_update_handling_seconds",
            "Time handling one update took, from its turn to its last handler's end",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.api_errors = Counter(
            "dudao_bot_api_errors",
            "Bot API calls that failed, by method, HTTP code (or network/timeout) and class of description",
            ["method", "code", "reason"],
            registry=self.registry,
        )
        self.floods = Counter(
            "dudao_bot_api_429",
            "429 (flood control) answers, by traffic: interactive (a person's update) or broadcast",
            ["traffic"],
            registry=self.registry,
        )
        self.flood_wait = Counter(
            "dudao_bot_api_429_wait_seconds",
            "Seconds paused for 429s' retry_after, by traffic",
            ["traffic"],
            registry=self.registry,
        )
        self.flood_gave_up = Counter(
            "dudao_bot_api_429_gave_up",
            "Calls given up after repeated 429s, by traffic",
            ["traffic"],
            registry=self.registry,
        )
        for kind in UPDATE_KINDS:  # every series from the start, so rate() sees the first one
            self.updates.labels(kind)
            self.latency.labels(kind)
        for traffic in ("interactive", "broadcast"):
            self.floods.labels(traffic)
            self.flood_wait.labels(traffic)
            self.flood_gave_up.labels(traffic)
        ProcessCollector(registry=self.registry)
        self.snapshot = Snapshot()
        self._last_update: float | None = None  # time.monotonic() of the last update handled
        self._last_tick: float | None = None  # time.monotonic() when the duty engine last finished a tick
        self.registry.register(_SnapshotCollector(self))

    def update_handled(self, kind: str, seconds: float) -> None:
        self.updates.labels(kind).inc()
        self.latency.labels(kind).observe(seconds)
        self._last_update = time.monotonic()

    def api_error(self, method: str, code: str, reason: str) -> None:
        self.api_errors.labels(method, code, reason).inc()

    def flood(self, broadcast: bool, wait: float, gave_up: bool) -> None:
        traffic = "broadcast" if broadcast else "interactive"
        self.floods.labels(traffic).inc()
        if gave_up:
            self.flood_gave_up.labels(traffic).inc()
        else:
            self.flood_wait.labels(traffic).inc(wait)

    def last_update_age(self) -> float | None:
        return None if self._last_update is None else time.monotonic() - self._last_update

    def tick_finished(self) -> None:
        self._last_tick = time.monotonic()

    def last_tick_age(self) -> float | None:
        """A tick that fails, or never ends, lets this grow: reminders stopped while taps still work."""
        return None if self._last_tick is None else time.monotonic() - self._last_tick

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


METRICS_KEY = "metrics"  # bot_data: the Application's Metrics (its own Prometheus registry)


def app_metrics(app: Application) -> Metrics:
    return app.bot_data[METRICS_KEY]
