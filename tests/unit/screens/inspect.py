"""Samples of every screen of ``bot/templates/inspect.j2`` (the inspection walk: clause cards, evidence,
the outline, review, submit, reopen): for each macro, keyword arguments that render it, covering its
main branches. Built from the real rubric (edition 2) and the types in bot/flows/inspection/walk.py.
Plain data for the screen tests."""

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.flows.duties.views import DutyClauseStatus, DutyStatus
from bot.flows.inspection.deduction import repeat_deduction
from bot.flows.inspection.on_the_spot import SpotStep
from bot.flows.inspection.walk import (
    CategoryProgress,
    ClauseCard,
    Draft,
    FindingLine,
    Outline,
    Result,
    Review,
    SectionProgress,
)
from bot.flows.schedule import calendar_period
from config.duties import SHIPPED_RULES, Cadence
from rubric.model import Answer
from rubric.registry import RubricRegistry
from rubric.scoring import score_inspection
from storage.inspections import PreviousFinding, SpotMark

RUBRIC = RubricRegistry.load().get(2)
FIRST = RUBRIC.clause_by_code("一(一)1")
SECOND = RUBRIC.clause_by_code("一(一)2")
COMPLAINTS = RUBRIC.clause_by_code("二(一)4")  # served by the quarterly complaints report duty
MEETING = RUBRIC.clause_by_code("一(四)2")

# A whole walk: everything compliant but two findings and two clauses not applicable.
ANSWERS = {clause.id: Answer.OK for clause in RUBRIC.clauses}
ANSWERS |= {SECOND.id: Answer.PARTIAL, COMPLAINTS.id: Answer.FAIL, MEETING.id: Answer.NA, FIRST.id: Answer.NA}
FULL = score_inspection(RUBRIC, ANSWERS)
# Two clauses answered, the rest open: most of the rubric unanswered, below a 60% minimum coverage.
STARTED = replace(score_inspection(RUBRIC, {FIRST.id: Answer.OK, SECOND.id: Answer.FAIL}), min_coverage=60.0)
# Submitted with the rest marked N/A: one applicable clause, incomplete.
REST_NA = replace(
    score_inspection(RUBRIC, {clause.id: Answer.NA for clause in RUBRIC.clauses} | {SECOND.id: Answer.OK}),
    min_coverage=60.0,
)
NOTHING = score_inspection(RUBRIC, {})  # no answer: no score, no grade
# Review before submitting: two clauses (one of them a finding) still open, or one.
TWO_OPEN = score_inspection(RUBRIC, {k: v for k, v in ANSWERS.items() if k not in (MEETING.id, COMPLAINTS.id)})
ONE_OPEN = score_inspection(RUBRIC, {k: v for k, v in ANSWERS.items() if k != MEETING.id})
VETOED = replace(FULL, veto_triggered=True, veto_clauses=(COMPLAINTS.id,), grade="不合格")

FINDINGS = (
    FindingLine(SECOND, Answer.PARTIAL, notes=1, photos=2),
    FindingLine(COMPLAINTS, Answer.FAIL, notes=0, photos=1),
)

CARD = ClauseCard(
    inspection_id=12,
    site_id=3,
    site_name="阳光花园",
    clause=FIRST,
    category=RUBRIC.category_of(FIRST.id),
    section_label=RUBRIC.section_of(FIRST.id).label,
    position=1,
    category_size=4,
    overall=1,
    total=len(RUBRIC.clauses),
    answer=None,
    notes=0,
    photos=0,
    awaiting_evidence=False,
    can_skip_evidence=False,
)
ANSWERED = replace(CARD, answer=Answer.OK)
WITH_EVIDENCE = replace(CARD, clause=SECOND, position=2, overall=2, answer=Answer.PARTIAL, notes=2, photos=3)
PHOTOS_ONLY = replace(WITH_EVIDENCE, answer=None, notes=0, photos=1)
NEEDS_EVIDENCE = replace(WITH_EVIDENCE, answer=Answer.FAIL, notes=0, photos=0, awaiting_evidence=True)
NEEDS_REASON = replace(NEEDS_EVIDENCE, answer=Answer.NA)
COMPLAINTS_CARD = replace(
    CARD,
    clause=COMPLAINTS,
    category=RUBRIC.category_of(COMPLAINTS.id),
    section_label=RUBRIC.section_of(COMPLAINTS.id).label,
    position=4,
    category_size=5,
    overall=RUBRIC.index_of(COMPLAINTS.id) + 1,
)
NOTE_ADDED = replace(WITH_EVIDENCE, notes=1, photos=0)
ONE_PHOTO = replace(ANSWERED, photos=1)

