"""Inspection plans (督导计划): how often a site is inspected, and the ``[plans]`` settings.

A frequency is a calendar cadence (monthly, quarterly, half-yearly, yearly) or a cron expression whose
firings start periods (as for duties). This module only parses and validates; the period arithmetic
lives in ``bot.flows.plans.periods``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from config.duties import Anchor, Cadence, CronSpec, parse_anchor, parse_cron


@dataclass(frozen=True)
class Frequency:
    """How often a site is inspected: ``cadence`` (CRON with ``cron``) and its stored ``text``."""

    text: str
    cadence: Cadence
    cron: CronSpec | None = None

    @property
    def rank(self) -> int:
        """Shorter periods rank higher: the watch rule only ever raises a site's frequency."""
        months = self.cadence.months
        return 100 if months == 0 else 12 // months


CALENDAR = ("monthly", "quarterly", "half-yearly", "yearly")
ALIASES = {
    "monthly": "monthly",
    "month": "monthly",
    "月度": "monthly",
    "每月": "monthly",
    "quarterly": "quarterly",
    "quarter": "quarterly",
    "季度": "quarterly",
    "每季度": "quarterly",
    "half-yearly": "half-yearly",
    "half-year": "half-yearly",
    "halfyearly": "half-yearly",
    "半年": "half-yearly",
    "半年度": "half-yearly",
    "每半年": "half-yearly",
    "yearly": "yearly",
    "year": "yearly",
    "年度": "yearly",
    "每年": "yearly",
}


def parse_frequency(text: str) -> Frequency:
    """``monthly`` / ``quarterly`` / ``half-yearly`` / ``yearly`` (or 月度, 季度, 半年度, 年度), or a cron
    expression ``"minute hour day month weekday"``. Raises ValueError naming what is wrong."""
    raw = " ".join(str(text).split())
    name = ALIASES.get(raw.lower())
    if name is not None:
        return Frequency(name, Cadence(name))
    if len(raw.split()) == 5:
        return Frequency(parse_cron(raw).text, Cadence.CRON, parse_cron(raw))
    raise ValueError(f"{text!r} is not a frequency: use monthly, quarterly, half-yearly, yearly or a cron expression")


@dataclass(frozen=True)
class PlanSettings:
    """``[plans]``: every active site is inspected at ``frequency`` unless its own or its region's plan
    says otherwise. A visit is due on ``due`` (a day of the period, as a duty's due), still counts,
    late, for ``grace_days`` after it, and is missed after that."""

    enabled: bool = True  # False: no visits are planned, reminded or escalated (plans can still be set)
    frequency: Frequency = field(default_factory=lambda: parse_frequency("quarterly"))
    due: Anchor = field(default_factory=lambda: parse_anchor("last day"))
    grace_days: int = 10
    nudge_days: int = 3  # working days before the due date; 0: no nudge
    at: time = time(9, 0)  # nudges, the weekly list and missed-visit escalations
    weekly_list: bool = True  # each week's first working day: the inspector's visits due that week
    # The watch rule: a site whose last visit's inspection was graded one of these is inspected at
    # ``watch_frequency`` from the next period on (empty: the rule is off).
    watch_grades: tuple[str, ...] = ("不合格",)
    watch_frequency: Frequency = field(default_factory=lambda: parse_frequency("monthly"))
