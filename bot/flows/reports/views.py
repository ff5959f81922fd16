"""The managers' view as plain logic: summary, ranking, weakest clauses, a site, a full report, export.

Numbers come from SQL aggregates in :mod:`storage.reports`; this module resolves who may see
what, turns sums into percentages and grades with the rubric's own rules (``percent_of``,
``grade_for``: one division of summed points, never an average of percentages) and names
categories and clauses from the rubric an inspection used.
"""

from __future__ import annotations

import asyncio
import difflib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.clock import Clock, iso
from bot.flows.access import Caller, Role
from bot.flows.errors import Refusal, RefusedError
from bot.flows.inspection.deduction import Deduction, stored_deduction
from bot.flows.reports.periods import Quarter
from config.settings import Settings
from rubric.model import Answer, Category, Clause, GradeBand, Rubric
from rubric.registry import RubricRegistry
from rubric.scoring import ScoreReport, grade_for, percent_of, score_inspection
from rubric.script import to_simplified
from storage.files import FileStore
from storage.inspections import InspectionRepository
from storage.reports import (
    Evidence,
    Grant,
    InspectionHead,
    PartScore,
    ReportRepository,
    Scope,
)
from storage.sites import Site, SiteRepository

RANKING_PAGE = 10
WEAK_PAGE = 8
PENDING_PAGE = 30
SUMMARY_PENDING = 8  # uninspected sites named on the summary itself; the rest behind a button
WEAKEST_CATEGORIES = 3
WEAKEST_LISTED = 6  # categories named under "weakest" at most, ties included; the rest of a tie is counted
SCOPE_NAMES = 2  # regions and sites named in a score's label; more are counted instead
SITE_PAGE = 10  # sites per page of a bare /site
TREND_QUARTERS = 6
SITE_MATCHES = 8
MANAGERS = ("manager",)


class ReportRefusedError(RefusedError):
    """A refusal whose text lives in ``reports.j2`` (macro ``<key>``)."""

    def __init__(self, key: str, **details: object) -> None:
        super().__init__(Refusal.NOT_FOUND, **details)
        self.key = key

    @property
    def text_key(self) -> str:
        return f"reports.{self.key}"


# -- what the templates show ------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryLine:
    category_id: str
    label: str  # "(一)制度建设": unique only inside its section
    percent: float | None
    code: str = ""  # "一(一)": with the title, names the category on lists that mix sections
    title: str = ""

    @property
    def below_full(self) -> bool:
        return self.percent is not None and self.percent < 100.0


@dataclass(frozen=True)
class SectionLine:
    """A section's score with its categories, for lists grouped under 一、/二、 headings."""

    label: str
    percent: float | None
    categories: tuple[CategoryLine, ...]


@dataclass(frozen=True)
class WeakGroup:
    """Categories tied at one score as shown (one decimal); one category when there is no tie."""

    rank: int  # 1 + how many categories score lower
    percent: float | None
    categories: tuple[CategoryLine, ...]  # the ones named
    more: int = 0  # tied too, but not named (the list stays one screen)

    @property
    def tied(self) -> int:
        return len(self.categories) + self.more


@dataclass(frozen=True)
class ScopeName:
    """What a manager's figures cover, to label them: the company, named regions or sites, or a count."""

    kind: str  # "company" | "named" | "sites"
    names: tuple[str, ...] = ()
    sites: int = 0


@dataclass(frozen=True)
class GradeLine:
    grade: str
    inspections: int


@dataclass(frozen=True)
class Summary:
    quarter: Quarter
    is_current: bool
    inspections: int
    drafts: int
    percent: float | None
    grade: str | None
    grades: tuple[GradeLine, ...]
    sites_total: int
    sites_inspected: int
    uninspected: tuple[str, ...]  # the first few names
    uninspected_count: int
    weakest: tuple[WeakGroup, ...]
    scope: ScopeName = ScopeName("company")
    incomplete: int = 0  # inspections below the rubric's minimum coverage

    @property
    def weakest_categories(self) -> tuple[CategoryLine, ...]:
        """The categories named under "weakest", in the order shown (one drill-down button each)."""
        return tuple(line for group in self.weakest for line in group.categories)


