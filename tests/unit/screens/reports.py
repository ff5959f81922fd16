"""Samples of every screen of ``bot/templates/reports.j2`` (the managers' view: /summary /ranking /weak
/site /report /export, the weekly digest): for each macro, keyword arguments that render it, covering
its main branches. Plain data for the screen tests.

The HTML inspection report (``report/inspection.html.j2``) is a whole document rendered with
``bot.i18n.environment(lang)``, not a macro, so it has no samples here (tests/unit/test_reports_documents.py).
"""

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.flows.reports.actions import ActionFigures, ActionItem, OverdueActions, SiteActions
from bot.flows.reports.digest import Digest
from bot.flows.reports.periods import DigestWeek, Quarter
from bot.flows.reports.views import (
    CategoryLine,
    FindingView,
    GradeLine,
    PendingPage,
    RankingPage,
    RankLine,
    ScopeName,
    SectionLine,
    SitePage,
    SiteView,
    Summary,
    TrendPoint,
    WeakGroup,
    WeakLine,
    WeakPage,
)
from rubric.model import Answer
from storage.reports import DigestInspection, Evidence, InspectionHead
from storage.sites import Site

SHANGHAI = ZoneInfo("Asia/Shanghai")
Q4 = Quarter(2026, 4)
Q3 = Quarter(2026, 3)
Q2 = Quarter(2026, 2)

RULES = CategoryLine("内部管理-制度建设", "(一)制度建设", 62.5, code="一(一)", title="制度建设")
RECORDS = CategoryLine("内部管理-客户档案管理", "(二)客户档案管理", 75.0, code="一(二)", title="客户档案管理")
COMPLAINTS = CategoryLine("现场管理-客户投诉管理", "(三)客户投诉管理", 75.0, code="二(三)", title="客户投诉管理")
KEYS = CategoryLine("现场管理-钥匙管理", "(五)钥匙管理", 100.0, code="二(五)", title="钥匙管理")
SECTIONS = (
    SectionLine("一、内部管理", 68.8, (RULES, RECORDS)),
    SectionLine("二、现场管理", 87.5, (COMPLAINTS, KEYS)),
)

SUMMARY = Summary(
    quarter=Q4,
    is_current=True,
    inspections=5,
    drafts=1,
    percent=86.4,
    grade="良好",
    grades=(GradeLine("优秀", 2), GradeLine("良好", 2), GradeLine("合格", 1)),
    sites_total=6,
    sites_inspected=4,
    uninspected=("滨江壹号", "未来城"),
    uninspected_count=2,
    weakest=(
        WeakGroup(1, 62.5, (RULES,)),
        WeakGroup(2, 75.0, (RECORDS, COMPLAINTS), more=1),
    ),
)
SUMMARY_PAST = replace(
    SUMMARY,
    quarter=Q3,
    is_current=False,
    inspections=1,
    drafts=0,
    percent=71.0,
    grade="合格",
    grades=(GradeLine("合格", 1),),
    sites_inspected=6,
    uninspected=(),
    uninspected_count=0,
    weakest=(WeakGroup(1, 50.0, (RULES,)),),
    scope=ScopeName("named", names=("华东", "华南")),
    incomplete=1,
)
SUMMARY_EMPTY = replace(
    SUMMARY,
    inspections=0,
    drafts=0,
    percent=None,
    grade=None,
    grades=(),
    sites_inspected=0,
    uninspected=("阳光花园", "翠湖天地"),
    uninspected_count=6,
    weakest=(),
    scope=ScopeName("sites", sites=6),
    incomplete=0,
)

RANKING = RankingPage(
    quarter=Q4,
    page=0,
    pages=2,
    total=12,
    offset=0,
    lines=(
        RankLine(1, 1, "阳光花园", "华东", 95.0, "优秀", 3.5, 2),
        RankLine(2, 5, "南山公馆", "华南", 86.4, "良好", None, 1),
        RankLine(3, 2, "翠湖天地", "华东", 71.0, "合格", -4.2, 1, incomplete=1),
        RankLine(4, 6, "海景湾", "华南", 70.0, "合格", 0.0, 1),
    ),
)
RANKING_ONE = replace(RANKING, pages=1, total=1, lines=(RankLine(1, 1, "阳光花园", "华东", 95.0, "优秀", None, 1),))
RANKING_EMPTY = replace(RANKING, pages=1, total=0, lines=())

WEAK = WeakPage(
    quarter=Q4,
    page=1,
    pages=3,
    total=20,
    offset=8,
    lines=(
        WeakLine("c1", "一(一)1", "建立健全客户服务管理制度，并在服务中心公示", 3, 2, 1),
        WeakLine("c2", "二(三)2", "客户投诉在规定时间内处理并回访，记录完整", 1, 0, 1),
    ),
    sites_inspected=4,
    category=None,
)
WEAK_CATEGORY = replace(
    WEAK, page=0, pages=1, total=1, offset=0, lines=WEAK.lines[:1], sites_inspected=1, category=RULES
)
WEAK_EMPTY = replace(WEAK, page=0, pages=1, total=0, offset=0, lines=())

