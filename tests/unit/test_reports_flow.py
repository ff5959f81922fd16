"""The managers' view logic on a seeded SQLite file, without Telegram."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.flows.access import Caller, Role
from bot.flows.errors import RefusedError
from bot.flows.reports.periods import Quarter
from bot.flows.reports.views import RANKING_PAGE, ReportRefusedError, ScopeName, match_sites
from config.settings import Settings
from rubric.scoring import grade_for, percent_of
from storage.sites import Site, SiteRepository
from tests.fixtures_reports import (
    ADMIN,
    CHIEF,
    EAST_MANAGER,
    HAIJING_MANAGER,
    INSPECTOR,
    SOUTH_MANAGER,
    open_report_world,
)

Q4 = Quarter(2026, 4)


def manager(user_id: int, lang: str = "zh-hans") -> Caller:
    return Caller(user_id, "经理", lang, frozenset({Role.MANAGER}))


@pytest.fixture
async def setup(tmp_path):
    world = await open_report_world(tmp_path)
    yield world.flow, world.company, world.db
    await world.db.close()


async def test_summary_sums_points_not_percentages(setup):
    flow, company, _ = setup
    summary = await flow.summary(manager(CHIEF), Q4)
    q4 = company.in_quarter(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    assert summary.inspections == len(q4) == 4
    expected = percent_of(math.fsum(s.earned for s in q4), math.fsum(s.possible for s in q4))
    assert summary.percent == pytest.approx(expected)
    average = sum(s.percent for s in q4) / len(q4)
    assert summary.percent != pytest.approx(average)  # the company score is not an average of percentages
    assert summary.grade == grade_for(expected, flow._bands())
    assert summary.drafts == 1
    assert sum(g.inspections for g in summary.grades) == 4
    assert [g.grade for g in summary.grades][:4] == ["优秀", "良好", "合格", "不合格"]
    assert set(summary.uninspected) == {"滨江壹号", "未来城"} and summary.uninspected_count == 2
    assert summary.sites_total == 6 and summary.sites_inspected == 4
    # Two single weakest categories, then four tied at the third place: the tie is not cut.
    assert [(g.rank, g.tied) for g in summary.weakest] == [(1, 1), (2, 1), (3, 4)]
    assert [g.percent for g in summary.weakest] == sorted(g.percent for g in summary.weakest)
    assert len(summary.weakest_categories) == 6
    assert summary.scope == ScopeName("company") and summary.incomplete == 0
    assert summary.is_current


async def test_a_regional_manager_sees_only_their_region(setup):
    flow, company, _ = setup
    east = await flow.summary(manager(EAST_MANAGER), Q4)
    assert east.sites_total == 4 and east.inspections == 2
    ranking = await flow.ranking(manager(EAST_MANAGER), Q4, 0)
    assert {line.name for line in ranking.lines} == {"阳光花园", "翠湖天地"}
    south = await flow.ranking(manager(SOUTH_MANAGER), Q4, 0)
    assert {line.name for line in south.lines} == {"南山公馆", "海景湾"}
    one = await flow.ranking(manager(HAIJING_MANAGER), Q4, 0)
    assert [line.name for line in one.lines] == ["海景湾"]
    with pytest.raises(ReportRefusedError) as refused:
        await flow.site_view(manager(SOUTH_MANAGER), company.sites["阳光花园"])
    assert refused.value.text_key == "reports.site_not_visible"
    with pytest.raises(RefusedError):
        await flow.inspection_report(manager(SOUTH_MANAGER), company.latest("阳光花园").inspection_id)
    assert await flow.find_sites(manager(SOUTH_MANAGER), "阳光") == []
    # Someone who manages nothing is told so.
    with pytest.raises(ReportRefusedError) as refused:
        await flow.summary(manager(4242), Q4)
    assert refused.value.text_key == "reports.no_sites"


async def test_ranking_orders_by_score_with_change_since_last_quarter(setup):
    flow, company, _ = setup
    ranking = await flow.ranking(ADMIN, Q4, 0)
    percents = [line.percent for line in ranking.lines]
    assert percents == sorted(percents, reverse=True)
    assert [line.rank for line in ranking.lines] == list(range(1, len(ranking.lines) + 1))
    by_name = {line.name: line for line in ranking.lines}
    sunny_q3 = company.inspections[2]
    assert by_name["阳光花园"].change == pytest.approx(round(company.latest("阳光花园").percent - sunny_q3.percent, 1))
    assert by_name["海景湾"].change is None  # no score in Q3
    assert ranking.pages == 1 and ranking.total == 4


async def test_ranking_pages(setup, tmp_path):
    flow, _, db = setup
    repo = SiteRepository(db)
    rubric = flow.rubrics.get(2)
    from tests.fixtures_reports import OK, PARTIAL
    from tests.seeding import answers_by_pattern, seed_inspection

    for n in range(RANKING_PAGE + 3):
        site_id = await repo.add(f"新项目{n:02d}", "2026-11-01T00:00:00+00:00", "华北")
        await seed_inspection(
            db,
            rubric,
            site_id,
            INSPECTOR,
            datetime(2026, 11, 5, tzinfo=UTC),
            answers_by_pattern(rubric, (OK, PARTIAL), n),
        )
    first = await flow.ranking(ADMIN, Q4, 0)
    second = await flow.ranking(ADMIN, Q4, 1)
    assert first.pages == 2 and len(first.lines) == RANKING_PAGE
    assert len(second.lines) == first.total - RANKING_PAGE
    assert not {line.site_id for line in first.lines} & {line.site_id for line in second.lines}
    stale = await flow.ranking(ADMIN, Q4, 99)  # an old button past the end shows the last page
    assert stale.page == 1


async def test_weak_clauses_count_sites_and_show_clause_text(setup):
    flow, company, _ = setup
    weak = await flow.weak(ADMIN, Q4, 0)
    assert weak.sites_inspected == 4
    assert weak.lines and all(line.text for line in weak.lines)
    sites = [line.sites for line in weak.lines]
    assert sites == sorted(sites, reverse=True)
    # Cross-check one clause against the seeded answers.
    top = weak.lines[0]
    q4 = company.in_quarter(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    below = [s for s in q4 if s.answers.get(top.clause_id) and s.answers[top.clause_id].is_finding]
    assert top.sites == len({s.site_id for s in below})
    only = await flow.weak(ADMIN, Q4, 0, category_id="1.1")
    assert only.category is not None and all(line.clause_id.startswith("1.1.") for line in only.lines)


async def test_site_view_has_findings_notes_evidence_and_trend(setup):
    flow, company, _ = setup
    view = await flow.site_view(ADMIN, company.sites["翠湖天地"])
    latest = company.latest("翠湖天地")
    assert view.latest is not None and view.latest.id == latest.inspection_id
    assert len(view.findings) == sum(1 for a in latest.answers.values() if a.is_finding)
    assert all(f.notes for f in view.findings)
    assert view.evidence.photos == 3
    assert [p.quarter.label for p in view.trend][-3:] == ["2026-Q2", "2026-Q3", "2026-Q4"]
    assert [p.percent is not None for p in view.trend][-3:] == [True, True, True]
    assert view.trend_change == pytest.approx(round(view.trend[-1].percent - view.trend[-2].percent, 1))
    never = await flow.site_view(ADMIN, company.sites["未来城"])
    assert never.latest is None and never.scored_trend == ()


async def test_quarters_and_site_names():
    assert Quarter.parse("2026-Q2") == Quarter(2026, 2)
    assert Quarter.parse("2026q3") == Quarter(2026, 3)
    assert Quarter.parse("2026 Q5") is None and Quarter.parse("Q2") is None
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    start, end = Quarter(2026, 2).bounds(Settings().tz)
    assert start == "2026-03-31T16:00:00+00:00" and end == "2026-06-30T16:00:00+00:00"
    sites = [Site(i, name, None, None, True) for i, name in enumerate(["阳光花园", "阳光城", "翠湖天地", "Sky Tower"])]
    assert [s.name for s in match_sites(sites, "阳光")] == ["阳光花园", "阳光城"]
    assert [s.name for s in match_sites(sites, "陽光花園")] == ["阳光花园"]  # Traditional input
    assert [s.name for s in match_sites(sites, "sky tower")] == ["Sky Tower"]
    assert [s.name for s in match_sites(sites, "翠天地")] == ["翠湖天地"]
    assert match_sites(sites, "   ") == []


async def test_bad_and_future_quarters_are_refused(setup):
    flow, _, _ = setup
    with pytest.raises(ReportRefusedError) as refused:
        flow.quarter("2026-Q9")
    assert refused.value.text_key == "reports.bad_quarter"
    with pytest.raises(ReportRefusedError) as refused:
        flow.quarter("2027-Q1")
    assert refused.value.text_key == "reports.future_quarter"
    assert flow.quarter(None) == Q4


async def test_report_for_the_inspector_and_not_for_drafts(setup):
    flow, company, db = setup
    inspector = Caller(INSPECTOR, "王督导", "zh-hans", frozenset({Role.INSPECTOR}))
    report = await flow.inspection_report(inspector, company.latest("翠湖天地").inspection_id)
    assert report.findings and report.findings[0].notes
    draft = await db.fetchval("SELECT id FROM inspections WHERE status = 'draft'")
    with pytest.raises(ReportRefusedError) as refused:
        await flow.inspection_report(ADMIN, draft)
    assert refused.value.text_key == "reports.not_submitted"
    other = replace(inspector, user_id=4243)
    with pytest.raises(ReportRefusedError):
        await flow.inspection_report(other, company.latest("翠湖天地").inspection_id)