@dataclass(frozen=True)
class RankLine:
    rank: int
    site_id: int
    name: str
    region: str | None
    percent: float | None
    grade: str | None
    change: float | None  # percentage points since the quarter before; None: not scored then
    inspections: int
    incomplete: int = 0  # of the quarter's inspections, below the rubric's minimum coverage


@dataclass(frozen=True)
class Page:
    quarter: Quarter
    page: int  # 0-based
    pages: int
    total: int
    offset: int  # lines on the pages before this one


@dataclass(frozen=True)
class RankingPage(Page):
    lines: tuple[RankLine, ...]

    @property
    def any_incomplete(self) -> bool:
        return any(line.incomplete for line in self.lines)


@dataclass(frozen=True)
class WeakLine:
    clause_id: str
    code: str
    text: str
    sites: int
    fails: int
    partials: int


@dataclass(frozen=True)
class WeakPage(Page):
    lines: tuple[WeakLine, ...]
    sites_inspected: int
    category: CategoryLine | None


@dataclass(frozen=True)
class PendingPage(Page):
    names: tuple[str, ...]
    sites_total: int


@dataclass(frozen=True)
class SitePage:
    """One page of the sites a manager sees, for a bare /site."""

    sites: tuple[Site, ...]
    page: int  # 0-based
    pages: int
    total: int


@dataclass(frozen=True)
class FindingView:
    code: str
    text: str
    answer: Answer
    notes: tuple[str, ...]
    photos: int


@dataclass(frozen=True)
class TrendPoint:
    quarter: Quarter
    percent: float | None
    inspections: int


@dataclass(frozen=True)
class SiteView:
    site: Site
    latest: InspectionHead | None
    latest_local: str  # submitted_at in the configured zone, for display
    sections: tuple[SectionLine, ...]
    findings: tuple[FindingView, ...]
    evidence: Evidence | None
    trend: tuple[TrendPoint, ...]
    trend_change: float | None  # last scored quarter against the one before it

    @property
    def scored_trend(self) -> tuple[TrendPoint, ...]:
        return tuple(point for point in self.trend if point.percent is not None)

    @property
    def categories(self) -> tuple[CategoryLine, ...]:
        return tuple(line for section in self.sections for line in section.categories)


@dataclass(frozen=True)
class PhotoView:
    id: int
    sha256: str | None
    created_at: str
    reused_from: int | None


@dataclass(frozen=True)
class ClauseView:
    clause: Clause
    answer: Answer | None
    earned: float | None
    possible: float | None
    answered_at: str | None
    notes: tuple[tuple[str, str], ...]  # (text, created_at local)
    photos: tuple[PhotoView, ...]


@dataclass(frozen=True)
class CategoryView:
    label: str
    percent: float | None
    clauses: tuple[ClauseView, ...]


@dataclass(frozen=True)
class SectionView:
    label: str
    percent: float | None
    categories: tuple[CategoryView, ...]


@dataclass(frozen=True)
class InspectionReport:
    """Everything the full HTML report shows; times already in the configured zone."""

    head: InspectionHead
    rubric: Rubric
    score: ScoreReport
    started_local: str
    submitted_local: str
    generated_local: str
    timezone: str
    sections: tuple[SectionView, ...]
    findings: tuple[ClauseView, ...]
    evidence: Evidence
    # The repeat-finding deduction frozen at submit: ``score`` is the rubric's (recomputed from the
    # answers), ``deduction.net`` the stored score net of it. None: no deduction.
    deduction: Deduction | None = None

    @property
    def marked_na(self) -> int:
        """Clauses left unanswered and marked 不适用 wholesale at submit (0 for inspections from before 0007)."""
        head = self.head
        if head.clause_count is None or head.answered_count is None:
            return 0
        return max(head.clause_count - head.answered_count - len(self.score.unanswered), 0)


