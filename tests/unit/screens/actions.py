"""Samples of every screen of ``bot/templates/actions.j2`` (corrective actions: the open list and an
action's card), built from the real rubric (edition 2) and the types in bot/flows/actions/views.py."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.flows.actions.rules import ActionStatus, Severity
from bot.flows.actions.views import ActionCard, ActionLine, HistoryLine
from rubric.model import Answer
from rubric.registry import RubricRegistry

RUBRIC = RubricRegistry.load().get(2)
SHANGHAI = ZoneInfo("Asia/Shanghai")

OPEN = ActionLine(
    id=12,
    site_name="阳光花园",
    clause=RUBRIC.clause_by_code("二(一)4"),
    answer=Answer.FAIL,
    severity=Severity.SERIOUS,
    status=ActionStatus.OPEN,
    round=1,
    due_date=date(2026, 4, 8),
    overdue_days=0,
)
LATE = ActionLine(
    id=13,
    site_name="翠湖苑",
    clause=RUBRIC.clause_by_code("一(一)2"),
    answer=Answer.PARTIAL,
    severity=Severity.GENERAL,
    status=ActionStatus.OPEN,
    round=2,
    due_date=date(2026, 4, 1),
    overdue_days=3,
)
WAITING = ActionLine(
    id=14,
    site_name="阳光花园",
    clause=RUBRIC.clause_by_code("一(二)1"),
    answer=Answer.PARTIAL,
    severity=Severity.GENERAL,
    status=ActionStatus.SUBMITTED,
    round=1,
    due_date=date(2026, 4, 10),
    overdue_days=0,
)
HISTORY = (
    HistoryLine(datetime(2026, 4, 1, 10, 5, tzinfo=SHANGHAI), "王督导", "created", 1, date(2026, 4, 8), None),
    HistoryLine(datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI), "王督导", "changed", 1, None, "partial"),
    HistoryLine(datetime(2026, 4, 2, 9, 1, tzinfo=SHANGHAI), None, "cancelled", 1, None, "finding_removed"),
)

SAMPLES: dict[str, list[dict]] = {
    "day": [{"d": date(2026, 4, 8)}],
    "severity": [{"s": Severity.SERIOUS}, {"s": Severity.GENERAL}],
    "status": [{"s": status} for status in ActionStatus],
    "icon": [{"line": OPEN}, {"line": LATE}, {"line": WAITING}],
    "empty": [{}],
    "line": [{"l": OPEN}, {"l": LATE}, {"l": WAITING}],
    "list": [
        {"lines": (OPEN, LATE, WAITING), "page": 0, "pages": 1, "total": 3},
        {"lines": (OPEN,), "page": 1, "pages": 3, "total": 1},
    ],
    "btn_open": [{"line": OPEN}],
    "btn_back": [{}],
    "event": [{"h": h} for h in HISTORY],
    "card": [
        {"card": ActionCard(OPEN, 7, date(2026, 4, 1), HISTORY[:1])},
        {"card": ActionCard(LATE, 8, date(2026, 3, 20), HISTORY)},
    ],
}
