"""What duty messages show: plain values computed in the configured time zone, for the templates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.flows.schedule import Period, covered_period
from config.duties import DutyRule
from rubric.registry import RubricRegistry
from storage.duties import DONE, NA, DutyRow

if TYPE_CHECKING:
    from bot.flows.actions.notices import ActionMessage

MAX_CLAUSE_TEXT = 60  # a clause's text as a reminder quotes it: the gist, not the whole paragraph


class DutyStatus(StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"  # open, past its due date
    ESCALATED = "escalated"  # overdue, and the managers have been told
    DONE = "done"
    NA = "na"  # not applicable, with a reason
    UPCOMING = "upcoming"  # no duty yet: its first reminder is still ahead
    MISSING = "missing"  # no duty recorded for a period that has begun

    @property
    def is_open(self) -> bool:
        return self in (DutyStatus.OPEN, DutyStatus.OVERDUE, DutyStatus.ESCALATED)


# Worst first: what a summary of several duties shows.
SEVERITY = (
    DutyStatus.ESCALATED,
    DutyStatus.OVERDUE,
    DutyStatus.OPEN,
    DutyStatus.MISSING,
    DutyStatus.NA,
    DutyStatus.DONE,
    DutyStatus.UPCOMING,
)


def parse_moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class ClauseRef:
    """A rubric clause a duty serves: its code (二(一)4) and its text, so nobody has to look it up."""

    code: str
    text: str | None


@cache
def _bundled_rubrics() -> RubricRegistry:
    return RubricRegistry.load()


class ClauseBook:
    """Clause texts by code, from the rubric's newest edition (the bundled rubrics when the flow was
    given none). Texts are trimmed to ``MAX_CLAUSE_TEXT`` characters."""

    def __init__(self, rubrics: RubricRegistry | None = None) -> None:
        self._rubrics = rubrics
        self._texts: dict[str, str | None] = {}

    def refs(self, rule: DutyRule) -> tuple[ClauseRef, ...]:
        return tuple(ClauseRef(code, self.text(code)) for code in rule.clauses)

    def text(self, code: str) -> str | None:
        if code not in self._texts:
            self._texts[code] = self._look_up(code)
        return self._texts[code]

    def _look_up(self, code: str) -> str | None:
        rubrics = self._rubrics or _bundled_rubrics()
        try:
            clause = rubrics.get().find_clause(code)
        except (KeyError, ValueError):  # no rubric loaded at all: the code alone is shown
            return None
        if clause is None:
            return None
        text = " ".join(clause.text.split())
        return text if len(text) <= MAX_CLAUSE_TEXT else text[: MAX_CLAUSE_TEXT - 1] + "…"


@dataclass(frozen=True)
class DutyView:
    id: int
    rule: DutyRule
    site_id: int
    site_name: str
    period: Period
    status: DutyStatus
    remind_date: date
    due_date: date
    overdue_days: int
    done_at: datetime | None  # local
    done_by_name: str | None
    note: str | None
    na_reason: str | None
    evidence_count: int
    rounds: int
    covered: Period | None = None  # the period the work is about (None: its own ``period``)
    clauses: tuple[ClauseRef, ...] = ()  # with their texts (empty: only the rule's codes are known)
    escalate_date: date | None = None  # when the managers are told if it is still open (local)

    @property
    def about(self) -> Period:
        """The period messages name: the one the work covers (上季度 -> the quarter before)."""
        return self.covered or self.period

    @property
    def clause_refs(self) -> tuple[ClauseRef, ...]:
        return self.clauses or tuple(ClauseRef(code, None) for code in self.rule.clauses)

    @property
    def overdue_since(self) -> date:
        return date.fromordinal(self.due_date.toordinal() + 1)

    @property
    def is_open(self) -> bool:
        return self.status.is_open


def status_of(row: DutyRow, now: datetime) -> DutyStatus:
    if row.status == DONE:
        return DutyStatus.DONE
    if row.status == NA:
        return DutyStatus.NA
    if row.escalated_at:
        return DutyStatus.ESCALATED
    if now >= parse_moment(row.due_at):
        return DutyStatus.OVERDUE
    return DutyStatus.OPEN


def view_of(row: DutyRow, rule: DutyRule, now: datetime, tz: ZoneInfo, clauses: ClauseBook | None = None) -> DutyView:
    status = status_of(row, now)
    today = now.astimezone(tz).date()
    overdue = max(0, (today - row.due_date).days) if status.is_open else 0
    period = Period(row.period, rule.cadence, row.period_start, row.period_end)
    return DutyView(
        id=row.id,
        rule=rule,
        site_id=row.site_id,
        site_name=row.site_name,
        period=period,
        status=status,
        remind_date=parse_moment(row.remind_at).astimezone(tz).date(),
        due_date=row.due_date,
        overdue_days=overdue,
        done_at=parse_moment(row.done_at).astimezone(tz) if row.done_at else None,
        done_by_name=row.done_by_name,
        note=row.note,
        na_reason=row.na_reason,
        evidence_count=row.evidence_count,
        rounds=row.rounds,
        covered=covered_period(rule, period),
        clauses=clauses.refs(rule) if clauses else (),
        escalate_date=parse_moment(row.escalate_at).astimezone(tz).date() if row.escalate_at else None,
    )


@dataclass(frozen=True)
class DutyClauseStatus:
    """The line an inspection's clause card shows for a clause that a duty serves."""

    duty_id: int | None  # for the "view evidence" button (None: no duty recorded yet)
    rule_id: str
    title_zh: str
    title_en: str
    clause_code: str
    period: Period
    status: DutyStatus
    due_date: date | None
    done_at: datetime | None  # local
    done_by: str | None
    evidence_count: int
    na_reason: str | None
    covered: Period | None = None  # the period the work is about (None: ``period``)

    @property
    def about(self) -> Period:
        return self.covered or self.period

    @property
    def period_key(self) -> str:
        return self.period.key

    @property
    def can_view_evidence(self) -> bool:
        return self.duty_id is not None and self.evidence_count > 0


