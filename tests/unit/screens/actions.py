"""Samples of every screen of ``bot/templates/actions.j2`` (corrective actions: the open list, an
action's card and the fix-and-verify loop), built from the real rubric (edition 2) and the types in
bot/flows/actions/views.py and loop.py."""

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.flows.actions.assign import AssignPage, Candidate
from bot.flows.actions.extend import DateAsked, ReasonAsked, RefusalAsked
from bot.flows.actions.loop import Proof, ProofSaved, reused_files
from bot.flows.actions.notices import ActionMessage, ExtensionNews, MessageLine
from bot.flows.actions.printable import NoticeDocument, NoticeItem
from bot.flows.actions.recheck import Outcome, RecheckCard, RecheckDone
from bot.flows.actions.rules import ActionStatus, Severity
from bot.flows.actions.views import ActionCard, ActionLine, HistoryLine, PendingExtension
from bot.flows.duties.views import Notice, NoticeKind
from rubric.model import Answer
from rubric.registry import RubricRegistry
from storage.action_extensions import ExtensionRow
from storage.actions import ProofItem

RUBRIC = RubricRegistry.load().get(2)
SHANGHAI = ZoneInfo("Asia/Shanghai")

OPEN = ActionLine(
    id=12,
    site_name="阳光花园",
    clause=RUBRIC.clause_by_code("二(一)4"),
    answer=Answer.FAIL,
    severity=Severity.SERIOUS,
    status=ActionStatus.OPEN,
    round=1,
    due_date=date(2026, 4, 8),
    overdue_days=0,
)
LATE = ActionLine(
    id=13,
    site_name="翠湖苑",
    clause=RUBRIC.clause_by_code("一(一)2"),
    answer=Answer.PARTIAL,
    severity=Severity.GENERAL,
    status=ActionStatus.OPEN,
    round=2,
    due_date=date(2026, 4, 1),
    overdue_days=3,
)
WAITING = ActionLine(
    id=14,
    site_name="阳光花园",
    clause=RUBRIC.clause_by_code("一(二)1"),
    answer=Answer.PARTIAL,
    severity=Severity.GENERAL,
    status=ActionStatus.SUBMITTED,
    round=1,
    due_date=date(2026, 4, 10),
    overdue_days=0,
)
HISTORY = (
    HistoryLine(datetime(2026, 4, 1, 10, 5, tzinfo=SHANGHAI), "王督导", "created", 1, date(2026, 4, 8), None),
    HistoryLine(datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI), "王督导", "changed", 1, None, "partial"),
    HistoryLine(datetime(2026, 4, 2, 9, 1, tzinfo=SHANGHAI), None, "cancelled", 1, None, "finding_removed"),
    HistoryLine(datetime(2026, 4, 2, 9, 2, tzinfo=SHANGHAI), "王督导", "on_the_spot", 1, None, "当场整改"),
)
LOOP_HISTORY = (
    HistoryLine(datetime(2026, 4, 3, 15, 0, tzinfo=SHANGHAI), "前台小张", "submitted", 1, date(2026, 4, 8), None),
    HistoryLine(
        datetime(2026, 4, 3, 16, 0, tzinfo=SHANGHAI), "王督导", "returned", 1, date(2026, 4, 8), "照片看不清<门禁>"
    ),
    HistoryLine(datetime(2026, 4, 4, 10, 0, tzinfo=SHANGHAI), "前台小张", "submitted", 2, date(2026, 4, 8), None),
    HistoryLine(datetime(2026, 4, 4, 11, 0, tzinfo=SHANGHAI), "王督导", "closed", 2, date(2026, 4, 8), None),
)
RETURNED = ActionCard(
    LATE,
    8,
    date(2026, 3, 20),
    HISTORY[:1] + LOOP_HISTORY[:2],
    proof_count=0,
    last_return="照片看不清<门禁>",
    may_submit=True,
)
WAITING_CARD = ActionCard(WAITING, 9, date(2026, 4, 1), LOOP_HISTORY[:1], proof_count=3, may_verify=True)
PHOTO = ProofItem(1, 1, "photo", "AgAD-photo", "ab" * 32, None, "已更换门禁", 4001, "2026-04-03T07:00:00+00:00")
DOCUMENT = ProofItem(2, 1, "document", "BQAD-doc", "cd" * 32, "验收单.pdf", None, 4001, "2026-04-03T07:01:00+00:00")
NOTE = ProofItem(3, 1, "note", None, None, None, "投诉分析报告已补齐，见附件", 4001, "2026-04-03T07:02:00+00:00")
# The finding's own "before" photo sent as proof, and a file of an earlier round sent again.
BEFORE_AGAIN = replace(PHOTO, id=4, text=None, reused="before")
EARLIER_AGAIN = replace(DOCUMENT, id=5, file_name="验收单<旧>.pdf", reused="earlier")
REUSED = reused_files((PHOTO, BEFORE_AGAIN, DOCUMENT, EARLIER_AGAIN, replace(DOCUMENT, id=6, reused="before")))


