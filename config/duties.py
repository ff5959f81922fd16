"""Periodic-duty rules: the ``[duties]`` section of the config, and the rules shipped with the bot.

A rule says what a site must do (title, the rubric clauses it serves), who is reminded (the site's
people with given roles, its group chat, or both), and when: a cadence (calendar periods or a cron
expression), the day of the first reminder inside the period, the due date, the follow-up interval
and escalation to managers. The shipped rules below are written in the same TOML a config file
uses; ``[[duties.rules]]`` entries with a shipped id override it key by key, other ids add rules.

This module only parses and validates. The date arithmetic lives in ``bot.flows.schedule``.
Errors are ``ValueError`` whose message names the key; ``config.settings`` turns them into
``ConfigError``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any


class Cadence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"
    YEARLY = "yearly"
    CRON = "cron"

    @property
    def months(self) -> int:
        """Length of a calendar period in months (0 for cron)."""
        return {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}.get(self.value, 0)


class Audience(StrEnum):
    STAFF = "staff"  # the site's people holding one of the rule's roles, in private chats
    GROUP = "group"  # the site's group chat (sites.group_chat_id)
    BOTH = "both"

    @property
    def people(self) -> bool:
        return self in (Audience.STAFF, Audience.BOTH)

    @property
    def group(self) -> bool:
        return self in (Audience.GROUP, Audience.BOTH)


SITE_ROLES = ("staff", "inspector", "manager")


class Covers(StrEnum):
    """Which period the work is about. A report on 上季度 (last quarter) is asked for in the quarter
    after it: its duty's period is Q4, the period it covers is Q3, and that is what messages show."""

    CURRENT = "current"
    PREVIOUS = "previous"


@dataclass(frozen=True)
class CronSpec:
    """A five-field cron expression that fires at most once a day (one minute, one hour)."""

    text: str
    at: time
    days: frozenset[int]  # 1..31
    months: frozenset[int]  # 1..12
    weekdays: frozenset[int]  # Python's numbering: Monday 0 .. Sunday 6
    days_restricted: bool  # cron's rule: if both day fields are restricted, either may match
    weekdays_restricted: bool


@dataclass(frozen=True)
class Anchor:
    """A day inside a period: ``first working day``, ``last working day``, ``first day``,
    ``last day``, ``day N``, ``month M day N``, each optionally ``+ N days`` / ``+ N working days``."""

    text: str
    base: str  # first_working_day | last_working_day | first_day | last_day | day
    month: int = 1  # for ``day``: which month of the period (1-based)
    day: int = 1  # for ``day``: day of that month (of the period itself when month is None)
    in_month: bool = False  # ``month M day N`` (True) or ``day N`` of the period (False)
    offset: int = 0
    offset_working: bool = False


@dataclass(frozen=True)
class DutyRule:
    id: str
    title_zh: str
    title_en: str
    clauses: tuple[str, ...]
    cadence: Cadence
    due: Anchor
    start: Anchor | None = None  # None for cron rules: the first reminder is the cron time
    cron: CronSpec | None = None
    at: time = time(9, 0)
    audience: Audience = Audience.STAFF
    roles: tuple[str, ...] = ("staff",)
    follow_up_days: int = 3  # 0: no follow-ups
    escalate_after_days: int = 3  # 0: never escalate
    working_days_only: bool = True
    enabled: bool = True
    covers: Covers = Covers.CURRENT

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def serves(self, clause_code: str) -> bool:
        return normalise_code(clause_code) in self.clauses


@dataclass(frozen=True)
class DutySettings:
    enabled: bool = True  # False: no reminders at all (the commands still work)
    tick_seconds: int = 30
    snooze_hours: int = 24
    rules: tuple[DutyRule, ...] = field(default_factory=lambda: SHIPPED_RULES)
    # Working days: Monday to Friday, less the public holidays of ``public_holidays`` ("china": the
    # State Council's, with their make-up working days 调休; "none"), less ``holidays``, plus ``workdays``.
    public_holidays: str = "china"
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @property
    def active_rules(self) -> tuple[DutyRule, ...]:
        """The rules that remind; none while duties are off (the engine still ticks for other messages)."""
        return tuple(rule for rule in self.rules if rule.enabled) if self.enabled else ()

    def rule(self, rule_id: str) -> DutyRule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


