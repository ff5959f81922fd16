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

A 403 marks the person unreachable (no more reminders are planned for them); other passing failures
are retried up to ``MAX_ATTEMPTS`` times.

Managers hear of problems once a day. An escalation, a reminder that reached one person less, a duty
whose reminders reach nobody: each is a fact (a ``duty_alerts`` row, unique per duty, manager and
kind) written in the transaction that found it. After the tick's reminders are out, each manager's
waiting facts become that day's digest: outbox rows cut into parts under Telegram's length limit,
planned in one transaction and delivered like reminders. A manager gets at most one digest a day;
facts found after it wait for the next day's, so 200 overdue sites are one message, not 200.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso
from bot.flows.duties.views import (
    Alert,
    AlertKind,
    ClauseBook,
    Delivery,
    Digest,
    DutyView,
    Notice,
    NoticeKind,
    Responsible,
    Sender,
    SendResult,
    parse_moment,
    undelivered_reason,
    view_of,
)
from bot.flows.plans.engine import PLAN_KINDS, PlanEngine, PlanTick
from bot.flows.schedule import Period, Schedule, WorkCalendar
from bot.i18n import language_from_telegram
from config.duties import DutyRule, DutySettings
from storage.duties import OPEN, AlertRow, DutyRepository, DutyRow, NewDuty, OutboxRow
from storage.users import UserRepository

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # sends of one row across ticks before it is given up as failed
TRIES_PER_TICK = 4  # a row that failed for a passing reason this often waits for the next tick
MAX_BACKOFF = 30.0  # seconds: the longest flood-control pause a sender takes inside a tick
BATCH = 200
WORKERS = 8  # sends in flight at once; the rate limiter keeps them within Telegram's limits
# A digest part's estimated length (characters a reader sees). Telegram's limit is 4096; the estimate
# errs on the long side, and a part that still renders too long is split by the sender.
DIGEST_BUDGET = 3400
DIGEST_LINE = {"en": 110}  # the fixed words of one digest line, by language (Chinese: the default)
DIGEST_LINE_ZH = 60
MAX_NAMES = 6  # people named on one digest line; the rest are counted ("and 4 more")


class OutboxExtension(Protocol):
    """Messages of another feature carried by the engine's outbox, with its guarantees."""

    kinds: frozenset[str]  # the outbox kinds it composes

    async def plan(self, now: datetime) -> int:
        """Write what is due now into the outbox (each step one transaction); how many rows."""
        ...

    async def compose(self, row: OutboxRow) -> Notice | None:
        """The row's message as things stand now; None: nothing left to say."""
        ...


@dataclass
class TickReport:
    created: int = 0
    planned: int = 0
    escalated: int = 0
    digests: int = 0  # managers whose digest was planned
    plans: PlanTick | None = None  # what the inspection plans' part did
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