# -- what the engine sends -------------------------------------------------------------------------


class NoticeKind(StrEnum):
    REMINDER = "reminder"
    DIGEST = "digest"  # a manager's daily digest (or one part of it)
    # Corrective actions' messages (bot/flows/actions/notices.py)
    ACTION_NOTICE = "action_notice"  # 整改通知单: a submitted inspection's actions, to the site
    ACTION_REVIEW = "action_review"  # proof to verify, to the verifier
    ACTION_RESULT = "action_result"  # proof passed or returned, to whoever sent it
    ACTION_OVERDUE = "action_overdue"  # a follow-up of overdue actions, to the site
    ACTION_ESCALATION = "action_escalation"  # overdue actions, to their managers once a day
    ACTION_EXTENSION = "action_extension"  # requests for more time to managers; their outcome to whoever asked
    ACTION_ASSIGNED = "action_assigned"  # 指派: an action now in a person's hands (or back with the site's staff)
    # Inspection plans (bot/flows/plans/engine.py), rendered from plans.j2:
    PLAN_WEEK = "plan_week"  # an inspector's visits due this week
    PLAN_NUDGE = "plan_nudge"  # a visit due in a few working days
    PLAN_DIGEST = "plan_digest"  # a manager's missed visits of the day (or one part)

    @property
    def template(self) -> str:
        """``duties.reminder``, ``plans.plan_week``, ``actions.notice_message``, ..."""
        if self.value.startswith("action_"):
            return f"actions.{self.value.removeprefix('action_')}_message"
        return f"plans.{self.value}" if self.value.startswith("plan_") else f"duties.{self.value}"

    @property
    def in_parts(self) -> bool:
        return self in (NoticeKind.DIGEST, NoticeKind.PLAN_DIGEST)


class AlertKind(StrEnum):
    ESCALATION = "escalation"  # overdue past its escalation moment
    NOBODY = "nobody"  # no reminder of the duty can reach anyone
    UNREACHABLE = "unreachable"  # a reminder could not reach one of its recipients


@dataclass(frozen=True)
class Responsible:
    id: int  # Telegram user id: the digest links the name (tg://user?id=...) so a tap opens the chat
    name: str
    unreachable: bool


@dataclass(frozen=True)
class Alert:
    """One line of a digest."""

    kind: AlertKind
    duty: DutyView
    responsible: tuple[Responsible, ...] = ()
    more: int = 0  # people responsible beyond those listed
    deliveries: int = 0  # reminders that reached a chat (a round that reached nobody is not one)
    group_linked: bool = False  # the site's group chat is reminded too
    about: Responsible | None = None  # unreachable: the person not reached
    about_group: bool = False  # unreachable: the site's group chat was not reached
    reason: str | None = None  # unreachable: blocked | not_started | removed | failed


@dataclass(frozen=True)
class Digest:
    """What a manager is told in one day's message: the facts since the last one, by kind."""

    day: date
    part: int
    parts: int
    escalations: tuple[Alert, ...] = ()
    nobody: tuple[Alert, ...] = ()
    unreachable: tuple[Alert, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.escalations or self.nobody or self.unreachable)


@dataclass(frozen=True)
class Notice:
    """One message of the engine, ready to render: ``duties.<kind>`` in ``lang``."""

    kind: NoticeKind
    chat_id: int
    lang: str
    duty: DutyView | None = None  # a reminder's duty (None for a digest)
    to_group: bool = False
    round: int = 1
    digest: Digest | None = None
    resent: bool = False  # sent again after a crash interrupted it: a first copy may have arrived
    actions: ActionMessage | None = None  # a corrective actions' message
    plan: Any = None  # a plan message's content (bot.flows.plans.engine.PlanNotice)


class Delivery(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the person blocked the bot, or it was removed from the group
    FAILED = "failed"  # refused for good (chat not found, bad request)
    RETRY = "retry"  # a passing failure (network, flood control after the limiter's retries)


@dataclass(frozen=True)
class SendResult:
    delivery: Delivery
    message_id: int | None = None
    error: str | None = None
    retry_after: float | None = None  # flood control: Telegram asked to wait this long (seconds)


def undelivered_reason(error: str | None, to_group: bool) -> str:
    """Why a reminder did not arrive, from Telegram's answer: what the manager can do differs."""
    text = (error or "").lower()
    if "blocked" in text:
        return "blocked"
    if "initiate" in text or ("chat not found" in text and not to_group):
        return "not_started"
    if to_group or "kicked" in text or "not a member" in text:
        return "removed"
    return "failed"


Sender = Callable[[Notice], Awaitable[SendResult]]