def message(kind: NoticeKind, lines: tuple[MessageLine, ...], more: int = 0, spot: int = 0, **notice: object) -> dict:
    found = ActionMessage(lines, more, inspection_id=7, found_on=date(2026, 4, 1), fixed_on_the_spot=spot)
    return {"notice": Notice(kind, 4001, "zh-hans", actions=found, **notice)}


NOTICE_LINES = (MessageLine(OPEN, "notice"), MessageLine(LATE, "notice"))
RESULT_LINES = (MessageLine(OPEN, "closed"), MessageLine(LATE, "returned", "照片看不清<门禁> & 型号"))
RECHECK_HISTORY = tuple(
    HistoryLine(datetime(2026, 4, 9, 10, 0, tzinfo=SHANGHAI), "王督导", event, 2, None, detail)
    for event, detail in (
        ("closed", "recheck:9"),
        ("confirmed", "recheck:9"),
        ("reopened", "recheck:9"),
        ("not_fixed", "recheck:9"),
        ("recurred", "recheck:9"),
        ("recheck_skipped", "recheck:9"),
    )
)
EXTENSION_HISTORY = (
    HistoryLine(
        datetime(2026, 4, 7, 9, 0, tzinfo=SHANGHAI),
        "前台小张",
        "extension_requested",
        1,
        date(2026, 4, 8),
        "配件<缺货>",
        asked_due=date(2026, 4, 15),
    ),
    HistoryLine(
        datetime(2026, 4, 7, 10, 0, tzinfo=SHANGHAI),
        "李经理",
        "extended",
        1,
        date(2026, 4, 15),
        "2026-04-08",
        old_due=date(2026, 4, 8),
    ),
    HistoryLine(datetime(2026, 4, 8, 10, 0, tzinfo=SHANGHAI), "李经理", "extension_refused", 1, None, "不能再拖"),
)
ASKING = ActionCard(
    OPEN,
    7,
    date(2026, 4, 1),
    HISTORY[:1] + EXTENSION_HISTORY[:1],
    extension=PendingExtension(5, "前台小张", date(2026, 4, 15), "配件<缺货>，厂家 & 物流"),
    may_decide=True,
)
EXTENSION = ExtensionRow(
    5,
    12,
    4001,
    "前台小张",
    "2026-04-07T01:00:00+00:00",
    "配件缺货",
    "2026-04-08",
    "2026-04-15",
    "pending",
    None,
    None,
    None,
)
ASKED = ExtensionNews("pending", "前台小张", date(2026, 4, 8), date(2026, 4, 15), "配件<缺货>", None)
EXTENSION_LINES = (
    MessageLine(OPEN, "extension", extension=ASKED),
    MessageLine(OPEN, "extension_decided", extension=replace(ASKED, status="approved")),
    MessageLine(LATE, "extension_decided", extension=replace(ASKED, status="refused", refusal="不能再拖 & 尽快")),
)

ASSIGN_HISTORY = (
    HistoryLine(
        datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI), "李经理", "assigned", 1, None, "4001", assignee_name="前台小张"
    ),
    HistoryLine(datetime(2026, 4, 3, 9, 0, tzinfo=SHANGHAI), "李经理", "assigned", 1, None, None),
)
ASSIGNED = replace(RETURNED, assignee_name="前台小张<A>", may_assign=True, history=RETURNED.history + ASSIGN_HISTORY)
OWN_PROOF = replace(WAITING_CARD, may_verify=False, own_proof=True)
PEOPLE = tuple(Candidate(4000 + n, f"员工{n}") for n in range(1, 9))
ASSIGN_LINES = (
    MessageLine(OPEN, "assigned", "4001"),
    MessageLine(LATE, "assigned", "4001"),
    MessageLine(WAITING, "assigned", None),
)