def _in_order(rows: Sequence[OutboxRow]) -> list[list[OutboxRow]]:
    """Rows to send, grouped so that one sender takes a digest's parts in order; other rows alone (the
    reminders of one person may go concurrently: each stands on its own)."""
    groups: list[list[OutboxRow]] = []
    digests: dict[tuple[str, int], list[OutboxRow]] = {}
    for row in rows:
        key = (row.kind, row.chat_id)
        if not NoticeKind(row.kind).in_parts:
            groups.append([row])
        elif key in digests:
            digests[key].append(row)
        else:
            digests[key] = [row]
            groups.append(digests[key])
    for group in digests.values():
        group.sort(key=lambda row: (row.day or "", row.round))
    return groups


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
        clauses: ClauseBook | None = None,
        plans: PlanEngine | None = None,
    ) -> None:
        self.repo = repo
        self.users = users
        self.clock = clock
        self.settings = settings
        self.tz = tz
        self.default_language = default_language
        self.admin_ids = admin_ids
        self.workers = workers
        self.clauses = clauses or ClauseBook()
        self.plans = plans  # inspection plans: their visits and messages ride on this engine's ticks
        self.calendar = WorkCalendar.of(settings)
        self.schedules = {rule.id: Schedule(rule, tz, self.calendar) for rule in settings.rules}
        self._lock = asyncio.Lock()
        self._first_seen: dict[str, datetime] = {}
        # Other features' messages through the same outbox (corrective actions): each plans its rows in
        # the tick and composes them when they are sent.
        self.extensions: list[OutboxExtension] = []

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
            if self.settings.enabled:  # off: the ticks run for plans and actions only
                await self._load_rules(now)
                report.created = await self._materialise(now)
                report.planned = await self._plan_reminders(now)
                report.escalated = await self._plan_escalations(now)
            if self.plans is not None:
                report.plans = await self.plans.plan(now)
            for extension in self.extensions:
                report.planned += await extension.plan(now)
            run = _DeliveryPass(send, keep_going, report)  # one pass: a row skipped once stays skipped
            await self._deliver(run)
            # After the reminders: what they could not reach goes in the same day's digest.
            if keep_going():
                if self.settings.enabled:
                    report.digests = await self._plan_digests(self.clock.now())
                if self.plans is not None:
                    report.digests += await self.plans.plan_digests(self.clock.now())
                await self._deliver(run)
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
                # Nobody to remind (all unreachable, or no one responsible): the managers hear of it now.
                managers = await self.managers_of(row.site_id) if not chats else []
                if await self.repo.plan_round(
                    row.id, row.rounds, chats, iso(follow_up) if follow_up else None, iso(now), managers
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
            if await self.repo.plan_escalation(row.id, await self.managers_of(row.site_id), iso(now)):
                escalated += 1
        return escalated

    async def managers_of(self, site_id: int, leave_out: int | None = None) -> list[int]:
        """Who hears about a site's problems: its managers, else the configured admins."""
        managers = [person.id for person in await self.users.managers_of_site(site_id)]
        chosen = managers or sorted(self.admin_ids)
        return [chat for chat in chosen if chat != leave_out]

    # -- 3. delivery -------------------------------------------------------------------------------

    async def _deliver(self, run: _DeliveryPass) -> None:
        while run.keep_going():
            batch = await self.repo.pending(BATCH, run.skip)
            if not batch:
                return
            queue: asyncio.Queue[list[OutboxRow]] = asyncio.Queue()
            groups = _in_order(batch)
            for group in groups:
                queue.put_nowait(group)
            await asyncio.gather(*(self._worker(queue, run) for _ in range(min(self.workers, len(groups)))))
        run.report.stopped = True

    async def _worker(self, queue: asyncio.Queue[list[OutboxRow]], run: _DeliveryPass) -> None:
        while run.keep_going() and not queue.empty():
            group = queue.get_nowait()
            for index, row in enumerate(group):
                if not await self._deliver_one(row, run):
                    # A digest's later parts wait for the earlier one: a reader gets 1/3 before 2/3.
                    run.skip.extend(later.id for later in group[index + 1 :])
                    break

    async def _deliver_one(self, row: OutboxRow, run: _DeliveryPass) -> bool:
        """Send one row; False when it was put back for a later try (or another sender had it)."""
        if not await self.repo.claim(row.id, iso(self.clock.now())):
            return False  # another sender has it
        notice = await self._compose(row)
        if notice is None:
            await self.repo.finish(row.id, "skipped", iso(self.clock.now()))
            run.report.skipped += 1
            return True
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
            return False
        else:
            blocked = result.delivery is Delivery.BLOCKED
            await self.repo.finish(row.id, "blocked" if blocked else "failed", now, error=result.error)
            if blocked:
                run.report.blocked += 1
            else:
                run.report.failed += 1
                log.warning("duty message %s could not be delivered: %s", row.key, result.error)
            await self._unreachable(row, notice, result, now)
        return True

    async def _compose(self, row: OutboxRow) -> Notice | None:
        if row.kind == NoticeKind.DIGEST:
            return await self._digest_notice(row)
        if row.kind in PLAN_KINDS:
            return await self._plan_notice(row)
        for extension in self.extensions:
            if row.kind in extension.kinds:
                return await extension.compose(row)
        return await self._notice(row)

    async def _unreachable(self, row: OutboxRow, notice: Notice, result: SendResult, now: str) -> None:
        """A message that cannot reach its chat: the person is marked; a reminder's managers are told."""
        if result.delivery is Delivery.BLOCKED and not notice.to_group and row.chat_id > 0:
            await self.users.mark_unreachable(row.chat_id, now)
        if row.kind != NoticeKind.REMINDER or notice.duty is None:
            return  # a manager who cannot be reached is marked, not reported to other managers
        managers = await self.managers_of(notice.duty.site_id, leave_out=row.chat_id)
        reason = undelivered_reason(result.error, notice.to_group)
        await self.repo.note_undelivered(notice.duty.id, row.round, row.chat_id, reason, managers, now)

    async def _notice(self, row: OutboxRow) -> Notice | None:
        """A reminder, or None when there is nothing to say any more (duty closed, rule gone); also an
        escalation or unreachable row left from before the digests (none are planned any more)."""
        if row.kind != NoticeKind.REMINDER or row.duty_id is None:
            return None
        duty = await self.repo.get(row.duty_id)
        rule = self.settings.rule(duty.rule_id) if duty else None
        if duty is None or rule is None or duty.status != OPEN:
            return None
        site = await self.repo.site(duty.site_id)
        group_chat = site.group_chat_id if site else None
        view = view_of(duty, rule, self.clock.now(), self.tz, self.clauses)
        to_group = row.chat_id == group_chat or row.chat_id < 0
        lang = self.default_language if to_group else await self.language_of(row.chat_id)
        return Notice(
            NoticeKind.REMINDER, row.chat_id, lang, view, to_group=to_group, round=row.round, resent=row.interrupted
        )

    async def _plan_notice(self, row: OutboxRow) -> Notice | None:
        """A plan message as it stands now (None: nothing left to say, or plans are off)."""
        if self.plans is None:
            return None
        plan = await self.plans.notice(row.kind, row.chat_id, row.key, row.day, row.round, row.parts)
        if plan is None:
            return None
        lang = await self.language_of(row.chat_id)
        return Notice(NoticeKind(row.kind), row.chat_id, lang, round=row.round, resent=row.interrupted, plan=plan)

    # -- 4. the managers' daily digest -------------------------------------------------------------

    @property
    def digest_from(self) -> time:
        """A day's digest goes no earlier than the earliest reminder time of the rules: what the morning's
        reminders find is in it, and nothing wakes a manager at midnight."""
        return min((rule.at for rule in self.settings.active_rules), default=time(9, 0))

    async def _plan_digests(self, now: datetime) -> int:
        """Each manager with waiting facts gets that day's digest, unless it went already (then the
        facts wait for tomorrow's: one message a day)."""
        local = now.astimezone(self.tz)
        if local.time() < self.digest_from:
            return 0
        day = local.date().isoformat()
        planned = 0
        for chat_id in await self.repo.chats_with_waiting_alerts():
            if await self.repo.has_digest(chat_id, day):
                continue
            alerts = await self.repo.waiting_alerts(chat_id)
            parts = await self._pack(alerts, await self.language_of(chat_id))
            if await self.repo.plan_digest(chat_id, day, parts, iso(now)):
                planned += 1
        return planned

    async def _pack(self, alerts: Sequence[AlertRow], lang: str) -> list[list[int]]:
        """Alerts cut into parts whose estimated length stays under ``DIGEST_BUDGET``, in order. The cut
        is made once, here, and recorded: a retried or resumed part always holds the same lines."""
        parts: list[list[int]] = [[]]
        used = 0
        for alert in alerts:
            size = await self._estimate(alert, lang)
            if parts[-1] and used + size > DIGEST_BUDGET:
                parts.append([])
                used = 0
            parts[-1].append(alert.id)
            used += size
        return parts

    async def _estimate(self, alert: AlertRow, lang: str) -> int:
        """Characters the alert's line shows, or a little more: fixed words, site, title, names."""
        line = DIGEST_LINE.get(lang, DIGEST_LINE_ZH)
        duty = await self.repo.get(alert.duty_id)
        rule = self.settings.rule(duty.rule_id) if duty else None
        if duty is None or rule is None:
            return line
        people = (await self.repo.site_people(duty.site_id, rule.roles))[:MAX_NAMES]
        about = await self.repo.person(alert.about) if alert.about > 0 else None
        names = sum(len(person.name) + 20 for person in people) + (len(about.name) + 40 if about else 0)
        return line + len(duty.site_name) + len(rule.title(lang)) + names

    async def _digest_notice(self, row: OutboxRow) -> Notice | None:
        """A digest part as it stands now: lines of duties closed since are left out (None: all were)."""
        now = self.clock.now()
        found = [await self._alert(alert, now) for alert in await self.repo.alerts_of(row.key)]
        lines = [line for line in found if line is not None]
        digest = Digest(
            day=date.fromisoformat(row.day or now.astimezone(self.tz).date().isoformat()),
            part=row.round,
            parts=row.parts or 1,
            escalations=tuple(a for a in lines if a.kind is AlertKind.ESCALATION),
            nobody=tuple(a for a in lines if a.kind is AlertKind.NOBODY),
            # A duty that reaches nobody says so once; its recipients one by one would repeat it.
            unreachable=tuple(
                a
                for a in lines
                if a.kind is AlertKind.UNREACHABLE
                and not any(n.kind is AlertKind.NOBODY and n.duty.id == a.duty.id for n in lines)
            ),
        )
        if digest.empty:
            return None
        lang = await self.language_of(row.chat_id)
        return Notice(NoticeKind.DIGEST, row.chat_id, lang, digest=digest, resent=row.interrupted)

    async def _alert(self, alert: AlertRow, now: datetime) -> Alert | None:
        duty = await self.repo.get(alert.duty_id)
        rule = self.settings.rule(duty.rule_id) if duty else None
        if duty is None or rule is None or duty.status != OPEN:
            return None
        view = view_of(duty, rule, now, self.tz, self.clauses)
        site = await self.repo.site(duty.site_id)
        group_chat = site.group_chat_id if site else None
        people = await self.repo.site_people(duty.site_id, rule.roles)
        responsible = tuple(Responsible(p.id, p.name, p.unreachable) for p in people)
        about, about_group = await self._about(alert, group_chat)
        return Alert(
            kind=AlertKind(alert.kind),
            duty=view,
            responsible=responsible[:MAX_NAMES],
            more=max(0, len(responsible) - MAX_NAMES),
            deliveries=await self.repo.deliveries(duty.id),
            group_linked=rule.audience.group and group_chat is not None,
            about=about,
            about_group=about_group,
            reason=alert.reason,
        )

    async def _about(self, alert: AlertRow, group_chat: int | None) -> tuple[Responsible | None, bool]:
        """Who an unreachable fact is about: a person, or the site's group chat."""
        if alert.kind != AlertKind.UNREACHABLE or not alert.about:
            return None, False
        if alert.about == group_chat or alert.about < 0:
            return None, True
        person = await self.repo.person(alert.about)
        name = person.name if person else str(alert.about)
        return Responsible(alert.about, name, True), False

    def view(self, row: DutyRow, rule: DutyRule) -> DutyView:
        return view_of(row, rule, self.clock.now(), self.tz, self.clauses)

    async def language_of(self, user_id: int) -> str:
        person = await self.repo.person(user_id)
        if person is None:
            return self.default_language
        return person.language or language_from_telegram(person.tg_language, self.default_language)