@dataclass
class ReportFlow:
    repo: ReportRepository
    sites: SiteRepository
    rubrics: RubricRegistry
    files: FileStore
    clock: Clock
    settings: Settings
    inspections: InspectionRepository | None = None  # the repeat-finding deduction frozen at submit

    # -- who sees what --------------------------------------------------------------------------

    async def visible_sites(self, caller: Caller) -> list[Site]:
        return await self.sites.visible_to(caller.user_id, MANAGERS, everything=Role.ADMIN in caller.roles)

    async def scope_for(self, caller: Caller) -> Scope:
        if Role.ADMIN in caller.roles:
            return Scope(all_sites=True)
        return Scope(all_sites=False, site_ids=tuple(site.id for site in await self.visible_sites(caller)))

    async def _scope_with_sites(self, caller: Caller) -> Scope:
        scope = await self.scope_for(caller)
        if scope.empty:
            raise ReportRefusedError("no_sites")
        return scope

    async def scope_name(self, caller: Caller) -> ScopeName:
        """Whose score a summary shows: a regional manager's is their region's, not the company's."""
        if Role.ADMIN in caller.roles:
            return ScopeName("company")
        return name_scope(await self.repo.manager_grants(caller.user_id), await self.visible_sites(caller))

    # -- periods --------------------------------------------------------------------------------

    def current_quarter(self) -> Quarter:
        return Quarter.containing(self.clock.now(), self.settings.tz)

    def quarter(self, text: str | None) -> Quarter:
        """The quarter a command names (``2026-Q2``), the current one when none."""
        if not text or not text.strip():
            return self.current_quarter()
        quarter = Quarter.parse(text)
        if quarter is None:
            raise ReportRefusedError("bad_quarter", text=text.strip()[:40], example=self.current_quarter().label)
        if quarter > self.current_quarter():
            raise ReportRefusedError("future_quarter", quarter=quarter.label)
        return quarter

    def _local(self, stored: str | None) -> str:
        if not stored:
            return ""
        return datetime.fromisoformat(stored).astimezone(self.settings.tz).strftime("%Y-%m-%d %H:%M")

    # -- rubric look-ups ------------------------------------------------------------------------

    def _reference(self) -> Rubric:
        try:
            return self.rubrics.get(self.settings.default_edition)
        except KeyError:
            return self.rubrics.latest()

    def _bands(self) -> tuple[GradeBand, ...]:
        return self._reference().scoring.grades

    def _category(self, category_id: str) -> Category | None:
        for rubric in (self._reference(), *self.rubrics.versions()):
            try:
                return rubric.category(category_id)
            except KeyError:
                continue
        return None

    def _category_line(self, category_id: str, percent: float | None) -> CategoryLine:
        return category_line(self._category(category_id), category_id, percent)

    def _clause(self, clause_id: str, edition: int) -> Clause | None:
        candidates: list[Rubric] = []
        try:
            candidates.append(self.rubrics.get(edition))
        except KeyError:
            pass
        candidates += [self._reference(), *self.rubrics.versions()]
        for rubric in candidates:
            if rubric.has_clause(clause_id):
                return rubric.clause(clause_id)
        return None

    async def _rubric_of(self, content_hash: str) -> Rubric:
        rubric = self.rubrics.find_by_hash(content_hash)
        if rubric is None:
            snapshot = await self.repo.rubric_snapshot(content_hash)
            if snapshot is None:
                raise ReportRefusedError("not_found")
            rubric = Rubric.from_dict(snapshot, expected_hash=content_hash)
            self.rubrics.remember(rubric)
        return rubric

    def _categories(self, parts: list[PartScore]) -> list[CategoryLine]:
        lines = [
            self._category_line(part.key, percent_of(part.earned, part.possible)) for part in parts if part.possible > 0
        ]
        return sorted(lines, key=lambda line: _category_order(line.category_id))

    # -- /summary -------------------------------------------------------------------------------

    async def summary(self, caller: Caller, quarter: Quarter) -> Summary:
        scope = await self._scope_with_sites(caller)
        start, end = quarter.bounds(self.settings.tz)
        counts = await self.repo.grade_counts(scope, start, end)
        earned = math.fsum(c.earned for c in counts)
        possible = math.fsum(c.possible for c in counts)
        percent = percent_of(earned, possible)
        by_grade = {c.grade: c.inspections for c in counts}
        known = [band.label for band in self._bands()]
        grades = [GradeLine(label, by_grade.get(label, 0)) for label in known]
        grades += [GradeLine(g or "—", n) for g, n in by_grade.items() if g not in known]
        uninspected, uninspected_count = await self.repo.uninspected_sites(scope, start, end, SUMMARY_PENDING)
        sites_total = await self.repo.active_sites(scope)
        categories = self._categories(await self.repo.category_scores(scope, start, end))
        return Summary(
            quarter=quarter,
            is_current=quarter == self.current_quarter(),
            inspections=sum(c.inspections for c in counts),
            drafts=await self.repo.drafts(scope),
            percent=percent,
            grade=grade_for(percent, self._bands()),
            grades=tuple(grades),
            sites_total=sites_total,
            sites_inspected=sites_total - uninspected_count,
            uninspected=tuple(site.name for site in uninspected),
            uninspected_count=uninspected_count,
            weakest=weakest_groups(categories),
            scope=await self.scope_name(caller),
            incomplete=sum(c.incomplete for c in counts),
        )

    async def pending_sites(self, caller: Caller, quarter: Quarter, page: int) -> PendingPage:
        scope = await self._scope_with_sites(caller)
        start, end = quarter.bounds(self.settings.tz)
        page = max(page, 0)
        names, total = await self.repo.uninspected_sites(scope, start, end, PENDING_PAGE, page * PENDING_PAGE)
        pages = _pages(total, PENDING_PAGE)
        if page >= pages and page > 0:
            return await self.pending_sites(caller, quarter, pages - 1)
        return PendingPage(
            quarter,
            page,
            pages,
            total,
            page * PENDING_PAGE,
            tuple(site.name for site in names),
            await self.repo.active_sites(scope),
        )

    # -- /ranking -------------------------------------------------------------------------------

    async def ranking(self, caller: Caller, quarter: Quarter, page: int) -> RankingPage:
        scope = await self._scope_with_sites(caller)
        start, end = quarter.bounds(self.settings.tz)
        previous_start, _ = quarter.previous().bounds(self.settings.tz)
        page = max(page, 0)
        ranks, total = await self.repo.ranking(scope, start, end, previous_start, RANKING_PAGE, page * RANKING_PAGE)
        if not ranks and page > 0:  # an old button past the last page: show the last page
            _, total = await self.repo.ranking(scope, start, end, previous_start, 1, 0)
            return await self.ranking(caller, quarter, _pages(total, RANKING_PAGE) - 1)
        pages = _pages(total, RANKING_PAGE)
        bands = self._bands()
        lines = []
        for rank in ranks:
            percent = percent_of(rank.earned, rank.possible)
            before = percent_of(rank.previous_earned or 0.0, rank.previous_possible or 0.0)
            change = None if percent is None or before is None else round(percent - before, 1)
            lines.append(
                RankLine(
                    rank.rank,
                    rank.site_id,
                    rank.name,
                    rank.region,
                    percent,
                    grade_for(percent, bands),
                    change,
                    rank.inspections,
                    rank.incomplete,
                )
            )
        return RankingPage(quarter, page, pages, total, page * RANKING_PAGE, tuple(lines))

    # -- /weak ----------------------------------------------------------------------------------

    async def weak(self, caller: Caller, quarter: Quarter, page: int, category_id: str | None = None) -> WeakPage:
        scope = await self._scope_with_sites(caller)
        start, end = quarter.bounds(self.settings.tz)
        page = max(page, 0)
        rows, total = await self.repo.weak_clauses(scope, start, end, WEAK_PAGE, page * WEAK_PAGE, category_id)
        if not rows and page > 0:  # an old button past the last page: show the last page
            _, total = await self.repo.weak_clauses(scope, start, end, 1, 0, category_id)
            return await self.weak(caller, quarter, _pages(total, WEAK_PAGE) - 1, category_id)
        pages = _pages(total, WEAK_PAGE)
        lines = []
        for row in rows:
            clause = self._clause(row.clause_id, row.edition)
            lines.append(
                WeakLine(
                    row.clause_id,
                    clause.code if clause else row.clause_id,
                    clause.text if clause else "",
                    row.sites,
                    row.fails,
                    row.partials,
                )
            )
        category = self._category_line(category_id, None) if category_id else None
        return WeakPage(
            quarter,
            page,
            pages,
            total,
            page * WEAK_PAGE,
            tuple(lines),
            await self.repo.inspected_sites(scope, start, end),
            category,
        )

    # -- /site ----------------------------------------------------------------------------------

    async def find_sites(self, caller: Caller, query: str) -> list[Site]:
        visible = await self.visible_sites(caller)
        return match_sites(visible, query)

    async def site_page(self, caller: Caller, page: int) -> SitePage:
        """A page of the sites the manager sees, by name: what a bare /site offers to choose from."""
        sites = await self.visible_sites(caller)
        if not sites:
            raise ReportRefusedError("no_sites")
        pages = _pages(len(sites), SITE_PAGE)
        page = min(max(page, 0), pages - 1)  # an old button past the end shows the last page
        return SitePage(tuple(sites[page * SITE_PAGE : (page + 1) * SITE_PAGE]), page, pages, len(sites))

    async def visible_site(self, caller: Caller, site_id: int) -> Site:
        for site in await self.visible_sites(caller):
            if site.id == site_id:
                return site
        raise ReportRefusedError("site_not_visible")

    async def site_view(self, caller: Caller, site_id: int) -> SiteView:
        site = await self.visible_site(caller, site_id)
        tz = self.settings.tz
        quarters = [self.current_quarter().previous(n) for n in range(TREND_QUARTERS - 1, -1, -1)]
        periods = [(q.code, *q.bounds(tz)) for q in quarters]
        trend = tuple(
            TrendPoint(q, percent_of(part.earned, part.possible), part.inspections)
            for q, part in zip(quarters, await self.repo.site_trend(site.id, periods), strict=True)
        )
        scored = [point.percent for point in trend if point.percent is not None]
        change = round(scored[-1] - scored[-2], 1) if len(scored) >= 2 else None
        latest = await self.repo.latest_inspection(site.id)
        if latest is None:
            return SiteView(site, None, "", (), (), None, trend, change)
        rubric = await self._rubric_of(latest.rubric_hash)
        return SiteView(
            site,
            latest,
            self._local(latest.submitted_at),
            section_lines(rubric, await self.repo.inspection_categories(latest.id)),
            await self._finding_views(latest.id, rubric),
            await self.repo.evidence(latest.id),
            trend,
            change,
        )

    async def _finding_views(self, inspection_id: int, rubric: Rubric) -> tuple[FindingView, ...]:
        findings = await self.repo.findings(inspection_id)
        notes = await self.repo.notes(inspection_id, [f.clause_id for f in findings])
        photos = await self.repo.photo_counts(inspection_id)
        by_clause: dict[str, list[str]] = {}
        for note in notes:
            by_clause.setdefault(note.clause_id, []).append(note.text)
        return tuple(
            FindingView(
                rubric.clause(f.clause_id).code if rubric.has_clause(f.clause_id) else f.clause_id,
                rubric.clause(f.clause_id).text if rubric.has_clause(f.clause_id) else "",
                Answer(f.answer),
                tuple(by_clause.get(f.clause_id, ())),
                photos.get(f.clause_id, 0),
            )
            for f in sorted(findings, key=lambda f: _clause_order(rubric, f.clause_id))
        )

    async def trend_png(
        self, view: SiteView, title: str, no_data: str, grade_label: Callable[[str], str] = str
    ) -> bytes:
        """``grade_label`` names a grade in the reader's language (the bands are drawn on the chart)."""
        from bot.flows.reports.chart import trend_chart

        points = [(point.quarter.label, point.percent) for point in view.trend]
        bands = [(grade_label(band.label), band.min_percent) for band in self._bands() if band.min_percent > 0]
        return await asyncio.to_thread(trend_chart, points, title, bands, no_data)

    # -- /report --------------------------------------------------------------------------------

    async def inspection_report(self, caller: Caller, inspection_id: int) -> InspectionReport:
        head = await self.repo.inspection(inspection_id)
        if head is None:
            raise ReportRefusedError("not_found", id=inspection_id)
        own = head.inspector_id == caller.user_id
        if not own and not any(site.id == head.site_id for site in await self.visible_sites(caller)):
            raise ReportRefusedError("site_not_visible")
        if head.status != "submitted":
            raise ReportRefusedError("not_submitted", id=inspection_id, site=head.site_name)
        rubric = await self._rubric_of(head.rubric_hash)
        answers = {a.clause_id: a for a in await self.repo.answers(head.id)}
        notes: dict[str, list[tuple[str, str]]] = {}
        for note in await self.repo.notes(head.id):
            notes.setdefault(note.clause_id, []).append((note.text, self._local(note.created_at)))
        photos: dict[str, list[PhotoView]] = {}
        for photo in await self.repo.photos(head.id):
            photos.setdefault(photo.clause_id, []).append(
                PhotoView(photo.id, photo.sha256, self._local(photo.created_at), photo.reused_from)
            )
        score = score_inspection(
            rubric, {k: a.answer for k, a in answers.items() if rubric.has_clause(k)}, evidence=set(notes) | set(photos)
        )

        def clause_view(clause: Clause) -> ClauseView:
            stored = answers.get(clause.id)
            return ClauseView(
                clause,
                Answer(stored.answer) if stored else None,
                stored.earned if stored else None,
                stored.possible if stored else None,
                self._local(stored.answered_at) if stored else None,
                tuple(notes.get(clause.id, ())),
                tuple(photos.get(clause.id, ())),
            )

        sections = []
        for section in rubric.sections:
            categories = tuple(
                CategoryView(
                    category.label, score.category(category.id).percent, tuple(map(clause_view, category.clauses))
                )
                for category in section.categories
                if category.clauses
            )
            if categories:
                sections.append(SectionView(section.label, score.section(section.id).percent, categories))
        findings = tuple(
            clause_view(clause)
            for clause in rubric.clauses
            if clause.id in answers and Answer(answers[clause.id].answer).is_finding
        )
        deduction = None
        if self.inspections is not None:
            taken = await self.inspections.repeat_deduction(head.id)
            _, deduction = stored_deduction(score, rubric, taken.amount, taken.count, taken.points)
        return InspectionReport(
            head=head,
            rubric=rubric,
            score=score,
            started_local=self._local(head.started_at),
            submitted_local=self._local(head.submitted_at),
            generated_local=self._local(iso(self.clock.now())),
            timezone=self.settings.timezone,
            sections=tuple(sections),
            findings=findings,
            evidence=await self.repo.evidence(head.id),
            deduction=deduction,
        )

    async def render_report(self, report: InspectionReport, lang: str, actions: Sequence[Any] = ()) -> str:
        """``actions``: the inspection's corrective actions (bot.flows.reports.actions.ActionItem)."""
        from bot.flows.reports.html import render_inspection_html

        return await asyncio.to_thread(render_inspection_html, report, lang, self.files, actions)

    # -- /export --------------------------------------------------------------------------------

    def export_period(self, text: str | None) -> tuple[str, str, str]:
        """(label, start, end) of ``YYYY-Qn``, ``all`` or nothing (the current quarter)."""
        if text and text.strip().lower() in ("all", "全部"):
            return "all", "", "9999"
        quarter = self.quarter(text)
        return (quarter.label, *quarter.bounds(self.settings.tz))

    async def export(
        self,
        caller: Caller,
        text: str | None,
        lang: str,
        headers: dict[str, list[str]],
        target: Path,
        plan_rows: Sequence[Sequence[Any]] | None = None,
        action_rows: Sequence[Sequence[Any]] | None = None,
    ) -> str:
        """Write the workbook to ``target``; returns the period label."""
        from bot.flows.reports.xlsx import write_workbook

        scope = await self._scope_with_sites(caller)
        label, start, end = self.export_period(text)
        names = {c.id: c.label for r in self.rubrics.versions() for c in r.categories}
        names.update({c.id: c.label for c in self._reference().categories})
        await asyncio.to_thread(
            write_workbook,
            self.repo_path,
            scope,
            start,
            end,
            target,
            headers,
            names,
            self.settings.tz,
            lang,
            lambda rule_id: self.duty_title(rule_id, lang),
            iso(self.clock.now()),
            plan_rows,
            action_rows,
        )
        return label

    def duty_title(self, rule_id: str, lang: str) -> str:
        """A periodic duty's name from the configured rules (config/duties.py); its id if unknown."""
        duties = getattr(self.settings, "duties", None)
        rule = duties.rule(rule_id) if duties is not None else None
        return rule.title(lang) if rule is not None else rule_id

    @property
    def repo_path(self) -> Path:
        return self.settings.database_path


