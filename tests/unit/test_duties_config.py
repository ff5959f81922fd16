"""The [duties] section: shipped rules, overrides, new rules, and errors that name the key."""

import re
from datetime import date, time
from pathlib import Path

import pytest

from bot.flows.schedule import Period, calendar_period, covered_period
from config.duties import SHIPPED_RULES, Audience, Cadence, Covers, parse_anchor
from config.settings import ConfigError, load_settings
from rubric.registry import RubricRegistry

EXAMPLE = Path(__file__).parents[2] / "config" / "example.toml"


def load(tmp_path: Path, toml: str):
    path = tmp_path / "bot.toml"
    path.write_text(toml, encoding="utf-8")
    return load_settings({}, config_path=path)


def test_shipped_rules_on_and_off():
    by_id = {rule.id: rule for rule in SHIPPED_RULES}
    on = {rule.id for rule in SHIPPED_RULES if rule.enabled}
    assert on == {"complaint_report", "satisfaction_survey", "demand_statistics"}
    assert set(by_id) - on == {"vacant_unit_patrol", "business_summary", "policy_review", "meetings_training"}
    assert by_id["complaint_report"].clauses == ("二(一)4",)
    assert by_id["satisfaction_survey"].clauses == ("二(二)1", "二(二)3")
    assert by_id["demand_statistics"].clauses == ("一(三)4",)
    assert by_id["vacant_unit_patrol"].cadence is Cadence.CRON and by_id["vacant_unit_patrol"].audience is Audience.BOTH


def test_every_shipped_clause_exists_in_every_bundled_edition():
    registry = RubricRegistry.load()
    for edition in registry.editions():
        rubric = registry.get(edition)
        for rule in SHIPPED_RULES:
            for code in rule.clauses:
                assert rubric.find_clause(code) is not None, (edition, rule.id, code)


def test_example_file_documents_every_rule_key():
    settings = load_settings({}, config_path=EXAMPLE)
    assert settings.duties.enabled and settings.duties.tick_seconds == 30
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in (
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
        "tick_seconds",
        "snooze_hours",
        "public_holidays",
        "holidays",
        "workdays",
    ):
        assert re.search(rf"\b{key}\b", text), key
    for rule in SHIPPED_RULES:
        assert rule.id in text


def test_overrides_change_only_what_they_name(tmp_path):
    settings = load(
        tmp_path,
        """
[duties]
snooze_hours = 4

[[duties.rules]]
id = "vacant_unit_patrol"
enabled = true

[[duties.rules]]
id = "complaint_report"
time = "08:30"
follow_up_days = 0

[[duties.rules]]
id = "customer_data"
title_zh = "客户资料核对"
title_en = "Customer records"
clauses = ["一（二）4"]
cadence = "half-yearly"
start = "month 3 day 1"
due = "last working day"
roles = ["staff", "inspector"]
""",
    )
    duties = settings.duties
    assert duties.snooze_hours == 4
    rule = duties.rule("complaint_report")
    assert rule is not None and rule.at == time(8, 30) and rule.follow_up_days == 0 and rule.clauses == ("二(一)4",)
    patrol = duties.rule("vacant_unit_patrol")
    assert patrol is not None and patrol.enabled and patrol.cron is not None and patrol.at == time(9, 0)
    custom = duties.rule("customer_data")
    assert custom is not None and custom.clauses == ("一(二)4",) and custom.roles == ("staff", "inspector")
    assert custom.start == parse_anchor("month 3 day 1") and custom.escalate_after_days == 3
    assert [r.id for r in duties.active_rules][-2:] == ["vacant_unit_patrol", "customer_data"]


def test_a_shipped_rule_can_become_a_cron_rule(tmp_path):
    settings = load(tmp_path, '[[duties.rules]]\nid = "complaint_report"\ncadence = "0 10 1 */3 *"\n')
    rule = settings.duties.rule("complaint_report")
    assert rule is not None and rule.cron is not None and rule.start is None and rule.at == time(10, 0)


def test_days_off_and_working_days_read_as_dates_or_strings(tmp_path):
    duties = load(tmp_path, '[duties]\nholidays = [2027-01-01, "2027-02-16"]\nworkdays = [2027-02-07]\n').duties
    assert duties.holidays == {date(2027, 1, 1), date(2027, 2, 16)} and duties.workdays == {date(2027, 2, 7)}
    assert duties.public_holidays == "china"