PENDING = PendingPage(quarter=Q4, page=0, pages=1, total=2, offset=0, names=("滨江壹号", "未来城"), sites_total=6)
PENDING_PAGED = replace(PENDING, page=1, pages=2, total=34, offset=30, names=("未来城",), sites_total=40)
PENDING_NONE = replace(PENDING, total=0, names=())

SUNSHINE = Site(1, "阳光花园", "华东", None, True)
NO_REGION = Site(7, "未来城", None, None, True)
HEAD = InspectionHead(
    id=42,
    site_id=1,
    site_name="阳光花园",
    region="华东",
    inspector_id=7001,
    inspector_name="张三",
    rubric_hash="3f2a9c",
    edition=2,
    status="submitted",
    started_at="2026-11-10T01:30:00+00:00",
    submitted_at="2026-11-10T03:00:00+00:00",
    earned=57.0,
    possible=66.0,
    percent=86.4,
    grade="良好",
    veto=False,
)
HEAD_COVERED = replace(HEAD, answered_count=60, na_count=4, clause_count=65, incomplete=False, applicable=56)
HEAD_INCOMPLETE = replace(
    HEAD, answered_count=30, na_count=20, clause_count=65, incomplete=True, applicable=25, grade="不合格", veto=True
)
FINDINGS = (
    FindingView(
        "一(一)1",
        "建立健全客户服务管理制度，并在服务中心公示，制度内容应覆盖客户服务的各个环节，定期检查执行情况并记录",
        Answer.FAIL,
        ("服务中心未见公示的制度", "制度文本为 2019 年版本，" + "内容已过时" * 50),
        2,
    ),
    FindingView("二(三)2", "客户投诉在规定时间内处理并回访", Answer.PARTIAL, (), 0),
)
TREND = (
    TrendPoint(Q2, 70.0, 1),
    TrendPoint(Q3, None, 0),
    TrendPoint(Q4, 86.4, 2),
)
SITE_VIEW = SiteView(
    site=SUNSHINE,
    latest=HEAD_COVERED,
    latest_local="2026-11-10 11:00",
    sections=SECTIONS,
    findings=FINDINGS,
    evidence=Evidence(photos=5, notes=3, reused_photos=2),
    trend=TREND,
    trend_change=16.4,
)
SITE_VIEW_ONE_EACH = replace(
    SITE_VIEW, latest=HEAD, findings=FINDINGS[1:], evidence=Evidence(photos=1, notes=1, reused_photos=0)
)
SITE_VIEW_INCOMPLETE = replace(SITE_VIEW, latest=HEAD_INCOMPLETE, findings=(), trend=TREND[:1], trend_change=None)
SITE_VIEW_NONE = SiteView(NO_REGION, None, "", (), (), None, (TrendPoint(Q4, None, 0),), None)

WEEK = DigestWeek(datetime(2026, 11, 16, 9, 0, tzinfo=SHANGHAI), "2026-W47")
DIGEST = Digest(
    week=WEEK,
    inspections=17,
    findings=23,
    lines=(
        DigestInspection(42, "阳光花园", 86.4, "良好", 3),
        DigestInspection(43, "翠湖天地", 60.0, "不合格", 1, incomplete=True),
        DigestInspection(44, "海景湾", 100.0, "优秀", 0),
    ),
    overdue=(
        ("阳光花园", "上季度客户投诉汇总分析报告", "2026-11-15"),
        ("南山公馆", "本月会议（培训）记录", "2026-11-10"),
    ),
)
DIGEST_ONE = replace(DIGEST, inspections=1, findings=1, lines=DIGEST.lines[:1], overdue=())
DIGEST_ONE_MORE = replace(DIGEST, inspections=4, findings=1)
DIGEST_EMPTY = replace(DIGEST, inspections=0, findings=0, lines=(), overdue=())

# Corrective actions in the figures (bot/flows/reports/actions.py).
ACTIONS = ActionFigures(due=12, closed=9, on_time=7, median_days=4.5, repeats=2, open=5, overdue=2)
ACTIONS_NONE_DUE = ActionFigures(due=0, closed=0, on_time=0, median_days=None, repeats=0, open=1, overdue=0)
ACTIONS_ONE = ActionFigures(due=1, closed=1, on_time=1, median_days=3.0, repeats=1, open=1, overdue=1)


def _overdue_item(site: str, code: str, days: int) -> ActionItem:
    return ActionItem(1, site, code, "", "fail", "serious", "open", 1, date(2026, 11, 1), None, days, False)


OVERDUE = OverdueActions(7, (_overdue_item("阳光花园", "一(一)2", 28), _overdue_item("翠湖天地", "二(一)4", 1)))
OVERDUE_ONE = OverdueActions(1, (_overdue_item("阳光花园", "一(一)2", 3),))


