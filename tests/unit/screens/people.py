"""Samples of every screen of ``bot/templates/people.j2``: for each macro, keyword arguments that render it.

``SAMPLES[name]`` lists one dict per case, covering the macro's main branches (with and without a region,
a group, a search, more than one page...), built from the types the handlers pass. Plain data for tests
that render every screen in every language.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.flows.access import Role
from bot.flows.people.audit import AuditLine, AuditPage
from bot.flows.people.importing import ImportReport, RowError
from bot.flows.people.manage import (
    Granted,
    GrantLine,
    NewInvitation,
    OpenInvitation,
    PeoplePage,
    PersonCard,
    Scope,
)
from bot.flows.people.sites import SitesPage
from storage.people import Grant, ImportCounts, Person, SiteRow

WHEN = datetime(2026, 5, 13, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

SUNSHINE = SiteRow(3, "阳光花园", "华东", -1001234, "阳光花园业主服务群", True)
LAKESIDE = SiteRow(4, "翠湖天地", None, None, None, False)
UNTITLED_GROUP = SiteRow(5, "锦绣华庭", "华南", -1005678, None, True)
NEW_SITE = SiteRow(6, "<新>港湾", None, None, None, True)

ALL_SITES = Scope()
EAST = Scope(region="华东")
AT_SUNSHINE = Scope(3, "阳光花园")

ADMIN_GRANT = Grant(1, 5, "admin", None, None, None)
INSPECTOR_GRANT = Grant(2, 5, "inspector", 3, "阳光花园", None)
MANAGER_GRANT = Grant(3, 5, "manager", None, None, "华东")
ALL_SITES_GRANT = Grant(4, 5, "inspector", None, None, None)
STAFF_GRANT = Grant(5, 5, "staff", 4, "翠湖天地", None)

ZHANG = Person(5, "张三", "zhangsan", True, False, "zh-hans", "zh", (INSPECTOR_GRANT, MANAGER_GRANT))
LI = Person(6, "李四", None, False, False, None, None, (STAFF_GRANT,))
WANG = Person(
    7,
    "王五",
    "wangwu",
    True,
    False,
    None,
    "en",
    (ADMIN_GRANT, INSPECTOR_GRANT, MANAGER_GRANT, ALL_SITES_GRANT, STAFF_GRANT),
)
ZHAO = Person(8, "", "zhaoliu", True, True, None, None, ())
BOSS = Person(9, "老板", None, True, False, None, None, ())

MINE = OpenInvitation(11, Role.STAFF, AT_SUNSHINE, "王五", True, WHEN)
THEIRS = OpenInvitation(12, Role.MANAGER, EAST, "<b>张三</b>", False, WHEN)
ADMIN_INVITATION = OpenInvitation(13, Role.ADMIN, ALL_SITES, "张三", False, WHEN)

ROW_ERRORS = (
    RowError(None, 0, "no_columns"),
    RowError("人员", 3, "bad_id", "12a"),
    RowError(None, 4, "unknown_site", "金色家园"),
)
PROBLEMS = (
    "no_columns",
    "empty",
    "too_many_rows",
    "unreadable",
    "too_big_unpacked",
    "too_many_columns",
    "cell_too_long",
    "formula",
    "control_chars",
    "row_incomplete",
    "site_name_too_long",
    "site_name_invalid",
    "region_too_long",
    "region_invalid",
    "site_region_conflict",
    "bad_id",
    "deactivated",
    "name_too_long",
    "missing_role",
    "bad_role",
    "admin_scope",
    "staff_needs_site",
    "site_inactive",
    "unknown_site",
    "unknown_region",
    "bad_frequency",
    "unknown_inspector",
    "something_new",
)
VALUES = {
    "bad_frequency": "每两周",
    "unknown_inspector": "123456",
    "too_many_rows": "2000",
    "too_big_unpacked": "20",
    "too_many_columns": "50",
    "cell_too_long": "500",
    "formula": "=SUM(A1)",
    "site_region_conflict": "阳光花园",
    "bad_id": "12a",
    "deactivated": "6",
    "bad_role": "保安",
    "site_inactive": "翠湖天地",
    "unknown_site": "金色家园",
    "unknown_region": "西北",
}
ALL_ROW_ERRORS = tuple(
    RowError("人员" if n % 2 else None, n, problem, VALUES.get(problem, "")) for n, problem in enumerate(PROBLEMS)
)

ACTIONS = (
    "grant",
    "revoke",
    "invite",
    "invite_accepted",
    "invite_revoked",
    "import",
    "plan.site",
    "plan.region",
    "plan.import",
    "plan.waive",
    "plan.watch_on",
    "plan.watch_off",
    "reopen",
    "delete",
    "deactivate",
    "reactivate",
    "site_add",
    "site_edit",
    "group_link",
    "group_unlink",
    "group_migrated",
    "request_dismissed",
    "action.created",
    "action.changed",
    "action.cancelled",
    "action.submitted",
    "action.closed",
    "action.returned",
    "action.reopened",
    "action.confirmed",
    "action.not_fixed",
    "action.recurred",
    "action.recheck_skipped",
    "action.extension_requested",
    "action.extended",
    "action.extension_refused",
    "something_new",
)
DETAILS: tuple[dict[str, object], ...] = (
    {"role": "staff", "site": "阳光花园", "via": "import"},
    {"role": "manager", "region": "华东"},
    {"role": "inspector"},
    {"role": "admin", "via": "import"},
    {"file": "人员.xlsx", "sites_added": 2, "sites_updated": 1, "people_added": 5, "grants_added": 7},
    {"file": "人员.csv", "sites_added": 1, "people_added": 1, "grants_added": 1},
    {"file": "空.csv"},
    {"old_name": "阳光小区", "site": "阳光花园"},
    {"site": "阳光花园", "group": "阳光花园业主服务群", "old_chat": -1234, "new_chat": -1001234},
    {"site": "阳光花园", "group": "阳光花园业主服务群"},
    {"site": "翠湖天地", "active": False},
    {"site": "翠湖天地", "active": True},
    {"site": "阳光花园", "region": "华东"},
    {"site": "阳光花园", "region": ""},
    {"site": "阳光花园"},
    {"reason": "照片拍错了，需要补拍"},
)
ACTION_DETAILS: tuple[dict[str, object], ...] = (
    {"site": "阳光花园", "round": 1},
    {"site": "阳光花园", "round": 2, "reason": "照片看不清<门禁>型号"},
    {"site": "阳光花园", "round": 1, "inspection": 42},
    {"site": "阳光花园", "round": 1, "reason": "材料还没到", "due": "2026-05-20"},
    {"site": "阳光花园", "round": 1, "old_due": "2026-05-13", "due": "2026-05-20"},
    {"round": 3, "note": "finding_removed"},
)
AUDIT_LINES = (
    AuditLine(1, WHEN, 9, "老板", "grant", "user:5", "张三", DETAILS[0], None),
    AuditLine(2, WHEN, 9, "老板", "import", None, None, DETAILS[4], None),
    AuditLine(3, WHEN, 9, "老板", "site_edit", "site:3", "阳光花园", DETAILS[7], None),
    AuditLine(4, WHEN, 9, "老板", "site_edit", "site:3", "阳光花园", DETAILS[13], None),
    AuditLine(5, WHEN, 9, "老板", "site_edit", "site:4", "翠湖天地", DETAILS[10], None),
    AuditLine(6, WHEN, 9, "老板", "group_link", "site:3", "阳光花园", DETAILS[9], None),
    AuditLine(7, WHEN, 5, "张三", "reopen", "inspection:42", None, DETAILS[15], None),
    AuditLine(8, WHEN, None, None, "delete", "photo:17", None, None, "照片 17"),
    AuditLine(9, WHEN, 9, "老板", "invite", "invitation:11", None, {"role": "admin"}, None),
    AuditLine(10, WHEN, 9, "老板", "invite_revoked", "invitation:12", None, DETAILS[1], None),
    AuditLine(11, WHEN, 12345, None, "deactivate", "user:6", None, None, None),
    AuditLine(12, WHEN, 9, "老板", "reactivate", "user:77", None, None, None),
    AuditLine(13, WHEN, 9, "老板", "group_migrated", "site:3", "阳光花园", DETAILS[8], None),
    AuditLine(14, WHEN, 9, "老板", "something_new", None, None, {}, None),
    AuditLine(15, WHEN, 4001, "前台小张", "action.submitted", "action:7", None, ACTION_DETAILS[0], None),
    AuditLine(16, WHEN, 3001, "王督导", "action.returned", "action:7", None, ACTION_DETAILS[1], None),
    AuditLine(17, WHEN, 6001, "李经理", "action.extended", "action:7", None, ACTION_DETAILS[4], None),
)

SAMPLES: dict[str, list[dict[str, object]]] = {
    "role_label": [{"r": role} for role in ("admin", "manager", "inspector", "staff")],
    "scope_label": [{"scope": ALL_SITES}, {"scope": EAST}, {"scope": AT_SUNSHINE}],
    "role_scope": [
        {"r": "admin", "scope": ALL_SITES},
        {"r": "manager", "scope": EAST},
        {"r": "inspector", "scope": ALL_SITES},
        {"r": "staff", "scope": AT_SUNSHINE},
    ],
    "grant_label": [
        {"grant": ADMIN_GRANT},
        {"grant": INSPECTOR_GRANT},
        {"grant": MANAGER_GRANT},
        {"grant": ALL_SITES_GRANT},
    ],
    "when": [{"moment": WHEN}],
    "group_not_member": [{}],
    "private_only": [{}],
    "refused_not_allowed": [{}],
    "refused_not_your_person": [{}],
    "refused_stale": [{}],
    "refused_no_person": [{"user_id": 123456789}],
    "refused_no_site": [{}],
    "refused_invite_invalid": [{"user_id": 123456789}],
    "refused_invite_used": [{"user_id": 123456789}],
    "refused_invite_expired": [{"user_id": 123456789}],
    "refused_invite_deactivated": [{"user_id": 123456789}],
    "refused_invitation_closed": [{}],
    "refused_already_created": [{}],
    "refused_self": [{}],
    "refused_config_admin": [{}],
    "refused_name_taken": [{"name": "阳光花园"}],
    "refused_name_invalid": [{"limit": 64}],
    "refused_region_invalid": [{"limit": 32}],
    "refused_group_not_linked": [{}],
    "refused_request_handled": [{}],
    "pick_role": [{"name": None}, {"name": "张三"}],
    "pick_scope": [
        {"role": "staff", "page": 1, "pages": 1},
        {"role": "staff", "page": 2, "pages": 3},
        {"role": "manager", "page": 1, "pages": 1},
        {"role": "inspector", "page": 1, "pages": 2},
    ],
    "scope_button": [{"scope": ALL_SITES}, {"scope": EAST}, {"scope": AT_SUNSHINE}],
    "no_sites_yet": [{}],
    "invite_created": [
        {"invitation": NewInvitation("c0de", Role.ADMIN, ALL_SITES, WHEN)},
        {"invitation": NewInvitation("c0de", Role.STAFF, AT_SUNSHINE, WHEN)},
    ],
    "invite_forward": [
        {
            "invitation": NewInvitation("c0de", Role.STAFF, AT_SUNSHINE, WHEN),
            "link": "https://t.me/dudao_bot?start=c0de",
            "inviter": "老板",
        },
        {
            "invitation": NewInvitation("c0de", Role.MANAGER, EAST, WHEN),
            "link": "https://t.me/dudao_bot?start=c0de",
            "inviter": "<张三>",
        },
    ],
    "open_invitations": [
        {"invitations": (MINE, THEIRS), "revoked": None, "shown": 20},
        {"invitations": (MINE, THEIRS), "revoked": ADMIN_INVITATION, "shown": 2},
        {"invitations": (ADMIN_INVITATION,), "revoked": None, "shown": 20},
        {"invitations": (), "revoked": THEIRS, "shown": 20},
        {"invitations": (), "revoked": None, "shown": 20},
    ],
    "btn_revoke_invite": [{"index": 1, "invitation": MINE}, {"index": 2, "invitation": ADMIN_INVITATION}],
    "invite_revoked_toast": [{}],
    "invite_open_button": [{}],
    "invite_accepted": [
        {"name": "张三", "role": "staff", "scope": AT_SUNSHINE, "roles": ["staff"]},
        {"name": "张三", "role": "manager", "scope": EAST, "roles": ["inspector", "manager", "staff"]},
    ],
    "invite_used_notice": [
        {"name": "张三", "user_id": 5, "role": "manager", "scope": EAST},
        {"name": "张三", "user_id": 5, "role": "admin", "scope": ALL_SITES},
    ],
    "granted": [
        {"granted": Granted(5, Role.INSPECTOR, ALL_SITES, True), "name": "张三"},
        {"granted": Granted(5, Role.STAFF, AT_SUNSHINE, False), "name": "张三"},
        {"granted": Granted(5, Role.ADMIN, ALL_SITES, True), "name": "<b>张三</b>"},
    ],
    "you_were_granted": [{"role": "staff", "scope": AT_SUNSHINE}, {"role": "admin", "scope": ALL_SITES}],
    "request_notice": [
        {"name": "路人甲", "username": "passerby", "user_id": 777},
        {"name": "<b>路人乙</b>", "username": None, "user_id": 778},
    ],
    "btn_approve": [{}],
    "btn_dismiss": [{}],
    "request_dismissed": [{"name": "路人甲", "user_id": 777}],
    "filter_name": [{"filter": f} for f in ("-", "admin", "manager", "inspector", "staff", "off")],
    "person_button": [{"person": ZHANG}, {"person": LI}, {"person": ZHAO}],
    "btn_filter_site": [{}],
    "btn_clear_site": [{}],
    "btn_back_to_list": [{}],
    "list": [
        {"page": PeoplePage((ZHANG, LI, WANG, ZHAO), "-", 0, None, 0, 1, 4, None, frozenset())},
        {"page": PeoplePage((ZHANG, LI, BOSS), "staff", 3, "阳光花园", 1, 3, 25, None, frozenset({9}))},
        {"page": PeoplePage((WANG, BOSS), "admin", 0, None, 0, 1, 2, None, frozenset({7, 9}))},
        {"page": PeoplePage((), "-", 0, None, 0, 1, 0, "赵", frozenset())},
        {"page": PeoplePage((ZHANG, WANG), "off", 0, None, 0, 2, 30, "张", frozenset())},
        {"page": PeoplePage((ZHANG,), "-", 0, None, 0, 1, 2, "张", frozenset())},
        {"page": PeoplePage((), "inspector", 4, "翠湖天地", 0, 1, 0, None, frozenset())},
    ],
    "pick_filter_site": [{"count": 1}, {"count": 3}],
    "card": [
        {"card": PersonCard(ZHANG, tuple(GrantLine(g, True) for g in ZHANG.grants), True, True, True), "confirm": True},
        {"card": PersonCard(LI, (GrantLine(STAFF_GRANT, False),), False, False, True), "confirm": False},
        {"card": PersonCard(ZHAO, (), False, True, True), "confirm": False},
        {"card": PersonCard(BOSS, (), True, False, False), "confirm": False},
    ],
    "btn_revoke": [{"grant": MANAGER_GRANT}, {"grant": ADMIN_GRANT}, {"grant": ALL_SITES_GRANT}],
    "btn_grant": [{}],
    "btn_deactivate": [{}],
    "btn_reactivate": [{}],
    "btn_confirm_deactivate": [{}],
    "btn_cancel": [{}],
    "revoked_toast": [{"grant": INSPECTOR_GRANT}, {"grant": ADMIN_GRANT}],
    "deactivated_toast": [{}],
    "reactivated_toast": [{}],
    "unchanged_toast": [{}],
    "role_usage": [{}],
    "deactivate_usage": [{}],
    "site_button": [{"site": SUNSHINE}, {"site": LAKESIDE}],
    "sites": [
        {"page": SitesPage((SUNSHINE, LAKESIDE, UNTITLED_GROUP), 0, 1, 3, True), "editing": False},
        {"page": SitesPage((SUNSHINE, LAKESIDE), 1, 3, 25, True), "editing": True},
        {"page": SitesPage((SUNSHINE,), 0, 1, 1, False), "editing": False},
        {"page": SitesPage((), 0, 1, 0, True), "editing": False},
        {"page": SitesPage((), 0, 1, 0, False), "editing": False},
    ],
    "site_card": [{"site": SUNSHINE}, {"site": LAKESIDE}, {"site": UNTITLED_GROUP}, {"site": NEW_SITE}],
    "btn_rename": [{}],
    "btn_region": [{}],
    "btn_site_archive": [{}],
    "btn_site_restore": [{}],
    "btn_unlink_group": [{}],
    "btn_back_to_sites": [{}],
    "btn_no_region": [{}],
    "site_saved_toast": [{}],
    "unlinked_toast": [{"site": SUNSHINE}],
    "no_site_match": [{"query": "金色"}],
    "site_matches": [{"query": "花园", "count": 1}, {"query": "花园", "count": 3}],
    "ask_new_site_name": [{}],
    "ask_site_name": [{"site": SUNSHINE}],
    "ask_region": [{"site": SUNSHINE}, {"site": None, "name": "金色家园"}],
    "site_added": [{"site": SUNSHINE}, {"site": NEW_SITE}],
    "link_pick": [
        {"current": None, "page": 1, "pages": 1},
        {"current": None, "page": 2, "pages": 3},
        {"current": SUNSHINE, "page": 1, "pages": 1},
        {"current": SUNSHINE, "page": 1, "pages": 2},
    ],
    "linked": [
        {"site": SUNSHINE, "previous": None, "replaced": False},
        {"site": SUNSHINE, "previous": LAKESIDE, "replaced": False},
        {"site": SUNSHINE, "previous": None, "replaced": True},
        {"site": SUNSHINE, "previous": LAKESIDE, "replaced": True},
    ],
    "unlinked": [{"site": SUNSHINE}],
    "linkgroup_in_private": [{}],
    "unlinkgroup_in_private": [{}],
    "import_prompt": [{}],
    "import_waiting": [{}],
    "import_wrong_type": [{}],
    "import_too_big": [{"limit_mb": 5}],
    "where": [{"error": error} for error in ROW_ERRORS],
    "import_problem": [{"error": error} for error in ALL_ROW_ERRORS],
    "import_report": [
        {"report": ImportReport("人员.xlsx", (), ImportCounts(2, 1, 5, 7, 3), 3, 7), "shown": ()},
        {"report": ImportReport("人员.csv", (), ImportCounts(1, 1, 1, 1, 0), 1, 1), "shown": ()},
        {"report": ImportReport("项目.csv", (), ImportCounts(1, 1, 1, 1, 0, 2), 1, 1), "shown": ()},
        {"report": ImportReport("空.csv", (), ImportCounts(0, 0, 0, 0, 0), 0, 0), "shown": ()},
        {"report": ImportReport("人员.xlsx", ROW_ERRORS[1:2], None, 0, 3), "shown": ROW_ERRORS[1:2]},
        {"report": ImportReport("人员.xlsx", ALL_ROW_ERRORS, None, 4, 20), "shown": ALL_ROW_ERRORS[:15]},
    ],
    "audit_action": [{"action": action} for action in ACTIONS],
    "audit_target": [{"line": line} for line in AUDIT_LINES if line.target],
    "audit_detail": [{"d": detail} for detail in DETAILS + ACTION_DETAILS],
    "action_detail": [{"d": detail} for detail in ACTION_DETAILS],
    "audit": [
        {"page": AuditPage(AUDIT_LINES, 3), "first": True},
        {"page": AuditPage(AUDIT_LINES[:3], None), "first": False},
        {"page": AuditPage((), None), "first": True},
    ],
    "btn_older": [{}],
}
