"""Buttons of the plan screens and messages. Callback data (checked against the database on every tap):

vs:<site>            a site's plan (admins, its managers)
vf:<site>:m|q|h|y|r  set the site's frequency (r: follow its region, else the default, again)
vi:<site>:<person>   set the site's inspector (0: any inspector of the site)
vg:<site>            the plan of the region of <site>
vr:<site>:m|q|h|y|r  set that region's frequency (r: the default again)
ss:<site>            start an inspection there (the /inspect site button, bot/handlers/inspection/walk.py)
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup

from bot.flows.plans.engine import PlanNotice
from bot.flows.plans.periods import Outcome
from bot.flows.plans.views import RegionPlanView, SitePlanView, VisitView
from bot.i18n import Texts

MAX_START_BUTTONS = 8  # "start the inspection" buttons under a list of visits
MAX_INSPECTOR_BUTTONS = 12


def start_buttons(texts: Texts, lang: str, visits: tuple[VisitView, ...] | list[VisitView]) -> list[list[Button]]:
    """One "start" button per site (the first visits listed), to begin its inspection at once."""
    sites: dict[int, VisitView] = {}
    for visit in visits:
        sites.setdefault(visit.site_id, visit)
    return [
        [Button(texts.plain(lang, "plans.btn_start", visit=visit), callback_data=f"ss:{visit.site_id}")]
        for visit in list(sites.values())[:MAX_START_BUTTONS]
    ]


def plan_keyboard(texts: Texts, lang: str, plan: PlanNotice) -> InlineKeyboardMarkup | None:
    """A nudge or the week's list: buttons that start the inspections; a manager's message: none."""
    if plan.visit is not None:
        return InlineKeyboardMarkup(start_buttons(texts, lang, [plan.visit]))
    if plan.week is not None:
        return InlineKeyboardMarkup(start_buttons(texts, lang, plan.week.visits))
    return None


def _frequency_row(texts: Texts, lang: str, prefix: str, current: str | None) -> list[Button]:
    row = []
    for code, name in (("m", "monthly"), ("q", "quarterly"), ("h", "half-yearly")):
        mark = "● " if current == name else ""
        row.append(Button(mark + texts.plain(lang, "plans.frequency", text=name), callback_data=f"{prefix}:{code}"))
    return row


def site_keyboard(texts: Texts, lang: str, view: SitePlanView) -> InlineKeyboardMarkup:
    own = view.plan.frequency.text if view.plan.source == "site" else None
    rows = [_frequency_row(texts, lang, f"vf:{view.site_id}", own)]
    rows.append([Button(texts.plain(lang, "plans.btn_inherit", view=view), callback_data=f"vf:{view.site_id}:r")])
    any_mark = "● " if view.plan.inspector_id is None else ""
    rows.append([Button(any_mark + texts.plain(lang, "plans.btn_any_inspector"), callback_data=f"vi:{view.site_id}:0")])
    people = [
        Button(("● " if person == view.plan.inspector_id else "") + name, callback_data=f"vi:{view.site_id}:{person}")
        for person, name in view.inspectors[:MAX_INSPECTOR_BUTTONS]
    ]
    rows += [people[i : i + 2] for i in range(0, len(people), 2)]
    current = view.current
    if current is not None and current.outcome in (Outcome.OPEN, Outcome.OVERDUE, Outcome.MISSED):
        rows.append([Button(texts.plain(lang, "plans.btn_waive"), callback_data=f"vw:{current.id}")])
    if view.region is not None:
        rows.append(
            [Button(texts.plain(lang, "plans.btn_region", region=view.region), callback_data=f"vg:{view.site_id}")]
        )
    return InlineKeyboardMarkup(rows)


def region_keyboard(texts: Texts, lang: str, view: RegionPlanView) -> InlineKeyboardMarkup:
    rows = [_frequency_row(texts, lang, f"vr:{view.anchor_site}", view.frequency)]
    rows.append([Button(texts.plain(lang, "plans.btn_default", view=view), callback_data=f"vr:{view.anchor_site}:r")])
    return InlineKeyboardMarkup(rows)