# -- helpers ------------------------------------------------------------------------------------


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def _category_order(category_id: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in category_id.split("."))


def _clause_order(rubric: Rubric, clause_id: str) -> int:
    return rubric.index_of(clause_id) if rubric.has_clause(clause_id) else 10**6


def category_line(category: Category | None, category_id: str, percent: float | None) -> CategoryLine:
    if category is None:  # a category no known rubric has any more: its id is all there is
        return CategoryLine(category_id, category_id, percent, category_id, "")
    return CategoryLine(category_id, category.label, percent, category.code, category.title)


def section_lines(rubric: Rubric, parts: list[PartScore]) -> tuple[SectionLine, ...]:
    """Category scores under their sections (rubric order); inside a section the weakest come first,
    so what needs work is read first. Sections sum their categories' points and divide once."""
    by_section: dict[str, list[PartScore]] = {}
    for part in parts:
        if part.possible > 0:
            by_section.setdefault(part.key.split(".")[0], []).append(part)
    sections = []
    for section_id in sorted(by_section, key=_category_order):
        scored = by_section[section_id]
        lines = [
            category_line(_category_in(rubric, part.key), part.key, percent_of(part.earned, part.possible))
            for part in scored
        ]
        lines.sort(
            key=lambda line: (line.percent if line.percent is not None else 101.0, _category_order(line.category_id))
        )
        earned, possible = math.fsum(p.earned for p in scored), math.fsum(p.possible for p in scored)
        sections.append(SectionLine(_section_label(rubric, section_id), percent_of(earned, possible), tuple(lines)))
    return tuple(sections)


