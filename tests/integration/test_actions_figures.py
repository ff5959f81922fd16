"""Issue #15, point 7: corrective actions in the managers' figures. A company with actions in known
states; /summary, /ranking, /site, the HTML report, the export's 整改 sheet and the weekly digest
show the numbers counted by hand below, through the real Application and the Bot API stand-in."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot.clock import ManualClock, iso
from bot.handlers.reports.views import send_due_digests
from config.settings import ReportSettings
from rubric.model import Answer
from tests.conftest import BotUnderTest
from tests.integration.test_reports_commands import document_of
from tests.seeding import answers_by_pattern, seed_inspection

CHIEF, EAST, INSPECTOR = 8101, 8102, 8103
# Monday 23 November 2026, 09:30 in Shanghai: 2026-Q4, and the weekly digest of 16-22 November is due.
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def local(day: str, hour: int = 10) -> datetime:
    """A Shanghai wall-clock time as stored (UTC)."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(UTC)


async def seed(bot: BotUnderTest) -> dict[str, int]:
    """Three sites, three inspections, nine actions. By hand, for 2026-Q4 over every site:
    due in Q4 and not cancelled: #1 #2 #3 #4 #6 #7 = 6; closed #1 #2 #6 = 3 (50.0%); on time #1, #6
    (closed 23:30 local on its due date) = 2 (33.3%); days to close 5, 16, 7: median 7; repeats
    created in Q4: #4, #7 = 2 (#5 is one too, but cancelled); open now #3 #4 #7 #9 = 4, overdue
    #3 #7 #9 = 3. 华东 (阳光花园, 翠湖天地) has the same Q4 figures, open 3, overdue 2."""
    svc = bot.services
    sunshine = await bot.add_site("阳光花园", "华东")
    lake = await bot.add_site("翠湖天地", "华东")
    sea = await bot.add_site("海景湾", "华南")
    await bot.add_person(CHIEF, "manager", "品质总监")
    await bot.add_person(EAST, "manager", "东区经理", region="华东")
    await bot.add_person(INSPECTOR, "inspector", "王督导")
    rubric = svc.rubrics.get(2)
    clauses = [clause.id for clause in rubric.clauses[:5]]

    async def inspection(site: int, day: str, findings: int) -> int:
        answers = answers_by_pattern(rubric, [Answer.OK]) | {c: Answer.FAIL for c in clauses[:findings]}
        return (await seed_inspection(svc.db, rubric, site, INSPECTOR, local(day), answers)).inspection_id

    first = await inspection(sunshine, "2026-10-10", 5)
    second = await inspection(lake, "2026-11-01", 2)
    summer = await inspection(sea, "2026-07-15", 2)
    late_evening = local("2026-11-08", 23) + timedelta(minutes=30)  # the due date, 23:30 local
    rows = [
        # (inspection, site, clause, status, due, created, closed, repeat_of, found_again)
        (first, sunshine, 0, "closed", "2026-10-17", local("2026-10-10"), local("2026-10-15"), None, 0),
        (first, sunshine, 1, "closed", "2026-10-24", local("2026-10-10"), local("2026-10-26"), None, 0),
        (first, sunshine, 2, "open", "2026-11-10", local("2026-10-10"), None, None, 0),
        (first, sunshine, 3, "submitted", "2026-12-05", local("2026-10-10"), None, summer, 0),
        (first, sunshine, 4, "cancelled", "2026-10-24", local("2026-10-10"), None, summer, 0),
        (second, lake, 0, "closed", "2026-11-08", local("2026-11-01"), late_evening, None, 0),
        (second, lake, 1, "open", "2026-11-15", local("2026-11-01"), None, None, 1),
        (summer, sea, 0, "closed", "2026-07-22", local("2026-07-15"), local("2026-07-20"), None, 0),
        (summer, sea, 1, "open", "2026-08-01", local("2026-07-15"), None, None, 0),
    ]
    for inspection_id, site, index, status, due, created, closed, repeat_of, found_again in rows:
        await svc.db.execute(
            """INSERT INTO actions (inspection_id, site_id, clause_id, answer, severity, status, due_date,
                   created_at, updated_at, closed_at, repeat_of, found_again)
               VALUES (?, ?, ?, 'fail', 'serious', ?, ?, ?, ?, ?, ?, ?)""",
            (
                inspection_id,
                site,
                clauses[index],
                status,
                due,
                iso(created),
                iso(closed or created),
                iso(closed) if closed else None,
                repeat_of,
                found_again,
            ),
        )
    return {"阳光花园": sunshine, "翠湖天地": lake, "海景湾": sea, "first": first}


