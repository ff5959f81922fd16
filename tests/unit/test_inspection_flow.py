"""The walk's logic on a real SQLite file, without Telegram."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock, iso
from bot.flows.access import Caller, Role
from bot.flows.errors import Refusal, RefusedError
from bot.flows.inspection.walk import InspectionFlow
from config.settings import InspectionSettings
from rubric.model import Answer
from rubric.registry import RubricRegistry
from rubric.scoring import score_inspection
from storage.db import Database
from storage.files import FileStore
from storage.inspections import InspectionRepository
from storage.sites import SiteRepository
from storage.users import UserRepository

INSPECTOR = Caller(10, "督导员", "zh-hans", frozenset({Role.INSPECTOR}))
OTHER = Caller(11, "别人", "zh-hans", frozenset({Role.INSPECTOR}))


@pytest.fixture
async def setup(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    clock = ManualClock(datetime(2026, 5, 6, 1, 0, tzinfo=UTC))
    users, sites = UserRepository(db), SiteRepository(db)
    now = iso(clock.now())
    site_a = await sites.add("阳光花园", now)
    site_b = await sites.add("翠湖天地", now)
    for caller in (INSPECTOR, OTHER):
        await users.touch(caller.user_id, caller.name, None, "zh-hans", now, None)
        await users.grant(caller.user_id, "inspector", now)
    flow = InspectionFlow(
        repo=InspectionRepository(db),
        sites=sites,
        rubrics=RubricRegistry.load(),
        files=FileStore(tmp_path / "files"),
        clock=clock,
        settings=InspectionSettings(),
    )
    yield flow, clock, site_a, site_b
    await db.close()


async def test_full_walk_scores_like_the_engine(setup):
    flow, clock, site_a, _ = setup
    walk = await flow.begin(INSPECTOR, site_a, 2)
    rubric = walk.rubric
    given = {}
    card = await flow.resume(INSPECTOR, walk.id)
    pattern = [Answer.OK, Answer.OK, Answer.PARTIAL, Answer.NA, Answer.FAIL]
    i = 0
    while card is not None:
        answer = pattern[i % len(pattern)]
        outcome = await flow.answer(INSPECTOR, walk.id, card.clause.id, answer)
        given[card.clause.id] = answer
        if outcome.needs_evidence:
            evidence = await flow.add_note(INSPECTOR, walk.id, card.clause.id, "门口标识缺失")
            card = evidence.next
            assert evidence.next is not None or evidence.finished
        else:
            card = outcome.next
        clock.advance(timedelta(seconds=30))
        i += 1
    assert len(given) == 65
    result = await flow.submit(INSPECTOR, walk.id)
    expected = score_inspection(rubric, given)
    assert result.report.percent == expected.percent
    assert result.report.grade == expected.grade
    assert result.duration_minutes == 32
    with pytest.raises(RefusedError) as refused:
        await flow.answer(INSPECTOR, walk.id, rubric.clauses[0].id, Answer.FAIL)
    assert refused.value.reason is Refusal.SUBMITTED


async def test_double_tap_changes_nothing_and_old_cards_change_their_own_clause(setup):
    flow, _, site_a, _ = setup
    walk = await flow.begin(INSPECTOR, site_a, 2)
    first = walk.rubric.clauses[0].id
    outcome = await flow.answer(INSPECTOR, walk.id, first, Answer.OK)
    assert outcome.changed and outcome.next is not None
    second = outcome.next.clause.id
    again = await flow.answer(INSPECTOR, walk.id, first, Answer.OK)
    assert not again.changed and again.next is None
    # Changing the first clause from its old card keeps the walk on the second clause.
    changed = await flow.answer(INSPECTOR, walk.id, first, Answer.NA)
    assert changed.changed and changed.next is None
    assert (await flow.repo.get(walk.id)).cursor == second


async def test_evidence_is_required_below_full(setup):
    flow, _, site_a, _ = setup
    walk = await flow.begin(INSPECTOR, site_a, 2)
    first = walk.rubric.clauses[0].id
    outcome = await flow.answer(INSPECTOR, walk.id, first, Answer.FAIL)
    assert outcome.needs_evidence and outcome.next is None
    assert (await flow.repo.get(walk.id)).cursor == first
    moved = await flow.add_photo(INSPECTOR, walk.id, first, "f1", "u1", b"\xff\xd8jpeg", "image/jpeg", "破损")
    assert moved.added and moved.next is not None
    assert moved.card.photos == 1 and moved.card.notes == 1
    same = await flow.add_photo(INSPECTOR, walk.id, first, "f1b", "u1", b"\xff\xd8jpeg", "image/jpeg", None)
    assert not same.added


async def test_drafts_on_two_sites_and_one_per_site(setup):
    flow, _, site_a, site_b = setup
    a = await flow.begin(INSPECTOR, site_a, 2)
    b = await flow.begin(INSPECTOR, site_b, 1)
    again = await flow.begin(INSPECTOR, site_a, 2)
    assert again.id == a.id and a.id != b.id
    drafts = await flow.drafts(INSPECTOR)
    assert {d.site_name for d in drafts} == {"阳光花园", "翠湖天地"}
    with pytest.raises(RefusedError) as refused:
        await flow.answer(OTHER, a.id, a.rubric.clauses[0].id, Answer.OK)
    assert refused.value.reason is Refusal.NOT_YOURS


async def test_partial_submit_is_refused_unless_the_rest_is_marked_na(setup):
    flow, _, site_a, _ = setup
    walk = await flow.begin(INSPECTOR, site_a, 2)
    await flow.answer(INSPECTOR, walk.id, walk.rubric.clauses[0].id, Answer.OK)
    with pytest.raises(RefusedError) as refused:
        await flow.submit(INSPECTOR, walk.id)
    assert refused.value.reason is Refusal.UNANSWERED and refused.value.details == {"count": 64}
    result = await flow.submit(INSPECTOR, walk.id, mark_rest_na=True)
    assert result.report.percent == 100.0
    assert len(result.report.not_applicable) == 64


async def test_back_skip_jump_and_pause(setup):
    flow, _, site_a, _ = setup
    walk = await flow.begin(INSPECTOR, site_a, 2)
    clauses = walk.rubric.clauses
    skipped = await flow.skip(INSPECTOR, walk.id, clauses[0].id)
    assert skipped.next.clause.id == clauses[1].id
    back = await flow.back(INSPECTOR, walk.id, clauses[1].id)
    assert back.clause.id == clauses[0].id
    jumped = await flow.jump(INSPECTOR, walk.id, "2.3")
    assert jumped.clause.id == "2.3.1" and jumped.section_label == "二、现场管理"
    assert (jumped.position, jumped.category_size) == (1, 4)
    await flow.pause(INSPECTOR, walk.id)
    assert await flow.active(INSPECTOR) is None
    resumed = await flow.resume(INSPECTOR, walk.id)
    assert resumed.clause.id == clauses[0].id  # the first unanswered
    assert (await flow.active(INSPECTOR)) is not None


async def test_an_old_inspection_keeps_its_rubric_version(setup, tmp_path):
    flow, _, site_a, _ = setup
    walk = await flow.begin(INSPECTOR, site_a, 2)
    # A registry that no longer has that version (the file changed) still scores it from the snapshot.
    flow.rubrics = RubricRegistry()
    reloaded = await flow.load(INSPECTOR, walk.id)
    assert reloaded.rubric.content_hash == walk.rubric.content_hash
