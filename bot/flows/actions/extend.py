"""Extensions (申请延期): the site's staff ask for a later due date, a manager approves or refuses.

Staff press 申请延期 on an open action's card; the bot asks for the new due date (``YYYY-MM-DD``,
``M月D日``, ``M-D`` or ``+N`` working days), then for the reason. The date must be after the current
due date and at most ``max_extension_days`` working days after it (both counted from today when the
due date has passed). One request at a time per action. A manager of the site (or an admin) approves
it (the due date moves, the overdue follow-ups and escalation are planned again from it) or refuses
it with a reason; the requester is told either way. Each step is one transaction checking the state
it starts from; a double tap or a stale button changes nothing and is refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.clock import iso
from bot.flows.access import Caller
from bot.flows.actions.loop import WINDOW, ActionRefusal, ActionRefusedError
from bot.flows.actions.rules import ActionStatus, deadlines
from bot.flows.actions.views import ActionCard, ActionFlow
from bot.flows.errors import Refusal, RefusedError, bounded_text
from bot.flows.schedule import WorkCalendar
from config.settings import ActionSettings
from storage.action_extensions import ExtensionRepository, ExtensionRow
from storage.actions import ActionRow
from storage.pending import PendingInputRepository

EXTEND_DATE = "action_extend_date"  # pending input: the next text is the new due date
EXTEND_REASON = "action_extend_reason"  # ... the reason (the date checked already is in the payload)
REFUSE = "action_extend_refuse"  # ... why a manager refuses a request
KINDS = (EXTEND_DATE, EXTEND_REASON, REFUSE)
MAX_REASON = 500


class DateProblem(StrEnum):
    """Each value is a macro ``extension_date_<value>`` in ``bot/templates/actions.j2``."""

    UNREADABLE = "unreadable"
    NOT_LATER = "not_later"  # not after the current due date (or today, when that has passed)
    TOO_LATE = "too_late"  # beyond the most working days an extension may add


class ExtensionRefusedError(RefusedError):
    """A refusal with details, its text in ``actions.j2``."""

    def __init__(self, key: str, **details: object) -> None:
        Exception.__init__(self, key)
        self.key = key
        self.details = details

    @property
    def text_key(self) -> str:
        return f"actions.{self.key}"


class DateRefusedError(ExtensionRefusedError):
    def __init__(self, problem: DateProblem, **details: object) -> None:
        super().__init__(f"extension_date_{problem.value}", **details)
        self.problem = problem


_FULL = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?$")
_SHORT = re.compile(r"^(\d{1,2})(?:月(\d{1,2})[日号]?|[-/](\d{1,2}))$")
_PLUS = re.compile(r"^\+(\d{1,3})(?:天|个?工作日)?$")


def parse_new_due(text: str, today: date, due: date, calendar: WorkCalendar, max_days: int) -> date:
    """The due date asked for, checked; raises :class:`DateRefusedError`. ``+N`` counts working
    days, like the limit, from the current due date, or from today when the due date has passed. A
    date without a year is the next one on or after today."""
    base = max(due, today)
    limit = calendar.add_working_days(base, max_days)
    cleaned = "".join(unicodedata.normalize("NFKC", text).split())
    wanted: date | None = None
    try:
        if match := _PLUS.match(cleaned):
            days = int(match.group(1))
            if days == 0:
                raise DateRefusedError(DateProblem.NOT_LATER, base=base)
            if days > max_days:
                raise DateRefusedError(DateProblem.TOO_LATE, limit=limit, days=max_days)
            wanted = calendar.add_working_days(base, days)
        elif match := _FULL.match(cleaned):
            wanted = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        elif match := _SHORT.match(cleaned):
            month, day = int(match.group(1)), int(match.group(2) or match.group(3))
            wanted = date(today.year, month, day)
            if wanted < today:
                wanted = date(today.year + 1, month, day)
    except ValueError:  # 2月30日
        wanted = None
    if wanted is None:
        raise DateRefusedError(DateProblem.UNREADABLE)
    if wanted <= base:
        raise DateRefusedError(DateProblem.NOT_LATER, base=base)
    if wanted > limit:
        raise DateRefusedError(DateProblem.TOO_LATE, limit=limit, days=max_days)
    return wanted


@dataclass(frozen=True)
class ExtensionWaiting:
    kind: str  # EXTEND_DATE, EXTEND_REASON or REFUSE
    target: int  # the action (EXTEND_*) or the request (REFUSE)
    new_due: date | None = None  # EXTEND_REASON: the date asked for


@dataclass(frozen=True)
class DateAsked:
    card: ActionCard
    limit: date  # the latest date that may be asked for
    days: int


@dataclass(frozen=True)
class ReasonAsked:
    card: ActionCard
    new_due: date


@dataclass(frozen=True)
class RefusalAsked:
    card: ActionCard
    extension: ExtensionRow


class ExtensionFlow:
    def __init__(
        self,
        views: ActionFlow,
        repo: ExtensionRepository,
        pending: PendingInputRepository,
        calendar: WorkCalendar,
        settings: ActionSettings,
    ) -> None:
        self.views = views
        self.repo = repo
        self.pending = pending
        self.calendar = calendar
        self.settings = settings
        self.clock = views.clock

    def _today(self) -> date:
        return self.clock.now().astimezone(self.views.tz).date()

    # -- staff ------------------------------------------------------------------------------------

    async def begin(self, caller: Caller, action_id: int) -> DateAsked:
        row = await self._requestable(caller, action_id)
        now = iso(self.clock.now())
        await self.pending.set(caller.user_id, EXTEND_DATE, f"{action_id}|{now}", now)
        base = max(date.fromisoformat(row.due_date), self._today())
        limit = self.calendar.add_working_days(base, self.settings.max_extension_days)
        return DateAsked(await self.views.card_of(caller, row), limit, self.settings.max_extension_days)

    async def take_date(self, caller: Caller, action_id: int, text: str) -> ReasonAsked:
        """The new date: checked (a wrong one is refused, the question stays), then the reason is asked."""
        row = await self._requestable(caller, action_id, question=EXTEND_DATE)
        due = date.fromisoformat(row.due_date)
        new_due = parse_new_due(text, self._today(), due, self.calendar, self.settings.max_extension_days)
        now = iso(self.clock.now())
        await self.pending.set(caller.user_id, EXTEND_REASON, f"{action_id}|{now}|{new_due.isoformat()}", now)
        return ReasonAsked(await self.views.card_of(caller, row), new_due)

    async def request(self, caller: Caller, action_id: int, new_due: date, text: str) -> ActionCard:
        reason = bounded_text(text, MAX_REASON)
        row = await self._requestable(caller, action_id, question=EXTEND_REASON)
        due = date.fromisoformat(row.due_date)
        # Checked again: the due date may have moved since the date was asked.
        parse_new_due(new_due.isoformat(), self._today(), due, self.calendar, self.settings.max_extension_days)
        now = iso(self.clock.now())
        done = await self.repo.request(
            action_id, row.due_date, new_due.isoformat(), reason, caller.user_id, now, EXTEND_REASON
        )
        if done is None:
            await self._drop_question(caller, EXTEND_REASON, action_id)
            raise ActionRefusedError(ActionRefusal.STALE)
        return await self._fresh_card(caller, action_id)

    # -- managers ---------------------------------------------------------------------------------

    async def approve(self, caller: Caller, extension_id: int) -> ActionCard:
        extension, row = await self._decidable(caller, extension_id)
        limits = deadlines(date.fromisoformat(extension.new_due_date), self.calendar, self.settings)
        done = await self.repo.approve(
            extension_id,
            limits.follow_up_on.isoformat(),
            limits.escalate_on.isoformat(),
            caller.user_id,
            iso(self.clock.now()),
        )
        if not done:
            raise ExtensionRefusedError("refused_extension_decided")
        return await self._fresh_card(caller, row.id)

    async def ask_refusal(self, caller: Caller, extension_id: int) -> RefusalAsked:
        extension, row = await self._decidable(caller, extension_id)
        now = iso(self.clock.now())
        await self.pending.set(caller.user_id, REFUSE, f"{extension_id}|{now}", now)
        return RefusalAsked(await self.views.card_of(caller, row), extension)

    async def refuse(self, caller: Caller, extension_id: int, text: str) -> ActionCard:
        reason = bounded_text(text, MAX_REASON)
        try:
            _, row = await self._decidable(caller, extension_id)
        except RefusedError:
            await self._drop_question(caller, REFUSE, extension_id)
            raise
        if not await self.repo.refuse(extension_id, reason, caller.user_id, iso(self.clock.now()), REFUSE):
            await self._drop_question(caller, REFUSE, extension_id)
            raise ExtensionRefusedError("refused_extension_decided")
        return await self._fresh_card(caller, row.id)

    # -- the person's pending question ------------------------------------------------------------

    async def waiting(self, caller: Caller) -> ExtensionWaiting | None:
        pending = await self.pending.get(caller.user_id)
        if pending is None or pending.kind not in KINDS:
            return None
        parts = pending.payload.split("|")
        try:
            target, asked = int(parts[0]), datetime.fromisoformat(parts[1])
            new_due = date.fromisoformat(parts[2]) if pending.kind == EXTEND_REASON else None
        except (ValueError, IndexError):
            await self.pending.clear(caller.user_id)
            return None
        if self.clock.now() - asked > WINDOW:
            await self.pending.clear(caller.user_id)
            return None
        return ExtensionWaiting(pending.kind, target, new_due)

    # -- checks -----------------------------------------------------------------------------------

    async def _requestable(self, caller: Caller, action_id: int, question: str | None = None) -> ActionRow:
        """An open action of the caller's site with no request pending; refused otherwise (and the
        question about it, if any, dropped)."""
        try:
            row = await self.views.visible(caller, action_id)
            if not (await self.views.powers(caller, row)).submit:
                raise ActionRefusedError(ActionRefusal.NOT_ALLOWED)
            if row.status != ActionStatus.OPEN:
                raise ActionRefusedError(ActionRefusal.STALE)
            if await self.repo.pending_of(action_id) is not None:
                raise ExtensionRefusedError("refused_extension_pending")
        except RefusedError:
            if question:
                await self._drop_question(caller, question, action_id)
            raise
        return row

    async def _decidable(self, caller: Caller, extension_id: int) -> tuple[ExtensionRow, ActionRow]:
        extension = await self.repo.get(extension_id)
        if extension is None:
            raise RefusedError(Refusal.NOT_FOUND)
        row = await self.views.visible(caller, extension.action_id)
        if not (await self.views.powers(caller, row)).decide:
            raise ExtensionRefusedError("refused_extension_not_manager")
        if extension.status != "pending":
            raise ExtensionRefusedError("refused_extension_decided")
        if row.status not in (ActionStatus.OPEN, ActionStatus.SUBMITTED) or row.due_date != extension.old_due_date:
            raise ActionRefusedError(ActionRefusal.STALE)
        return extension, row

    async def _drop_question(self, caller: Caller, kind: str, target: int) -> None:
        pending = await self.pending.get(caller.user_id)
        if pending is not None and pending.kind == kind and pending.payload.startswith(f"{target}|"):
            await self.pending.clear(caller.user_id)

    async def _fresh_card(self, caller: Caller, action_id: int) -> ActionCard:
        row = await self.views.repo.get(action_id)
        if row is None:
            raise RefusedError(Refusal.NOT_FOUND)
        return await self.views.card_of(caller, row)
