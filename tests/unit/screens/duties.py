"""Samples of every screen of ``bot/templates/duties.j2`` (periodic duties): for each macro, keyword
arguments that render it, covering its main branches. Plain data for the screen tests."""

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.flows.duties.answers import Board, BoardCell, BoardRow, Evidence, Filed
from bot.flows.duties.views import (
    Alert,
    AlertKind,
    ClauseRef,
    Digest,
    DutyClauseStatus,
    DutyStatus,
    DutyView,
    Notice,
    NoticeKind,
    Responsible,
)
from bot.flows.schedule import Period, calendar_period, covered_period
from config.duties import SHIPPED_RULES, Cadence
from storage.duties import EvidenceRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = {rule.id: rule for rule in SHIPPED_RULES}
COMPLAINTS = RULES["complaint_report"]  # quarterly, about the quarter before
SURVEY = RULES["satisfaction_survey"]  # quarterly, two clauses
MEETINGS = RULES["meetings_training"]  # monthly
POLICIES = RULES["policy_review"]  # half-yearly
PATROL = RULES["vacant_unit_patrol"]  # cron: a week
DONE_AT = datetime(2026, 4, 3, 14, 5, tzinfo=SHANGHAI)

Q2 = calendar_period(Cadence.QUARTERLY, date(2026, 4, 1))
DECEMBER = calendar_period(Cadence.MONTHLY, date(2026, 12, 1))
H1 = calendar_period(Cadence.HALF_YEARLY, date(2026, 3, 1))
H2 = calendar_period(Cadence.HALF_YEARLY, date(2026, 8, 1))
YEAR = calendar_period(Cadence.YEARLY, date(2026, 8, 1))
WEEK = Period("2026-04-06", Cadence.CRON, date(2026, 4, 6), date(2026, 4, 13))

CLAUSES = (
    ClauseRef("二(一)4", "每个季度对客户投诉情况进行汇总分析，形成分析报告"),
    ClauseRef("二(一)5", None),  # a code the rubric does not know: shown alone
)

OPEN = DutyView(
    id=7,
    rule=COMPLAINTS,
    site_id=1,
    site_name="阳光花园",
    period=Q2,
    status=DutyStatus.OPEN,
    remind_date=date(2026, 4, 1),
    due_date=date(2026, 4, 15),
    overdue_days=0,
    done_at=None,
    done_by_name=None,
    note=None,
    na_reason=None,
    evidence_count=0,
    rounds=1,
    covered=covered_period(COMPLAINTS, Q2),
    clauses=CLAUSES,
    escalate_date=date(2026, 4, 20),
)
OPEN_WITH_FILES = replace(OPEN, evidence_count=3)
OVERDUE = replace(OPEN, status=DutyStatus.OVERDUE, overdue_days=5, rounds=2)
OVERDUE_ONE_DAY = replace(OVERDUE, overdue_days=1, evidence_count=1)
ESCALATED = replace(OPEN, status=DutyStatus.ESCALATED, overdue_days=8, rounds=3)
DONE = replace(
    OPEN,
    status=DutyStatus.DONE,
    done_at=DONE_AT,
    done_by_name="张三",
    note="一季度共收到投诉 12 件，均已回访",
    evidence_count=2,
)
DONE_ONE_FILE = replace(DONE, evidence_count=1, note=None)
NA = replace(OPEN, status=DutyStatus.NA, done_at=DONE_AT, done_by_name="张三", na_reason="本项目没有客服中心")
MONTHLY = replace(OPEN, rule=MEETINGS, period=DECEMBER, covered=None, clauses=())
HALF_YEARLY = replace(OPEN, rule=POLICIES, period=H2, covered=None, clauses=())
WEEKLY = replace(OVERDUE, rule=PATROL, site_name="翠湖苑", period=WEEK, covered=None, clauses=())

