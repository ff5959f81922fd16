"""/plan: admins and managers set the plans of their sites and regions; inspectors see their visits.
Also the plan figures of the managers' screens (coverage, missed visits, each site's status)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.clock import Clock, iso
from bot.flows.access import Caller, Role
from bot.flows.errors import Refusal, RefusedError, bounded_text
from bot.flows.plans.engine import PlanEngine, PlanIndex
from bot.flows.plans.periods import Coverage, Outcome, coverage
from bot.flows.plans.views import (
    InspectorPlan,
    PlanBoard,
    RegionPlanView,
    SitePlanStatus,
    SitePlanView,
    VisitResult,
    VisitView,
)
from bot.flows.schedule import calendar_period
from config.duties import Cadence
from config.plans import CALENDAR, PlanSettings
from storage.people import AuditEntry
from storage.plans import PlanRepository
from storage.sites import Site, SiteRepository

# The frequencies the buttons offer (a cron expression is set through /import or the config).
CHOICES = {"m": "monthly", "q": "quarterly", "h": "half-yearly", "y": "yearly"}
REASON_MAX = 200  # a waiver's reason: shown in lists and the export
assert set(CHOICES.values()) <= set(CALENDAR)


class PlanRefusedError(RefusedError):
    """A refusal whose text lives in ``plans.j2`` (macro ``<key>``)."""

    def __init__(self, key: str, **details: object) -> None:
        super().__init__(Refusal.NOT_FOUND, **details)
        self.key = key

    @property
    def text_key(self) -> str:
        return f"plans.{self.key}"


class PlanFlow:
    def __init__(self, repo: PlanRepository, sites: SiteRepository, engine: PlanEngine, clock: Clock) -> None:
        self.repo = repo
        self.sites = sites
        self.engine = engine
        self.clock = clock

    @property
    def settings(self) -> PlanSettings:
        return self.engine.settings

    # -- access ------------------------------------------------------------------------------------

    async def managed_sites(self, caller: Caller) -> list[Site]:
        return await self.sites.visible_to(caller.user_id, (Role.MANAGER,), everything=Role.ADMIN in caller.roles)

    async def _managed(self, caller: Caller, site_id: int) -> Site:
        site = await self.sites.get(site_id)
        if site is None:
            raise RefusedError(Refusal.NOT_FOUND)
        if Role.ADMIN not in caller.roles and site.id not in {s.id for s in await self.managed_sites(caller)}:
            raise RefusedError(Refusal.SITE_NOT_ALLOWED)
        return site

    # -- a site's plan -----------------------------------------------------------------------------

    async def site_plan(self, caller: Caller, site_id: int) -> SitePlanView:
        site = await self._managed(caller, site_id)
        plans = await self.repo.plans()
        source = self.engine.source(site.id, site.region, PlanIndex.of(plans))
        region_plan = next((p for p in plans if site.region is not None and p.region == site.region), None)
        today = self.engine.today()
        rows = [
            row
            for row in await self.repo.visits_overlapping([site.id], today, today + timedelta(days=1))
            if row.period_start <= today
        ]
        current = (await self.engine.views(rows[-1:], today)) or [None]
        inspectors = (await self.repo.site_inspectors([site.id])).get(site.id, [])
        return SitePlanView(
            site_id=site.id,
            site_name=site.name,
            region=site.region,
            plan=source,
            region_frequency=region_plan.frequency if region_plan else None,
            default_frequency=self.settings.frequency.text,
            watch_frequency=self.settings.watch_frequency.text if self.settings.watch_grades else None,
            current=current[0],
            inspectors=tuple((person, name) for person, name, _ in inspectors),
            watch_grades=self.settings.watch_grades,
        )

    async def set_site_frequency(self, caller: Caller, site_id: int, code: str) -> SitePlanView:
        """``code``: m / q / h / y, or ``r`` to follow the region (or the default) again."""
        site = await self._managed(caller, site_id)
        frequency = CHOICES.get(code)
        audit = AuditEntry(caller.user_id, "plan.site", f"site:{site.id}", {"frequency": frequency or "inherit"})
        await self.repo.set_plan(site.id, None, {"frequency": frequency}, iso(self.clock.now()), audit)
        return await self.site_plan(caller, site_id)

    async def set_site_inspector(self, caller: Caller, site_id: int, inspector_id: int | None) -> SitePlanView:
        site = await self._managed(caller, site_id)
        if inspector_id is not None:
            inspectors = {person for person, _, _ in (await self.repo.site_inspectors([site.id])).get(site.id, [])}
            if inspector_id not in inspectors:
                raise RefusedError(Refusal.NOT_FOUND)
        audit = AuditEntry(caller.user_id, "plan.site", f"site:{site.id}", {"inspector": inspector_id or "any"})
        await self.repo.set_plan(
            site.id,
            None,
            {"inspector_id": inspector_id},
            iso(self.clock.now()),
            audit,
            open_visits_from=self.engine.today(),
        )
        return await self.site_plan(caller, site_id)

    # -- not required: a manager's reason -----------------------------------------------------------

    async def waivable(self, caller: Caller, visit_id: int) -> VisitView:
        """A visit the caller may mark not required: at a site they manage, not done, not waived."""
        row = await self.repo.visit(visit_id)
        if row is None:
            raise RefusedError(Refusal.NOT_FOUND)
        await self._managed(caller, row.site_id)
        view = (await self.engine.views([row], self.engine.today()))[0]
        if view.outcome.done or view.outcome is Outcome.NOT_REQUIRED:
            raise PlanRefusedError("refused_settled", outcome=view.outcome.value)
        return view

    async def waive(self, caller: Caller, visit_id: int, reason: str) -> VisitView:
        view = await self.waivable(caller, visit_id)
        reason = bounded_text(reason, REASON_MAX)
        audit = AuditEntry(
            caller.user_id, "plan.waive", f"site:{view.site_id}", {"period": view.period.key, "reason": reason}
        )
        await self.repo.waive(visit_id, reason, caller.user_id, iso(self.clock.now()), audit)
        row = await self.repo.visit(visit_id)
        assert row is not None
        return (await self.engine.views([row], self.engine.today()))[0]

    # -- a region's plan ---------------------------------------------------------------------------

    async def region_plan(self, caller: Caller, anchor_site: int) -> RegionPlanView:
        """The region of ``anchor_site`` (buttons carry a site of the region, never its name)."""
        site = await self._managed(caller, anchor_site)
        if site.region is None:
            raise RefusedError(Refusal.NOT_FOUND)
        if Role.ADMIN not in caller.roles:
            region_sites = set(await self.repo.sites_of_region(site.region))
            if not region_sites <= {s.id for s in await self.managed_sites(caller)}:
                raise RefusedError(Refusal.SITE_NOT_ALLOWED)  # a region plan is for who sees all of it
        plan = await self.repo.region_plan(site.region)
        return RegionPlanView(
            region=site.region,
            anchor_site=site.id,
            frequency=plan.frequency if plan else None,
            default_frequency=self.settings.frequency.text,
            sites=len(await self.repo.sites_of_region(site.region)),
        )

    async def set_region_frequency(self, caller: Caller, anchor_site: int, code: str) -> RegionPlanView:
        view = await self.region_plan(caller, anchor_site)
        frequency = CHOICES.get(code)
        audit = AuditEntry(
            caller.user_id, "plan.region", f"region:{view.region}", {"frequency": frequency or "inherit"}
        )
        await self.repo.set_plan(None, view.region, {"frequency": frequency}, iso(self.clock.now()), audit)
        return await self.region_plan(caller, anchor_site)

    # -- boards ------------------------------------------------------------------------------------

    async def board(self, caller: Caller) -> PlanBoard:
        sites = await self.managed_sites(caller)
        regions: dict[str, list[int]] = {}
        for site in sites:
            if site.region is not None:
                regions.setdefault(site.region, []).append(site.id)
        plans = {p.region: p.frequency for p in await self.repo.plans() if p.region is not None}
        today = self.engine.today()
        views = await self.period_views([s.id for s in sites], *self.current_span(today))
        region_views = []
        for region, ids in sorted(regions.items()):
            complete = Role.ADMIN in caller.roles or set(await self.repo.sites_of_region(region)) <= {
                s.id for s in sites
            }
            if complete:
                region_views.append(
                    RegionPlanView(region, min(ids), plans.get(region), self.settings.frequency.text, len(ids))
                )
        return PlanBoard(
            regions=tuple(region_views),
            coverage=coverage([VisitResult(v.outcome) for v in views]),
            missed=tuple(v for v in views if v.outcome is Outcome.MISSED),
            default_frequency=self.settings.frequency.text,
        )

    def current_span(self, today: date) -> tuple[date, date]:
        """The calendar quarter of ``today``: what /plan's figures cover."""
        period = calendar_period(Cadence.QUARTERLY, today)
        return period.start, period.end

    async def my_visits(self, caller: Caller) -> InspectorPlan:
        today = self.engine.today()
        visits = await self.engine.inspector_visits(caller.user_id)
        return InspectorPlan(
            overdue=tuple(v for v in visits if v.outcome is Outcome.OVERDUE),
            coming=tuple(v for v in visits if v.outcome is Outcome.OPEN and v.period.start <= today),
        )

    # -- figures for the managers' screens ---------------------------------------------------------

    async def period_views(self, site_ids: Sequence[int], start: date, end: date) -> list[VisitView]:
        """Visits of ``site_ids`` whose due date falls in ``[start, end)``, with their outcomes."""
        rows = [row for row in await self.repo.visits_overlapping(site_ids, start, end) if start <= row.due_date < end]
        return await self.engine.views(rows, self.engine.today())

    async def coverage(self, site_ids: Sequence[int], start: date, end: date) -> tuple[Coverage, list[VisitView]]:
        views = await self.period_views(site_ids, start, end)
        return coverage([VisitResult(v.outcome) for v in views]), [v for v in views if v.outcome is Outcome.MISSED]

    async def site_statuses(self, site_ids: Sequence[int], start: date, end: date) -> dict[int, SitePlanStatus]:
        found: dict[int, list[VisitView]] = {}
        for view in await self.period_views(site_ids, start, end):
            found.setdefault(view.site_id, []).append(view)
        return {site_id: SitePlanStatus(site_id, tuple(views)) for site_id, views in found.items()}

    # -- the managers' screens: /summary, /ranking, /site, the weekly digest, the export --------------

    async def quarter_figures(self, caller: Caller, first: date, end: date) -> PlanFigures | None:
        """Coverage and missed visits of the visits due in ``[first, end)`` at the caller's sites;
        None when no visit is planned there (plans off, or never run): the screens show nothing."""
        sites = [site.id for site in await self.managed_sites(caller)]
        views = await self.period_views(sites, first, end)
        if not views:
            return None
        results = [VisitResult(v.outcome) for v in views]
        missed = tuple(v for v in views if v.outcome is Outcome.MISSED)
        statuses: dict[int, list[VisitView]] = {}
        for view in views:
            statuses.setdefault(view.site_id, []).append(view)
        by_site = {site: SitePlanStatus(site, tuple(found)) for site, found in statuses.items()}
        return PlanFigures(coverage(results), missed, by_site, tuple(views))

    async def site_figures(self, caller: Caller, site_id: int) -> SitePlanStatus | None:
        """The site's visits due this quarter and the one before (the caller's access is /site's check)."""
        first, end = self.current_span(self.engine.today())
        first = self.current_span(first - timedelta(days=1))[0]
        views = await self.period_views([site_id], first, end)
        return SitePlanStatus(site_id, tuple(views)) if views else None

    async def digest_figures(self, user_id: int, admin: bool, first: date, last: date) -> DigestFigures | None:
        """For a manager's weekly digest: visits missed in the week (their grace ended in it) and the
        visits still to make that are due within a week from today (overdue ones included)."""
        sites = await self.sites.visible_to(user_id, (Role.MANAGER,), everything=admin)
        site_ids = [site.id for site in sites]
        today = self.engine.today()
        rows = await self.repo.visits_overlapping(site_ids, first - timedelta(days=400), today + timedelta(days=8))
        wanted = [row for row in rows if first <= row.closes_on <= last or row.due_date <= today + timedelta(days=7)]
        views = await self.engine.views(wanted, today)
        missed = tuple(v for v in views if v.outcome is Outcome.MISSED and first <= v.closes_on <= last)
        due = tuple(v for v in views if v.outcome in (Outcome.OPEN, Outcome.OVERDUE) and v.period.start <= today)
        return DigestFigures(due, missed) if due or missed else None

    async def export_rows(
        self, caller: Caller, first: date | None, end: date | None, words: list[str]
    ) -> list[list[object]]:
        """The 督导计划 sheet: one row per visit due in ``[first, end)`` (None: every visit).
        ``words``: "any inspector", then the outcome names in ``Outcome`` order, then "yes"."""
        sites = [site.id for site in await self.managed_sites(caller)]
        start, stop = first or date(2000, 1, 1), end or date(9999, 1, 1)
        views = await self.period_views(sites, start, stop)
        anyone, names, yes = words[0], dict(zip(list(Outcome), words[1:-1], strict=True)), words[-1]
        return [
            [
                v.site_name,
                v.region or "",
                v.period.key,
                v.frequency,
                v.inspector_name or anyone,
                v.due_date,
                v.closes_on,
                names[v.outcome],
                v.done_on,
                v.inspection_id,
                yes if v.on_watch else "",
                v.waived_reason or "",
            ]
            for v in views
        ]


@dataclass(frozen=True)
class PlanFigures:
    coverage: Coverage
    missed: tuple[VisitView, ...]
    by_site: dict[int, SitePlanStatus]
    visits: tuple[VisitView, ...]


@dataclass(frozen=True)
class DigestFigures:
    due: tuple[VisitView, ...]
    missed: tuple[VisitView, ...]
