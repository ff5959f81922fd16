"""The managers' daily digest and the duties nobody can receive, on the engine with a recording sender."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.clock import iso
from bot.flows.duties.engine import DIGEST_BUDGET
from bot.flows.duties.views import Notice, NoticeKind
from bot.handlers.duties.answers import MESSAGE_LIMIT, split_lines
from bot.i18n import Texts
from storage import migrate
from storage.db import Database
from tests.harness.entities import parse_formatted_text
from tests.unit.test_duties_engine import (
    BOSS,
    LI,
    Q2_REMINDER,
    SHANGHAI,
    WANG,
    ZHAO,
    make_flow,
    world,
)

__all__ = ["world"]  # the fixture, shared with test_duties_engine.py

ESCALATION_DAY = datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI)


async def add_sites(world, count: int) -> list[int]:
    """``count`` more sites, each with one staff member who has a long registered name."""
    now = iso(world.clock.now())
    site_ids = []
    for n in range(count):
        site_id = await world.sites.add(f"第{n:03d}号项目·某某花园小区", now, region="东区")
        user_id = 1000 + n
        await world.users.touch(user_id, f"前台客服{n:03d}号同事", None, "zh-hans", now, None)
        await world.users.grant(user_id, "staff", now, site_id=site_id)
        site_ids.append(site_id)
    return site_ids


async def test_two_hundred_overdue_sites_make_one_message_a_day_in_parts_under_the_limit(world):
    await add_sites(world, 198)  # 200 sites with the two of the fixture
    await world.tick(Q2_REMINDER)
    world.send.take()
    report = await world.tick(ESCALATION_DAY)
    assert report.escalated == 400 and report.digests == 1
    parts = [n for n in world.send.to(BOSS) if n.kind is NoticeKind.DIGEST]
    assert len(parts) > 1 and all(n.digest is not None for n in parts)
    assert [n.digest.part for n in parts] == list(range(1, len(parts) + 1))
    assert {n.digest.parts for n in parts} == {len(parts)}
    # Every overdue duty once, in exactly one part.
    listed = [alert.duty.id for n in parts for alert in n.digest.escalations]
    assert len(listed) == len(set(listed)) == 400
    texts = Texts()
    for notice in parts:
        text = texts.render("zh-hans", "duties.digest", notice=notice)  # the manager's language
        plain, _ = parse_formatted_text(text, "HTML")
        assert len(plain) < 4096, (notice.digest.part, len(plain))
        assert len(plain) > DIGEST_BUDGET / 3 or notice.digest.part == len(parts)  # parts are filled
        # Read in a wordier language than the one it was cut for, the sender cuts it again.
        english = texts.render(
            "en", "duties.digest", notice=Notice(NoticeKind.DIGEST, BOSS, "en", digest=notice.digest)
        )
        for piece in split_lines(english, MESSAGE_LIMIT):
            assert len(parse_formatted_text(piece, "HTML")[0]) < 4096
    # Not 400 messages, and not again the next day.
    assert len(parts) <= 20
    world.send.take()
    await world.tick(datetime(2026, 4, 21, 9, 0, tzinfo=SHANGHAI))
    assert world.send.to(BOSS) == []


async def test_a_fact_found_after_the_days_digest_waits_for_the_next_day(world):
    await world.tick(Q2_REMINDER)
    await world.tick(ESCALATION_DAY)
    [first] = world.send.digests(BOSS)
    assert len(first.escalations) == 4
    world.send.take()
    # Later that day Wang blocks the bot; his snoozed reminder finds it out at 15:00.
    duty_id = await world.duty("complaint_report", world.site_a)
    await world.db.execute("UPDATE duties SET next_remind_at = ? WHERE id = ?", (iso(ESCALATION_DAY), duty_id))
    world.send.blocked.add(WANG)
    await world.tick(datetime(2026, 4, 20, 15, 0, tzinfo=SHANGHAI))
    assert world.send.digests(BOSS) == []  # one message a day
    await world.tick(datetime(2026, 4, 21, 8, 0, tzinfo=SHANGHAI))
    assert world.send.digests(BOSS) == []  # and not at night: from the rules' reminder time on
    await world.tick(datetime(2026, 4, 21, 9, 0, tzinfo=SHANGHAI))
    [second] = world.send.digests(BOSS)
    assert [(a.duty.id, a.about.id if a.about else None) for a in second.unreachable] == [(duty_id, WANG)]
    assert second.day.isoformat() == "2026-04-21"


async def test_a_duty_whose_people_all_blocked_the_bot_tells_the_managers_at_its_first_reminder(world):
    world.send.blocked.update({LI, WANG})
    await world.tick(Q2_REMINDER)
    [digest] = world.send.digests(BOSS)
    assert {a.duty.site_id for a in digest.nobody} == {world.site_a} and len(digest.nobody) == 2
    assert digest.unreachable == ()  # said once per duty, under "nobody"
    assert {(p.id, p.unreachable) for a in digest.nobody for p in a.responsible} == {(LI, True), (WANG, True)}
    assert digest.escalations == () and digest.day.isoformat() == "2026-04-01"


async def test_a_duty_with_nobody_to_remind_tells_the_managers_at_once(world):
    """Zhao was marked unreachable last quarter: no reminder is even tried, yet the managers hear of it."""
    await world.users.mark_unreachable(ZHAO, iso(world.clock.now()))
    empty_site = await world.sites.add("新项目", iso(world.clock.now()))
    await world.tick(Q2_REMINDER)
    [digest] = world.send.digests(BOSS)
    assert {(a.duty.site_id, a.duty.rule.id) for a in digest.nobody} == {
        (world.site_b, "complaint_report"),
        (world.site_b, "demand_statistics"),
        (empty_site, "complaint_report"),
        (empty_site, "demand_statistics"),
    }
    assert ZHAO not in {n.chat_id for n in world.send.notices}
    empty = next(a for a in digest.nobody if a.duty.site_id == empty_site)
    assert empty.responsible == ()
    # Told once per duty, not at every follow-up.
    world.send.take()
    await world.tick(datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))
    assert world.send.digests(BOSS) == []


async def test_escalations_count_deliveries_not_rounds(world):
    world.send.blocked.add(ZHAO)
    await world.tick(Q2_REMINDER)
    for day in (6, 9, 14):
        await world.tick(datetime(2026, 4, day, 9, 0, tzinfo=SHANGHAI))
    await world.tick(ESCALATION_DAY)
    [*_, digest] = world.send.digests(BOSS)
    by_site = {a.duty.site_id: a for a in digest.escalations if a.duty.rule.id == "complaint_report"}
    assert by_site[world.site_b].duty.rounds == 5 and by_site[world.site_b].deliveries == 0
    assert by_site[world.site_a].deliveries == 10  # five rounds to Li and Wang


async def test_a_digest_planned_before_a_crash_is_sent_once_after_it(world, tmp_path):
    await world.tick(Q2_REMINDER)
    world.clock.set(ESCALATION_DAY)
    engine = world.flow.engine
    await engine._plan_escalations(world.clock.now())
    assert await engine._plan_digests(world.clock.now()) == 1
    assert await engine._plan_digests(world.clock.now()) == 0  # planned once
    [row] = [r for r in await world.repo.pending(10) if r.kind == "digest"]
    await world.repo.claim(row.id, iso(world.clock.now()))  # the crash: claimed, no answer recorded
    restarted = make_flow(world.db, world.clock, tmp_path)
    assert await restarted.engine.start() >= 1
    world.send.take()
    await restarted.engine.tick(world.send)
    [notice] = world.send.to(BOSS, NoticeKind.DIGEST)
    assert notice.resent and notice.digest is not None and len(notice.digest.escalations) == 4
    await restarted.engine.tick(world.send)
    assert len(world.send.to(BOSS, NoticeKind.DIGEST)) == 1


async def test_lines_of_duties_done_before_the_digest_went_are_left_out(world):
    await world.tick(Q2_REMINDER)
    world.clock.set(ESCALATION_DAY)
    engine = world.flow.engine
    await engine._plan_escalations(world.clock.now())
    await engine._plan_digests(world.clock.now())
    duty_id = await world.duty("complaint_report", world.site_b)
    await world.repo.complete(duty_id, ZHAO, iso(world.clock.now()))  # Zhao finishes it meanwhile
    await world.tick()
    [digest] = world.send.digests(BOSS)
    assert len(digest.escalations) == 3 and duty_id not in {a.duty.id for a in digest.escalations}


def test_escalations_waiting_at_the_upgrade_become_facts_of_the_next_digest(tmp_path, monkeypatch):
    """A database of 0007 with unsent escalation and unreachable rows: 0008 moves them to the digest."""
    path = tmp_path / "bot.sqlite3"
    every = migrate.available_migrations()
    monkeypatch.setattr(migrate, "available_migrations", lambda: [m for m in every if m.version < 8])
    migrate.migrate(path)
    conn = sqlite3.connect(path)
    conn.executescript(
        """INSERT INTO sites (id, name, created_at) VALUES (1, 'A', '2026-01-01');
        INSERT INTO duties (id, rule_id, site_id, period, period_start, period_end, remind_at, due_date, due_at,
            created_at, updated_at)
            VALUES (7, 'complaint_report', 1, '2026-Q2', '2026-04-01', '2026-07-01', 'x', '2026-04-15', 'x', 'x', 'x');
        INSERT INTO duty_outbox (key, duty_id, kind, chat_id, round, about, status, created_at) VALUES
            ('reminder:7:5:1', 7, 'reminder', 5, 1, NULL, 'sent', 'x'),
            ('escalation:7:9', 7, 'escalation', 9, 0, NULL, 'pending', 'x'),
            ('unreachable:7:5:9', 7, 'unreachable', 9, 0, 5, 'sending', 'x'),
            ('escalation:7:8', 7, 'escalation', 8, 0, NULL, 'sent', 'x');"""
    )
    conn.commit()
    conn.close()
    monkeypatch.setattr(migrate, "available_migrations", lambda: every)
    migrate.migrate(path)
    conn = sqlite3.connect(path)
    alerts = conn.execute("SELECT duty_id, chat_id, kind, about, digest FROM duty_alerts ORDER BY id").fetchall()
    assert alerts == [(7, 9, "escalation", 0, None), (7, 9, "unreachable", 5, None)]
    statuses = dict(conn.execute("SELECT key, status FROM duty_outbox").fetchall())
    assert statuses == {
        "reminder:7:5:1": "sent",
        "escalation:7:9": "skipped",
        "unreachable:7:5:9": "skipped",
        "escalation:7:8": "sent",
    }
    conn.close()


async def test_the_migrated_database_opens(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        assert await db.fetchval("SELECT COUNT(*) FROM duty_alerts") == 0
    finally:
        await db.close()


def test_a_text_too_long_for_one_message_is_cut_between_lines():
    text = "\n".join(f"• <b>第{n}号项目</b> " + "某" * 60 for n in range(200))
    pieces = split_lines(text, MESSAGE_LIMIT)
    assert len(pieces) > 1 and all(len(piece) <= MESSAGE_LIMIT for piece in pieces)
    assert "\n".join(pieces) == text  # nothing lost, nothing repeated
    for piece in pieces:
        parse_formatted_text(piece, "HTML")  # every tag closed within its piece
    assert split_lines("short", MESSAGE_LIMIT) == ["short"]
    assert [len(p) for p in split_lines("x" * 9000, MESSAGE_LIMIT)] == [4000, 4000, 1000]


async def test_a_duty_whose_last_reader_blocks_the_bot_is_told_at_that_round(world):
    await world.tick(Q2_REMINDER)  # Zhao got the first reminders of 翠湖天地
    world.send.take()
    world.send.blocked.add(ZHAO)
    await world.tick(datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))
    [digest] = world.send.digests(BOSS)
    assert {a.duty.site_id for a in digest.nobody} == {world.site_b} and digest.unreachable == ()
