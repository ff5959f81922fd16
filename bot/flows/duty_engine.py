"""The duty engine: turns rules into duties, plans reminders and escalations, and sends them.

PTB's JobQueue only wakes it (``bot/scheduler.py``); everything it knows is in the database, so a
restart loses nothing. One :meth:`DutyEngine.tick`:

1. creates the duties of each rule's current period for every active site (idempotent: one row per
   rule, site and period);
2. plans due reminders, follow-ups and escalations: each plan is ONE transaction that writes an
   outbox row per recipient under a unique key (``reminder:<duty>:<chat>:<round>``...) and moves the
   duty's next reminder on, so a plan is made once whatever happens around it;
3. delivers the pending outbox rows: a row is claimed (pending -> sending) by exactly one sender,
   sent, then marked sent / blocked / failed, or released for a later try on a passing failure.

Delivery guarantee. Telegram has no idempotency key, so a send whose answer never arrived cannot be
told apart from one that never left. A graceful stop (SIGTERM, restart) lets the sends in flight
finish and record their answer and claims nothing new, so nothing is lost or repeated. After a
crash, rows still marked 'sending' are sent again at start: at least once, never lost, at the price
of a possible duplicate of the few messages that were in flight at the very moment of the crash.
A lost escalation would go unnoticed; a duplicate reminder is only a nuisance, and the copy sent
again says that it was re-sent after an interruption, so that two copies do not confuse anyone.

A 403 marks the person unreachable (no more reminders are planned for them) and tells the site's
managers once per duty; other passing failures are retried up to ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso
from bot.flows.duty_views import (
    Delivery,
    Notice,
    NoticeKind,
    Responsible,
    Sender,
    SendResult,
    parse_moment,
    view_of,
)
from bot.flows.schedule import Period, Schedule, WorkCalendar
from bot.i18n import language_from_telegram
from config.duties import DutyRule, DutySettings
from storage.duties import OPEN, DutyRepository, DutyRow, NewDuty, OutboxRow
from storage.users import UserRepository

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # sends of one row across ticks before it is given up as failed
TRIES_PER_TICK = 4  # a row that failed for a passing reason this often waits for the next tick
MAX_BACKOFF = 30.0  # seconds: the longest flood-control pause a sender takes inside a tick
BATCH = 200
WORKERS = 8  # sends in flight at once; the rate limiter keeps them within Telegram's limits


@dataclass
class TickReport:
    created: int = 0
    planned: int = 0
    escalated: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    stopped: bool = False  # the bot began to stop: the rest waits for the next start


@dataclass
class _DeliveryPass:
    """One delivery pass of a tick, shared by its concurrent senders."""

    send: Sender
    keep_going: Callable[[], bool]
    report: TickReport
    tries: dict[int, int] = field(default_factory=dict)  # outbox id -> failed tries in this tick
    skip: list[int] = field(default_factory=list)  # rows that failed too often to try again this tick


class DutyEngine:
    def __init__(
        self,
        repo: DutyRepository,
        users: UserRepository,
        clock: Clock,
        settings: DutySettings,
        tz: ZoneInfo,
        default_language: str,
        admin_ids: frozenset[int],
        workers: int = WORKERS,
    ) -> None:
        self.repo = repo
        self.users = users
        self.clock = clock
        self.settings = settings
        self.tz = tz
        self.default_language = default_language
        self.admin_ids = admin_ids
        self.workers = workers
        self.calendar = WorkCalendar.of(settings)
        self.schedules = {rule.id: Schedule(rule, tz, self.calendar) for rule in settings.rules}
        self._lock = asyncio.Lock()
        self._first_seen: dict[str, datetime] = {}

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def rule(self, rule_id: str) -> DutyRule | None:
        return self.settings.rule(rule_id)

    # -- start and tick ----------------------------------------------------------------------------

    async def start(self) -> int:
        """At start: note new rules, recompute open duties from the config, requeue interrupted sends.
        Returns how many sends a crash had interrupted."""
        async with self._lock:
            now = self.clock.now()
            self._warn_of_unknown_holidays(now)
            await self._load_rules(now)
            await self._resync(now)
            interrupted = await self.repo.recover_interrupted()
            if interrupted:
                log.warning("%d duty message(s) were in flight at a crash; sending them again", interrupted)
            return interrupted

    def _warn_of_unknown_holidays(self, now: datetime) -> None:
        known_until, local = self.calendar.known_until, now.astimezone(self.tz)
        if known_until is not None and known_until < local.year + (local.month == 12):  # December: next year too
            log.warning(
                "China's public holidays are known until %d only: until chinesecalendar is updated, list the "
                "coming ones in [duties] holidays and workdays, or reminders may fall on a public holiday",
                known_until,
            )

    async def tick(self, send: Sender, keep_going: Callable[[], bool] = lambda: True) -> TickReport:
        """Create, plan and deliver whatever is due now. One tick at a time."""
        async with self._lock:
            report = TickReport()
            now = self.clock.now()
            await self._load_rules(now)
            report.created = await self._materialise(now)
            report.planned = await self._plan_reminders(now)
            report.escalated = await self._plan_escalations(now)
            await self._deliver(send, keep_going, report)
            return report

    async def _load_rules(self, now: datetime) -> None:
        active = [rule.id for rule in self.settings.active_rules]
        if all(rule_id in self._first_seen for rule_id in active):
            return
        seen = await self.repo.ensure_rules(active, iso(now))
        self._first_seen = {rule_id: parse_moment(moment) for rule_id, moment in seen.items()}

    async def _resync(self, now: datetime) -> None:
        """Schedules are rows recomputed at start: a changed due date or escalation applies to open duties."""
        for row in await self.repo.open_duties():
            schedule = self.schedules.get(row.rule_id)
            period = schedule.period_by_key(row.period) if schedule else None
            if schedule is None or period is None:
                continue
            occurrence = schedule.occurrence(period)
            escalate_at = iso(occurrence.escalate_at) if occurrence.escalate_at else None
            if (row.due_date, row.due_at, row.escalate_at) != (
                occurrence.due_date,
                iso(occurrence.due_at),
                escalate_at,
            ):
                await self.repo.reschedule(row.id, occurrence.due_date, iso(occurrence.due_at), escalate_at, iso(now))

    # -- 1. duties ---------------------------------------------------------------------------------

    async def _materialise(self, now: datetime) -> int:
        """Duties of each rule's current period. A rule or site starts with the first period whose first
        reminder comes after it appeared, so nothing fires "late" for periods it was not there for."""
        sites = await self.repo.active_sites()
        created = 0
        for rule in self.settings.active_rules:
            occurrence = self.schedules[rule.id].current(now)
            if occurrence is None or occurrence.remind_at < self._first_seen[rule.id]:
                continue
            have = await self.repo.sites_with_duty(rule.id, occurrence.period.key)
            new = [
                NewDuty(
                    rule_id=rule.id,
                    site_id=site.id,
                    period=occurrence.period.key,
                    period_start=occurrence.period.start,
                    period_end=occurrence.period.end,
                    remind_at=iso(occurrence.remind_at),
                    due_date=occurrence.due_date,
                    due_at=iso(occurrence.due_at),
                    escalate_at=iso(occurrence.escalate_at) if occurrence.escalate_at else None,
                )
                for site in sites
                if site.id not in have and parse_moment(site.created_at) <= occurrence.remind_at
            ]
            if new:
                await self.repo.create(new, iso(now))
                created += len(new)
        return created

    # -- 2. plans ----------------------------------------------------------------------------------

    async def _plan_reminders(self, now: datetime) -> int:
        rule_ids = [rule.id for rule in self.settings.active_rules]
        planned = 0
        while rule_ids:
            rows = await self.repo.due_for_reminder(rule_ids, iso(now))
            progress = 0
            for row in rows:
                rule = self.settings.rule(row.rule_id)
                assert rule is not None
                chats = await self._reminder_chats(row, rule)
                period = Period(row.period, rule.cadence, row.period_start, row.period_end)
                # Missed while the bot was down: one reminder now, and follow-ups counted from now.
                after = max(now, parse_moment(row.next_remind_at or row.remind_at))
                follow_up = self.schedules[rule.id].next_follow_up(period, after)
                if await self.repo.plan_round(
                    row.id, row.rounds, chats, iso(follow_up) if follow_up else None, iso(now)
                ):
                    progress += 1
            planned += progress
            if not rows or not progress:
                break
        return planned

    async def _reminder_chats(self, row: DutyRow, rule: DutyRule) -> list[int]:
        chats: list[int] = []
        if rule.audience.people:
            people = await self.repo.site_people(row.site_id, rule.roles)
            chats += [person.id for person in people if not person.unreachable]
        if rule.audience.group:
            site = await self.repo.site(row.site_id)
            if site and site.group_chat_id is not None:
                chats.append(site.group_chat_id)
        return chats

    async def _plan_escalations(self, now: datetime) -> int:
        rule_ids = [rule.id for rule in self.settings.active_rules]
        if not rule_ids:
            return 0
        escalated = 0
        for row in await self.repo.due_for_escalation(rule_ids, iso(now)):
            if await self.repo.plan_escalation(row.id, await self._managers(row.site_id), iso(now)):
                escalated += 1
        return escalated

    async def _managers(self, site_id: int, leave_out: int | None = None) -> list[int]:
        """Who hears about a site's problems: its managers, else the configured admins."""
        managers = [person.id for person in await self.users.managers_of_site(site_id)]
        chosen = managers or sorted(self.admin_ids)
        return [chat for chat in chosen if chat != leave_out]

    # -- 3. delivery -------------------------------------------------------------------------------

    async def _deliver(self, send: Sender, keep_going: Callable[[], bool], report: TickReport) -> None:
        run = _DeliveryPass(send, keep_going, report)
        while keep_going():
            batch = await self.repo.pending(BATCH, run.skip)
            if not batch:
                return
            queue: asyncio.Queue[OutboxRow] = asyncio.Queue()
            for row in batch:
                queue.put_nowait(row)
            await asyncio.gather(*(self._worker(queue, run) for _ in range(min(self.workers, len(batch)))))
        report.stopped = True

    async def _worker(self, queue: asyncio.Queue[OutboxRow], run: _DeliveryPass) -> None:
        while run.keep_going() and not queue.empty():
            await self._deliver_one(queue.get_nowait(), run)

    async def _deliver_one(self, row: OutboxRow, run: _DeliveryPass) -> None:
        if not await self.repo.claim(row.id, iso(self.clock.now())):
            return  # another sender has it
        notice = await self._notice(row)
        if notice is None:
            await self.repo.finish(row.id, "skipped", iso(self.clock.now()))
            run.report.skipped += 1
            return
        try:
            result = await run.send(notice)
        except Exception as exc:  # a bug in rendering, or an error the sender did not expect
            log.exception("sending duty message %s failed", row.key)
            result = SendResult(Delivery.RETRY, error=repr(exc))
        now = iso(self.clock.now())
        if result.delivery is Delivery.SENT:
            await self.repo.finish(row.id, "sent", now, message_id=result.message_id)
            run.report.sent += 1
        elif result.delivery is Delivery.RETRY and row.attempts + 1 < MAX_ATTEMPTS:
            await self.repo.release(row.id, result.error or "retry")
            run.report.retried += 1
            run.tries[row.id] = run.tries.get(row.id, 0) + 1
            if run.tries[row.id] >= TRIES_PER_TICK:
                run.skip.append(row.id)
            elif result.retry_after and run.keep_going():
                # Flood control outlasted the rate limiter's retries: this sender waits as told.
                await asyncio.sleep(min(result.retry_after, MAX_BACKOFF))
        else:
            blocked = result.delivery is Delivery.BLOCKED
            await self.repo.finish(row.id, "blocked" if blocked else "failed", now, error=result.error)
            if blocked:
                run.report.blocked += 1
            else:
                run.report.failed += 1
                log.warning("duty message %s could not be delivered: %s", row.key, result.error)
            await self._unreachable(row, notice, blocked, now)

    async def _unreachable(self, row: OutboxRow, notice: Notice, blocked: bool, now: str) -> None:
        """A reminder that cannot reach its chat: the person is marked, the managers are told (once per duty)."""
        if blocked and not notice.to_group and row.chat_id > 0:
            await self.users.mark_unreachable(row.chat_id, now)
        if row.kind != NoticeKind.REMINDER:
            return  # a manager who cannot be reached is marked, not reported to other managers
        managers = await self._managers(notice.duty.site_id, leave_out=row.chat_id)
        await self.repo.plan_unreachable_notices(row.duty_id, row.chat_id, managers, now)

    async def _notice(self, row: OutboxRow) -> Notice | None:
        """The message of an outbox row, or None when there is nothing to say any more (duty closed)."""
        duty = await self.repo.get(row.duty_id)
        rule = self.settings.rule(duty.rule_id) if duty else None
        if duty is None or rule is None or duty.status != OPEN:
            return None
        site = await self.repo.site(duty.site_id)
        group_chat = site.group_chat_id if site else None
        view = view_of(duty, rule, self.clock.now(), self.tz)
        to_group = row.chat_id == group_chat or row.chat_id < 0
        lang = self.default_language if to_group else await self._language(row.chat_id)
        kind = NoticeKind(row.kind)
        resent = row.interrupted
        if kind is NoticeKind.REMINDER:
            return Notice(kind, row.chat_id, lang, view, to_group=to_group, round=row.round, resent=resent)
        people = await self.repo.site_people(duty.site_id, rule.roles)
        responsible = tuple(Responsible(person.name, person.unreachable) for person in people)
        if kind is NoticeKind.ESCALATION:
            linked = rule.audience.group and group_chat is not None
            return Notice(kind, row.chat_id, lang, view, responsible=responsible, group_linked=linked, resent=resent)
        about_group = row.about is not None and (row.about == group_chat or row.about < 0)
        about = None if about_group or row.about is None else await self.repo.person(row.about)
        name = about.name if about else (str(row.about) if not about_group else None)
        return Notice(kind, row.chat_id, lang, view, about_name=name, about_group=about_group, resent=resent)

    async def _language(self, user_id: int) -> str:
        person = await self.repo.person(user_id)
        if person is None:
            return self.default_language
        return person.language or language_from_telegram(person.tg_language, self.default_language)
