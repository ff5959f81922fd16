"""``python -m bot demo``: the real bot against the local Bot API stand-in, chatted with in a terminal.

No token and no network: the stand-in from ``tests/harness`` plays Telegram, and preset people take
turns typing (``:who N``): an admin, a manager of every site, an inspector, a site's staff and an
unregistered visitor. Data goes to ``<data_dir>/demo`` so a real database is never touched.

A fresh demo database is seeded once, through the same flows and repositories the bot uses, so
every role has work the moment it starts:

- the two sites have "been there" since two years ago, as have the duty rules, so the current
  period's duties exist and their first reminders are already due: the staff member gets them at
  start (on screen before the first prompt, marked with whom they went to) and ``/mytasks`` lists
  them; the manager gets the day's digest (what is overdue, and 翠湖天地's duties, which reach nobody);
- the inspector walked and submitted one inspection per site, with findings and notes, so the
  manager's ``/summary``, ``/ranking``, ``/report ID`` and ``/export`` have data;
- each finding became a corrective action at submit; the staff member already sent proof for the
  serious one, so the inspector can verify it (``/actions``) while the others wait for the staff's
  proof.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TextIO

from bot.app import build_application, start_in_loop, stop_in_loop
from bot.clock import Clock, SystemClock, iso
from bot.flows.access import Caller, Role
from bot.flows.actions.assign import AssignFlow
from bot.flows.actions.extend import ExtensionFlow
from bot.flows.actions.loop import ActionLoop
from bot.flows.actions.views import ActionFlow
from bot.flows.inspection.walk import InspectionFlow
from bot.flows.schedule import WorkCalendar
from bot.logging_setup import setup_logging
from bot.scheduler import tick_now
from config.settings import Settings
from rubric.model import Answer
from rubric.registry import RubricRegistry
from storage.action_extensions import ExtensionRepository
from storage.actions import ActionRepository
from storage.db import Database
from storage.duties import DutyRepository
from storage.files import FileStore
from storage.inspections import InspectionRepository
from storage.pending import PendingInputRepository
from storage.sites import SiteRepository
from storage.users import UserRepository

if TYPE_CHECKING:
    from tests.harness.botapi import FakeBotAPI
    from tests.harness.driver import Person

ADMIN, INSPECTOR, STAFF, VISITOR, MANAGER = 1001, 1002, 1003, 1004, 1005

# (user id, name shown in Telegram, role, site index or None for every site); the admin comes from
# BOT_ADMIN_IDS as in production, the visitor has no role.
PRESETS = (
    (ADMIN, "管理员 Admin", None, None),
    (MANAGER, "经理 Manager", "manager", None),
    (INSPECTOR, "督导员 Inspector", "inspector", None),
    (STAFF, "客服 Staff", "staff", 0),
)
DEMO_SITES = (("阳光花园", "华东"), ("翠湖天地", "华东"))
HISTORY = timedelta(days=730)  # how long the demo's sites and duty rules have "existed"

# The seeded inspections: clause code -> (answer, the inspector's note), every other clause 符合.
FINDINGS = (
    {
        "二(一)4": (Answer.FAIL, "没有上季度投诉汇总分析报告"),
        "一(一)2": (Answer.PARTIAL, "制度归档超过规定时间"),
        "一(七)1": (Answer.PARTIAL, "前台员工未统一着装，未佩戴工牌"),
    },
    {"二(一)3": (Answer.PARTIAL, "两起投诉未回访")},
)
PROOF_NOTE = "已补写上季度投诉汇总分析报告，并在周会上通报。"
EXTENSION_REASON = "新工牌和工服要向总部申领，预计下周到货。"


def run_demo(settings: Settings) -> int:
    try:
        from tests.harness.botapi import FakeBotAPI  # noqa: F401 - checked before starting anything
    except ImportError:
        print(
            "The demo needs the repository's tests/ folder and the dev extras: run `make demo`.",
            file=sys.stderr,
        )
        return 2
    asyncio.run(_demo(settings))
    return 0


async def _demo(settings: Settings) -> None:
    from tests.harness.botapi import FakeBotAPI

    data_dir = settings.data_dir / "demo"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = (data_dir / "demo.log").open("a", encoding="utf-8")
    api = FakeBotAPI()
    await api.start()
    setup_logging("INFO", secrets=(api.token,), stream=log_file)
    try:
        await demo_session(replace(settings, data_dir=data_dir), api)
    finally:
        await api.stop()
        logging.shutdown()
        log_file.close()


async def demo_session(
    settings: Settings,
    api: FakeBotAPI,
    *,
    stdin: TextIO | Any = sys.stdin,
    stdout: TextIO | Any = sys.stdout,
    clock: Clock | None = None,
    settle: float = 3.0,
) -> None:
    """Seed ``settings.data_dir`` (once), start the real bot against ``api`` and chat until EOF/:quit."""
    from tests.harness.terminal import run_terminal_chat

    clock = clock or SystemClock()
    demo_settings = replace(
        settings,
        token=api.token,
        api_base_url=api.base_url,
        api_file_url=api.base_file_url,
        admin_ids=frozenset({ADMIN}),
    )
    await seed(demo_settings, clock)
    people = demo_people(api)  # their chats exist before the bot writes to them
    app = build_application(demo_settings, clock)
    await start_in_loop(app)
    # The duty engine's first pass, awaited: the reminders already due are on screen (marked with
    # whom they went to) before the first prompt, not somewhere after it.
    await tick_now(app)
    stdout.write(f"督导助手 demo — data in {demo_settings.data_dir}\n")
    try:
        await run_terminal_chat(api, people, stdin=stdin, stdout=stdout, settle=settle)
    finally:
        await stop_in_loop(app)


def demo_people(api: FakeBotAPI) -> list[Person]:
    """The presets in the order ``:who N`` numbers them. They have all opened the bot before (like
    real staff who pressed Start once), so reminders reach them."""
    people = [api.person(user_id, name, started=True) for user_id, name, _, _ in PRESETS]
    return [*people, api.person(VISITOR, "Visitor", language_code="en")]


async def seed(settings: Settings, clock: Clock) -> None:
    """People every start (idempotent); the sites' history, inspections and actions on a fresh database."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = await Database.open(settings.database_path)
    try:
        users, sites = UserRepository(db), SiteRepository(db)
        now = clock.now()
        since = iso(now - HISTORY)
        known = {site.name: site.id for site in await sites.visible_to(ADMIN, (), everything=True)}
        fresh = not known
        for name, region in DEMO_SITES:
            if name not in known:
                known[name] = await sites.add(name, since, region)
        site_ids = [known[name] for name, _ in DEMO_SITES]
        for user_id, name, role, site in PRESETS:
            await users.touch(user_id, name, None, "zh-hans", iso(now), await users.get(user_id))
            if role is not None:
                await users.grant(user_id, role, since, site_id=None if site is None else site_ids[site])
        if fresh:
            # The rules were "first seen" with the sites: the engine then owes the current periods' duties.
            await DutyRepository(db).ensure_rules([rule.id for rule in settings.duties.active_rules], since)
            await _seed_inspections(db, settings, clock, site_ids)
    finally:
        await db.close()


