"""What a finding becomes: its severity and due date. Pure functions of the settings and a calendar.

A 不符合, and any finding on a veto clause, is serious (严重); a 基本符合 is general (一般) unless the
settings make it serious. The site has ``serious_days`` or ``general_days`` working days (the duty
engine's calendar: weekends and public holidays off, make-up days on) counted from the day after the
inspection was submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.flows.schedule import WorkCalendar
from config.settings import ActionSettings
from rubric.model import Answer, Rubric
from rubric.scoring import Finding


class Severity(StrEnum):
    SERIOUS = "serious"  # 严重
    GENERAL = "general"  # 一般


class ActionStatus(StrEnum):
    OPEN = "open"  # 待整改
    SUBMITTED = "submitted"  # 已提交: the site's proof waits for a verifier
    CLOSED = "closed"  # 已关闭
    CANCELLED = "cancelled"  # 已取消: the finding no longer stands


@dataclass(frozen=True)
class Deadlines:
    """An open action's dates: fixed by, first overdue follow-up, managers told (local dates)."""

    due_date: date
    follow_up_on: date
    escalate_on: date


@dataclass(frozen=True)
class ActionDraft:
    """An action to create at submit, for one finding."""

    clause_id: str
    answer: Answer
    severity: Severity
    deadlines: Deadlines


def severity_of(answer: Answer, veto_clause: bool, settings: ActionSettings) -> Severity:
    if answer is Answer.FAIL or veto_clause or settings.partial_severity == Severity.SERIOUS:
        return Severity.SERIOUS
    return Severity.GENERAL


def due_date(submitted_on: date, severity: Severity, calendar: WorkCalendar, settings: ActionSettings) -> date:
    days = settings.serious_days if severity is Severity.SERIOUS else settings.general_days
    return calendar.add_working_days(submitted_on, days)


def deadlines(due: date, calendar: WorkCalendar, settings: ActionSettings) -> Deadlines:
    """Overdue follow-ups start the first working day after the due date; managers are told
    ``escalate_days`` working days after it."""
    return Deadlines(due, calendar.add_working_days(due, 1), calendar.add_working_days(due, settings.escalate_days))


def next_follow_up(today: date, calendar: WorkCalendar, settings: ActionSettings) -> date:
    return calendar.add_working_days(today, settings.follow_up_days)


def drafts_for(
    findings: tuple[Finding, ...],
    rubric: Rubric,
    submitted_on: date,
    calendar: WorkCalendar,
    settings: ActionSettings,
) -> list[ActionDraft]:
    """One action per finding, in the rubric's order."""
    drafts = []
    for finding in findings:
        severity = severity_of(finding.answer, rubric.clause(finding.clause_id).veto, settings)
        due = due_date(submitted_on, severity, calendar, settings)
        drafts.append(ActionDraft(finding.clause_id, finding.answer, severity, deadlines(due, calendar, settings)))
    return drafts
