"""Samples of every screen of ``bot/templates/plans.j2`` (inspection plans): for each macro, keyword
arguments that render it, covering its main branches. Plain data for the screen tests."""

from dataclasses import replace
from datetime import date

from bot.flows.duties.views import Notice, NoticeKind
from bot.flows.plans.engine import PlanNotice
from bot.flows.plans.periods import Coverage, Outcome
from bot.flows.plans.views import (
    InspectorPlan,
    MissedDigest,
    PlanBoard,
    PlanSource,
    RegionPlanView,
    SitePlanStatus,
    SitePlanView,
    VisitView,
    WeekList,
)
from bot.flows.schedule import Period, calendar_period
from config.duties import Cadence
from config.plans import parse_frequency

Q2 = calendar_period(Cadence.QUARTERLY, date(2026, 4, 1))
MAY = calendar_period(Cadence.MONTHLY, date(2026, 5, 1))
CRON = Period("2026-04-06", Cadence.CRON, date(2026, 4, 6), date(2026, 4, 13))
OPEN = VisitView(
    id=1,
    site_id=3,
    site_name="阳光花园",
    region="东区",
    period=Q2,
    frequency="quarterly",
    due_date=date(2026, 6, 30),
    closes_on=date(2026, 7, 10),
    inspector_name="督导员老张",
    on_watch=False,
    outcome=Outcome.OPEN,
)
OVERDUE = replace(OPEN, outcome=Outcome.OVERDUE, overdue_days=3, inspector_name=None)
MISSED = replace(OPEN, id=2, site_name="翠湖天地", outcome=Outcome.MISSED, overdue_days=12)
ON_TIME = replace(OPEN, outcome=Outcome.ON_TIME, done_on=date(2026, 5, 20), inspection_id=9)
LATE = replace(OPEN, period=MAY, frequency="monthly", on_watch=True, outcome=Outcome.LATE, done_on=date(2026, 6, 3))
WAIVED = replace(OPEN, period=CRON, frequency="0 9 * * 1", outcome=Outcome.NOT_REQUIRED, waived_reason="停业装修")
ARCHIVED = replace(OPEN, outcome=Outcome.NOT_REQUIRED)
COVERAGE = Coverage(on_time=5, late=1, missed=2, overdue=1, open=3, not_required=1)
SOURCE = PlanSource(parse_frequency("monthly"), "site", 7, "督导员老张")
SITE = SitePlanView(
    site_id=3,
    site_name="阳光花园",
    region="东区",
    plan=SOURCE,
    region_frequency="half-yearly",
    default_frequency="quarterly",
    watch_frequency="monthly",
    current=replace(LATE, outcome=Outcome.OPEN, done_on=None),
    inspectors=((7, "督导员老张"),),
    watch_grades=("不合格",),
)
REGION = RegionPlanView("东区", 3, "half-yearly", "quarterly", 12)


def notice(kind: NoticeKind, plan: PlanNotice, resent: bool = False) -> Notice:
    return Notice(kind, 7, "zh-hans", plan=plan, resent=resent)


WEEK = PlanNotice("plan_week", week=WeekList(date(2026, 6, 29), date(2026, 7, 5), (OVERDUE, OPEN)))
NUDGE = PlanNotice("plan_nudge", visit=OPEN)
DIGEST = PlanNotice("plan_digest", digest=MissedDigest(date(2026, 7, 11), 1, 1, (MISSED,)))
DIGEST_PARTS = PlanNotice("plan_digest", digest=MissedDigest(date(2026, 7, 11), 2, 3, (MISSED, replace(MISSED, id=4))))

