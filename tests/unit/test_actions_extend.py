"""The new due date of a request for more time (申请延期): its forms and its limits."""

from datetime import date

import pytest

from bot.flows.actions.extend import DateProblem, DateRefusedError, parse_new_due
from bot.flows.schedule import WorkCalendar
from config.duties import DutySettings

PLAIN = WorkCalendar.of(DutySettings(public_holidays="none"))  # weekends off only
HOLIDAYS = WorkCalendar.of(DutySettings())  # China's public holidays and make-up days
TODAY = date(2026, 4, 6)  # a Monday
DUE = date(2026, 4, 9)  # Thursday


def parse(text: str, today: date = TODAY, due: date = DUE, calendar: WorkCalendar = PLAIN, most: int = 30) -> date:
    return parse_new_due(text, today, due, calendar, most)


def problem(text: str, **kwargs: object) -> DateRefusedError:
    with pytest.raises(DateRefusedError) as refused:
        parse(text, **kwargs)  # type: ignore[arg-type]
    return refused.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-20", date(2026, 4, 20)),
        ("2026/4/20", date(2026, 4, 20)),
        ("2026年4月20日", date(2026, 4, 20)),
        ("4月20日", date(2026, 4, 20)),
        ("4月20号", date(2026, 4, 20)),
        ("4月20", date(2026, 4, 20)),
        ("4-20", date(2026, 4, 20)),
        ("4/20", date(2026, 4, 20)),
        (" ４月２０日 ", date(2026, 4, 20)),  # full-width digits, spaces
        ("+1", date(2026, 4, 10)),  # working days from the due date: Thursday -> Friday
        ("+2", date(2026, 4, 13)),  # ... over the weekend
        ("＋5", date(2026, 4, 16)),
        ("+5天", date(2026, 4, 16)),
        ("+5个工作日", date(2026, 4, 16)),
    ],
)
def test_each_form_gives_its_date(text: str, expected: date) -> None:
    assert parse(text) == expected


def test_a_date_without_a_year_is_the_next_one() -> None:
    today, due = date(2026, 12, 28), date(2026, 12, 30)
    assert parse("1月5日", today=today, due=due) == date(2027, 1, 5)
    assert parse("1-5", today=today, due=due) == date(2027, 1, 5)
    assert parse("12-31", today=today, due=due) == date(2026, 12, 31)


def test_working_days_follow_the_holiday_calendar() -> None:
    # 30 April 2026 (Thursday) is the last working day before the Labour Day holiday (1-5 May);
    # Saturday 9 May is a make-up working day.
    assert parse("+1", today=date(2026, 4, 27), due=date(2026, 4, 30), calendar=HOLIDAYS) == date(2026, 5, 6)


@pytest.mark.parametrize("text", ["", "明天", "2026-02-30", "13-01", "4月", "+", "+-3", "2026-4", "下周一", "+1234"])
def test_what_is_not_a_date_is_refused(text: str) -> None:
    assert problem(text).problem is DateProblem.UNREADABLE


def test_the_new_date_must_be_after_the_due_date() -> None:
    for text in ("2026-04-09", "4月8日", "+0"):
        refused = problem(text)
        assert refused.problem is DateProblem.NOT_LATER and refused.details == {"base": DUE}


def test_the_new_date_is_at_most_the_configured_working_days_later() -> None:
    assert parse("+3", most=3) == date(2026, 4, 14)
    assert parse("2026-04-14", most=3) == date(2026, 4, 14)
    for text in ("+4", "2026-04-15", "2027-04-09"):
        refused = problem(text, most=3)
        assert refused.problem is DateProblem.TOO_LATE
        assert refused.details == {"limit": date(2026, 4, 14), "days": 3}


def test_an_overdue_action_counts_from_today() -> None:
    due, today = date(2026, 3, 2), date(2026, 4, 6)  # five weeks late
    assert parse("+1", today=today, due=due) == date(2026, 4, 7)
    refused = problem("2026-04-01", today=today, due=due)  # after the due date, but already past
    assert refused.problem is DateProblem.NOT_LATER and refused.details == {"base": today}
    assert problem("+2", today=today, due=due, most=1).details == {"limit": date(2026, 4, 7), "days": 1}