async def _seed_inspections(db: Database, settings: Settings, clock: Clock, site_ids: list[int]) -> None:
    """One walk per site as the inspector would tap it, submitted; then the staff's proof for the
    first serious action, submitted for verification, a request for more time on another, and the
    third assigned to the staff member by the manager."""
    rubrics = RubricRegistry.load(settings.rubric_dirs)
    files = FileStore(settings.data_dir / "files")
    sites = SiteRepository(db)
    walks = InspectionFlow(
        repo=InspectionRepository(db),
        sites=sites,
        rubrics=rubrics,
        files=files,
        clock=clock,
        settings=settings.inspection,
        actions=settings.actions,
        calendar=WorkCalendar.of(settings.duties),
        tz=settings.tz,
    )
    inspector = Caller(INSPECTOR, "督导员 Inspector", "zh-hans", frozenset({Role.INSPECTOR}))
    rubric = rubrics.get(settings.default_edition)
    submitted = []
    for site_id, findings in zip(site_ids, FINDINGS, strict=True):
        walk = await walks.begin(inspector, site_id, rubric.edition)
        by_id = {rubric.clause_by_code(code).id: finding for code, finding in findings.items()}
        for clause in rubric.clauses:
            answer, note = by_id.get(clause.id, (Answer.OK, None))
            await walks.answer(inspector, walk.id, clause.id, answer)
            if note:
                await walks.add_note(inspector, walk.id, clause.id, note)
        submitted.append((await walks.submit(inspector, walk.id), walk.id))

    actions = ActionFlow(ActionRepository(db), sites, rubrics, clock, settings.tz)
    loop = ActionLoop(actions, PendingInputRepository(db), files, settings.inspection.max_photo_mb)
    staff = Caller(STAFF, "客服 Staff", "zh-hans", frozenset({Role.STAFF}))
    first_inspection = submitted[0][1]
    serious = next(a for a in await actions.repo.of_inspection(first_inspection) if a.severity == "serious")
    await loop.begin_proof(staff, serious.id)
    await loop.add_note(staff, serious.id, PROOF_NOTE)
    await loop.submit(staff, serious.id)
    # A request for more time on another of its actions, waiting for the manager (申请延期).
    pending = PendingInputRepository(db)
    extensions = ExtensionFlow(
        actions, ExtensionRepository(db), pending, WorkCalendar.of(settings.duties), settings.actions
    )
    other = next(a for a in await actions.repo.of_inspection(first_inspection) if a.severity == "general")
    await extensions.begin(staff, other.id)
    asked = await extensions.take_date(staff, other.id, "+5")
    await extensions.request(staff, other.id, asked.new_due, EXTENSION_REASON)
    # The manager names the staff member responsible for the third one (指派): its card says so.
    manager = Caller(MANAGER, "经理 Manager", "zh-hans", frozenset({Role.MANAGER}))
    third = next(a for a in await actions.repo.of_inspection(first_inspection) if a.id not in (serious.id, other.id))
    await AssignFlow(actions, DutyRepository(db)).assign(manager, third.id, None, STAFF)
