"""The corrective actions' figures as pure computation (bot/flows/reports/actions.py): rates with
nothing due, the on-time boundary in local time, the median of calendar days."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from bot.flows.reports.actions import days_to_close, figures, median_days, rate
from storage.action_figures import ActionListRow, ClosedRow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def closed(due: str, created: str, at: str) -> ClosedRow:
    return ClosedRow(due, created, at)


def test_rates_of_nothing_due_are_none_not_zero() -> None:
    assert rate(0, 0) is None
    assert rate(3, 0) is None
    assert rate(0, 4) == 0.0
    assert rate(1, 3) == 33.3
    result = figures(0, [], 0, 2, 1, SHANGHAI)
    assert result.close_rate is None and result.on_time_rate is None and result.median_days is None
    assert (result.open, result.overdue) == (2, 1)


def test_median_of_odd_and_even_counts() -> None:
    assert median_days([]) is None
    assert median_days([5]) == 5.0
    assert median_days([16, 5, 7]) == 7.0
    assert median_days([1, 2, 4, 9]) == 3.0
    assert median_days([1, 2]) == 1.5


def test_on_time_is_the_local_date_of_closing_against_the_due_date() -> None:
    rows = [
        # 23:59 local on the due date (15:59 UTC): on time.
        closed("2026-11-08", "2026-11-01T02:00:00+00:00", "2026-11-08T15:59:00+00:00"),
        # 00:01 local the day after (16:01 UTC of the due date): late, although the UTC date is the due date.
        closed("2026-11-08", "2026-11-01T02:00:00+00:00", "2026-11-08T16:01:00+00:00"),
        # Before the due date: on time.
        closed("2026-11-08", "2026-11-01T02:00:00+00:00", "2026-11-03T02:00:00+00:00"),
    ]
    result = figures(4, rows, 1, 1, 0, SHANGHAI)
    assert (result.due, result.closed, result.on_time, result.repeats) == (4, 3, 2, 1)
    assert result.close_rate == 75.0 and result.on_time_rate == 50.0
    # Calendar days in local time: 11-01 -> 11-08 is 7, 11-01 -> 11-09 is 8, 11-01 -> 11-03 is 2.
    assert result.median_days == 7.0


def test_days_count_local_calendar_days_not_hours() -> None:
    """Created late one evening and closed early the next morning (local): one day, though 2 hours."""
    row = ActionListRow(
        1,
        1,
        1,
        "阳光花园",
        "1.1.1",
        "hash",
        "fail",
        "serious",
        "closed",
        1,
        "2026-11-08",
        "2026-11-01T15:00:00+00:00",  # 23:00 local
        "2026-11-01T17:00:00+00:00",  # 01:00 local the next day
        False,
    )
    assert days_to_close(row, SHANGHAI) == 1
    assert days_to_close(replace(row, status="open", closed_at=None), SHANGHAI) is None