async def test_summary_ranking_and_site_show_the_hand_counted_figures(bot: BotUnderTest) -> None:
    sites = await seed(bot)
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans")
    await chief.send_command("summary")
    text = (await chief.wait_text("整改率")).text
    assert "季度内到期 6 项，已整改 3 项 · 整改率 50.0%" in text
    assert "按期整改 2 项 · 按期整改率 33.3%" in text
    assert "整改用时中位数 7 天" in text
    assert "重复问题 2 项" in text
    assert "现在未关闭 4 项，其中逾期 3 项" in text

    east = bot.api.person(EAST, "东区经理", language_code="zh-hans")
    await east.send_command("summary")
    text = (await east.wait_text("整改率")).text
    assert "季度内到期 6 项，已整改 3 项 · 整改率 50.0%" in text
    assert "现在未关闭 3 项，其中逾期 2 项" in text

    await chief.send_command("ranking")
    lines = (await chief.wait_text("项目排名")).text.splitlines()
    at = {name: index for index, line in enumerate(lines) for name in sites if f". {name} " in line}
    assert lines[at["阳光花园"] + 1].strip() == "🛠 整改：未关闭 2 · 逾期 1"
    assert lines[at["翠湖天地"] + 1].strip() == "🛠 整改：未关闭 1 · 逾期 1"
    assert "海景湾" not in at  # not inspected this quarter: not ranked

    await chief.send_command("site", "海景湾")
    assert "整改：未关闭 1 项，其中逾期 1 项" in (await chief.wait_text("海景湾")).text
    await chief.send_command("site", "翠湖天地")
    assert "整改：未关闭 1 项，其中逾期 1 项" in (await chief.wait_text("翠湖天地")).text
    bot.api.assert_no_errors()


async def test_a_quarter_with_nothing_due_has_no_rate(bot: BotUnderTest) -> None:
    """Nothing fell due in 2026-Q1: its rates read — (not 0%), while what is open now still shows."""
    await seed(bot)
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans")
    await chief.send_command("summary", "2026-Q1")
    text = (await chief.wait_text("整改率")).text
    assert "季度内到期 0 项，已整改 0 项 · 整改率 —" in text and "按期整改率 —" in text
    assert "中位数" not in text
    assert "现在未关闭 4 项，其中逾期 3 项" in text
    await chief.send_command("summary", "2026-Q3")
    text = (await chief.wait_text("2026 年第 3 季度")).text
    assert "季度内到期 2 项，已整改 1 项 · 整改率 50.0%" in text and "整改用时中位数 5 天" in text


async def test_report_export_and_digest_list_the_actions(bot: BotUnderTest) -> None:
    sites = await seed(bot)
    svc = bot.services
    svc.settings = replace(svc.settings, reports=ReportSettings(pdf=False))  # the HTML alone
    chief = bot.api.person(CHIEF, "品质总监", language_code="zh-hans", started=True)
    await chief.send_command("report", str(sites["first"]))
    _, html = document_of(bot.api, await chief.wait_reply())
    page = html.decode("utf-8")
    section = page[page.index("整改（5 项）") :]
    section = section[: section.index("</table>")]
    assert section.count('class="action closed"') == 2
    assert section.count('class="action open"') == 1 and section.count('class="action submitted"') == 1
    assert section.count('class="action cancelled"') == 1
    assert "2026-11-10" in section and "逾期 13 天" in section and "关闭于 2026-10-26" in section

    await chief.send_command("export")
    _, data = document_of(bot.api, await chief.wait_reply(timeout=20))
    sheet = load_workbook(io.BytesIO(data))["整改"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[0] == "项目" and header[-1] == "重复问题"
    assert len(rows) == 7  # created in Q4: the five of 阳光花园 and the two of 翠湖天地
    assert sorted(row[5] for row in rows) == sorted(["已关闭"] * 3 + ["待整改"] * 2 + ["已提交", "已取消"])
    closed = {row[7].date().isoformat(): row for row in rows if row[5] == "已关闭"}
    assert {day: row[9] for day, row in closed.items()} == {"2026-10-17": 5, "2026-10-24": 16, "2026-11-08": 7}
    assert closed["2026-11-08"][8].date().isoformat() == "2026-11-08"  # closed 23:30 local, not the next day
    assert sum(row[10] == "重复" for row in rows) == 3  # #4 and #7, and the cancelled #5 as it stands

    await bot.services.db.execute("UPDATE schema_migrations SET applied_at = '2020-01-01T00:00:00+00:00'")
    east = bot.api.person(EAST, "东区经理", language_code="zh-hans", started=True)
    assert await send_due_digests(bot.app) == 2
    digest = (await chief.wait_text("逾期的整改")).text
    assert "逾期的整改（3 项）" in digest
    overdue = [line for line in digest.splitlines() if line.startswith("⏰") and "逾期" in line and "天" in line]
    assert [line.split(" · ")[0] for line in overdue] == ["⏰ 海景湾", "⏰ 阳光花园", "⏰ 翠湖天地"]  # oldest first
    assert "截止 08-01 · 逾期 114 天" in overdue[0]
    digest = (await east.wait_text("逾期的整改")).text
    assert "逾期的整改（2 项）" in digest and "海景湾" not in digest
    bot.api.assert_no_errors()
