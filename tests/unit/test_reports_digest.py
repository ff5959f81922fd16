"""The weekly digest's content and schedule, and the duties it reads (the duties table of 0004)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from openpyxl import load_workbook

from bot.clock import iso
from bot.flows.access import Caller, Role
from bot.flows.reports.digest import DigestFlow
from bot.flows.reports.periods import latest_digest_week
from bot.i18n import Texts
from config.settings import Settings
from storage.db import Database
from storage.users import UserRepository
from tests.fixtures_reports import ADMIN, EAST_MANAGER, NOW, SOUTH_MANAGER, open_report_world


@pytest.fixture
async def setup(tmp_path):
    world = await open_report_world(tmp_path)
    digests = DigestFlow(world.flow, world.repo, UserRepository(world.db), world.clock, world.settings)
    yield world.flow, digests, world.company, world.db, world.clock
    await world.db.close()


async def add_overdue_duty(db: Database, site_id: int, rule_id: str) -> None:
    now = iso(NOW)
    await db.execute(
        """INSERT INTO duties (rule_id, site_id, period, period_start, period_end, remind_at, due_date, due_at,
               status, created_at, updated_at) VALUES (?, ?, '2026-Q4', '2026-10-01', '2027-01-01', ?, '2026-11-15',
               '2026-11-15T15:59:59+00:00', 'open', ?, ?)""",
        (rule_id, site_id, "2026-11-01T01:00:00+00:00", now, now),
    )


def test_the_digest_week_is_the_seven_days_before_the_moment():
    tz = Settings().tz
    week = latest_digest_week(datetime(2026, 11, 18, 2, tzinfo=UTC), tz, 0, time(9, 0))
    assert week.key == "2026-W47" and week.first_day.isoformat() == "2026-11-09"
    # The window is the days the header names, midnight to midnight in Shanghai (UTC+8).
    assert week.last_day.isoformat() == "2026-11-15"
    assert (week.start, week.end) == ("2026-11-08T16:00:00+00:00", "2026-11-15T16:00:00+00:00")
    before = latest_digest_week(datetime(2026, 11, 16, 0, 59, tzinfo=UTC), tz, 0, time(9, 0))
    assert before.key == "2026-W46"  # Monday 08:59 in Shanghai: last week's moment is still the latest


async def test_digest_content_per_scope_with_overdue_duties(setup):
    flow, digests, company, db, _ = setup
    rule = Settings().duties.rules[0] if hasattr(Settings(), "duties") else None
    rule_id = rule.id if rule else "quarterly_demand_stats"
    await add_overdue_duty(db, company.sites["翠湖天地"], rule_id)
    week = digests.due_week()
    east = await digests.compose(Caller(EAST_MANAGER, "东区经理", "zh-hans", frozenset({Role.MANAGER})), week)
    assert east.inspections == 1 and [line.site_name for line in east.lines] == ["翠湖天地"]
    assert east.findings == sum(a.is_finding for a in company.latest("翠湖天地").answers.values())
    assert len(east.overdue) == 1 and east.overdue[0][0] == "翠湖天地"
    if rule:
        assert east.overdue[0][1] == rule.title("zh-hans")
    south = await digests.compose(Caller(SOUTH_MANAGER, "南区经理", "en", frozenset({Role.MANAGER})), week)
    assert south.inspections == 0 and south.overdue == ()
    text = Texts().render("zh-hans", "reports.digest", d=east)
    assert "逾期的周期工作" in text and "⏰ 翠湖天地" in text
    # The export lists the duty too, marked overdue.
    texts = Texts()
    headers = {
        sheet: texts.render("zh-hans", f"reports.xlsx_{sheet}").split("|")
        for sheet in ("inspections", "answers", "categories", "duties", "answer_names", "duty_status")
    }
    target = flow.settings.data_dir / "q4.xlsx"
    await flow.export(ADMIN, None, "zh-hans", headers, target)
    rows = list(load_workbook(target)["周期工作"].iter_rows(values_only=True))
    assert rows[0][:2] == ("项目", "工作") and rows[1][0] == "翠湖天地" and rows[1][4] == "已逾期"


async def test_disabled_digest_sends_nothing(setup, tmp_path):
    from dataclasses import replace

    from config.settings import DigestSettings

    _, digests, _, db, _ = setup
    await db.execute("UPDATE schema_migrations SET applied_at = '2020-01-01T00:00:00+00:00'")
    digests.settings = replace(digests.settings, digest=DigestSettings(enabled=False))
    sent = []

    async def send(person, lang, digest):
        sent.append(person.id)
        return True

    assert await digests.run(send) == 0 and sent == []
    digests.settings = replace(digests.settings, digest=DigestSettings(enabled=True))
    assert await digests.run(send) == 4 and len(sent) == 4
    assert await digests.run(send) == 0