SAMPLES: dict[str, list[dict]] = {
    "pct": [{"value": 86.4}, {"value": None}],
    "change": [{"value": 3.5}, {"value": -4.2}, {"value": 0.0}, {"value": None}],
    "grade_name": [{"grade": "良好"}, {"grade": None}],
    "quarter": [{"q": Q4}],
    "page_of": [{"p": RANKING}, {"p": RANKING_ONE}],
    "scope_name": [
        {"n": ScopeName("company")},
        {"n": ScopeName("named", names=("华东", "阳光花园"))},
        {"n": ScopeName("sites", sites=1)},
        {"n": ScopeName("sites", sites=6)},
    ],
    "category_name": [{"c": RULES}],
    "incomplete_mark": [{"flag": 1}, {"flag": 0}],
    "coverage": [{"head": HEAD_COVERED}, {"head": HEAD_INCOMPLETE}],
    "answer_name": [{"answer": answer} for answer in Answer],
    "summary": [{"s": SUMMARY}, {"s": SUMMARY_PAST}, {"s": SUMMARY_EMPTY}, {"s": SUMMARY, "actions": ACTIONS}],
    "btn_ranking": [{}],
    "btn_weak": [{}],
    "btn_pending": [{"count": 2}],
    "btn_export": [{}],
    "btn_previous": [{"q": Q3}],
    "btn_next": [{"q": Q4}],
    "btn_category": [{"c": RULES}],
    "btn_summary": [{}],
    "btn_report": [{}],
    "btn_site": [{"line": RANKING.lines[0]}],
    "pending": [{"p": PENDING}, {"p": PENDING_PAGED}, {"p": PENDING_NONE}],
    "ranking": [
        {"r": RANKING},
        {"r": RANKING_ONE},
        {"r": RANKING_EMPTY},
        {"r": RANKING, "actions": {RANKING.lines[0].site_id: SiteActions(2, 1)}},
    ],
    "weak": [{"w": WEAK}, {"w": WEAK_CATEGORY}, {"w": WEAK_EMPTY}],
    "site_pick": [
        {"p": SitePage((SUNSHINE,) * 10, page=0, pages=2, total=14)},
        {"p": SitePage((SUNSHINE, NO_REGION), page=0, pages=1, total=2)},
    ],
    "no_site_match": [{"query": "阳光<花园>"}],
    "site_choices": [{"query": "花园", "count": 3}, {"query": "翠湖", "count": 1}],
    "site_view": [
        {"v": SITE_VIEW},
        {"v": SITE_VIEW_ONE_EACH},
        {"v": SITE_VIEW_INCOMPLETE},
        {"v": SITE_VIEW_NONE},
        {"v": SITE_VIEW, "actions": SiteActions(3, 1)},
    ],
    "trend_line": [{"v": SITE_VIEW}, {"v": SITE_VIEW_INCOMPLETE}, {"v": SITE_VIEW_NONE}],
    "chart_title": [{"name": "阳光花园"}],
    "chart_no_data": [{}],
    "report_usage": [{}],
    "report_caption": [{"head": HEAD}, {"head": HEAD_INCOMPLETE}],
    "report_pdf_caption": [{"head": HEAD}],
    "export_usage": [{}],
    "export_caption": [{"label": "2026-Q4"}, {"label": "all"}],
    "xlsx_inspections": [{}],
    "xlsx_answers": [{}],
    "xlsx_categories": [{}],
    "xlsx_duties": [{}],
    "xlsx_answer_names": [{}],
    "xlsx_duty_status": [{}],
    "bad_quarter": [{"text": "2026-Q5", "example": "2026-Q4"}],
    "future_quarter": [{"quarter": "2027-Q1"}],
    "no_sites": [{}],
    "site_not_visible": [{}],
    "not_found": [{"id": 42}, {}],
    "not_submitted": [{"id": 43, "site": "翠湖天地"}],
    "bad_id": [{"text": "十二"}],
    "export_failed": [{}],
    "digest": [
        {"d": DIGEST},
        {"d": DIGEST_ONE},
        {"d": DIGEST_ONE_MORE},
        {"d": DIGEST_EMPTY},
        {"d": DIGEST, "actions": OVERDUE},
    ],
    "days": [{"value": 4.5}, {"value": 3.0}, {"value": None}],
    "summary_actions": [{"a": ACTIONS}, {"a": ACTIONS_NONE_DUE}, {"a": ACTIONS_ONE}],
    "rank_actions": [{"c": SiteActions(3, 1)}, {"c": SiteActions(1, 0)}],
    "site_actions": [{"c": SiteActions(3, 1)}, {"c": SiteActions(1, 0)}, {"c": SiteActions(0, 0)}],
    "digest_actions": [{"o": OVERDUE}, {"o": OVERDUE_ONE}],
    "xlsx_actions": [{}],
    "xlsx_action_words": [{}],
}
