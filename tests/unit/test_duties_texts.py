"""Every duty text renders in every language, as HTML Telegram accepts, within Telegram's limits."""

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.flows.actions.notices import ActionMessage
from bot.flows.duties.answers import Board, BoardCell, BoardRow, Evidence, Filed
from bot.flows.duties.views import (
    Alert,
    AlertKind,
    ClauseBook,
    Digest,
    DutyClauseStatus,
    DutyStatus,
    DutyView,
    Notice,
    NoticeKind,
    Responsible,
)
from bot.flows.schedule import Period, calendar_period, covered_period
from bot.i18n import Texts
from config.duties import SHIPPED_RULES, Cadence
from config.settings import LANGUAGES
from storage.duties import EvidenceRow
from tests.harness.entities import parse_formatted_text
from tests.unit.screens.actions import NOTICE_LINES, RESULT_LINES

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = {rule.id: rule for rule in SHIPPED_RULES}
DONE_AT = datetime(2026, 4, 3, 14, 5, tzinfo=SHANGHAI)
PERIODS = [
    calendar_period(Cadence.QUARTERLY, date(2026, 4, 1)),
    calendar_period(Cadence.MONTHLY, date(2026, 12, 1)),
    calendar_period(Cadence.HALF_YEARLY, date(2026, 8, 1)),
    calendar_period(Cadence.YEARLY, date(2026, 8, 1)),
    Period("2026-04-06", Cadence.CRON, date(2026, 4, 6), date(2026, 4, 13)),
]


def view(status: DutyStatus, period: Period = PERIODS[0], **changes) -> DutyView:
    base = DutyView(
        id=7,
        rule=RULES["complaint_report"],
        site_id=1,
        site_name="阳光<花园>",  # escaped, not taken for markup
        period=period,
        status=status,
        remind_date=date(2026, 4, 1),
        due_date=date(2026, 4, 15),
        overdue_days=5 if status in (DutyStatus.OVERDUE, DutyStatus.ESCALATED) else 0,
        done_at=DONE_AT if status in (DutyStatus.DONE, DutyStatus.NA) else None,
        done_by_name="小李" if status in (DutyStatus.DONE, DutyStatus.NA) else None,
        note="一季度 & 二季度" if status is DutyStatus.DONE else None,
        na_reason="无客服中心" if status is DutyStatus.NA else None,
        evidence_count=2 if status is DutyStatus.DONE else 0,
        rounds=3,
        covered=covered_period(RULES["complaint_report"], period),
        clauses=ClauseBook().refs(RULES["complaint_report"]),
        escalate_date=date(2026, 4, 20),
    )
    return replace(base, **changes)


PEOPLE = (Responsible(51, "小李", False), Responsible(52, "小王<b>", True))


def digest(part: int = 1, parts: int = 1, resent: bool = False, lang: str = "en") -> Notice:
    escalated = view(DutyStatus.ESCALATED)
    facts = Digest(
        date(2026, 4, 20),
        part,
        parts,
        escalations=(
            Alert(AlertKind.ESCALATION, escalated, PEOPLE, more=3, deliveries=1, group_linked=True),
            Alert(AlertKind.ESCALATION, escalated),
        ),
        nobody=(Alert(AlertKind.NOBODY, escalated, PEOPLE[1:]),),
        unreachable=(
            *(
                Alert(AlertKind.UNREACHABLE, escalated, PEOPLE, about=PEOPLE[1], reason=reason)
                for reason in ("blocked", "not_started", "failed")
            ),
            Alert(AlertKind.UNREACHABLE, escalated, about_group=True, reason="removed"),
        ),
    )
    return Notice(NoticeKind.DIGEST, 2, lang, digest=facts, resent=resent)


