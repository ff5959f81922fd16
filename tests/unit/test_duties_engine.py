"""The duty engine and flow on a real SQLite file, with a recording sender instead of Telegram."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock, iso
from bot.flows.access import Caller, Role
from bot.flows.duties.answers import DutyFlow, DutyRefusal, DutyRefusedError
from bot.flows.duties.views import Delivery, Digest, DutyStatus, Notice, NoticeKind, SendResult
from bot.flows.schedule import parse_quarter
from config.duties import DutySettings
from storage.db import Database
from storage.duties import DutyRepository
from storage.files import FileStore
from storage.pending import PendingInputRepository
from storage.sites import SiteRepository
from storage.users import UserRepository

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 30, 10, 0, tzinfo=SHANGHAI)  # a Monday, before the Q2 reminders
Q2_REMINDER = datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI)
LI, WANG, ZHAO, BOSS, ADMIN = 21, 22, 23, 31, 99


def caller(user_id: int, *roles: Role) -> Caller:
    return Caller(user_id, str(user_id), "zh-hans", frozenset(roles))


LI_C, WANG_C, ZHAO_C = (caller(i, Role.STAFF) for i in (LI, WANG, ZHAO))
BOSS_C = caller(BOSS, Role.MANAGER)


@dataclass
class Recorder:
    """Stands in for Telegram: records each notice; some chats block the bot or fail for a while."""

    notices: list[Notice] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    flaky: dict[int, int] = field(default_factory=dict)  # chat -> passing failures left

    async def __call__(self, notice: Notice) -> SendResult:
        if notice.chat_id in self.blocked:
            return SendResult(Delivery.BLOCKED, error="Forbidden: bot was blocked by the user")
        if self.flaky.get(notice.chat_id):
            self.flaky[notice.chat_id] -= 1
            return SendResult(Delivery.RETRY, error="Timed out")
        self.notices.append(notice)
        return SendResult(Delivery.SENT, message_id=len(self.notices))

    def to(self, chat_id: int, kind: NoticeKind | None = None) -> list[Notice]:
        return [n for n in self.notices if n.chat_id == chat_id and (kind is None or n.kind is kind)]

    def digests(self, chat_id: int) -> list[Digest]:
        return [n.digest for n in self.to(chat_id, NoticeKind.DIGEST) if n.digest is not None]

    def reminders(self) -> list[Notice]:
        return [n for n in self.notices if n.kind is NoticeKind.REMINDER]

    def take(self) -> list[Notice]:
        taken, self.notices = self.notices, []
        return taken


@dataclass
class World:
    db: Database
    clock: ManualClock
    flow: DutyFlow
    repo: DutyRepository
    sites: SiteRepository
    users: UserRepository
    site_a: int
    site_b: int
    send: Recorder

    async def tick(self, at: datetime | None = None):
        if at is not None:
            self.clock.set(at)
        return await self.flow.engine.tick(self.send)

    async def duty(self, rule_id: str, site_id: int, period: str = "2026-Q2"):
        row = await self.db.fetchone(
            "SELECT id FROM duties WHERE rule_id = ? AND site_id = ? AND period = ?", (rule_id, site_id, period)
        )
        assert row is not None, (rule_id, site_id, period)
        return row["id"]


# The engine's scenarios are written on a plain Monday-to-Friday week; China's public holidays (the
# bot's default) are covered by test_schedule.py and test_duties_flow.py.
PLAIN_WEEKS = DutySettings(public_holidays="none")


def make_flow(db, clock, tmp_path, settings: DutySettings | None = None) -> DutyFlow:
    return DutyFlow(
        repo=DutyRepository(db),
        sites=SiteRepository(db),
        users=UserRepository(db),
        pending=PendingInputRepository(db),
        files=FileStore(tmp_path / "files"),
        clock=clock,
        settings=settings or PLAIN_WEEKS,
        tz=SHANGHAI,
        max_file_mb=1,
        default_language="zh-hans",
        admin_ids=frozenset({ADMIN}),
    )


@pytest.fixture
async def world(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    clock = ManualClock(START)
    users, sites = UserRepository(db), SiteRepository(db)
    now = iso(clock.now())
    site_a = await sites.add("阳光花园", now, region="东区")
    site_b = await sites.add("翠湖天地", now, region="西区")
    for user_id, name, role, site in (
        (LI, "小李", "staff", site_a),
        (WANG, "小王", "staff", site_a),
        (ZHAO, "小赵", "staff", site_b),
        (BOSS, "经理", "manager", None),
        (ADMIN, "管理员", "admin", None),
    ):
        await users.touch(user_id, name, None, "zh-hans", now, None)
        await users.grant(user_id, role, now, site_id=site)
    flow = make_flow(db, clock, tmp_path)
    await flow.engine.start()
    yield World(db, clock, flow, flow.repo, sites, users, site_a, site_b, Recorder())
    await db.close()


async def test_reminders_go_to_each_sites_staff_on_the_first_working_day(world):
    assert (await world.tick()).created == 0
    assert (await world.tick(Q2_REMINDER - timedelta(minutes=1))).sent == 0
    report = await world.tick(Q2_REMINDER)
    assert report.created == 4  # complaint report and demand statistics, for both sites
    assert report.sent == 6
    assert {n.duty.rule.id for n in world.send.to(LI)} == {"complaint_report", "demand_statistics"}
    assert {n.duty.site_name for n in world.send.to(ZHAO)} == {"翠湖天地"}
    assert all(n.kind is NoticeKind.REMINDER and n.round == 1 and n.lang == "zh-hans" for n in world.send.notices)
    assert world.send.to(BOSS) == []
    # Ticking again sends nothing twice.
    assert (await world.tick(Q2_REMINDER + timedelta(minutes=5))).sent == 0
    assert await world.repo.outbox_counts() == {"sent": 6}


async def test_follow_ups_until_done_then_nothing(world):
    await world.tick(Q2_REMINDER)
    world.send.take()
    # Three days later is Saturday 4 April: the follow-up waits for Monday at 09:00.
    assert (await world.tick(datetime(2026, 4, 5, 20, 0, tzinfo=SHANGHAI))).sent == 0
    await world.tick(datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))
    rounds = {(n.chat_id, n.duty.rule.id): n.round for n in world.send.take()}
    assert rounds[(LI, "complaint_report")] == 2 and len(rounds) == 6

    duty_id = await world.duty("complaint_report", world.site_a)
    with pytest.raises(DutyRefusedError) as refused:
        await world.flow.confirm_done(LI_C, duty_id)
    assert refused.value.reason is DutyRefusal.NO_EVIDENCE
    await world.flow.begin_upload(LI_C, duty_id)
    assert await world.flow.upload_target(LI_C) == duty_id
    outcome = await world.flow.add_file(LI_C, duty_id, "document", "f1", "u1", b"%PDF report", "q1.pdf", None, "一季度")
    assert outcome.added and outcome.duty.evidence_count == 1
    again = await world.flow.add_file(LI_C, duty_id, "document", "f1", "u1", b"%PDF report", "q1.pdf", None, None)
    assert not again.added and again.duty.evidence_count == 1
    done = await world.flow.confirm_done(LI_C, duty_id)
    assert done.changed and done.duty.status is DutyStatus.DONE and done.duty.done_by_name == "小李"
    assert await world.flow.upload_target(LI_C) is None
    assert not (await world.flow.confirm_done(WANG_C, duty_id)).changed  # a second tap, someone else's

    await world.tick(datetime(2026, 4, 9, 9, 0, tzinfo=SHANGHAI))
    sent = world.send.take()
    assert {n.duty.rule.id for n in sent if n.duty.site_id == world.site_a} == {"demand_statistics"}


async def test_a_reminder_planned_before_the_duty_closed_is_not_sent(world):
    world.clock.set(Q2_REMINDER)
    engine = world.flow.engine
    await engine._materialise(world.clock.now())
    await engine._plan_reminders(world.clock.now())
    duty_id = await world.duty("complaint_report", world.site_a)
    await world.flow.add_file(LI_C, duty_id, "photo", "p1", "pu1", b"jpeg", None, "image/jpeg", None)
    await world.flow.confirm_done(LI_C, duty_id)
    report = await world.tick()
    assert report.skipped == 2 and all(n.duty.id != duty_id for n in world.send.notices)


async def test_snooze_moves_the_next_reminder_but_not_the_due_date(world):
    await world.tick(Q2_REMINDER)
    world.send.take()
    duty_id = await world.duty("complaint_report", world.site_a)
    world.clock.set(datetime(2026, 4, 3, 16, 0, tzinfo=SHANGHAI))  # a Friday
    snoozed = await world.flow.snooze(LI_C, duty_id)
    until = snoozed.until
    assert until == datetime(2026, 4, 6, 16, 0, tzinfo=SHANGHAI)  # a day later is Saturday: Monday
    assert snoozed.duty.id == duty_id
    await world.tick(datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))
    assert all(n.duty.id != duty_id for n in world.send.take())
    await world.tick(until)
    assert {n.chat_id for n in world.send.take() if n.duty.id == duty_id} == {LI, WANG}
    assert (await world.flow.duty(LI_C, duty_id)).due_date.isoformat() == "2026-04-15"


async def test_not_applicable_needs_a_reason_and_stops_reminders(world):
    await world.tick(Q2_REMINDER)
    duty_id = await world.duty("demand_statistics", world.site_b)
    await world.flow.ask_not_applicable(ZHAO_C, duty_id)
    assert await world.flow.reason_target(ZHAO_C) == duty_id
    answered = await world.flow.not_applicable(ZHAO_C, duty_id, "  本项目无客服中心  ")
    assert answered.changed and answered.duty.status is DutyStatus.NA and answered.duty.na_reason == "本项目无客服中心"
    assert await world.flow.reason_target(ZHAO_C) is None
    with pytest.raises(DutyRefusedError) as refused:
        await world.flow.snooze(ZHAO_C, duty_id)
    assert refused.value.reason is DutyRefusal.CLOSED
    world.send.take()
    await world.tick(datetime(2026, 4, 30, 9, 0, tzinfo=SHANGHAI))
    assert all(n.duty.id != duty_id for n in world.send.reminders() if n.duty)
    assert all(a.duty.id != duty_id for a in world.send.digests(BOSS)[0].escalations)


async def test_only_the_sites_people_may_answer(world):
    await world.tick(Q2_REMINDER)
    duty_id = await world.duty("complaint_report", world.site_a)
    for who in (ZHAO_C, BOSS_C):
        with pytest.raises(DutyRefusedError) as refused:
            await world.flow.begin_upload(who, duty_id)
        assert refused.value.reason is DutyRefusal.NOT_YOURS
    await world.flow.begin_upload(caller(ADMIN, Role.ADMIN), duty_id)  # admins may stand in
    with pytest.raises(DutyRefusedError) as refused:
        await world.flow.snooze(LI_C, 9999)
    assert refused.value.reason is DutyRefusal.NOT_FOUND
    with pytest.raises(DutyRefusedError) as refused:
        await world.flow.add_file(LI_C, duty_id, "document", "big", "big", b"x" * (1024 * 1024 + 1), "a", None, None)
    assert refused.value.reason is DutyRefusal.TOO_BIG


async def test_escalation_reaches_managers_once_with_the_people_responsible(world):
    await world.tick(Q2_REMINDER)
    await world.tick(datetime(2026, 4, 16, 9, 0, tzinfo=SHANGHAI))  # overdue, not yet escalated
    assert world.send.to(BOSS) == []
    overdue = await world.flow.overdue(BOSS_C)
    assert len(overdue) == 4 and {d.status for d in overdue} == {DutyStatus.OVERDUE}
    assert overdue[0].overdue_days == 1
    await world.tick(datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI))
    # One message for the four duties of two sites, not four.
    [digest] = world.send.digests(BOSS)
    assert len(digest.escalations) == 4 and (digest.part, digest.parts) == (1, 1)
    site_a = next(a for a in digest.escalations if a.duty.site_id == world.site_a)
    assert [(p.id, p.name) for p in site_a.responsible] == [(LI, "小李"), (WANG, "小王")]
    assert site_a.duty.status is DutyStatus.ESCALATED and site_a.duty.overdue_days == 5
    # Three rounds were planned (1, 6 and 9 April) and all reached Li and Wang: 2 a round.
    assert site_a.deliveries == 6
    await world.tick(datetime(2026, 4, 21, 9, 0, tzinfo=SHANGHAI))
    assert len(world.send.digests(BOSS)) == 1


async def test_escalation_goes_to_admins_when_a_site_has_no_manager(world):
    await world.db.execute("DELETE FROM user_roles WHERE user_id = ?", (BOSS,))
    await world.tick(Q2_REMINDER)
    await world.tick(datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI))
    [digest] = world.send.digests(ADMIN)
    assert len(digest.escalations) == 4


async def test_a_blocked_person_is_marked_unreachable_and_the_managers_are_told(world):
    world.send.blocked.add(WANG)
    report = await world.tick(Q2_REMINDER)
    assert report.blocked == 2
    assert await world.db.fetchval("SELECT unreachable_at FROM users WHERE id = ?", (WANG,)) is not None
    [digest] = world.send.digests(BOSS)  # both of his duties, in one message
    assert len(digest.unreachable) == 2 and {(a.about.id, a.about.name) for a in digest.unreachable} == {(WANG, "小王")}
    assert {a.reason for a in digest.unreachable} == {"blocked"} and digest.nobody == ()  # Li got them
    world.send.take()
    await world.tick(datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))
    assert WANG not in {n.chat_id for n in world.send.notices}  # no retrying forever
    assert {n.chat_id for n in world.send.notices} == {LI, ZHAO}
    # He unblocks the bot and opens his tasks: reminders reach him again.
    world.send.blocked.discard(WANG)
    await world.flow.my_tasks(WANG_C)
    assert await world.db.fetchval("SELECT unreachable_at FROM users WHERE id = ?", (WANG,)) is None
    world.send.take()
    await world.tick(datetime(2026, 4, 9, 9, 0, tzinfo=SHANGHAI))
    assert WANG in {n.chat_id for n in world.send.notices}


async def test_passing_failures_are_retried_and_given_up_after_many_ticks(world):
    world.send.flaky[LI] = 3
    report = await world.tick(Q2_REMINDER)
    assert report.retried == 3 and len(world.send.to(LI)) == 2  # retried in the same tick, each sent once
    world.send.flaky[ZHAO] = 1000
    world.send.take()
    report = await world.tick(datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))
    assert report.retried == 8 and (await world.repo.outbox_counts())["pending"] == 2  # the next tick tries again
    for _ in range(3):
        await world.tick()
    assert (await world.repo.outbox_counts()).get("failed") == 2  # given up after MAX_ATTEMPTS, not forever


async def test_a_stop_in_the_middle_of_a_batch_then_a_crash_leaves_nothing_lost_or_doubled(world, tmp_path):
    for user_id in range(100, 130):  # a big site: 30 more staff
        await world.users.touch(user_id, f"员工{user_id}", None, None, iso(world.clock.now()), None)
        await world.users.grant(user_id, "staff", iso(world.clock.now()), site_id=world.site_a)
    world.clock.set(Q2_REMINDER)
    sent_before_stop = 0

    def keep_going() -> bool:
        return len(world.send.notices) < 20

    report = await world.flow.engine.tick(world.send, keep_going)
    assert report.stopped
    sent_before_stop = len(world.send.notices)
    counts = await world.repo.outbox_counts()
    assert counts["sent"] == sent_before_stop and counts["pending"] == 66 - sent_before_stop
    assert "sending" not in counts  # a graceful stop leaves nothing in flight

    # A crash right after claiming one more row: it was maybe sent, maybe not.
    pending = await world.repo.pending(1)
    await world.repo.claim(pending[0].id, iso(world.clock.now()))
    restarted = make_flow(world.db, world.clock, tmp_path)
    assert await restarted.engine.start() == 1
    await restarted.engine.tick(world.send)
    keys = [(n.chat_id, n.duty.id, n.round) for n in world.send.notices]
    assert len(keys) == len(set(keys)) == 66  # everyone got each reminder, exactly once
    assert await world.repo.outbox_counts() == {"sent": 66}


async def test_a_site_or_rule_that_appears_mid_period_starts_with_the_next_period(world, tmp_path):
    await world.tick(Q2_REMINDER)
    late_site = await world.sites.add("新项目", iso(world.clock.now() + timedelta(hours=1)))
    await world.tick(datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI))
    assert await world.db.fetchval("SELECT COUNT(*) FROM duties WHERE site_id = ?", (late_site,)) == 0
    await world.tick(datetime(2026, 7, 1, 9, 0, tzinfo=SHANGHAI))
    rows = await world.db.fetchall("SELECT rule_id, period FROM duties WHERE site_id = ? ORDER BY id", (late_site,))
    assert [(r["rule_id"], r["period"]) for r in rows] == [
        ("complaint_report", "2026-Q3"),
        ("satisfaction_survey", "2026-Q2"),  # its reminder (15 May) came after the site did
        ("demand_statistics", "2026-Q3"),
    ]

    # Turning a rule on in the middle of its period does not fire that period "late".
    rules = tuple(replace(r, enabled=True) if r.id == "meetings_training" else r for r in DutySettings().rules)
    later = make_flow(world.db, world.clock, tmp_path, replace(PLAIN_WEEKS, rules=rules))
    world.clock.set(datetime(2026, 7, 28, 9, 0, tzinfo=SHANGHAI))  # after July's reminder (Monday 27th)
    await later.engine.start()
    await later.engine.tick(world.send)
    assert await world.db.fetchval("SELECT COUNT(*) FROM duties WHERE rule_id = 'meetings_training'") == 0
    world.clock.set(datetime(2026, 8, 25, 9, 0, tzinfo=SHANGHAI))
    await later.engine.tick(world.send)
    assert await world.db.fetchval("SELECT COUNT(*) FROM duties WHERE rule_id = 'meetings_training'") == 3


async def test_missed_reminders_go_out_once_at_start(world, tmp_path):
    # The bot is down from 31 March to 10 April; at start the first reminder goes, once, and the
    # follow-ups are counted from then on.
    world.clock.set(datetime(2026, 4, 10, 11, 0, tzinfo=SHANGHAI))
    restarted = make_flow(world.db, world.clock, tmp_path)
    await restarted.engine.start()
    await restarted.engine.tick(world.send)
    assert len(world.send.to(LI)) == 2 and {n.round for n in world.send.notices} == {1}
    row = await world.repo.get(await world.duty("complaint_report", world.site_a))
    assert row is not None and row.next_remind_at == iso(datetime(2026, 4, 13, 9, 0, tzinfo=SHANGHAI))


async def test_managers_board_and_clause_status(world):
    status = await world.flow.status_for_clause(world.site_a, "二（一）4")
    assert status is not None and status.duty_id is None
    assert (status.status, status.period_key) == (DutyStatus.MISSING, "2026-Q1")  # before the bot tracked it
    assert await world.flow.status_for_clause(world.site_a, "一(一)1") is None
    q2 = parse_quarter("2026-Q2")
    assert q2 is not None
    board = await world.flow.board(BOSS_C, q2)
    assert [row.site_name for row in board.rows] == ["翠湖天地", "阳光花园"]
    assert {cell.status for row in board.rows for cell in row.cells} == {DutyStatus.UPCOMING}

    await world.tick(Q2_REMINDER)
    duty_id = await world.duty("complaint_report", world.site_a)
    await world.flow.add_file(LI_C, duty_id, "photo", "p1", "pu1", b"jpeg-1", None, "image/jpeg", None)
    await world.flow.add_file(LI_C, duty_id, "document", "d1", "du1", b"%PDF", "报告.pdf", "application/pdf", None)
    await world.flow.confirm_done(LI_C, duty_id)
    world.clock.set(datetime(2026, 4, 17, 9, 0, tzinfo=SHANGHAI))
    status = await world.flow.status_for_clause(world.site_a, "二(一)4")
    assert status is not None
    assert (status.status, status.done_by, status.evidence_count, status.period_key) == (
        DutyStatus.DONE,
        "小李",
        2,
        "2026-Q2",
    )
    assert status.can_view_evidence and status.duty_id == duty_id
    board = await world.flow.board(BOSS_C, q2)
    cells = {(row.site_name, cell.rule.id): cell.status for row in board.rows for cell in row.cells}
    assert cells[("阳光花园", "complaint_report")] is DutyStatus.DONE
    assert cells[("阳光花园", "demand_statistics")] is DutyStatus.OVERDUE
    assert cells[("阳光花园", "satisfaction_survey")] is DutyStatus.UPCOMING
    assert board.count(DutyStatus.OVERDUE) == 3
    q1 = parse_quarter("2026-Q1")
    assert q1 is not None
    old = await world.flow.board(BOSS_C, q1)
    assert {cell.status for row in old.rows for cell in row.cells} == {DutyStatus.MISSING}

    evidence = await world.flow.evidence(BOSS_C, duty_id)
    assert [f.kind for f in evidence.files] == ["photo", "document"]
    with pytest.raises(DutyRefusedError):
        await world.flow.evidence(ZHAO_C, duty_id)  # staff of another site


async def test_my_tasks_lists_open_started_duties_of_my_sites(world):
    assert await world.flow.my_tasks(LI_C) == []
    await world.tick(Q2_REMINDER)
    tasks = await world.flow.my_tasks(LI_C)
    assert [(t.site_name, t.rule.id) for t in tasks] == [
        ("阳光花园", "complaint_report"),
        ("阳光花园", "demand_statistics"),
    ]
    assert await world.flow.my_tasks(BOSS_C) == []


async def test_the_log_warns_when_the_coming_public_holidays_are_unknown(world, tmp_path, caplog):
    flow = make_flow(world.db, world.clock, tmp_path, DutySettings())  # China's holidays, known to 2026
    for moment, warned in (
        (datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI), False),
        (datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI), True),
    ):
        caplog.clear()
        world.clock.set(moment)
        await flow.engine.start()
        assert ("public holidays are known until 2026" in caplog.text) is warned
    # Listing next year's days in the config is enough.
    listed = DutySettings(holidays=frozenset({datetime(2027, 1, 1).date()}))
    caplog.clear()
    await make_flow(world.db, world.clock, tmp_path, listed).engine.start()
    assert "public holidays are known until" not in caplog.text
