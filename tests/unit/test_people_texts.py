"""Every people/sites/import text renders in every language with the values the handlers pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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
from bot.flows.people.refusals import Denied, PeopleRefusedError
from bot.flows.people.sites import SitesPage
from bot.i18n import Texts
from config.settings import LANGUAGES
from storage.people import Grant, ImportCounts, Person, SiteRow

SITE = SiteRow(3, "阳光<花园>", "华东", -100, "业主群", True)
ARCHIVED = SiteRow(4, "翠湖天地", None, None, None, False)
GRANTS = (Grant(1, 5, "inspector", 3, "阳光<花园>", None), Grant(2, 5, "manager", None, None, "华东"))
PERSON = Person(5, "王五", "wang", True, False, None, "zh-hans", GRANTS)
OFF = Person(6, "", "li", False, True, None, None, ())
SCOPE = Scope(3, "阳光<花园>")
WHEN = datetime(2026, 5, 13, 9, 0, tzinfo=UTC)
OPEN = (
    OpenInvitation(4, Role.STAFF, SCOPE, "老板", True, WHEN),
    OpenInvitation(5, Role.MANAGER, Scope(region="华东"), "<b>经理</b>", False, WHEN),
)
AUDIT = AuditPage(
    (
        AuditLine(1, WHEN, 1, "老板", "grant", "user:5", "王五", {"role": "staff", "site": "A", "via": "import"}, None),
        AuditLine(2, WHEN, 1, None, "import", None, None, {"file": "a.csv", "grants_added": 3}, None),
        AuditLine(3, WHEN, 1, "老板", "site_edit", "site:3", "A", {"old_name": "B", "site": "A"}, None),
        AuditLine(4, WHEN, 1, "老板", "site_edit", "site:3", "A", {"site": "A", "region": ""}, None),
        AuditLine(5, WHEN, 1, "老板", "site_edit", "site:3", "A", {"site": "A", "active": False}, None),
        AuditLine(6, WHEN, 1, "老板", "group_link", "site:3", "A", {"site": "A", "group": "群"}, None),
        AuditLine(7, WHEN, 2, "经理", "reopen", "inspection:9", None, {"reason": "补拍"}, None),
        AuditLine(8, WHEN, None, None, "delete", "photo:1", None, None, "free text"),
        AuditLine(9, WHEN, 1, "老板", "invite", "invitation:4", None, {"role": "admin"}, None),
        AuditLine(11, WHEN, 1, "老板", "invite_revoked", "invitation:4", None, {"role": "staff", "site": "A"}, None),
        AuditLine(10, WHEN, 1, "老板", "something_new", None, None, {}, None),
        AuditLine(
            12,
            WHEN,
            1,
            "老板",
            "group_migrated",
            "site:3",
            "A",
            {"site": "A", "group": "群", "old_chat": -1, "new_chat": -100},
            None,
        ),
    ),
    3,
)
ERRORS = tuple(
    RowError("人员" if n % 2 else None, n, problem, "值")
    for n, problem in enumerate(
        [
            "no_columns",
            "empty",
            "too_many_rows",
            "unreadable",
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
        ]
    )
)

CASES: list[tuple[str, dict[str, object]]] = [
    ("group_not_member", {}),
    ("private_only", {}),
    ("pick_role", {"name": None}),
    ("pick_role", {"name": "王五"}),
    ("pick_scope", {"role": "staff", "page": 1, "pages": 2}),
    ("pick_scope", {"role": "manager", "page": 1, "pages": 1}),
    ("scope_button", {"scope": Scope()}),
    ("scope_button", {"scope": Scope(region="华东")}),
    ("scope_button", {"scope": SCOPE}),
    ("no_sites_yet", {}),
    ("invite_created", {"invitation": NewInvitation("c", Role.ADMIN, Scope(), WHEN)}),
    (
        "invite_forward",
        {
            "invitation": NewInvitation("c", Role.STAFF, SCOPE, WHEN),
            "link": "https://t.me/b?start=c",
            "inviter": "老板",
        },
    ),
    ("invite_open_button", {}),
    ("open_invitations", {"invitations": OPEN, "revoked": None, "shown": 20}),
    ("open_invitations", {"invitations": OPEN, "revoked": OPEN[0], "shown": 2}),
    ("open_invitations", {"invitations": [], "revoked": OPEN[1], "shown": 20}),
    ("btn_revoke_invite", {"index": 2, "invitation": OPEN[1]}),
    ("invite_revoked_toast", {}),
    ("invite_accepted", {"name": "王五", "role": "staff", "scope": SCOPE, "roles": ["inspector", "staff"]}),
    ("invite_used_notice", {"name": "王五", "user_id": 5, "role": "manager", "scope": Scope(region="华东")}),
    ("granted", {"granted": Granted(5, Role.INSPECTOR, Scope(), True), "name": "王五"}),
    ("granted", {"granted": Granted(5, Role.INSPECTOR, Scope(), False), "name": "王五"}),
    ("you_were_granted", {"role": "staff", "scope": SCOPE}),
    ("request_notice", {"name": "<b>路人</b>", "username": "x", "user_id": 7}),
    ("btn_approve", {}),
    ("btn_dismiss", {}),
    ("request_dismissed", {"name": "路人", "user_id": 7}),
    ("person_button", {"person": OFF}),
    ("btn_filter_site", {}),
    ("btn_clear_site", {}),
    ("btn_back_to_list", {}),
    ("list", {"page": PeoplePage((PERSON, OFF), "staff", 3, "A", 0, 2, 12, None, frozenset({6}))}),
    ("list", {"page": PeoplePage((), "-", 0, None, 0, 1, 0, "找", frozenset())}),
    ("list", {"page": PeoplePage((PERSON,), "off", 0, None, 0, 1, 30, "王", frozenset())}),
    ("pick_filter_site", {"count": 3}),
    (
        "card",
        {
            "card": PersonCard(PERSON, tuple(GrantLine(g, True) for g in GRANTS), True, True, True),
            "confirm": True,
        },
    ),
    ("card", {"card": PersonCard(OFF, (), False, False, False), "confirm": False}),
    ("btn_revoke", {"grant": GRANTS[1]}),
    ("revoked_toast", {"grant": GRANTS[0]}),
    ("role_usage", {}),
    ("deactivate_usage", {}),
    ("site_button", {"site": ARCHIVED}),
    ("sites", {"page": SitesPage((SITE, ARCHIVED), 0, 2, 12, True), "editing": False}),
    ("sites", {"page": SitesPage((), 0, 1, 0, False), "editing": False}),
    ("sites", {"page": SitesPage((SITE,), 0, 1, 1, True), "editing": True}),
    ("site_card", {"site": SITE}),
    ("site_card", {"site": ARCHIVED}),
    ("unlinked_toast", {"site": SITE}),
    ("no_site_match", {"query": "x"}),
    ("site_matches", {"query": "x", "count": 2}),
    ("ask_new_site_name", {}),
    ("ask_site_name", {"site": SITE}),
    ("ask_region", {"site": SITE}),
    ("ask_region", {"site": None, "name": "新项目"}),
    ("site_added", {"site": SITE}),
    ("link_pick", {"current": SITE, "page": 1, "pages": 2}),
    ("linked", {"site": SITE, "previous": ARCHIVED, "replaced": True}),
    ("unlinked", {"site": SITE}),
    ("linkgroup_in_private", {}),
    ("unlinkgroup_in_private", {}),
    ("import_prompt", {}),
    ("import_waiting", {}),
    ("import_wrong_type", {}),
    ("import_too_big", {"limit_mb": 5}),
    ("import_report", {"report": ImportReport("a.csv", ERRORS, None, 1, 2), "shown": ERRORS[:15]}),
    ("import_report", {"report": ImportReport("a.csv", (), ImportCounts(1, 2, 3, 4, 5), 1, 2), "shown": ()}),
    ("audit", {"page": AUDIT, "first": True}),
    ("audit", {"page": AuditPage((), None), "first": False}),
    ("btn_older", {}),
]
DETAILS = {"no_person": {"user_id": 5}, "name_taken": {"name": "A"}, "name_invalid": {"limit": 64}}


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_renders(texts, lang):
    for key, values in CASES:
        assert texts.render(lang, f"people.{key}", **values), key
    for reason in Denied:
        details = DETAILS.get(reason.value, {"limit": 32} if "invalid" in reason.value else {})
        if reason.value.startswith("invite_"):
            details = {"user_id": 5}
        assert texts.render(lang, PeopleRefusedError(reason).text_key, **details)
    for role_filter in ("-", "admin", "manager", "inspector", "staff", "off"):
        assert texts.render(lang, "people.filter_name", filter=role_filter)
    for name in ("btn_grant", "btn_deactivate", "btn_reactivate", "btn_confirm_deactivate", "btn_cancel"):
        assert texts.render(lang, f"people.{name}")
    for name in ("btn_rename", "btn_region", "btn_site_archive", "btn_site_restore", "btn_unlink_group"):
        assert texts.render(lang, f"people.{name}")
    for name in ("btn_back_to_sites", "btn_no_region", "site_saved_toast", "deactivated_toast"):
        assert texts.render(lang, f"people.{name}")
    for name in ("reactivated_toast", "unchanged_toast"):
        assert texts.render(lang, f"people.{name}")


def test_what_the_texts_say(texts):
    report = texts.render(
        "zh-hans", "people.import_report", report=ImportReport("a.csv", ERRORS, None, 1, 2), shown=ERRORS
    )
    assert "工作表“人员”第 1 行：没有数据行" in report and "• 第 2 行：行数太多，一次最多导入 值 行" in report
    assert "文件：没有可识别的表头" in report  # row 0: the file as a whole
    audit = texts.render("en", "people.audit", page=AUDIT, first=True)
    assert "老板 · granted a role · 王五 — site staff · A (import)" in audit
    assert "经理 · reopened an inspection · inspection #9 — 补拍" in audit
    assert "system · deleted · photo:1 — free text" in audit
    assert "something_new" in audit
    assert "2026-05-13 09:00 老板 · group upgraded to a supergroup · A — A · group: 群 (-1 → -100)" in audit
    migrated = texts.render("zh-hant", "people.audit", page=AUDIT, first=True)
    assert "2026-05-13 09:00 老板 · 羣升級為超級羣 · A — A · 羣：群（-1 → -100）" in migrated
    escaped = texts.render("zh-hant", "people.site_card", site=SITE)
    assert "阳光&lt;花园&gt;" in escaped


def test_open_invitations_say_whose_and_until_when(texts):
    listed = texts.render("zh-hans", "people.open_invitations", invitations=OPEN, revoked=None, shown=2)
    lines = listed.splitlines()
    assert lines[0] == "📨 仍有效的邀请链接（2 个，只列出最早到期的 2 个）："
    assert lines[1] == "1. 项目客服 · 阳光&lt;花园&gt; · 2026-05-13 09:00 前有效"  # mine: no inviter
    assert lines[2] == "2. 经理 · 华东（区域） · 2026-05-13 09:00 前有效 · &lt;b&gt;经理&lt;/b&gt; 生成"
    empty = texts.render("en", "people.open_invitations", invitations=[], revoked=OPEN[0], shown=20)
    assert empty.startswith("🚫 Invitation revoked: site staff · 阳光&lt;花园&gt;.") and "/invite " in empty
    audit = texts.render("en", "people.audit", page=AUDIT, first=True)
    assert "老板 · revoked an invitation · invitation #4" in audit