def samples():
    statuses = [DutyStatus.OPEN, DutyStatus.OVERDUE, DutyStatus.ESCALATED, DutyStatus.DONE, DutyStatus.NA]
    views = [view(s, p) for s in statuses for p in PERIODS]
    for duty in views:
        yield "reminder", {"notice": Notice(NoticeKind.REMINDER, 1, "zh-hans", duty, round=1)}
        yield "reminder", {"notice": Notice(NoticeKind.REMINDER, -5, "zh-hans", duty, to_group=True, round=2)}
        yield "task_card", {"duty": duty}
        yield "overdue_line", {"duty": duty}
        yield "upload_prompt", {"duty": duty}
        yield "note_saved", {"duty": duty}
        yield "ask_reason", {"duty": duty}
        yield "snoozed", {"duty": duty, "until": DONE_AT}
        yield "btn_pick", {"duty": duty, "with_site": duty.status is DutyStatus.OPEN}
    yield "digest", {"notice": digest()}
    yield "digest", {"notice": digest(2, 3, resent=True)}
    done, na = view(DutyStatus.DONE), view(DutyStatus.NA)
    for closed in (done, na):
        yield "already_closed", {"duty": closed}
        yield "refused_closed", {"duty": closed}
    yield "done", {"duty": done}
    yield "marked_na", {"duty": na}
    for added, count in ((True, 1), (True, 3), (False, 0)):
        yield "file_saved", {"duty": done, "added": added, "count": count}
    for files, added in ((1, 1), (3, 2)):
        yield "filed", {"filed": Filed(view(DutyStatus.OPEN), files, added)}
    for count in (1, 4):
        yield "which_duty", {"count": count, "duties": 3}
    yield "batch_gone", {}
    yield "file_no_duty", {}
    yield "tasks_header", {"count": 1, "shown": 1}
    yield "tasks_header", {"count": 12, "shown": 10}
    yield "overdue_header", {"count": 3}
    yield "board_usage", {"example": "2026-Q4"}
    yield "btn_view_evidence", {"count": 2}
    yield "refused_too_big", {"limit_mb": 10}
    for name in ("no_tasks", "no_overdue", "no_sites", "no_rules", "done_toast", "btn_done", "btn_snooze"):
        yield name, {}
    for name in ("btn_na", "btn_confirm", "refused_not_found", "refused_not_yours", "refused_no_evidence"):
        yield name, {}
    yield "refused_not_allowed", {}
    file = EvidenceRow(1, 7, "document", "f", "u", "a.pdf", "application/pdf", 10, None, "2026-04-03T06:05:00+00:00")
    yield "evidence_header", {"evidence": Evidence(done, (file,))}
    yield "evidence_header", {"evidence": Evidence(view(DutyStatus.OPEN), ())}
    cells = (
        BoardCell(RULES["complaint_report"], DutyStatus.DONE, (done,), None),
        BoardCell(RULES["demand_statistics"], DutyStatus.OVERDUE, (view(DutyStatus.OVERDUE),), None),
        BoardCell(RULES["satisfaction_survey"], DutyStatus.UPCOMING, (), DONE_AT),
        BoardCell(RULES["meetings_training"], DutyStatus.OPEN, (done, view(DutyStatus.OPEN)), None),
        BoardCell(RULES["policy_review"], DutyStatus.MISSING, (), None),
        BoardCell(RULES["business_summary"], DutyStatus.NA, (na,), None),
        BoardCell(RULES["vacant_unit_patrol"], DutyStatus.OPEN, (view(DutyStatus.OPEN),), None),
    )
    board = Board(PERIODS[0], tuple(c.rule for c in cells), (BoardRow(1, "阳光<花园>", cells),))
    yield "board_header", {"board": board}
    yield "board_site", {"row": board.rows[0]}
    for status in DutyStatus:
        clause = DutyClauseStatus(
            duty_id=7 if status not in (DutyStatus.UPCOMING, DutyStatus.MISSING) else None,
            rule_id="complaint_report",
            title_zh=RULES["complaint_report"].title_zh,
            title_en=RULES["complaint_report"].title_en,
            clause_code="二(一)4",
            period=PERIODS[0],
            status=status,
            due_date=date(2026, 4, 15) if status.is_open else None,
            done_at=DONE_AT if status in (DutyStatus.DONE, DutyStatus.NA) else None,
            done_by="小李" if status is DutyStatus.DONE else None,
            evidence_count=2 if status is DutyStatus.DONE else 0,
            na_reason="无客服中心" if status is DutyStatus.NA else None,
        )
        yield "clause_status", {"status": clause}


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_duty_text_renders_as_valid_html(texts, lang):
    for name, values in samples():
        text = texts.render(lang, f"duties.{name}", **values)
        assert text, name
        plain, _ = parse_formatted_text(text, "HTML")
        assert len(plain) < 4096, name
        assert "<花园>" not in text or "&lt;" in text, name
        assert "{{" not in text and "None" not in plain, (name, plain)
        if name.startswith(("btn_", "done_toast", "refused_", "already_closed", "batch_gone")):
            assert len(plain) <= 200, name  # button labels and callback answers are short


def test_reminder_reads_well_in_each_language(texts):
    notice = Notice(NoticeKind.REMINDER, 1, "zh-hans", view(DutyStatus.OVERDUE), round=2)
    zh = texts.render("zh-hans", "duties.reminder", notice=notice)
    # A Q2 duty of 上季度…报告 is about Q1.
    assert "再次提醒" in zh and "2026年第1季度" in zh and "4月15日（周三）" in zh and "已逾期 5 天" in zh
    hant = texts.render("zh-hant", "duties.reminder", notice=notice)
    assert "上季度客戶投訴彙總分析報告" in hant or "上季度客戶投訴匯總分析報告" in hant
    en = texts.render("en", "duties.reminder", notice=notice)
    assert "Q1 2026" in en and "Wed 15 Apr" in en and "5 days overdue" in en