# -- parsing ---------------------------------------------------------------------------------------

_RULE_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CODE = re.compile(r"^[一二三四五六七八九十]+\([一二三四五六七八九十]+\)\d+$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_ANCHOR_OFFSET = re.compile(r"^(?P<base>.*?)\s*(?:(?P<sign>[+-])\s*(?P<n>\d+)\s*(?P<unit>working days?|days?))?$")
_ANCHOR_DAY = re.compile(r"^(?:month\s+(?P<month>\d+)\s+)?day\s+(?P<day>\d+)$")
_GENERAL_KEYS = {"enabled", "tick_seconds", "snooze_hours", "rules", "public_holidays", "holidays", "workdays"}
PUBLIC_HOLIDAYS = ("china", "none")
_RULE_KEYS = {
    "id",
    "enabled",
    "title_zh",
    "title_en",
    "clauses",
    "audience",
    "roles",
    "cadence",
    "start",
    "time",
    "due",
    "follow_up_days",
    "escalate_after_days",
    "working_days_only",
    "covers",
}
_REQUIRED_FOR_NEW = ("title_zh", "title_en", "clauses", "cadence", "due")
_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_CRON_NAMES = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
    "sun": 0,
    "mon": 1,
    "tue": 2,
    "wed": 3,
    "thu": 4,
    "fri": 5,
    "sat": 6,
}


def normalise_code(code: str) -> str:
    """``二（一）4`` and ``二 (一) 4`` are ``二(一)4``."""
    return "".join(code.split()).replace("（", "(").replace("）", ")")


def parse_anchor(text: str) -> Anchor:
    raw = " ".join(str(text).lower().split())
    match = _ANCHOR_OFFSET.match(raw)
    if not match or not match.group("base"):
        raise ValueError(f"cannot read {text!r}")
    base_text = match.group("base")
    offset = int(match.group("n") or 0) * (-1 if match.group("sign") == "-" else 1)
    working = bool(match.group("unit") and match.group("unit").startswith("working"))
    if offset and abs(offset) > 366:
        raise ValueError(f"offset in {text!r} must be at most 366 days")
    named = {
        "first working day": "first_working_day",
        "last working day": "last_working_day",
        "first day": "first_day",
        "last day": "last_day",
    }
    if base_text in named:
        return Anchor(str(text), named[base_text], offset=offset, offset_working=working)
    day_match = _ANCHOR_DAY.match(base_text)
    if not day_match:
        raise ValueError(
            f"cannot read {text!r}: use 'first working day', 'last working day', 'first day', 'last day', "
            "'day N' or 'month M day N', optionally followed by '+ N days' or '+ N working days'"
        )
    day = int(day_match.group("day"))
    in_month = day_match.group("month") is not None
    month = int(day_match.group("month") or 1)
    if in_month and not 1 <= month <= 12:
        raise ValueError(f"month in {text!r} must be between 1 and 12")
    if not 1 <= day <= (31 if in_month else 366):
        raise ValueError(f"day in {text!r} is out of range")
    return Anchor(str(text), "day", month=month, day=day, in_month=in_month, offset=offset, offset_working=working)


def parse_time(text: Any) -> time:
    match = _TIME.match(str(text).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f'{text!r} is not a time of day like "09:00"')
    return time(int(match.group(1)), int(match.group(2)))


