"""The inspection walk as plain logic: pick a site, answer clause by clause, review, submit.

The draft row (its cursor and answers) is the conversation state, so any update, after any
restart, is routed by reading it. Every method stores before it returns what to show.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso
from bot.flows.access import Caller, Role
from bot.flows.actions.rules import drafts_for
from bot.flows.errors import Refusal, RefusedError, bounded_text
from bot.flows.inspection.deduction import Deduction, repeat_deduction, stored_deduction
from bot.flows.people.audit import AuditAction
from bot.flows.schedule import WorkCalendar
from config.settings import ActionSettings, InspectionSettings
from rubric.model import Answer, Category, Clause, Rubric
from rubric.registry import RubricRegistry
from rubric.scoring import ScoreReport, clause_score, needs_evidence, score_inspection
from storage.actions import NewAction
from storage.files import FileStore
from storage.inspections import (
    ClauseEvidence,
    Coverage,
    InspectionRepository,
    InspectionRow,
    PreviousFinding,
    SpotMark,
    StoredDeduction,
)
from storage.people import AuditEntry
from storage.sites import Site, SiteRepository

MAX_NOTE_CHARS = 1024  # a photo's caption (at most 1024) becomes a note, so it always fits
MAX_REASON_CHARS = 500
PAUSED = "paused"
AWAITING_EVIDENCE = "evidence"


@dataclass(frozen=True)
class Walk:
    """A loaded inspection with the rubric version it uses."""

    row: InspectionRow
    rubric: Rubric

    @property
    def id(self) -> int:
        return self.row.id


@dataclass(frozen=True)
class ClauseCard:
    """Everything one clause message shows."""

    inspection_id: int
    site_id: int
    site_name: str
    clause: Clause
    category: Category
    section_label: str
    position: int  # in its category, 1-based
    category_size: int
    overall: int  # in the whole rubric, 1-based
    total: int
    answer: Answer | None
    notes: int
    photos: int
    awaiting_evidence: bool
    can_skip_evidence: bool
    live_message_id: int | None = None  # the message showing the walk's live card, as stored
    live_clause: str | None = None  # the clause that message shows
    last_time: PreviousFinding | None = None  # found below 符合 at the site's previous inspection


@dataclass(frozen=True)
class CategoryProgress:
    category: Category
    section_label: str
    answered: int


@dataclass(frozen=True)
class SectionProgress:
    label: str
    answered: int
    total: int


@dataclass(frozen=True)
class Outline:
    inspection_id: int
    site_name: str
    edition: int
    title: str
    categories: tuple[CategoryProgress, ...]
    answered: int
    total: int
    sections: tuple[SectionProgress, ...]  # those with clauses
    other_editions: tuple[int, ...] = ()  # editions the draft could switch to


@dataclass(frozen=True)
class AnswerOutcome:
    """What an answer did: ``record`` is the answered clause, ``next`` where the walk went."""

    record: ClauseCard
    changed: bool
    next: ClauseCard | None = None
    needs_evidence: bool = False
    finished: bool = False  # no unanswered clause left after this one: show the review


@dataclass(frozen=True)
class EvidenceOutcome:
    """What a photo or note did: ``card`` is the clause that got it, ``next`` the clause the walk is on
    now (None when nothing is left to answer), ``moved`` whether this evidence moved the walk on."""

    card: ClauseCard
    added: bool
    next: ClauseCard | None = None
    moved: bool = False
    finished: bool = False


@dataclass(frozen=True)
class FindingLine:
    clause: Clause
    answer: Answer
    notes: int
    photos: int


@dataclass(frozen=True)
class Review:
    inspection_id: int
    site_name: str
    report: ScoreReport
    rubric: Rubric
    findings: tuple[FindingLine, ...]
    unanswered: tuple[Clause, ...]
    allow_partial: bool
    marks: dict[str, SpotMark] = field(default_factory=dict)  # 当场整改, by clause id (findings only)
    on_the_spot: bool = False  # whether findings may be marked fixed on the spot
    deduction: Deduction | None = None  # repeat findings' deduction at submit; ``report`` is net of it


@dataclass(frozen=True)
class Result:
    inspection_id: int
    site_id: int
    site_name: str
    inspector_name: str
    report: ScoreReport
    rubric: Rubric
    findings: tuple[FindingLine, ...]
    started_at: str
    submitted_at: str
    duration_minutes: int
    answered: int  # by the inspector; the rest of the 不适用 were marked wholesale at submit
    deduction: Deduction | None = None  # ``report`` is net of it
    fixed_on_the_spot: int = 0  # findings whose action was closed at once (当场整改)


@dataclass(frozen=True)
class Draft:
    inspection_id: int
    site_name: str
    answered: int
    total: int


@dataclass
class InspectionFlow:
    repo: InspectionRepository
    sites: SiteRepository
    rubrics: RubricRegistry
    files: FileStore
    clock: Clock
    settings: InspectionSettings
    # Corrective actions created at submit: their severity, and due dates on the working calendar.
    actions: ActionSettings = field(default_factory=ActionSettings)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    _remembered: set[str] = field(default_factory=set)
    _remember_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # -- choosing where -------------------------------------------------------------------------

    async def sites_for(self, caller: Caller) -> list[Site]:
        return await self.sites.visible_to(caller.user_id, (Role.INSPECTOR,), everything=Role.ADMIN in caller.roles)

    async def drafts(self, caller: Caller) -> list[Draft]:
        result = []
        for row in await self.repo.drafts_of(caller.user_id):
            rubric = await self._rubric(row.rubric_hash)
            answered = len(await self.repo.answers(row.id))
            result.append(Draft(row.id, row.site_name, answered, len(rubric.clauses)))
        return result

    def editions(self) -> list[int]:
        return self.rubrics.editions()

    async def begin(self, caller: Caller, site_id: int, edition: int) -> Walk:
        """Open a draft on a site, or return the one the person already has there."""
        site = await self._allowed_site(caller, site_id)
        if edition not in self.editions():
            raise RefusedError(Refusal.NO_EDITION)
        for row in await self.repo.drafts_of(caller.user_id):
            if row.site_id == site.id:
                return await self._walk(row)
        rubric = self.rubrics.get(edition)
        await self._remember(rubric)
        now = iso(self.clock.now())
        first = rubric.clauses[0].id if rubric.clauses else None
        try:
            inspection_id = await self.repo.create(
                site.id, caller.user_id, rubric.content_hash, rubric.edition, first, now
            )
        except Exception:
            # A concurrent start on the same site (unique draft index): use the draft that won.
            for row in await self.repo.drafts_of(caller.user_id):
                if row.site_id == site.id:
                    return await self._walk(row)
            raise
        return await self.load(caller, inspection_id)

    async def resume(self, caller: Caller, inspection_id: int) -> ClauseCard | None:
        """Continue at the first unanswered clause (None: all answered, show the review)."""
        walk = await self.load(caller, inspection_id, for_change=True)
        answers = await self.repo.answers(walk.id)
        target = _first_unanswered(walk.rubric, answers, after=None)
        await self.repo.set_cursor(walk.id, target.id if target else None, iso(self.clock.now()))
        return await self.card(walk, target.id) if target else None

    async def outline(self, caller: Caller, inspection_id: int) -> Outline:
        walk = await self.load(caller, inspection_id)
        answers = await self.repo.answers(walk.id)
        progress, sections = [], []
        for section in walk.rubric.sections:
            in_section = [
                CategoryProgress(category, section.label, sum(1 for c in category.clauses if c.id in answers))
                for category in section.categories
            ]
            progress += in_section
            total = sum(len(p.category.clauses) for p in in_section)
            if total:
                sections.append(SectionProgress(section.label, sum(p.answered for p in in_section), total))
        return Outline(
            walk.id,
            walk.row.site_name,
            walk.rubric.edition,
            walk.rubric.title,
            tuple(progress),
            len(answers),
            len(walk.rubric.clauses),
            tuple(sections),
            tuple(e for e in self.editions() if e != walk.rubric.edition),
        )

    # -- walking --------------------------------------------------------------------------------

    async def load(self, caller: Caller, inspection_id: int, for_change: bool = False) -> Walk:
        return await self._walk(_checked(await self.repo.get(inspection_id), caller, for_change))

    async def focused(self, caller: Caller) -> Walk | None:
        """The draft whose card the person saw or tapped last (paused or not)."""
        row = await self.repo.active_draft(caller.user_id)
        return await self._walk(row) if row is not None else None

    async def active(self, caller: Caller) -> Walk | None:
        """The draft a free text or photo belongs to: the focused one, unless paused."""
        walk = await self.focused(caller)
        if walk is None or walk.row.awaiting == PAUSED or walk.row.cursor is None:
            return None
        return walk

    @staticmethod
    def evidence_clause(walk: Walk) -> str | None:
        """Where a photo or note goes: the clause that just got evidence (several photos of one defect)
        until the next tap on the card, else the clause on the card."""
        return walk.row.evidence_clause or walk.row.cursor

    async def set_card(self, walk_id: int, message_id: int, clause_id: str) -> None:
        await self.repo.set_card(walk_id, message_id, clause_id)

    async def card_in(self, walk_id: int, clause_id: str) -> ClauseCard | None:
        """A clause's card as the inspection stands (None: no such inspection or clause any more)."""
        row = await self.repo.get(walk_id)
        if row is None:
            return None
        walk = await self._walk(row)
        if not walk.rubric.has_clause(clause_id):
            return None
        return await self.card(walk, clause_id)

    async def draft_count(self, caller: Caller) -> int:
        return len(await self.repo.drafts_of(caller.user_id))

    async def card(self, walk: Walk, clause_id: str) -> ClauseCard:
        return (await self._cards(walk, clause_id))[0]

    async def _cards(self, walk: Walk, *clause_ids: str) -> list[ClauseCard]:
        """Cards as the inspection stands now, from one read of it."""
        state = await self.repo.state(walk.id)
        if state is None:
            raise RefusedError(Refusal.NOT_FOUND)
        fresh = Walk(state.row, walk.rubric)
        answers = {k: v.answer for k, v in state.answers.items()}
        return [
            self._card(fresh, clause_id, answers, state.evidence, state.row.cursor, state.row.awaiting, state.previous)
            for clause_id in clause_ids
        ]

    def _card(
        self,
        walk: Walk,
        clause_id: str,
        answers: dict[str, str],
        evidence: dict[str, ClauseEvidence],
        cursor: str | None,
        awaiting: str | None,
        previous: dict[str, PreviousFinding],
    ) -> ClauseCard:
        """Build a card from what the caller already read: the answer path needs no extra queries."""
        rubric = walk.rubric
        position, size = rubric.position_in_category(clause_id)
        stored = answers.get(clause_id)
        found = evidence.get(clause_id)
        return ClauseCard(
            inspection_id=walk.id,
            site_id=walk.row.site_id,
            site_name=walk.row.site_name,
            clause=rubric.clause(clause_id),
            category=rubric.category_of(clause_id),
            section_label=rubric.section_of(clause_id).label,
            position=position,
            category_size=size,
            overall=rubric.index_of(clause_id) + 1,
            total=len(rubric.clauses),
            answer=Answer(stored) if stored else None,
            notes=len(found.notes) if found else 0,
            photos=found.photos if found else 0,
            awaiting_evidence=awaiting == AWAITING_EVIDENCE and cursor == clause_id,
            can_skip_evidence=self.settings.allow_skip_evidence,
            live_message_id=walk.row.card_message_id,
            live_clause=walk.row.card_clause,
            last_time=previous.get(clause_id),
        )

    async def answer(self, caller: Caller, inspection_id: int, clause_id: str, answer: Answer) -> AnswerOutcome:
        state = await self.repo.state(inspection_id)  # the tap path: one read for all it needs
        walk = await self._walk(_checked(state.row if state else None, caller, for_change=True))
        assert state is not None  # _checked refuses a missing inspection
        rubric, row = walk.rubric, walk.row
        if not rubric.has_clause(clause_id):
            raise RefusedError(Refusal.NO_CLAUSE)
        answers = {k: v.answer for k, v in state.answers.items()}
        evidence = state.evidence
        on_cursor = row.cursor == clause_id
        waiting_here = on_cursor and row.awaiting == AWAITING_EVIDENCE
        if answers.get(clause_id) == answer.value and (not on_cursor or waiting_here):
            # A double tap, or a tap on an old card with the answer it already has: nothing to do.
            record = self._card(walk, clause_id, answers, evidence, row.cursor, row.awaiting, state.previous)
            return AnswerOutcome(record=record, changed=False, needs_evidence=waiting_here)

        clause = rubric.clause(clause_id)
        answers[clause_id] = answer.value
        moves = on_cursor or row.cursor is None
        if moves and needs_evidence(rubric, clause, answer) and clause_id not in evidence:
            next_cursor, awaiting = clause_id, AWAITING_EVIDENCE
        elif moves:
            target = _first_unanswered(rubric, answers, after=clause_id)
            next_cursor, awaiting = (target.id if target else None), None
        else:
            # A tap on an older card changes that answer; the walk stays where it is.
            next_cursor, awaiting = row.cursor, row.awaiting
        score = clause_score(rubric.scoring, clause, answer)
        applicable = answer is not Answer.NA
        stored = await self.repo.answer(
            walk.id,
            clause_id,
            clause.category_id,
            answer.value,
            score.earned if applicable else None,
            score.possible if applicable else None,
            iso(self.clock.now()),
            next_cursor,
            awaiting,
        )
        if not stored:
            raise RefusedError(Refusal.SUBMITTED, site=row.site_name)
        record = self._card(walk, clause_id, answers, evidence, next_cursor, awaiting, state.previous)
        if awaiting == AWAITING_EVIDENCE and next_cursor == clause_id:
            return AnswerOutcome(record=record, changed=True, needs_evidence=True)
        if not moves:
            return AnswerOutcome(record=record, changed=True)
        if next_cursor is None:
            return AnswerOutcome(record=record, changed=True, finished=True)
        following = self._card(walk, next_cursor, answers, evidence, next_cursor, awaiting, state.previous)
        return AnswerOutcome(record=record, changed=True, next=following)

    async def move_on(self, caller: Caller, inspection_id: int, clause_id: str) -> AnswerOutcome:
        """Leave a below-full answer without evidence (only where the config allows it)."""
        walk = await self.load(caller, inspection_id, for_change=True)
        if not self.settings.allow_skip_evidence:
            return AnswerOutcome(record=await self.card(walk, clause_id), changed=False, needs_evidence=True)
        return await self._advance(walk, clause_id, skip=False)

    async def skip(self, caller: Caller, inspection_id: int, clause_id: str) -> AnswerOutcome:
        walk = await self.load(caller, inspection_id, for_change=True)
        return await self._advance(walk, clause_id, skip=True)

    async def back(self, caller: Caller, inspection_id: int, clause_id: str) -> ClauseCard:
        walk = await self.load(caller, inspection_id, for_change=True)
        previous = walk.rubric.previous_clause(clause_id) if walk.rubric.has_clause(clause_id) else None
        target = previous or walk.rubric.clause(clause_id)
        await self.repo.set_cursor(walk.id, target.id, iso(self.clock.now()))
        return await self.card(walk, target.id)

    async def jump(self, caller: Caller, inspection_id: int, category_id: str) -> ClauseCard:
        walk = await self.load(caller, inspection_id, for_change=True)
        try:
            category = walk.rubric.category(category_id)
        except KeyError:
            raise RefusedError(Refusal.NO_CLAUSE) from None
        if not category.clauses:
            raise RefusedError(Refusal.NO_CLAUSE)
        answers = await self.repo.answers(walk.id)
        target = next((c for c in category.clauses if c.id not in answers), category.clauses[0])
        await self.repo.set_cursor(walk.id, target.id, iso(self.clock.now()))
        return await self.card(walk, target.id)

    async def goto(self, caller: Caller, inspection_id: int, clause_id: str) -> ClauseCard:
        """Show a clause. Going to the clause the walk is on keeps its state, so the evidence it waits
        for (📷 or 📝 on the card) still moves the walk on."""
        walk = await self.load(caller, inspection_id, for_change=True)
        if not walk.rubric.has_clause(clause_id):
            raise RefusedError(Refusal.NO_CLAUSE)
        awaiting = walk.row.awaiting if walk.row.cursor == clause_id and walk.row.awaiting != PAUSED else None
        await self.repo.set_cursor(walk.id, clause_id, iso(self.clock.now()), awaiting)
        return await self.card(walk, clause_id)

    async def switch_edition(self, caller: Caller, inspection_id: int, edition: int) -> Walk:
        """Another edition of the rubric for a draft not yet answered (offered from the outline)."""
        walk = await self.load(caller, inspection_id, for_change=True)
        if edition not in self.editions():
            raise RefusedError(Refusal.NO_EDITION)
        if edition == walk.rubric.edition:
            return walk
        rubric = self.rubrics.get(edition)
        await self._remember(rubric)
        first = rubric.clauses[0].id if rubric.clauses else None
        if not await self.repo.switch_rubric(walk.id, rubric.content_hash, edition, first, iso(self.clock.now())):
            raise RefusedError(Refusal.EDITION_FIXED)
        return await self.load(caller, inspection_id)

    async def pause(self, caller: Caller, inspection_id: int) -> Draft:
        walk = await self.load(caller, inspection_id, for_change=True)
        await self.repo.set_cursor(walk.id, walk.row.cursor, iso(self.clock.now()), PAUSED)
        answered = len(await self.repo.answers(walk.id))
        return Draft(walk.id, walk.row.site_name, answered, len(walk.rubric.clauses))

    # -- evidence -------------------------------------------------------------------------------

    async def add_note(self, caller: Caller, inspection_id: int, clause_id: str, text: str) -> EvidenceOutcome:
        text = bounded_text(text, MAX_NOTE_CHARS)
        walk = await self._evidence_target(caller, inspection_id, clause_id)
        await self.repo.add_note(walk.id, clause_id, text, iso(self.clock.now()))
        return await self._after_evidence(walk, clause_id, added=True)

    def check_file(self, size: int | None, mime_type: str | None, is_photo: bool) -> None:
        if not is_photo and not (mime_type or "").startswith("image/"):
            raise RefusedError(Refusal.NOT_AN_IMAGE)
        limit = self.settings.max_photo_mb * 1024 * 1024
        if size is not None and size > limit:
            raise RefusedError(Refusal.TOO_BIG, limit_mb=self.settings.max_photo_mb)

    async def add_photo(
        self,
        caller: Caller,
        inspection_id: int,
        clause_id: str,
        file_id: str,
        file_unique_id: str,
        data: bytes,
        mime_type: str | None,
        caption: str | None,
    ) -> EvidenceOutcome:
        walk = await self._evidence_target(caller, inspection_id, clause_id)
        self.check_file(len(data), mime_type or "image/jpeg", is_photo=True)
        digest = await asyncio.to_thread(self.files.put, data)
        now = iso(self.clock.now())
        added = await self.repo.add_photo(
            walk.id, clause_id, file_id, file_unique_id, digest, len(data), mime_type, now
        )
        if caption and caption.strip():
            await self.repo.add_note(walk.id, clause_id, caption.strip(), now)
        return await self._after_evidence(walk, clause_id, added=added)

    # -- review and submit ----------------------------------------------------------------------

    async def review(self, caller: Caller, inspection_id: int) -> Review:
        walk = await self.load(caller, inspection_id, for_change=True)
        report, findings = await self._score(walk)
        unanswered = tuple(walk.rubric.clause(c) for c in report.unanswered)
        state = await self.repo.state(walk.id)
        previous = state.previous if state else {}
        repeats = sum(1 for f in report.findings if f.clause_id in previous)
        net, deduction = repeat_deduction(report, walk.rubric, repeats, self.actions.repeat_deduction)
        found = {f.clause.id for f in findings}
        marks = {k: m for k, m in (await self.repo.on_the_spot(walk.id)).items() if k in found}
        return Review(
            walk.id,
            walk.row.site_name,
            net,
            walk.rubric,
            findings,
            unanswered,
            self.settings.allow_partial_submit,
            marks,
            self.actions.on_the_spot,
            deduction,
        )

    async def submit(self, caller: Caller, inspection_id: int, mark_rest_na: bool = False) -> Result:
        walk = await self.load(caller, inspection_id, for_change=True)
        answers = await self.repo.answers(walk.id)
        answered_by_hand = len(answers)
        missing = [c for c in walk.rubric.clauses if c.id not in answers]
        if missing and mark_rest_na:
            await self.repo.fill_unanswered(walk.id, [(c.id, c.category_id) for c in missing], iso(self.clock.now()))
        elif missing and not self.settings.allow_partial_submit:
            raise RefusedError(Refusal.UNANSWERED, count=len(missing))
        report, findings = await self._score(walk)
        moment = self.clock.now()
        now = iso(moment)
        coverage = Coverage(answered_by_hand, len(report.not_applicable), report.clause_count, report.incomplete)
        today = moment.astimezone(self.tz).date()
        state = await self.repo.state(walk.id)
        last_time = state.previous if state else {}
        actions = [
            NewAction(
                d.clause_id,
                d.answer.value,
                d.severity.value,
                d.deadlines.due_date.isoformat(),
                d.deadlines.follow_up_on.isoformat(),
                d.deadlines.escalate_on.isoformat(),
                last_time[d.clause_id].inspection_id if d.clause_id in last_time else None,
            )
            for d in drafts_for(report.findings, walk.rubric, today, self.calendar, self.actions)
        ]
        repeats = sum(1 for action in actions if action.repeat_of is not None)
        report, deduction = repeat_deduction(report, walk.rubric, repeats, self.actions.repeat_deduction)
        stored = StoredDeduction(deduction.amount, deduction.count, deduction.points) if deduction else None
        # Marks stored while 当场整改 was on count at submit even if it was turned off since: each was
        # given with a reason and is on the review screen the inspector submitted from.
        submitted = await self.repo.submit(
            walk.id,
            report.overall.earned,
            report.overall.possible,
            report.percent,
            report.grade or walk.rubric.scoring.failing_grade,
            report.veto_triggered,
            coverage,
            caller.user_id,
            now,
            actions,
            stored,
        )
        if not submitted:
            raise RefusedError(Refusal.SUBMITTED, site=walk.row.site_name)
        row = await self._row(walk.id)
        return await self._result(row, walk.rubric, report, findings, caller.name, deduction)

    async def reopen(self, caller: Caller, inspection_id: int, reason: str) -> InspectionRow:
        """A manager unlocks a submitted inspection so its inspector can correct it; recorded as an event
        and in the audit log, together."""
        reason = bounded_text(reason, MAX_REASON_CHARS)
        row = await self.repo.get(inspection_id)
        visible = await self.sites.visible_to(caller.user_id, (Role.MANAGER,), everything=Role.ADMIN in caller.roles)
        if row is None or row.site_id not in {site.id for site in visible}:
            raise RefusedError(Refusal.NOT_FOUND)
        if not row.submitted:
            raise RefusedError(Refusal.NOT_SUBMITTED)
        try:
            audit = AuditEntry(caller.user_id, AuditAction.REOPEN, f"inspection:{row.id}", {"reason": reason})
            reopened = await self.repo.reopen(row.id, caller.user_id, reason, iso(self.clock.now()), audit)
        except sqlite3.IntegrityError:
            # The inspector has started another draft on this site meanwhile (one draft per site).
            raise RefusedError(Refusal.DRAFT_EXISTS, site=row.site_name) from None
        if not reopened:
            raise RefusedError(Refusal.NOT_SUBMITTED)
        return await self._row(row.id)

    async def result(self, caller: Caller, inspection_id: int) -> Result:
        walk = await self.load(caller, inspection_id)
        report, findings = await self._score(walk)
        taken = await self.repo.repeat_deduction(walk.id)
        report, deduction = stored_deduction(report, walk.rubric, taken.amount, taken.count, taken.points)
        return await self._result(walk.row, walk.rubric, report, findings, caller.name, deduction)

    # -- internals ------------------------------------------------------------------------------

    async def _advance(self, walk: Walk, clause_id: str, skip: bool) -> AnswerOutcome:
        answers = await self.repo.answers(walk.id)
        if skip:
            target = walk.rubric.next_clause(clause_id) if walk.rubric.has_clause(clause_id) else None
        else:
            target = _first_unanswered(walk.rubric, {k: v.answer for k, v in answers.items()}, after=clause_id)
        await self.repo.set_cursor(walk.id, target.id if target else None, iso(self.clock.now()))
        if target is None:
            return AnswerOutcome(record=await self.card(walk, clause_id), changed=False, finished=True)
        record, following = await self._cards(walk, clause_id, target.id)
        return AnswerOutcome(record=record, changed=False, next=following)

    async def _evidence_target(self, caller: Caller, inspection_id: int, clause_id: str) -> Walk:
        walk = await self.load(caller, inspection_id, for_change=True)
        if not walk.rubric.has_clause(clause_id):
            raise RefusedError(Refusal.NO_CLAUSE)
        return walk

    async def _after_evidence(self, walk: Walk, clause_id: str, added: bool) -> EvidenceOutcome:
        """Evidence for the answered clause the walk is on completes it: the walk moves on, and more
        evidence goes to the same clause until the next tap. ``walk`` holds the row as it was before."""
        row = walk.row
        answers = await self.repo.answers(walk.id)
        if row.cursor == clause_id and clause_id in answers:
            target = _first_unanswered(walk.rubric, {k: v.answer for k, v in answers.items()}, after=clause_id)
            await self.repo.set_cursor(
                walk.id, target.id if target else None, iso(self.clock.now()), evidence_clause=clause_id
            )
            if target is None:
                return EvidenceOutcome(card=await self.card(walk, clause_id), added=added, moved=True, finished=True)
            record, following = await self._cards(walk, clause_id, target.id)
            return EvidenceOutcome(card=record, added=added, next=following, moved=True)
        clause_ids = [clause_id] + ([row.cursor] if row.cursor else [])
        cards = await self._cards(walk, *clause_ids)
        return EvidenceOutcome(card=cards[0], added=added, next=cards[-1] if row.cursor else None)

    async def _score(self, walk: Walk) -> tuple[ScoreReport, tuple[FindingLine, ...]]:
        answers = {k: v.answer for k, v in (await self.repo.answers(walk.id)).items()}
        evidence = await self.repo.evidence(walk.id)
        report = score_inspection(walk.rubric, answers, evidence=set(evidence))
        findings = tuple(
            FindingLine(
                walk.rubric.clause(f.clause_id),
                f.answer,
                len(evidence[f.clause_id].notes) if f.clause_id in evidence else 0,
                evidence[f.clause_id].photos if f.clause_id in evidence else 0,
            )
            for f in report.findings
        )
        return report, findings

    async def _result(
        self,
        row: InspectionRow,
        rubric: Rubric,
        report: ScoreReport,
        findings: tuple[FindingLine, ...],
        inspector_name: str,
        deduction: Deduction | None = None,
    ) -> Result:
        submitted = row.submitted_at or iso(self.clock.now())
        minutes = int(
            (datetime.fromisoformat(submitted) - datetime.fromisoformat(row.started_at)).total_seconds() // 60
        )
        found = {f.clause.id for f in findings}
        spot = sum(1 for clause_id in await self.repo.on_the_spot(row.id) if clause_id in found)
        return Result(
            row.id,
            row.site_id,
            row.site_name,
            inspector_name,
            report,
            rubric,
            findings,
            row.started_at,
            submitted,
            max(minutes, 0),
            row.answered_count if row.answered_count is not None else report.clause_count - len(report.unanswered),
            deduction,
            spot,
        )

    async def check_site(self, caller: Caller, site_id: int) -> None:
        """Refuses a site the person may not inspect (a forged or outdated button)."""
        await self._allowed_site(caller, site_id)

    async def _allowed_site(self, caller: Caller, site_id: int) -> Site:
        for site in await self.sites_for(caller):
            if site.id == site_id:
                return site
        raise RefusedError(Refusal.SITE_NOT_ALLOWED)

    async def _row(self, inspection_id: int) -> InspectionRow:
        row = await self.repo.get(inspection_id)
        if row is None:
            raise RefusedError(Refusal.NOT_FOUND)
        return row

    async def _walk(self, row: InspectionRow) -> Walk:
        return Walk(row, await self._rubric(row.rubric_hash))

    async def _rubric(self, content_hash: str) -> Rubric:
        rubric = self.rubrics.find_by_hash(content_hash)
        if rubric is None:
            # A version no longer on disk: score it against the snapshot stored when it was used.
            snapshot = await self.repo.rubric_snapshot(content_hash)
            if snapshot is None:
                raise RefusedError(Refusal.NOT_FOUND)
            rubric = Rubric.from_dict(snapshot, expected_hash=content_hash)
            self.rubrics.remember(rubric)
        return rubric

    async def _remember(self, rubric: Rubric) -> None:
        """Store the rubric version's snapshot once; many inspectors starting at once wait for the first."""
        if rubric.content_hash in self._remembered:
            return
        async with self._remember_lock:
            if rubric.content_hash not in self._remembered:
                await self.repo.remember_rubric(
                    rubric.content_hash,
                    rubric.id,
                    rubric.edition,
                    rubric.title,
                    rubric.to_dict(),
                    iso(self.clock.now()),
                )
                self._remembered.add(rubric.content_hash)


def _checked(row: InspectionRow | None, caller: Caller, for_change: bool) -> InspectionRow:
    """The inspection, if ``caller`` may see it (and change it, with ``for_change``)."""
    if row is None:
        raise RefusedError(Refusal.NOT_FOUND)
    if row.inspector_id != caller.user_id:
        raise RefusedError(Refusal.NOT_YOURS)
    if for_change and row.submitted:
        raise RefusedError(Refusal.SUBMITTED, site=row.site_name)
    return row


def _first_unanswered(rubric: Rubric, answers: dict, after: str | None) -> Clause | None:
    """The first clause without an answer after ``after`` (from the start when None), else None."""
    clauses = rubric.clauses
    start = rubric.index_of(after) + 1 if after else 0
    for clause in clauses[start:]:
        if clause.id not in answers:
            return clause
    return None