@pytest.mark.parametrize("kind", [kind for kind in NoticeKind if kind.template.startswith("duties.")])
def test_a_message_sent_again_after_a_crash_says_so_at_its_end(texts, kind):
    for lang, marker in (("zh-hans", "请忽略本条"), ("zh-hant", "請忽略本條"), ("en", "please ignore this copy")):
        if kind is NoticeKind.DIGEST:
            first = digest(lang=lang)
        elif kind.value.startswith("action_"):  # corrective actions' messages, through the same outbox
            lines = RESULT_LINES if kind is NoticeKind.ACTION_RESULT else NOTICE_LINES
            first = Notice(kind, 2, lang, actions=ActionMessage(lines, 0, 7, date(2026, 4, 1)))
        else:
            first = Notice(kind, 2, lang, view(DutyStatus.ESCALATED))
        again = replace(first, resent=True)
        assert marker not in texts.render(lang, kind.template, notice=first)
        text = texts.render(lang, kind.template, notice=again)
        assert text.endswith(texts.render(lang, "duties.resent_note")) and marker in text
        assert "\n\n\n" not in text


def test_a_report_on_last_quarter_names_the_quarter_it_covers_and_the_clause(texts):
    """上季度…报告 asked for in Q4 is about Q3; the reminder quotes the clause, not only its code."""
    q4 = calendar_period(Cadence.QUARTERLY, date(2026, 10, 1))
    notice = Notice(NoticeKind.REMINDER, 1, "zh-hans", view(DutyStatus.OPEN, q4), round=1)
    zh = texts.render("zh-hans", "duties.reminder", notice=notice)
    assert "上季度客户投诉汇总分析报告</b>（2026年第3季度）" in zh and "第4季度" not in zh
    assert "二(一)4「每个季度对客户投诉情况进行汇总分析，形成分析报告」" in zh
    assert "通报经理" not in zh  # the first reminder: the follow-ups say when managers are told
    en = texts.render("en", "duties.reminder", notice=Notice(NoticeKind.REMINDER, 1, "en", view(DutyStatus.OPEN, q4)))
    assert "(Q3 2026)" in en and "Q4" not in en
    # A rule about its own period keeps it.
    survey = view(DutyStatus.OPEN, q4, rule=RULES["satisfaction_survey"])
    survey = replace(survey, covered=covered_period(survey.rule, q4), clauses=ClauseBook().refs(survey.rule))
    text = texts.render("zh-hans", "duties.task_card", duty=survey)
    assert "（2026年第4季度）" in text and "二(二)1「" in text and "；二(二)3「" in text


def test_a_follow_up_says_when_the_managers_will_be_told(texts):
    follow_up = Notice(NoticeKind.REMINDER, 1, "zh-hans", view(DutyStatus.OVERDUE), round=3)
    assert "4月20日（周一）将通报经理" in texts.render("zh-hans", "duties.reminder", notice=follow_up)
    told = replace(follow_up, duty=view(DutyStatus.ESCALATED))
    assert "已通报经理" in texts.render("zh-hans", "duties.reminder", notice=told)
    en = texts.render("en", "duties.reminder", notice=replace(follow_up, lang="en"))
    assert "the managers are told on Mon 20 Apr" in en


def test_the_digest_names_people_with_a_link_and_counts_deliveries(texts):
    for lang in LANGUAGES:
        text = texts.render(lang, "duties.digest", notice=digest(lang=lang))
        _, entities = parse_formatted_text(text, "HTML")
        mentions = [e["user"]["id"] for e in entities if e["type"] == "text_mention"]
        assert 51 in mentions and 52 in mentions, lang
        assert "小王&lt;b&gt;" in text  # a name is text, never markup
    zh = texts.render("zh-hans", "duties.digest", notice=digest(lang="zh-hans"))
    assert "提醒已送达 1 次" in zh and "提醒一次也没有送达" in zh and "等 5 人" in zh
    assert "（已屏蔽机器人）" in zh and "（从未打开与机器人的对话）" in zh and "项目群" in zh
    assert "没有人能收到提醒（1 项）" in zh and "逾期未完成（2 项）" in zh
    assert "　2/3" in texts.render("zh-hans", "duties.digest", notice=digest(2, 3, lang="zh-hans"))