def parse_cron(text: str) -> CronSpec:
    fields = str(text).lower().split()
    if len(fields) != 5:
        raise ValueError(f"cron expression {text!r} needs 5 fields: minute hour day-of-month month day-of-week")
    minute, hour, days, months, weekdays = fields
    minutes = _cron_field(minute, 0, 59, "minute")
    hours = _cron_field(hour, 0, 23, "hour")
    if len(minutes) != 1 or len(hours) != 1:
        raise ValueError(f"cron expression {text!r} must fire at most once a day (one minute and one hour)")
    cron_weekdays = _cron_field(weekdays, 0, 7, "day of week")
    cron_days = _cron_field(days, 1, 31, "day of month")
    cron_months = _cron_field(months, 1, 12, "month")
    if days != "*" and weekdays == "*" and not any(day <= _MONTH_DAYS[m] for m in cron_months for day in cron_days):
        raise ValueError(f"cron expression {text!r} never fires (no such day in those months)")
    return CronSpec(
        text=" ".join(fields),
        at=time(next(iter(hours)), next(iter(minutes))),
        days=frozenset(cron_days),
        months=frozenset(cron_months),
        # cron counts Sunday as 0 (or 7), Monday 1; Python's weekday() is Monday 0 .. Sunday 6.
        weekdays=frozenset((value - 1) % 7 for value in cron_weekdays),
        days_restricted=days != "*",
        weekdays_restricted=weekdays != "*",
    )


def _cron_field(text: str, low: int, high: int, what: str) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = _cron_number(step_text, what) if step_text else 1
        if step < 1:
            raise ValueError(f"cron {what}: step must be at least 1")
        if body == "*":
            first, last = low, high
        elif "-" in body:
            first_text, _, last_text = body.partition("-")
            first, last = _cron_number(first_text, what), _cron_number(last_text, what)
        else:
            first = _cron_number(body, what)
            last = high if step_text else first
        if not low <= first <= last <= high:
            raise ValueError(f"cron {what}: {part!r} is out of range {low}-{high}")
        values.update(range(first, last + 1, step))
    return values


def _cron_number(text: str, what: str) -> int:
    text = text.strip()
    if text in _CRON_NAMES:
        return _CRON_NAMES[text]
    if not text.isdigit():
        raise ValueError(f"cron {what}: {text!r} is not a number")
    return int(text)