COMPLAINTS_RULE = next(rule for rule in SHIPPED_RULES if rule.id == "complaint_report")
DUTY_DONE = DutyClauseStatus(
    duty_id=7,
    rule_id=COMPLAINTS_RULE.id,
    title_zh=COMPLAINTS_RULE.title_zh,
    title_en=COMPLAINTS_RULE.title_en,
    clause_code="二(一)4",
    period=calendar_period(Cadence.QUARTERLY, date(2026, 4, 1)),
    status=DutyStatus.DONE,
    due_date=None,
    done_at=datetime(2026, 4, 3, 14, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
    done_by="张三",
    evidence_count=2,
    na_reason=None,
)
DUTY_OVERDUE = replace(
    DUTY_DONE, status=DutyStatus.OVERDUE, due_date=date(2026, 4, 15), done_at=None, done_by=None, evidence_count=0
)

DRAFT = Draft(inspection_id=12, site_name="阳光花园", answered=23, total=len(RUBRIC.clauses))
OTHER_DRAFT = Draft(inspection_id=15, site_name="翠湖天地", answered=0, total=len(RUBRIC.clauses))

PROGRESS = tuple(
    CategoryProgress(category, section.label, answered=min(index, len(category.clauses)))
    for section in RUBRIC.sections
    for index, category in enumerate(section.categories)
)
OUTLINE = Outline(
    inspection_id=12,
    site_name="阳光花园",
    edition=RUBRIC.edition,
    title=RUBRIC.title,
    categories=PROGRESS,
    answered=23,
    total=len(RUBRIC.clauses),
    sections=tuple(
        SectionProgress(
            section.label,
            sum(p.answered for p in PROGRESS if p.section_label == section.label),
            sum(len(category.clauses) for category in section.categories),
        )
        for section in RUBRIC.sections
        if section.clauses  # only sections with clauses are listed
    ),
    other_editions=(1,),
)

REVIEW = Review(12, "阳光花园", FULL, RUBRIC, FINDINGS, (), allow_partial=False)
REVIEW_OPEN = Review(
    12,
    "阳光花园",
    STARTED,
    RUBRIC,
    FINDINGS[:1],
    tuple(c for c in RUBRIC.clauses if c.id in STARTED.unanswered),
    allow_partial=False,
)
REVIEW_FEW_OPEN = Review(12, "翠湖天地", TWO_OPEN, RUBRIC, FINDINGS[:1], (MEETING, COMPLAINTS), allow_partial=True)
REVIEW_ONE_ANSWERED = Review(
    12,
    "阳光花园",
    replace(score_inspection(RUBRIC, {FIRST.id: Answer.OK}), min_coverage=60.0),
    RUBRIC,
    (),
    RUBRIC.clauses[1:],
    allow_partial=False,
)
REVIEW_ONE_OPEN = Review(12, "翠湖天地", ONE_OPEN, RUBRIC, FINDINGS, (MEETING,), allow_partial=True)

RESULT = Result(
    inspection_id=12,
    site_id=3,
    site_name="阳光花园",
    inspector_name="王督导",
    report=FULL,
    rubric=RUBRIC,
    findings=FINDINGS,
    started_at="2026-05-13T09:30:00+08:00",
    submitted_at="2026-05-13T10:42:00+08:00",
    duration_minutes=72,
    answered=len(RUBRIC.clauses),
)
RESULT_REST_NA = replace(RESULT, report=REST_NA, findings=(), answered=1, duration_minutes=1)
RESULT_EMPTY = replace(RESULT, report=replace(NOTHING, not_applicable=NOTHING.unanswered, unanswered=()), answered=0)
RESULT_VETOED = replace(RESULT, report=VETOED, findings=FINDINGS[1:])
# The repeat-finding deduction (2 repeats × 1.5 points) and findings fixed on the spot (当场整改).
NET, DEDUCTION = repeat_deduction(FULL, RUBRIC, 2, 1.5)
assert DEDUCTION is not None
MARKS = {SECOND.id: SpotMark(SECOND.id, "当场整改", "photo-1", "ab" * 32)}
REVIEW_SPOT = replace(REVIEW, report=NET, deduction=DEDUCTION, marks=MARKS, on_the_spot=True)
RESULT_DEDUCTED = replace(RESULT, report=NET, deduction=DEDUCTION, fixed_on_the_spot=1)
RESULT_ONE_SPOT = replace(RESULT_VETOED, fixed_on_the_spot=1)
STEP = SpotStep(12, FINDINGS[0])
STEP_REASON = SpotStep(12, FINDINGS[0], "已当场清理")

SAMPLES: dict[str, list[dict]] = {
    "answer_label": [{"answer": answer} for answer in Answer],
    "answer_ok": [{}],
    "answer_partial": [{}],
    "answer_fail": [{}],
    "answer_na": [{}],
    "btn_photo": [{}],
    "btn_note": [{}],
    "btn_back": [{}],
    "btn_skip": [{}],
    "btn_toc": [{}],
    "btn_pause": [{}],
    "btn_move_on": [{}],
    "btn_review": [{}],
    "btn_submit": [{}],
    "btn_submit_rest_na": [{}],
    "btn_answer_rest": [{}],
    "pct": [{"value": 87.5}, {"value": None}],
    "last_time": [
        {"found": PreviousFinding(3, "fail", "open")},
        {"found": PreviousFinding(3, "partial", "closed")},
        {"found": PreviousFinding(3, "partial", "submitted")},
        {"found": PreviousFinding(3, "fail", None)},
    ],
    "card": [
        {"card": CARD},
        {"card": replace(ANSWERED, last_time=PreviousFinding(3, "fail", "open"))},
        {"card": ANSWERED},
        {"card": WITH_EVIDENCE, "previous": ANSWERED},
        {"card": PHOTOS_ONLY, "previous": CARD},
        {"card": NEEDS_EVIDENCE},
        {"card": NEEDS_REASON},
        {"card": COMPLAINTS_CARD, "duty": DUTY_DONE},
        {"card": COMPLAINTS_CARD, "duty": DUTY_OVERDUE},
        {"card": WITH_EVIDENCE, "evidence": NOTE_ADDED, "kind": "note", "added": True},
        {"card": CARD, "evidence": ONE_PHOTO, "kind": "photo", "added": True, "site_hint": True},
        {"card": CARD, "evidence": ONE_PHOTO, "kind": "photo", "added": False},
    ],
    "evidence_line": [
        {"card": NOTE_ADDED, "kind": "note", "added": True},
        {"card": ONE_PHOTO, "kind": "photo", "added": True},
        {"card": PHOTOS_ONLY, "kind": "photo", "added": True, "site_hint": True},
        {"card": ONE_PHOTO, "kind": "photo", "added": False, "site_hint": True},
    ],
    "evidence_saved": [
        {"evidence": NOTE_ADDED, "kind": "note", "added": True},
        {"evidence": ONE_PHOTO, "kind": "photo", "added": True, "site_hint": True},
        {"evidence": PHOTOS_ONLY, "kind": "photo", "added": False},
    ],
    "record": [
        {"card": ANSWERED},
        {"card": WITH_EVIDENCE},
        {"card": replace(NEEDS_EVIDENCE, awaiting_evidence=False)},
        {"card": NEEDS_REASON},
        {"card": CARD},
        {"card": PHOTOS_ONLY, "skipped": False},
    ],
    "saved_toast": [{"card": ANSWERED}, {"card": NEEDS_REASON}],
    "already_recorded": [{"card": WITH_EVIDENCE}],
    "evidence_required": [{}],
    "send_photo": [{"card": COMPLAINTS_CARD}],
    "send_note": [{"card": COMPLAINTS_CARD}],
    "no_sites": [{}],
    "no_drafts": [{}],
    "drafts": [{"drafts": [DRAFT]}, {"drafts": [DRAFT, OTHER_DRAFT]}],
    "draft_button": [{"draft": DRAFT}, {"draft": OTHER_DRAFT}],
    "pick_site": [
        {"page": 1, "pages": 1, "searchable": False, "query": None, "count": 3},
        {"page": 2, "pages": 3, "searchable": True, "query": None, "count": 25},
        {"page": 1, "pages": 1, "searchable": True, "query": "花园", "count": 1},
        {"page": 1, "pages": 2, "searchable": True, "query": "花园", "count": 12},
    ],
    "no_site_match": [{"query": "<万科>"}],
    "btn_switch_edition": [{"edition": 1}],
    "btn_continue": [{}],
    "outline": [{"outline": OUTLINE}],
    "toc_button": [{"progress": PROGRESS[0]}, {"progress": PROGRESS[1]}, {"progress": PROGRESS[-1]}],
    "paused": [{"draft": DRAFT}],
    "paused_hint": [{"site": "阳光花园"}],
    "category_scores": [{"report": FULL, "rubric": RUBRIC}, {"report": NOTHING, "rubric": RUBRIC}],
    "coverage": [
        {"report": FULL},
        {"report": STARTED},
        {"report": REST_NA, "marked_na": 64},
        {"report": ONE_OPEN},
    ],
    "review": [
        {"review": REVIEW},
        {"review": REVIEW_OPEN},
        {"review": REVIEW_FEW_OPEN},
        {"review": REVIEW_ONE_OPEN},
        {"review": REVIEW_SPOT},
    ],
    "confirm_rest_na": [
        {"review": REVIEW_OPEN},
        {"review": REVIEW_ONE_ANSWERED},
        {"review": REVIEW_FEW_OPEN},
        {"review": REVIEW_ONE_OPEN},
    ],
    "btn_confirm_rest_na": [{}],
    "submitted_line": [{"site": "阳光花园"}],
    "result": [
        {"result": RESULT},
        {"result": RESULT_REST_NA},
        {"result": RESULT_EMPTY},
        {"result": RESULT_VETOED},
        {"result": RESULT_DEDUCTED},
        {"result": RESULT_ONE_SPOT},
    ],
    "notice": [
        {"result": RESULT},
        {"result": RESULT_REST_NA},
        {"result": RESULT_EMPTY},
        {"result": RESULT_VETOED},
        {"result": RESULT_DEDUCTED},
    ],
    "reopen_usage": [{}],
    "btn_on_the_spot": [{}],
    "deduction_lines": [{"d": DEDUCTION}],
    "spot_list": [{"review": REVIEW_SPOT, "page": 1, "pages": 1}, {"review": REVIEW_SPOT, "page": 2, "pages": 3}],
    "spot_pick_button": [{"finding": FINDINGS[0]}, {"finding": FINDINGS[1]}],
    "spot_undo_button": [{"finding": FINDINGS[0]}],
    "btn_spot_back": [{}],
    "spot_reason_prompt": [{"step": STEP}],
    "btn_spot_preset": [{}],
    "spot_preset_reason": [{}],
    "btn_spot_cancel": [{}],
    "spot_photo_prompt": [{"step": STEP_REASON}],
    "btn_spot_no_photo": [{}],
    "spot_photo_saved": [{"step": STEP}],
    "spot_reason_needs_text": [{}],
    "spot_undone_toast": [{}],
    "reopened": [{"site": "阳光花园", "inspection_id": 12}],
    "reopened_notice": [
        {"site": "阳光花园", "manager": "李经理", "reason": "补充照片"},
        {"site": "阳光花园", "manager": "李经理", "reason": None},
    ],
}