SAMPLES = {
    "frequency": [
        {"text": "monthly"},
        {"text": "quarterly"},
        {"text": "half-yearly"},
        {"text": "yearly"},
        {"text": "0 9 1 * *"},
    ],
    "outcome_icon": [{"outcome": outcome} for outcome in Outcome],
    "outcome_label": [{"outcome": outcome} for outcome in Outcome],
    "who": [{"v": OPEN}, {"v": OVERDUE}],
    "visit_line": [{"v": v} for v in (OPEN, OVERDUE, MISSED, ON_TIME, LATE, WAIVED, ARCHIVED)],
    "coverage_line": [{"c": COVERAGE}, {"c": Coverage()}, {"c": Coverage(on_time=1)}],
    "btn_plan": [{}],
    "btn_start": [{"visit": OPEN}],
    "btn_inherit": [{"view": SITE}, {"view": replace(SITE, region=None, region_frequency=None)}],
    "btn_default": [{"view": REGION}],
    "btn_any_inspector": [{}],
    "btn_region": [{"region": "东区"}],
    "saved": [{}],
    "site": [
        {"view": SITE},
        {"view": replace(SITE, plan=replace(SOURCE, source="region", inspector_id=None, inspector_name=None))},
        {"view": replace(SITE, plan=replace(SOURCE, source="default"), current=None, watch_frequency=None)},
        {"view": replace(SITE, current=replace(LATE, on_watch=False))},
    ],
    "region": [{"view": REGION}, {"view": replace(REGION, frequency=None)}, {"view": replace(REGION, sites=1)}],
    "board": [
        {"board": PlanBoard((REGION,), COVERAGE, (MISSED,), "quarterly")},
        {"board": PlanBoard((), Coverage(), (), "quarterly")},
        {"board": PlanBoard((), COVERAGE, tuple(replace(MISSED, id=i) for i in range(31)), "quarterly")},
    ],
    "my_visits": [
        {"plan": InspectorPlan((OVERDUE,), (OPEN,))},
        {"plan": InspectorPlan((), (OPEN,))},
        {"plan": InspectorPlan((), ())},
        {
            "plan": InspectorPlan(
                tuple(replace(OVERDUE, id=i) for i in range(30)), tuple(replace(OPEN, id=i) for i in range(30))
            )
        },
    ],
    "no_match": [{"query": "花园"}],
    "matches": [{"query": "花园", "count": 3}],
    "plan_week": [{"notice": notice(NoticeKind.PLAN_WEEK, WEEK)}, {"notice": notice(NoticeKind.PLAN_WEEK, WEEK, True)}],
    "plan_nudge": [
        {"notice": notice(NoticeKind.PLAN_NUDGE, NUDGE)},
        {"notice": notice(NoticeKind.PLAN_NUDGE, PlanNotice("plan_nudge", visit=OVERDUE), True)},
    ],
    "plan_digest": [
        {"notice": notice(NoticeKind.PLAN_DIGEST, DIGEST)},
        {"notice": notice(NoticeKind.PLAN_DIGEST, DIGEST_PARTS, True)},
    ],
    "summary_part": [
        {"coverage": COVERAGE, "missed": (MISSED,)},
        {"coverage": COVERAGE, "missed": tuple(replace(MISSED, id=i) for i in range(22))},
        {"coverage": Coverage(), "missed": ()},
    ],
    "site_status": [
        {"status": SitePlanStatus(3, (ON_TIME, MISSED))},
        {"status": SitePlanStatus(3, ())},
        {"status": None},
    ],
    "site_part": [{"status": SitePlanStatus(3, (ON_TIME, LATE))}, {"status": None}],
    "digest_part": [
        {"due": (OPEN,), "missed": (MISSED,)},
        {"due": (), "missed": ()},
        {
            "due": tuple(replace(OPEN, id=i) for i in range(22)),
            "missed": tuple(replace(MISSED, id=i) for i in range(21)),
        },
    ],
    "xlsx_plans": [{}],
    "xlsx_words": [{}],
    "btn_waive": [{}],
    "waive_prompt": [{"visit": OVERDUE}],
    "waived": [{"visit": WAIVED}],
    "refused_settled": [{"outcome": Outcome.ON_TIME}, {"outcome": Outcome.NOT_REQUIRED}],
    "more": [{"n": 1}, {"n": 12}],
}