def weakest_groups(categories: list[CategoryLine]) -> tuple[WeakGroup, ...]:
    """The weakest categories grouped by the score shown: whole ties, never a cut through one by rubric
    order. Groups are taken until WEAKEST_CATEGORIES are covered; a tie longer than the room left on
    the list names what fits and counts the rest."""
    scored = sorted(
        (line for line in categories if line.percent is not None),
        key=lambda line: (round(line.percent or 0.0, 1), _category_order(line.category_id)),
    )
    groups: list[WeakGroup] = []
    covered = 0
    for shown, tied in itertools.groupby(scored, key=lambda line: round(line.percent or 0.0, 1)):
        if covered >= WEAKEST_CATEGORIES:
            break
        members = list(tied)
        room = max(WEAKEST_LISTED - sum(len(g.categories) for g in groups), 1)
        groups.append(WeakGroup(covered + 1, shown, tuple(members[:room]), max(len(members) - room, 0)))
        covered += len(members)
    return tuple(groups)


def name_scope(grants: list[Grant], visible: list[Site]) -> ScopeName:
    """The company for a grant of every site; else the granted regions and sites by name (a site inside
    a granted region is not named again), or how many sites when that would be a long list."""
    if any(grant.site_id is None and grant.region is None for grant in grants):
        return ScopeName("company")
    regions = sorted({grant.region for grant in grants if grant.region})
    granted = {grant.site_id for grant in grants if grant.site_id is not None}
    sites = [site.name for site in visible if site.id in granted and site.region not in regions]
    names = (*regions, *sites)
    if 0 < len(names) <= SCOPE_NAMES:
        return ScopeName("named", names, len(visible))
    return ScopeName("sites", (), len(visible))