LI_SI = Responsible(51, "李四", False)
WANG_WU = Responsible(52, "王五", True)  # never opened the chat with the bot
DIGEST = Digest(
    date(2026, 4, 20),
    1,
    1,
    escalations=(
        Alert(AlertKind.ESCALATION, ESCALATED, (LI_SI, WANG_WU), more=3, deliveries=2, group_linked=True),
        Alert(AlertKind.ESCALATION, replace(ESCALATED, overdue_days=1), (LI_SI,)),
    ),
    nobody=(Alert(AlertKind.NOBODY, OVERDUE, (WANG_WU,)),),
    unreachable=(
        Alert(AlertKind.UNREACHABLE, OVERDUE, (LI_SI, WANG_WU), about=WANG_WU, reason="not_started"),
        Alert(AlertKind.UNREACHABLE, OVERDUE, about_group=True, reason="removed"),
    ),
)
DIGEST_ESCALATIONS_ONLY = Digest(date(2026, 4, 21), 2, 3, escalations=DIGEST.escalations)

FILE = EvidenceRow(
    1, 7, "document", "f1", "u1", "投诉汇总.pdf", "application/pdf", 20480, None, "2026-04-03T06:05:00+00:00"
)
PHOTO = EvidenceRow(2, 7, "photo", "f2", "u2", None, "image/jpeg", 10240, "回访记录", "2026-04-03T06:06:00+00:00")

CELLS = (
    BoardCell(COMPLAINTS, DutyStatus.DONE, (DONE,), None),
    BoardCell(
        RULES["demand_statistics"], DutyStatus.OVERDUE, (replace(OVERDUE, rule=RULES["demand_statistics"]),), None
    ),
    BoardCell(SURVEY, DutyStatus.UPCOMING, (), DONE_AT),
    BoardCell(MEETINGS, DutyStatus.OPEN, (replace(DONE, rule=MEETINGS), replace(MONTHLY, id=8)), None),
    BoardCell(POLICIES, DutyStatus.MISSING, (), None),
    BoardCell(RULES["business_summary"], DutyStatus.NA, (replace(NA, rule=RULES["business_summary"]),), None),
    BoardCell(PATROL, DutyStatus.OPEN, (replace(OPEN, rule=PATROL, period=WEEK, covered=None),), None),
)
ROW = BoardRow(1, "阳光花园", CELLS)
BOARD = Board(Q2, tuple(cell.rule for cell in CELLS), (ROW, BoardRow(2, "翠湖苑", CELLS[:2])))

CLAUSE_STATUS = DutyClauseStatus(
    duty_id=7,
    rule_id="complaint_report",
    title_zh=COMPLAINTS.title_zh,
    title_en=COMPLAINTS.title_en,
    clause_code="二(一)4",
    period=Q2,
    status=DutyStatus.OPEN,
    due_date=date(2026, 4, 15),
    done_at=None,
    done_by=None,
    evidence_count=0,
    na_reason=None,
    covered=covered_period(COMPLAINTS, Q2),
)

