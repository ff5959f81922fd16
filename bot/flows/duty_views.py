"""What duty messages show: plain values computed in the configured time zone, for the templates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.flows.schedule import Period
from config.duties import DutyRule
from storage.duties import DONE, NA, DutyRow


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


def view_of(row: DutyRow, rule: DutyRule, now: datetime, tz: ZoneInfo) -> DutyView:
    status = status_of(row, now)
    today = now.astimezone(tz).date()
    overdue = max(0, (today - row.due_date).days) if status.is_open else 0
    return DutyView(
        id=row.id,
        rule=rule,
        site_id=row.site_id,
        site_name=row.site_name,
        period=Period(row.period, rule.cadence, row.period_start, row.period_end),
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

    @property
    def period_key(self) -> str:
        return self.period.key

    @property
    def can_view_evidence(self) -> bool:
        return self.duty_id is not None and self.evidence_count > 0


# -- what the engine sends -------------------------------------------------------------------------


class NoticeKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Responsible:
    name: str
    unreachable: bool


@dataclass(frozen=True)
class Notice:
    """One message of the engine, ready to render: ``duties.<kind>`` in ``lang``."""

    kind: NoticeKind
    chat_id: int
    lang: str
    duty: DutyView
    to_group: bool = False
    round: int = 1
    responsible: tuple[Responsible, ...] = ()
    group_linked: bool = False  # escalation: the site's group chat is reminded too
    about_name: str | None = None  # unreachable: who could not be reached
    about_group: bool = False
    resent: bool = False  # sent again after a crash interrupted it: a first copy may have arrived


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


Sender = Callable[[Notice], Awaitable[SendResult]]
