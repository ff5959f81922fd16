"""People, invitations, sites and the audit log as plain logic on a real SQLite file."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock, iso
from bot.flows.access import Caller, Role
from bot.flows.people.audit import Audit, AuditAction
from bot.flows.people.manage import PeopleFlow, code_hash
from bot.flows.people.refusals import Denied, PeopleRefusedError
from bot.flows.people.sites import SitesFlow, clean_name
from config.settings import AccessSettings, Settings
from storage.db import Database
from storage.people import AuditRepository, InvitationRepository, PeopleRepository
from storage.sites import SiteRepository
from storage.users import UserRepository

ADMIN = Caller(1, "老板", "zh-hans", frozenset({Role.ADMIN}))
MANAGER = Caller(2, "经理", "zh-hans", frozenset({Role.MANAGER}))
STAFF = Caller(3, "客服", "zh-hans", frozenset({Role.STAFF}))
NEWCOMER = Caller(10, "新人", "zh-hans", frozenset())


class World:
    def __init__(self, db: Database, clock: ManualClock, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.users = UserRepository(db)
        self.sites = SiteRepository(db)
        self.audit = Audit(AuditRepository(db), clock, UTC)
        repo = PeopleRepository(db)
        self.people = PeopleFlow(repo, InvitationRepository(db), self.sites, self.audit, settings, clock)
        self.site_admin = SitesFlow(repo, self.sites, self.audit, clock)

    def now(self) -> str:
        return iso(self.clock.now())

    async def person(self, caller: Caller, role: str | None = None, **scope: object) -> None:
        await self.users.touch(caller.user_id, caller.name, None, "zh-hans", self.now(), None)
        if role:
            await self.users.grant(caller.user_id, role, self.now(), **scope)  # type: ignore[arg-type]


@pytest.fixture
async def world(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    clock = ManualClock(datetime(2026, 5, 6, 1, 0, tzinfo=UTC))
    settings = Settings(admin_ids=frozenset({ADMIN.user_id}), access=AccessSettings(notify_admins_of_requests=True))
    w = World(db, clock, settings)
    w.east = await w.sites.add("阳光花园", w.now(), "华东")
    w.east2 = await w.sites.add("星河湾", w.now(), "华东")
    w.south = await w.sites.add("翠湖天地", w.now(), "华南")
    await w.person(ADMIN)
    await w.person(MANAGER, "manager", region="华东")
    await w.person(STAFF, "staff", site_id=w.east)
    await w.person(NEWCOMER)
    yield w
    await db.close()


async def test_invitation_codes_are_random_hashed_single_use_and_expire(world):
    first = await world.people.invite(ADMIN, Role.INSPECTOR, f"s{world.east}", "1:1")
    second = await world.people.invite(ADMIN, Role.INSPECTOR, f"s{world.east}", "1:2")
    assert first.code != second.code and len(first.code) == 32
    stored = await world.db.fetchall("SELECT code_hash FROM invitations")
    assert {r[0] for r in stored} == {code_hash(first.code), code_hash(second.code)}  # never the code itself
    assert first.expires_at == world.clock.now() + timedelta(days=7)

    accepted = await world.people.accept(NEWCOMER, "新人", first.code)
    assert accepted.role is Role.INSPECTOR and accepted.scope.site_id == world.east
    with pytest.raises(PeopleRefusedError) as used:
        await world.people.accept(NEWCOMER, "新人", first.code)
    assert used.value.reason is Denied.INVITE_USED
    world.clock.advance(timedelta(days=7))  # exactly at the expiry: no longer valid
    with pytest.raises(PeopleRefusedError) as expired:
        await world.people.accept(NEWCOMER, "新人", second.code)
    assert expired.value.reason is Denied.INVITE_EXPIRED
    for forged in ("", "short", "A" * 32, first.code + "x", "../../etc/passwd" * 3):
        with pytest.raises(PeopleRefusedError) as invalid:
            await world.people.accept(NEWCOMER, "新人", forged)
        assert invalid.value.reason is Denied.INVITE_INVALID
    grants = await world.db.fetchall("SELECT role, site_id FROM user_roles WHERE user_id = ?", (NEWCOMER.user_id,))
    assert [tuple(g) for g in grants] == [("inspector", world.east)]


async def test_two_people_opening_one_link_at_once_register_one(world):
    invitation = await world.people.invite(ADMIN, Role.STAFF, f"s{world.east}", None)
    other = Caller(11, "另一个", "zh-hans", frozenset())
    await world.person(other)
    results = await asyncio.gather(
        world.people.accept(NEWCOMER, "新人", invitation.code),
        world.people.accept(other, "另一个", invitation.code),
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, PeopleRefusedError)) == 1
    assert await world.db.fetchval("SELECT COUNT(*) FROM user_roles WHERE user_id IN (10, 11)") == 1


async def test_only_usable_invitations_are_listed_and_revocable(world):
    used = await world.people.invite(MANAGER, Role.STAFF, f"s{world.east}", None)
    await world.people.accept(NEWCOMER, "新人", used.code)
    await world.people.invite(MANAGER, Role.STAFF, f"s{world.east2}", None)
    world.clock.advance(timedelta(days=6))
    await world.people.invite(ADMIN, Role.INSPECTOR, f"s{world.south}", None)
    open_now = await world.people.open_invitations(ADMIN)
    assert [(i.scope.site_name, i.mine) for i in open_now] == [("星河湾", False), ("翠湖天地", True)]  # soonest first
    assert [i.scope.site_name for i in await world.people.open_invitations(MANAGER)] == ["星河湾"]
    world.clock.advance(timedelta(days=1))  # 星河湾's link expires
    assert await world.people.open_invitations(MANAGER) == []
    gone = await world.db.fetchval("SELECT id FROM invitations WHERE site_id = ?", (world.east2,))
    with pytest.raises(PeopleRefusedError) as closed:
        await world.people.revoke_invitation(MANAGER, gone)
    assert closed.value.reason is Denied.INVITATION_CLOSED
    south = open_now[1].id
    with pytest.raises(PeopleRefusedError) as not_theirs:
        await world.people.revoke_invitation(MANAGER, south)
    assert not_theirs.value.reason is Denied.NOT_ALLOWED
    with pytest.raises(PeopleRefusedError) as unknown:
        await world.people.revoke_invitation(ADMIN, 999)
    assert unknown.value.reason is Denied.STALE
    assert (await world.people.revoke_invitation(ADMIN, south)).scope.site_name == "翠湖天地"
    assert await world.people.open_invitations(ADMIN) == []


async def test_the_ttl_comes_from_the_settings(world):
    world.people.settings = replace(world.people.settings, access=AccessSettings(invite_ttl_days=2))
    invitation = await world.people.invite(ADMIN, Role.ADMIN, "-", None)
    assert invitation.expires_at == world.clock.now() + timedelta(days=2)


async def test_what_a_manager_may_grant(world):
    assert world.people.grantable_roles(MANAGER) == [Role.STAFF]
    assert world.people.grantable_roles(STAFF) == []
    options = await world.people.scope_options(MANAGER, Role.STAFF)
    assert [o.token for o in options] == [f"s{world.east2}", f"s{world.east}"]  # by name: 星河湾, 阳光花园
    admin_options = await world.people.scope_options(ADMIN, Role.MANAGER)
    assert [o.token for o in admin_options][:2] == ["*", f"r{world.east}"]
    with pytest.raises(PeopleRefusedError, match="not_allowed"):
        await world.people.scope_options(MANAGER, Role.INSPECTOR)
    with pytest.raises(PeopleRefusedError, match="not_allowed"):
        await world.people.resolve_scope(MANAGER, Role.STAFF, f"s{world.south}")
    with pytest.raises(PeopleRefusedError, match="stale"):
        await world.people.resolve_scope(MANAGER, Role.STAFF, "*")
    with pytest.raises(PeopleRefusedError, match="stale"):
        await world.people.resolve_scope(ADMIN, Role.STAFF, f"r{world.east}")  # staff belong to one site
    with pytest.raises(PeopleRefusedError, match="stale"):
        await world.people.resolve_scope(ADMIN, Role.INSPECTOR, "s999")
    scope = await world.people.resolve_scope(ADMIN, Role.INSPECTOR, f"r{world.east2}")
    assert scope.region == "华东" and scope.site_id is None


async def test_grant_revoke_and_their_audit(world):
    granted = await world.people.grant(MANAGER, STAFF.user_id, Role.STAFF, f"s{world.east2}")
    assert granted.added
    again = await world.people.grant(MANAGER, STAFF.user_id, Role.STAFF, f"s{world.east2}")
    assert not again.added
    with pytest.raises(PeopleRefusedError, match="no_person"):
        await world.people.grant(ADMIN, 999, Role.STAFF, f"s{world.east}")
    grant_id = await world.db.fetchval(
        "SELECT id FROM user_roles WHERE user_id = ? AND site_id = ?", (STAFF.user_id, world.east2)
    )
    revoked = await world.people.revoke(MANAGER, grant_id)
    assert revoked.site_name == "星河湾"
    with pytest.raises(PeopleRefusedError, match="stale"):
        await world.people.revoke(MANAGER, grant_id)
    manager_grant = await world.db.fetchval("SELECT id FROM user_roles WHERE user_id = ?", (MANAGER.user_id,))
    with pytest.raises(PeopleRefusedError, match="not_allowed"):
        await world.people.revoke(MANAGER, manager_grant)
    page = await world.audit.recent()
    assert [line.action for line in page.lines] == ["revoke", "grant"]
    assert page.lines[0].target_name == "客服" and page.lines[0].detail == {"role": "staff", "site": "星河湾"}


async def test_a_grant_needs_a_card_the_granter_may_see(world):
    """Managers grant only to people holding a role on a site they manage; admins to anyone known."""
    south_staff = Caller(4, "外区客服", "zh-hans", frozenset({Role.STAFF}))
    await world.person(south_staff, "staff", site_id=world.south)
    for target in (NEWCOMER.user_id, south_staff.user_id):
        with pytest.raises(PeopleRefusedError) as refused:
            await world.people.grant(MANAGER, target, Role.STAFF, f"s{world.east}")
        assert refused.value.reason is Denied.NOT_YOUR_PERSON
        with pytest.raises(PeopleRefusedError) as hidden:
            await world.people.card(MANAGER, target)
        assert hidden.value.reason is Denied.NOT_YOUR_PERSON  # the same rule as the card
        with pytest.raises(PeopleRefusedError) as early:
            await world.people.grant_target(MANAGER, target)
        assert early.value.reason is Denied.NOT_YOUR_PERSON
    with pytest.raises(PeopleRefusedError, match="no_person"):
        await world.people.grant(MANAGER, 999, Role.STAFF, f"s{world.east}")
    assert await world.db.fetchval("SELECT COUNT(*) FROM audit_log") == 0
    assert await world.db.fetchval("SELECT COUNT(*) FROM user_roles WHERE user_id IN (4, 10)") == 1
    assert (await world.people.grant(MANAGER, STAFF.user_id, Role.STAFF, f"s{world.east2}")).added
    assert (await world.people.grant(ADMIN, NEWCOMER.user_id, Role.STAFF, f"s{world.east}")).added
    assert (await world.people.grant_target(ADMIN, south_staff.user_id)).display_name == "外区客服"


async def test_deactivation_rules(world):
    with pytest.raises(PeopleRefusedError, match="self"):
        await world.people.set_active(ADMIN, ADMIN.user_id, False)
    deputy = Caller(4, "副管理员", "zh-hans", frozenset({Role.ADMIN}))
    with pytest.raises(PeopleRefusedError, match="config_admin"):
        await world.people.set_active(deputy, ADMIN.user_id, False)
    with pytest.raises(PeopleRefusedError, match="not_allowed"):
        await world.people.set_active(MANAGER, STAFF.user_id, False)
    await world.person(deputy, "admin")
    await world.people.invite(deputy, Role.ADMIN, "-", None)
    assert await world.people.set_active(ADMIN, deputy.user_id, False)
    assert not await world.people.set_active(ADMIN, deputy.user_id, False)
    # Their unused invitations die with them; their grants stay as history.
    assert await world.db.fetchval("SELECT COUNT(*) FROM invitations WHERE revoked_at IS NULL") == 0
    assert await world.db.fetchval("SELECT COUNT(*) FROM user_roles WHERE user_id = ?", (deputy.user_id,)) == 1
    them = await world.people.caller_of(deputy.user_id)
    assert them is not None and not them.registered


async def test_people_pages_filters_and_manager_views(world):
    for n in range(23):
        other = Caller(100 + n, f"人{n:02d}", "zh-hans", frozenset())
        await world.person(other, "staff", site_id=world.south if n % 2 else world.east)
    page = await world.people.people_page(ADMIN)
    assert page.total == 26 and page.pages == 3 and len(page.people) == 10  # 23 + manager + staff + admin
    last = await world.people.people_page(ADMIN, page=99)
    assert last.page == 2 and len(last.people) == 6
    east = await world.people.people_page(ADMIN, "staff", world.east)
    assert east.total == 13 and east.site_name == "阳光花园"
    managers = await world.people.people_page(ADMIN, "manager", world.east2)  # through the region
    assert [p.display_name for p in managers.people] == ["经理"]
    mine = await world.people.people_page(MANAGER)
    assert mine.total == 13  # staff of 阳光花园 only
    with pytest.raises(PeopleRefusedError, match="not_allowed"):
        await world.people.people_page(MANAGER, "-", world.south)
    with pytest.raises(PeopleRefusedError, match="not_allowed"):
        await world.people.people_page(STAFF)
    with pytest.raises(PeopleRefusedError, match="stale"):
        await world.people.people_page(ADMIN, "boss")
    found = await world.people.people_page(ADMIN, search="人0")
    assert found.total == 10
    assert (await world.people.people_page(ADMIN, search="%")).total == 0


async def test_access_requests_notify_once(world):
    assert await world.people.note_request(NEWCOMER)
    assert not await world.people.note_request(NEWCOMER)
    assert await world.people.admin_recipients() == [ADMIN.user_id]
    await world.people.grant(ADMIN, NEWCOMER.user_id, Role.STAFF, f"s{world.east}")
    assert await world.db.fetchval("SELECT status FROM access_requests") == "approved"
    assert await world.people.note_request(NEWCOMER)  # registered once, then lost the role: ask again
    await world.people.dismiss_request(ADMIN, NEWCOMER.user_id)
    assert not await world.people.note_request(NEWCOMER)
    with pytest.raises(PeopleRefusedError, match="request_handled"):
        await world.people.dismiss_request(ADMIN, NEWCOMER.user_id)


async def test_group_membership(world):
    chat = -1001
    assert await world.people.group_member(ADMIN, chat)
    assert not await world.people.group_member(STAFF, chat)  # not linked yet
    await world.site_admin.link_group(ADMIN, chat, "阳光群", world.east)
    assert await world.people.group_member(STAFF, chat)
    assert await world.people.group_member(MANAGER, chat)  # through the region
    assert not await world.people.group_member(NEWCOMER, chat)
    linked = await world.site_admin.link_group(ADMIN, chat, "阳光群", world.south)
    assert linked.previous is not None and linked.previous.id == world.east
    assert not await world.people.group_member(STAFF, chat)
    assert await world.site_admin.move_group(None, chat, -1002)
    assert (await world.site_admin.group_site(-1002)).id == world.south  # type: ignore[union-attr]


async def test_site_names_and_edits(world):
    assert clean_name("  阳光   花园 ") == "阳光 花园"
    for bad in ("", "   ", "/start", "x" * 65, "a\x00b"):
        with pytest.raises(PeopleRefusedError):
            clean_name(bad)
    with pytest.raises(PeopleRefusedError, match="name_taken"):
        await world.site_admin.add(ADMIN, "阳光花园", None)
    with pytest.raises(PeopleRefusedError, match="not_allowed"):
        await world.site_admin.add(MANAGER, "新项目", None)
    added = await world.site_admin.add(ADMIN, "新项目", "西北")
    with pytest.raises(PeopleRefusedError, match="name_taken"):
        await world.site_admin.rename(ADMIN, added.id, "星河湾")
    renamed = await world.site_admin.rename(ADMIN, added.id, "新项目二期")
    assert renamed.name == "新项目二期"
    archived = await world.site_admin.set_active(ADMIN, added.id, False)
    assert not archived.active
    assert [s.name for s in await world.site_admin.visible(MANAGER)] == ["星河湾", "阳光花园"]
    actions = [line.action for line in (await world.audit.recent()).lines]
    assert actions == [AuditAction.SITE_EDIT, AuditAction.SITE_EDIT, AuditAction.SITE_ADD]


async def test_audit_records_other_features_actions_and_pages(world):
    await world.audit.record(MANAGER.user_id, AuditAction.REOPEN, "inspection:5", {"reason": "补照片"})
    await world.audit.record(None, "delete", "photo:9", "plain text detail")
    for _ in range(20):
        await world.audit.record(ADMIN.user_id, AuditAction.GRANT, f"user:{NEWCOMER.user_id}", {"role": "staff"})
    first = await world.audit.recent()
    assert len(first.lines) == 15 and first.older is not None
    second = await world.audit.recent(first.older)
    assert [line.action for line in second.lines][-2:] == ["delete", "reopen"]
    assert second.older is None
    assert second.lines[-1].detail == {"reason": "补照片"} and second.lines[-1].actor_name == "经理"
    assert second.lines[-2].detail is None and second.lines[-2].detail_text == "plain text detail"


async def test_lists_are_cut_by_length_and_reach_everyone(world):
    for n in range(23):
        other = Caller(100 + n, f"人{n:02d}" + "长" * (n % 5) * 10, "zh-hans", frozenset())
        await world.person(other, "staff", site_id=world.east)

    def short_pages(page) -> bool:  # a "message" of at most 120 characters of names
        return sum(len(p.display_name) + 2 for p in page.people) <= 120

    seen, index, pages = [], 0, None
    while pages is None or index < pages:
        page = await world.people.people_page(ADMIN, page=index, fits=short_pages)
        assert short_pages(page) and page.page == index and 1 <= len(page.people) <= 10
        seen += [p.id for p in page.people]
        pages, index = page.pages, index + 1
    assert pages > 3 and len(seen) == len(set(seen)) == page.total == 26
    last = await world.people.people_page(ADMIN, page=99, fits=short_pages)
    assert last.page == pages - 1

    def two_sites(page) -> bool:
        return len(page.sites) <= 2

    first = await world.site_admin.page(ADMIN, 0, fits=two_sites)
    second = await world.site_admin.page(ADMIN, 1, fits=two_sites)
    assert (first.pages, len(first.sites), len(second.sites)) == (2, 2, 1)


async def test_a_long_audit_entry_is_shortened_and_older_ones_stay_reachable(world):
    await world.audit.record(ADMIN.user_id, AuditAction.REOPEN, "inspection:1", {"reason": "旧"})
    await world.audit.record(ADMIN.user_id, AuditAction.REOPEN, "inspection:2", {"reason": "长" * 3900})
    await world.audit.record(None, "delete", "photo:3", "很" * 3000)

    def fits(page) -> bool:  # the detail texts of a page: at most 2,500 characters
        return sum(len((line.detail or {}).get("reason", "") + (line.detail_text or "")) for line in page.lines) <= 2500

    first = await world.audit.recent(fits=fits)
    assert [line.target for line in first.lines] == ["photo:3"] and first.older is not None
    second = await world.audit.recent(first.older, fits=fits)
    reason = second.lines[0].detail["reason"]  # type: ignore[index]
    assert second.lines[0].target == "inspection:2" and reason.endswith("…") and len(reason) <= 2000
    third = await world.audit.recent(second.older, fits=fits)
    assert [line.target for line in third.lines] == ["inspection:1"] and third.older is None
    stored = await world.db.fetchval("SELECT detail FROM audit_log WHERE target = 'inspection:2'")
    assert len(stored) > 3900  # only the view is shortened


async def test_a_group_upgrade_moves_the_link_and_is_audited(world):
    await world.site_admin.link_group(ADMIN, -1001, "阳光群", world.east)
    assert await world.site_admin.move_group(STAFF.user_id, -1001, -1002)
    assert not await world.site_admin.move_group(STAFF.user_id, -1001, -1003)  # nothing linked there any more
    lines = (await world.audit.recent()).lines
    assert [(line.action, line.target, line.actor_id) for line in lines] == [
        (AuditAction.GROUP_MIGRATED, f"site:{world.east}", STAFF.user_id),
        (AuditAction.GROUP_LINK, f"site:{world.east}", ADMIN.user_id),
    ]
    assert lines[0].detail == {"site": "阳光花园", "group": "阳光群", "old_chat": -1001, "new_chat": -1002}


async def test_audit_times_show_the_year_in_the_configured_time_zone(world):
    from zoneinfo import ZoneInfo

    from bot.i18n import Texts

    audit = Audit(AuditRepository(world.db), world.clock, ZoneInfo("Asia/Shanghai"))
    world.clock.set(datetime(2025, 12, 31, 20, 5, tzinfo=UTC))
    await audit.record(ADMIN.user_id, AuditAction.REOPEN, "inspection:1", {"reason": "跨年"})
    page = await audit.recent()
    texts = Texts()
    for lang in ("zh-hans", "zh-hant", "en"):
        assert "2026-01-01 04:05 老板" in texts.render(lang, "people.audit", page=page, first=True), lang