SAMPLES: dict[str, list[dict]] = {
    "title": [{"item": COMPLAINTS}, {"item": CLAUSE_STATUS}],
    "clauses": [{"rule": SURVEY}, {"rule": COMPLAINTS}],
    "clause_texts": [{"d": OPEN}, {"d": MONTHLY}],
    "what": [{"d": OPEN}, {"d": MONTHLY}],
    "person": [{"p": LI_SI}],
    "day": [{"d": date(2026, 4, 15)}, {"d": DONE_AT}],
    "weekday": [{"d": date(2026, 4, 15)}, {"d": date(2026, 4, 19)}],
    "moment": [{"t": DONE_AT}],
    "period_label": [{"p": p} for p in (Q2, DECEMBER, H1, H2, YEAR, WEEK)],
    "status_icon": [{"status": status.value} for status in DutyStatus],
    "status_label": [{"status": status.value} for status in DutyStatus],
    "btn_done": [{}],
    "btn_snooze": [{}],
    "btn_na": [{}],
    "btn_confirm": [{}],
    "btn_view_evidence": [{"count": 2}],
    "reminder": [
        {"notice": Notice(NoticeKind.REMINDER, 51, "zh-hans", OPEN)},
        {"notice": Notice(NoticeKind.REMINDER, 51, "zh-hans", OVERDUE, round=2)},
        {"notice": Notice(NoticeKind.REMINDER, -100, "zh-hans", ESCALATED, to_group=True, round=3, resent=True)},
        {"notice": Notice(NoticeKind.REMINDER, 51, "zh-hans", MONTHLY)},
        {"notice": Notice(NoticeKind.REMINDER, 51, "zh-hans", WEEKLY, round=2)},
    ],
    "digest": [
        {"notice": Notice(NoticeKind.DIGEST, 60, "zh-hans", digest=DIGEST)},
        {"notice": Notice(NoticeKind.DIGEST, 60, "zh-hans", digest=DIGEST_ESCALATIONS_ONLY, resent=True)},
    ],
    "people": [
        {"a": DIGEST.escalations[0]},
        {"a": DIGEST.escalations[1]},
        {"a": DIGEST.unreachable[1]},  # nobody registered
    ],
    "reason": [{"code": code} for code in ("blocked", "not_started", "removed", "failed")],
    "resent_note": [{}],
    "no_tasks": [{}],
    "tasks_header": [{"count": 1, "shown": 1}, {"count": 3, "shown": 3}, {"count": 12, "shown": 10}],
    "task_card": [{"duty": OPEN}, {"duty": OPEN_WITH_FILES}, {"duty": OVERDUE}, {"duty": OVERDUE_ONE_DAY}],
    "upload_prompt": [{"duty": OPEN}, {"duty": OVERDUE_ONE_DAY}, {"duty": OPEN_WITH_FILES}],
    "file_saved": [
        {"duty": OVERDUE_ONE_DAY, "added": True, "count": 1},
        {"duty": OPEN_WITH_FILES, "added": True, "count": 3},
        {"duty": OPEN_WITH_FILES, "added": False, "count": 0},
    ],
    "note_saved": [{"duty": OPEN_WITH_FILES}],
    "which_duty": [{"count": 1, "duties": 3}, {"count": 4, "duties": 2}],
    "btn_pick": [{"duty": OPEN, "with_site": True}, {"duty": MONTHLY, "with_site": False}],
    "filed": [
        {"filed": Filed(OPEN_WITH_FILES, 1, 1)},
        {"filed": Filed(OPEN_WITH_FILES, 3, 3)},
        {"filed": Filed(OPEN_WITH_FILES, 3, 2)},
    ],
    "batch_gone": [{}],
    "file_no_duty": [{}],
    "done_toast": [{}],
    "done": [{"duty": DONE}, {"duty": DONE_ONE_FILE}],
    "already_closed": [{"duty": DONE}, {"duty": NA}],
    "snoozed": [{"duty": OVERDUE, "until": DONE_AT}],
    "ask_reason": [{"duty": OPEN}],
    "marked_na": [{"duty": NA}],
    "board_usage": [{"example": "2026-Q2"}],
    "no_sites": [{}],
    "no_rules": [{}],
    "board_header": [{"board": BOARD}],
    "cell_line": [{"cell": cell} for cell in CELLS],
    "board_site": [{"row": ROW}],
    "no_overdue": [{}],
    "overdue_header": [{"count": 1}, {"count": 3}],
    "overdue_line": [{"duty": OVERDUE}, {"duty": OVERDUE_ONE_DAY}, {"duty": ESCALATED}, {"duty": WEEKLY}],
    "evidence_header": [
        {"evidence": Evidence(DONE, (FILE, PHOTO))},
        {"evidence": Evidence(DONE_ONE_FILE, (FILE,))},
        {"evidence": Evidence(OPEN, ())},
    ],
    "clause_status": [
        {"status": CLAUSE_STATUS},
        {"status": replace(CLAUSE_STATUS, status=DutyStatus.ESCALATED)},
        {
            "status": replace(
                CLAUSE_STATUS, status=DutyStatus.DONE, due_date=None, done_at=DONE_AT, done_by="张三", evidence_count=2
            )
        },
        {
            "status": replace(
                CLAUSE_STATUS, status=DutyStatus.DONE, due_date=None, done_at=DONE_AT, done_by="张三", evidence_count=1
            )
        },
        {"status": replace(CLAUSE_STATUS, status=DutyStatus.NA, due_date=None, na_reason="本项目没有客服中心")},
        {"status": replace(CLAUSE_STATUS, duty_id=None, status=DutyStatus.UPCOMING, due_date=None)},
        {"status": replace(CLAUSE_STATUS, duty_id=None, status=DutyStatus.MISSING, due_date=None)},
    ],
    "refused_not_found": [{}],
    "refused_not_yours": [{}],
    "refused_closed": [{"duty": DONE}, {"duty": NA}],
    "refused_no_evidence": [{}],
    "refused_too_big": [{"limit_mb": 20}],
    "refused_not_allowed": [{}],
}