def _int_in(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _one_of(value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"must be one of {', '.join(repr(c) for c in choices)}")
    return str(value)


def _dates(value: Any) -> frozenset[date]:
    """A list of days, as TOML dates (2027-01-01) or strings ("2027-01-01")."""
    if not isinstance(value, list):
        raise ValueError('must be a list of dates, e.g. [2027-01-01, "2027-01-02"]')
    days = set()
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)
            continue
        try:
            days.add(date.fromisoformat(str(item)))
        except ValueError:
            raise ValueError(f"{item!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(days)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _build_rule(entry: dict[str, Any]) -> DutyRule:
    """One rule from its merged TOML table; ``ValueError`` names the key."""

    def read(key: str, convert: Any) -> Any:
        try:
            return convert(entry[key])
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None

    cadence_text = read("cadence", _text).lower()
    cron: CronSpec | None = None
    if cadence_text in {c.value for c in Cadence if c is not Cadence.CRON}:
        cadence = Cadence(cadence_text)
    elif len(cadence_text.split()) == 5:
        cadence, cron = Cadence.CRON, read("cadence", parse_cron)
    else:
        raise ValueError(
            f"cadence: {entry['cadence']!r} is not monthly, quarterly, half-yearly, yearly or a cron expression"
        )
    if cron is not None and "start" in entry:
        raise ValueError("start: not used with a cron cadence (the cron expression says when the reminder goes)")
    if cron is None and "start" not in entry:
        raise ValueError('start: missing (when the first reminder goes, e.g. "first working day")')
    start = read("start", parse_anchor) if cron is None else None
    if start is not None and start.in_month and start.month > cadence.months:
        raise ValueError(f"start: a {cadence.value} period has no month {start.month}")
    due = read("due", parse_anchor)
    if due.in_month and cron is None and due.month > cadence.months:
        raise ValueError(f"due: a {cadence.value} period has no month {due.month}")
    clauses = entry["clauses"]
    if not isinstance(clauses, list) or not clauses:
        raise ValueError('clauses: must be a list of rubric clause codes such as "二(一)4"')
    codes = tuple(normalise_code(str(code)) for code in clauses)
    for code in codes:
        if not _CODE.match(code):
            raise ValueError(f'clauses: {code!r} is not a clause code such as "二(一)4"')
    audience_text = read("audience", _text).lower() if "audience" in entry else "staff"
    if audience_text not in {a.value for a in Audience}:
        raise ValueError("audience: must be staff, group or both")
    covers_text = read("covers", _text).lower() if "covers" in entry else Covers.CURRENT.value
    if covers_text not in {c.value for c in Covers}:
        raise ValueError("covers: must be current or previous (the period the work is about)")
    roles = entry.get("roles", ["staff"])
    if not isinstance(roles, list) or not roles or any(role not in SITE_ROLES for role in roles):
        raise ValueError(f"roles: must be a non-empty list of {', '.join(SITE_ROLES)}")
    return DutyRule(
        id=entry["id"],
        title_zh=read("title_zh", _text),
        title_en=read("title_en", _text),
        clauses=codes,
        cadence=cadence,
        due=due,
        start=start,
        cron=cron,
        at=cron.at if cron else (read("time", parse_time) if "time" in entry else time(9, 0)),
        audience=Audience(audience_text),
        roles=tuple(dict.fromkeys(roles)),
        follow_up_days=read("follow_up_days", lambda v: _int_in(v, 0, 90)) if "follow_up_days" in entry else 3,
        escalate_after_days=(
            read("escalate_after_days", lambda v: _int_in(v, 0, 365)) if "escalate_after_days" in entry else 3
        ),
        working_days_only=read("working_days_only", _bool) if "working_days_only" in entry else True,
        enabled=read("enabled", _bool) if "enabled" in entry else True,
        covers=Covers(covers_text),
    )


def _rule_tables(tables: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ValueError(f"{where}: must be [[duties.rules]] tables")
    seen: set[str] = set()
    for table in tables:
        rule_id = table.get("id")
        if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
            raise ValueError(f"{where}: every rule needs an id of lowercase letters, digits and _ (got {rule_id!r})")
        if rule_id in seen:
            raise ValueError(f"{where} id={rule_id}: defined twice")
        seen.add(rule_id)
        for key in table:
            if key not in _RULE_KEYS:
                raise ValueError(f"{where} id={rule_id}: unknown key {key!r} (known: {', '.join(sorted(_RULE_KEYS))})")
    return tables


def merge_rules(shipped: list[dict[str, Any]], configured: list[dict[str, Any]]) -> tuple[DutyRule, ...]:
    """Configured tables override shipped ones with the same id key by key; new ids are added."""
    merged: dict[str, dict[str, Any]] = {table["id"]: dict(table) for table in shipped}
    for table in configured:
        rule_id = table["id"]
        if rule_id in merged:
            merged[rule_id].update(table)
            if "cadence" in table and "start" not in table and len(str(table["cadence"]).split()) == 5:
                merged[rule_id].pop("start", None)  # a shipped calendar rule turned into a cron rule
        else:
            missing = [key for key in _REQUIRED_FOR_NEW if key not in table]
            if missing:
                raise ValueError(f"[[duties.rules]] id={rule_id}: a new rule needs {', '.join(missing)}")
            merged[rule_id] = dict(table)
    rules = []
    for rule_id, table in merged.items():
        try:
            rules.append(_build_rule(table))
        except ValueError as exc:
            raise ValueError(f"[[duties.rules]] id={rule_id}: {exc}") from None
    return tuple(rules)


def parse_duty_settings(section: Any) -> DutySettings:
    """The ``[duties]`` table of the config file (``None`` when absent)."""
    if section is None:
        return DutySettings()
    if not isinstance(section, dict):
        raise ValueError("[duties]: must be a table")
    for key in section:
        if key not in _GENERAL_KEYS:
            raise ValueError(f"[duties] {key}: unknown key (known: {', '.join(sorted(_GENERAL_KEYS))})")
    values: dict[str, Any] = {}
    converters = {
        "enabled": _bool,
        "tick_seconds": lambda v: _int_in(v, 1, 3600),
        "snooze_hours": lambda v: _int_in(v, 1, 168),
        "public_holidays": lambda v: _one_of(v, PUBLIC_HOLIDAYS),
        "holidays": _dates,
        "workdays": _dates,
    }
    for key, convert in converters.items():
        if key in section:
            try:
                values[key] = convert(section[key])
            except ValueError as exc:
                raise ValueError(f"[duties] {key}: {exc}") from None
    both = values.get("holidays", frozenset()) & values.get("workdays", frozenset())
    if both:
        raise ValueError(f"[duties] workdays: {min(both).isoformat()} is also listed in holidays")
    configured = _rule_tables(section.get("rules", []), "[[duties.rules]]")
    values["rules"] = merge_rules(_SHIPPED_TABLES, configured)
    return DutySettings(**values)


# -- the rules shipped with the bot ------------------------------------------------------------------
# The rubric's periodic work (PRODUCT.md). On: 二(一)4, 二(二)1/3, 一(三)4. Off until a config turns
# them on with `[[duties.rules]] id = "..." enabled = true`: the rest.

SHIPPED_TOML = """
[[rules]]
id = "complaint_report"
title_zh = "上季度客户投诉汇总分析报告"
title_en = "Customer complaint summary analysis report for last quarter"
clauses = ["二(一)4"]
cadence = "quarterly"
covers = "previous"
start = "first working day"
due = "first working day + 10 working days"
follow_up_days = 3
escalate_after_days = 3

[[rules]]
id = "satisfaction_survey"
title_zh = "客户满意度调查及总结分析报告"
title_en = "Customer satisfaction survey and its summary report"
clauses = ["二(二)1", "二(二)3"]
cadence = "quarterly"
start = "month 2 day 15"
due = "last working day"
follow_up_days = 7
escalate_after_days = 3

[[rules]]
id = "demand_statistics"
title_zh = "上季度需求信息统计分析"
title_en = "Demand information statistics for last quarter"
clauses = ["一(三)4"]
cadence = "quarterly"
covers = "previous"
start = "first working day"
due = "first working day + 10 working days"
follow_up_days = 3
escalate_after_days = 3

[[rules]]
id = "vacant_unit_patrol"
enabled = false
title_zh = "空置房巡查记录"
title_en = "Vacant-unit patrol record"
clauses = ["二(五)3"]
audience = "both"
cadence = "0 9 * * 1"
due = "day 5"
follow_up_days = 2
escalate_after_days = 2

[[rules]]
id = "business_summary"
enabled = false
title_zh = "上季度经营情况汇总报告"
title_en = "Business summary report for last quarter"
clauses = ["二(七)4"]
cadence = "quarterly"
covers = "previous"
start = "first working day"
due = "day 20"
follow_up_days = 5
escalate_after_days = 5

[[rules]]
id = "policy_review"
enabled = false
title_zh = "公示制度审核更新"
title_en = "Review and update of published policies"
clauses = ["一(一)3"]
cadence = "half-yearly"
start = "first working day"
due = "first working day + 20 working days"
follow_up_days = 7
escalate_after_days = 7

[[rules]]
id = "meetings_training"
enabled = false
title_zh = "本月会议（培训）记录"
title_en = "This month's meeting and training records"
clauses = ["一(四)1"]
cadence = "monthly"
start = "day 25"
due = "last working day"
follow_up_days = 2
escalate_after_days = 3
"""

_SHIPPED_TABLES: list[dict[str, Any]] = _rule_tables(tomllib.loads(SHIPPED_TOML)["rules"], "shipped rules")
SHIPPED_RULES: tuple[DutyRule, ...] = merge_rules(_SHIPPED_TABLES, [])


def extract_titles(fileobj: Any, keywords: Any, comment_tags: Any, options: dict[str, Any]) -> Any:
    """Babel extraction method (``duties`` in ``babel.cfg``): the shipped rules' Chinese titles, so
    each catalog translates them like any template message (a rule's ``title_en`` still wins in
    English, where an operator may have changed it)."""
    lines = fileobj.read().decode(options.get("encoding", "utf-8")).splitlines()
    for table in _SHIPPED_TABLES:
        title = table["title_zh"]
        lineno = next((n for n, line in enumerate(lines, 1) if f'"{title}"' in line), 0)
        yield lineno, None, title, ["The title of a periodic duty shipped with the bot."]