SAMPLES: dict[str, list[dict]] = {
    "day": [{"d": date(2026, 4, 8)}],
    "severity": [{"s": Severity.SERIOUS}, {"s": Severity.GENERAL}],
    "status": [{"s": status} for status in ActionStatus],
    "icon": [{"line": OPEN}, {"line": LATE}, {"line": WAITING}],
    "empty": [{}],
    "line": [{"l": OPEN}, {"l": LATE}, {"l": WAITING}, {"l": replace(LATE, repeat=True)}],
    "repeat_mark": [{}],
    "list": [
        {"lines": (OPEN, LATE, WAITING), "page": 0, "pages": 1, "total": 3},
        {"lines": (OPEN,), "page": 1, "pages": 3, "total": 1},
    ],
    "btn_open": [{"line": OPEN}],
    "btn_back": [{}],
    "event": [{"h": h} for h in HISTORY + LOOP_HISTORY + RECHECK_HISTORY + EXTENSION_HISTORY + ASSIGN_HISTORY],
    "card": [
        {"card": ActionCard(OPEN, 7, date(2026, 4, 1), HISTORY[:1])},
        {"card": ActionCard(LATE, 8, date(2026, 3, 20), HISTORY)},
        {"card": RETURNED},
        {"card": WAITING_CARD},
        {"card": ASKING},
        {"card": ASSIGNED},
        {"card": OWN_PROOF},
    ],
    "btn_proof": [{}],
    "btn_submit": [{}],
    "btn_pass": [{}],
    "btn_return": [{}],
    "btn_view_proof": [{"count": 1}, {"count": 3}],
    "proof_prompt": [{"card": RETURNED}],
    "proof_saved": [
        {"saved": ProofSaved(RETURNED, "photo", True)},
        {"saved": ProofSaved(RETURNED, "document", True)},
        {"saved": ProofSaved(RETURNED, "note", True)},
        {"saved": ProofSaved(RETURNED, "photo", False)},
        {"saved": ProofSaved(RETURNED, "photo", True, "before")},
        {"saved": ProofSaved(RETURNED, "document", True, "before")},
        {"saved": ProofSaved(RETURNED, "photo", True, "earlier")},
        {"saved": ProofSaved(RETURNED, "document", True, "earlier")},
    ],
    "submitted": [{"card": WAITING_CARD}],
    "toast_submitted": [{}],
    "toast_closed": [{}],
    "return_prompt": [{"card": WAITING_CARD}],
    "returned": [{"card": RETURNED}],
    "reason_needs_text": [{}],
    "proof_header": [
        {"proof": Proof(WAITING_CARD, (PHOTO, DOCUMENT, NOTE))},
        {"proof": Proof(WAITING_CARD, ())},
        {"proof": Proof(WAITING_CARD, (PHOTO, BEFORE_AGAIN, EARLIER_AGAIN, NOTE))},
    ],
    "reused_line": [{"f": f} for f in REUSED],
    "reused_mark": [{"reused": "before"}, {"reused": "earlier"}],
    "reused_caption": [{"reused": "before"}, {"reused": "earlier"}],
    "refused_not_allowed": [{}],
    "refused_stale": [{}],
    "refused_no_proof": [{}],
    "refused_own_proof": [{}],
    "refused_not_assignee": [{}],
    "refused_not_site_staff": [{}],
    "refused_assign_not_manager": [{}],
    "btn_assign": [{}],
    "btn_assignee": [{"name": "前台小张"}],
    "btn_assign_default": [{}],
    "btn_back_to_card": [{}],
    "assign_list": [
        {"found": AssignPage(ASSIGNED, PEOPLE, 1, 3, 20, 4001)},
        {"found": AssignPage(RETURNED, PEOPLE[:2], 0, 1, 2, None)},
        {"found": AssignPage(RETURNED, (), 0, 1, 0, None)},
    ],
    "toast_assigned": [{"card": ASSIGNED}, {"card": RETURNED}],
    "assigned_message": [
        message(NoticeKind.ACTION_ASSIGNED, ASSIGN_LINES),
        message(NoticeKind.ACTION_ASSIGNED, ASSIGN_LINES[:1], resent=True),
        message(NoticeKind.ACTION_ASSIGNED, ASSIGN_LINES[2:], more=2),
    ],
    "refused_rechecked": [{}],
    "recheck_card": [
        {"card": RecheckCard(9, OPEN, date(2026, 4, 1), 1, 3, 0, (Outcome.FIXED, Outcome.NOT_FIXED, Outcome.SKIPPED))},
        {
            "card": RecheckCard(
                9, replace(WAITING, status=ActionStatus.CLOSED, repeat=True), date(2026, 4, 1), 3, 3, 2, tuple(Outcome)
            )
        },
    ],
    "btn_recheck_fixed": [{}],
    "btn_recheck_not_fixed": [{}],
    "btn_recheck_recurred": [{}],
    "btn_recheck_skipped": [{}],
    "btn_recheck_pictures": [{}],
    "recheck_done": [
        {"done": RecheckDone(9, {"fixed": 2, "not_fixed": 1, "recurred": 1, "skipped": 1})},
        {"done": RecheckDone(9, {"fixed": 1, "not_fixed": 0, "recurred": 0, "skipped": 0})},
    ],
    "recheck_pictures": [{"before": 2, "after": 3}, {"before": 0, "after": 0}],
    "recheck_after": [{}],
    "btn_print_notice": [{}],
    "notice_document_caption": [
        {"document": NoticeDocument(9, "阳光花园", "王督导", date(2026, 4, 1), (NoticeItem(OPEN, ("没有报告",)),))}
    ],
    "message_line": [{"m": line} for line in NOTICE_LINES],
    "message_more": [{"a": ActionMessage(NOTICE_LINES, 3)}, {"a": ActionMessage(NOTICE_LINES, 0)}],
    "message_end": [message(NoticeKind.ACTION_NOTICE, NOTICE_LINES, resent=True)],
    "notice_message": [
        message(NoticeKind.ACTION_NOTICE, NOTICE_LINES),
        message(NoticeKind.ACTION_NOTICE, NOTICE_LINES, more=25, to_group=True, resent=True),
        message(NoticeKind.ACTION_NOTICE, NOTICE_LINES, spot=2),
    ],
    "review_message": [
        message(NoticeKind.ACTION_REVIEW, (MessageLine(WAITING, "review"),)),
        message(
            NoticeKind.ACTION_REVIEW,
            (MessageLine(WAITING, "review", reused="before"), MessageLine(LATE, "review", reused="earlier")),
        ),
    ],
    "result_line": [{"m": line} for line in RESULT_LINES],
    "result_message": [
        message(NoticeKind.ACTION_RESULT, RESULT_LINES),
        message(NoticeKind.ACTION_RESULT, RESULT_LINES[:1]),
    ],
    "overdue_message": [message(NoticeKind.ACTION_OVERDUE, (MessageLine(LATE, "overdue"),))],
    "escalation_message": [message(NoticeKind.ACTION_ESCALATION, (MessageLine(LATE, "escalation"),), more=1)],
    "btn_extend": [{}],
    "btn_extension_approve": [{}],
    "btn_extension_refuse": [{}],
    "extension_date_prompt": [{"asked": DateAsked(RETURNED, date(2026, 5, 13), 30)}],
    "extension_date_unreadable": [{}],
    "extension_date_not_later": [{"base": date(2026, 4, 8)}],
    "extension_date_too_late": [{"limit": date(2026, 5, 20), "days": 30}, {"limit": date(2026, 4, 9), "days": 1}],
    "extension_reason_prompt": [{"asked": ReasonAsked(RETURNED, date(2026, 4, 15))}],
    "extension_requested": [{"card": ASKING}],
    "toast_extension_approved": [{}],
    "extension_refusal_prompt": [{"asked": RefusalAsked(ASKING, EXTENSION)}],
    "extension_refused": [{"card": RETURNED}],
    "extension_needs_text": [{}],
    "refused_extension_pending": [{}],
    "refused_extension_decided": [{}],
    "refused_extension_not_manager": [{}],
    "extension_line": [{"m": line} for line in EXTENSION_LINES],
    "extension_message": [
        message(NoticeKind.ACTION_EXTENSION, EXTENSION_LINES[:1]),
        message(NoticeKind.ACTION_EXTENSION, EXTENSION_LINES[1:], resent=True),
        message(NoticeKind.ACTION_EXTENSION, EXTENSION_LINES, more=2),
    ],
}