def _category_in(rubric: Rubric, category_id: str) -> Category | None:
    try:
        return rubric.category(category_id)
    except KeyError:
        return None


def _section_label(rubric: Rubric, section_id: str) -> str:
    try:
        return rubric.section(section_id).label
    except KeyError:
        return section_id


def _normalised(text: str) -> str:
    return "".join(to_simplified(text).casefold().split())


def match_sites(sites: list[Site], query: str) -> list[Site]:
    """Sites whose name matches ``query``: exact, then containing, then close (either script, any case)."""
    needle = _normalised(query)
    if not needle:
        return []
    names = [(site, _normalised(site.name)) for site in sites]
    exact = [site for site, name in names if name == needle]
    if exact:
        return exact
    containing = [site for site, name in names if needle in name]
    if containing:
        return containing
    # Every character of the query in order (拼音首字 aside, people type 阳光园 for 阳光花园).
    ordered = [site for site, name in names if _in_order(needle, name)]
    if ordered:
        return ordered[:SITE_MATCHES]
    scored = sorted(
        ((difflib.SequenceMatcher(None, needle, name).ratio(), site.name, site) for site, name in names),
        key=lambda item: (-item[0], item[1]),
    )
    return [site for ratio, _, site in scored if ratio >= 0.5][:SITE_MATCHES]


def _in_order(needle: str, name: str) -> bool:
    rest = iter(name)
    return len(needle) >= 2 and all(char in rest for char in needle)