def test_duties_can_be_switched_off(tmp_path):
    assert not load(tmp_path, "[duties]\nenabled = false\n").duties.enabled


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[duties]\ntick = 3\n", "[duties] tick: unknown key"),
        ("[duties]\ntick_seconds = 0\n", "[duties] tick_seconds: must be between 1 and 3600"),
        ("[duties]\nrules = 3\n", "[[duties.rules]]: must be"),
        ('[[duties.rules]]\nid = "Bad Id"\n', "needs an id"),
        ('[[duties.rules]]\nid = "complaint_report"\ncolour = "red"\n', "unknown key 'colour'"),
        ('[[duties.rules]]\nid = "complaint_report"\n[[duties.rules]]\nid = "complaint_report"\n', "defined twice"),
        ('[[duties.rules]]\nid = "mine"\ntitle_zh = "x"\n', "a new rule needs title_en, clauses, cadence, due"),
        ('[[duties.rules]]\nid = "complaint_report"\ncadence = "weekly"\n', "id=complaint_report: cadence:"),
        ('[[duties.rules]]\nid = "complaint_report"\nstart = "second tuesday"\n', "start: cannot read"),
        (
            '[[duties.rules]]\nid = "complaint_report"\ndue = "month 4 day 1"\n',
            "due: a quarterly period has no month 4",
        ),
        ('[[duties.rules]]\nid = "complaint_report"\ntime = "25:00"\n', "time:"),
        ('[[duties.rules]]\nid = "complaint_report"\nclauses = ["2.1.4"]\n', "clauses: '2.1.4' is not a clause"),
        ('[[duties.rules]]\nid = "complaint_report"\naudience = "everyone"\n', "audience: must be"),
        ('[[duties.rules]]\nid = "complaint_report"\nroles = ["admin"]\n', "roles: must be"),
        ('[[duties.rules]]\nid = "complaint_report"\nfollow_up_days = -1\n', "follow_up_days: must be between"),
        ('[[duties.rules]]\nid = "complaint_report"\nenabled = "yes"\n', "enabled: must be true or false"),
        ('[[duties.rules]]\nid = "vacant_unit_patrol"\nstart = "day 1"\n', "start: not used with a cron"),
        ('[[duties.rules]]\nid = "vacant_unit_patrol"\ncadence = "0 9 31 2 *"\n', "never fires"),
        ('[[duties.rules]]\nid = "vacant_unit_patrol"\ncadence = "0 9,17 * * *"\n', "at most once a day"),
        ('[duties]\npublic_holidays = "hk"\n', "[duties] public_holidays: must be one of 'china', 'none'"),
        ('[duties]\nholidays = ["2027-02-30"]\n', "[duties] holidays: '2027-02-30' is not a date"),
        ("[duties]\nworkdays = 2027-02-07\n", "[duties] workdays: must be a list of dates"),
        ("[duties]\nholidays = [2027-02-07]\nworkdays = [2027-02-07]\n", "2027-02-07 is also listed in holidays"),
        ('[[duties.rules]]\nid = "complaint_report"\ncovers = "last"\n', "covers: must be current or previous"),
    ],
)
def test_errors_name_the_key(tmp_path, toml, message):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, toml)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "base", "offset", "working"),
    [
        ("first working day", "first_working_day", 0, False),
        ("Last  Working Day", "last_working_day", 0, False),
        ("day 15", "day", 0, False),
        ("month 2 day 15 + 3 days", "day", 3, False),
        ("first working day + 10 working days", "first_working_day", 10, True),
        ("last day - 1 working day", "last_day", -1, True),
    ],
)
def test_anchor_grammar(text, base, offset, working):
    anchor = parse_anchor(text)
    assert (anchor.base, anchor.offset, anchor.offset_working) == (base, offset, working)


def test_reports_on_last_quarter_cover_the_period_before_their_own(tmp_path):
    """上季度…: the report asked for in Q4 is about Q3; a rule of one's own says so with ``covers``."""
    by_id = {rule.id: rule for rule in SHIPPED_RULES}
    previous = {rule.id for rule in SHIPPED_RULES if rule.covers is Covers.PREVIOUS}
    assert previous == {"complaint_report", "demand_statistics", "business_summary"}
    assert all(by_id[rule_id].title_zh.startswith("上") for rule_id in previous)
    q4 = calendar_period(Cadence.QUARTERLY, date(2026, 10, 8))
    assert covered_period(by_id["complaint_report"], q4).key == "2026-Q3"
    assert covered_period(by_id["satisfaction_survey"], q4) == q4
    january = calendar_period(Cadence.QUARTERLY, date(2027, 1, 4))
    assert covered_period(by_id["demand_statistics"], january).key == "2026-Q4"
    # A weekly (cron) rule about last week: the days from the firing before to this one.
    rule = load(tmp_path, '[[duties.rules]]\nid = "vacant_unit_patrol"\ncovers = "previous"\n').duties.rule(
        "vacant_unit_patrol"
    )
    assert rule is not None and rule.covers is Covers.PREVIOUS
    week = Period("2026-04-13", Cadence.CRON, date(2026, 4, 13), date(2026, 4, 20))
    last = covered_period(rule, week)
    assert (last.start, last.end) == (date(2026, 4, 6), date(2026, 4, 13))
