"""The managers' view as shown (issue #13): ties among the weakest, whose score it is, sections, coverage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.flows.access import Caller, Role
from bot.flows.reports.periods import Quarter
from bot.flows.reports.views import CategoryLine, ScopeName, name_scope, section_lines, weakest_groups
from bot.i18n import Texts
from rubric.registry import RubricRegistry
from storage.reports import Grant, PartScore
from storage.sites import Site
from tests.fixtures_reports import ADMIN, EAST_MANAGER, INSPECTOR, NA, OK, PARTIAL, open_report_world
from tests.seeding import seed_inspection


@pytest.fixture
async def world(tmp_path):
    world = await open_report_world(tmp_path)
    yield world
    await world.db.close()


def line(category_id: str, percent: float) -> CategoryLine:
    return CategoryLine(category_id, f"({category_id})", percent, category_id, "类别")


def test_weakest_groups_never_cut_a_tie():
    lines = [line("1.1", 40.0), *(line(f"2.{n}", 50.0) for n in range(1, 8)), line("1.2", 60.0), line("1.3", 70.0)]
    groups = weakest_groups(lines)
    assert [(g.rank, g.percent, g.tied) for g in groups] == [(1, 40.0, 1), (2, 50.0, 7)]
    # Six named on the summary at most: one single, then five of the tie and the other two counted.
    assert [len(g.categories) for g in groups] == [1, 5] and groups[1].more == 2
    assert [c.category_id for c in groups[1].categories] == ["2.1", "2.2", "2.3", "2.4", "2.5"]  # rubric order


def test_weakest_groups_tie_on_the_score_shown():
    groups = weakest_groups([line("1.2", 50.04), line("1.1", 49.96), line("1.3", 50.2), line("1.4", 90.0)])
    assert [(g.percent, [c.category_id for c in g.categories]) for g in groups] == [
        (50.0, ["1.1", "1.2"]),
        (50.2, ["1.3"]),
    ]
    assert weakest_groups([]) == ()


def site(site_id: int, name: str, region: str | None) -> Site:
    return Site(site_id, name, region, None, True)


def test_the_scope_is_named_from_the_grants():
    sites = [site(1, "阳光花园", "华东"), site(2, "翠湖天地", "华东"), site(3, "海景湾", "华南")]
    assert name_scope([Grant(None, None)], sites) == ScopeName("company")
    assert name_scope([Grant(None, "华东")], sites[:2]) == ScopeName("named", ("华东",), 2)
    assert name_scope([Grant(3, None)], sites[2:]) == ScopeName("named", ("海景湾",), 1)
    # A site inside a granted region is not named twice.
    both = [Grant(None, "华东"), Grant(1, None), Grant(3, None)]
    assert name_scope(both, sites) == ScopeName("named", ("华东", "海景湾"), 3)
    many = [Grant(n, None) for n in (1, 2, 3)]
    assert name_scope(many, sites) == ScopeName("sites", (), 3)


def test_the_scope_name_in_each_language():
    texts = Texts()
    cases = {
        ScopeName("company"): ("全公司", "全公司", "Company"),
        ScopeName("named", ("华东", "海景湾"), 3): ("华东、海景湾", "华东、海景湾", "华东, 海景湾"),
        ScopeName("sites", (), 1): ("您的 1 个项目", "您的 1 個項目", "Your 1 site"),
        ScopeName("sites", (), 4): ("您的 4 个项目", "您的 4 個項目", "Your 4 sites"),
    }
    for name, expected in cases.items():
        got = tuple(texts.render(lang, "reports.scope_name", n=name) for lang in ("zh-hans", "zh-hant", "en"))
        assert got == expected


def test_section_lines_group_categories_under_their_section_weakest_first():
    rubric = RubricRegistry.load().get(2)
    parts = [
        PartScore("1.2", 4.0, 4.0),
        PartScore("1.1", 3.0, 4.0),
        PartScore("2.1", 3.5, 4.0),
        PartScore("1.3", 0.0, 0.0),  # all 不适用: no score, not listed
        PartScore("2.2", 2.0, 4.0),
    ]
    sections = section_lines(rubric, parts)
    assert [s.label for s in sections] == ["一、内部管理", "二、现场管理"]
    assert [(c.label, c.percent, c.below_full) for c in sections[0].categories] == [
        ("(一)制度建设", 75.0, True),
        ("(二)客户档案管理", 100.0, False),
    ]
    assert [c.category_id for c in sections[1].categories] == ["2.2", "2.1"]
    assert sections[0].percent == 87.5 and sections[1].percent == 68.75  # summed points, one division
    assert sections[1].categories[1].code == "二(一)" and sections[1].categories[1].title == "客户投诉管理"


async def test_coverage_counts_what_the_score_stands_on(world):
    """A partial submit leaves clauses unanswered: applicable counts answers, not clauses less 不适用."""
    rubric = world.flow.rubrics.get(2)
    strict = replace(rubric, scoring=replace(rubric.scoring, min_coverage=60))
    answers = {c.id: OK for c in strict.clauses[:30]} | {c.id: NA for c in strict.clauses[30:40]}
    site_id = world.company.sites["阳光花园"]
    seeded = await seed_inspection(world.db, strict, site_id, INSPECTOR, datetime(2026, 11, 15, tzinfo=UTC), answers)
    head = await world.repo.inspection(seeded.inspection_id)
    assert head is not None and head.has_coverage
    assert (head.answered_count, head.na_count, head.clause_count, head.applicable) == (40, 10, 65, 30)
    assert head.incomplete is True
    report = await world.flow.inspection_report(ADMIN, seeded.inspection_id)
    assert report.score.applicable_count == 30 and len(report.score.unanswered) == 25 and report.marked_na == 0
    view = await world.flow.site_view(ADMIN, site_id)
    assert view.latest is not None and view.latest.id == seeded.inspection_id
    east = Caller(EAST_MANAGER, "东区经理", "zh-hans", frozenset({Role.MANAGER}))
    summary = await world.flow.summary(east, Quarter(2026, 4))
    assert summary.incomplete == 1 and summary.scope == ScopeName("named", ("华东",), 4)
    ranking = await world.flow.ranking(east, Quarter(2026, 4), 0)
    assert {line.name: line.incomplete for line in ranking.lines} == {"阳光花园": 1, "翠湖天地": 0}
    assert ranking.any_incomplete


async def test_a_complete_inspection_and_an_old_one(world):
    complete = await world.repo.inspection(world.company.latest("翠湖天地").inspection_id)
    assert complete is not None and complete.incomplete is False and complete.applicable == 65
    rubric = world.flow.rubrics.get(2)
    old = await seed_inspection(
        world.db,
        rubric,
        world.company.sites["南山公馆"],
        INSPECTOR,
        datetime(2026, 11, 16, tzinfo=UTC),
        {c.id: PARTIAL for c in rubric.clauses},
        coverage=False,
    )
    head = await world.repo.inspection(old.inspection_id)
    assert head is not None and not head.has_coverage and head.incomplete is None and head.applicable is None
    report = await world.flow.inspection_report(ADMIN, old.inspection_id)
    assert report.marked_na == 0


async def test_a_bare_site_pages_the_visible_sites(world):
    east = Caller(EAST_MANAGER, "东区经理", "zh-hans", frozenset({Role.MANAGER}))
    page = await world.flow.site_page(east, 0)
    assert [s.name for s in page.sites] == sorted(s.name for s in page.sites) and page.total == 4
    assert page.pages == 1 and (await world.flow.site_page(east, 7)).page == 0  # an old button past the end
