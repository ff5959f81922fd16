"""Periodic duties as plain logic: what staff answer, what managers see, what an inspection shows.

Staff answer a reminder with 已完成，上传材料 (files and photos, then a confirmation), 稍后提醒 or
不适用 (with a reason). The answer in progress is a pending input row (``storage/pending.py``), so
a restart in the middle of an upload loses nothing. People also answer without the buttons: a file
replying to a reminder, or sent by someone with one open duty, goes to that duty; with several open
duties the file is kept (``duty_pending_files``) until the person picks the duty. The engine that
creates duties and sends the reminders and the managers' digests is
:class:`bot.flows.duties.engine.DutyEngine`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso
from bot.flows.access import Caller, Role
from bot.flows.duties.engine import DutyEngine
from bot.flows.duties.views import (
    SEVERITY,
    ClauseBook,
    DutyClauseStatus,
    DutyStatus,
    DutyView,
    parse_moment,
)
from bot.flows.errors import RefusedError, bounded_text
from bot.flows.schedule import Period, calendar_period, covered_period
from config.duties import Cadence, DutyRule, DutySettings, normalise_code
from rubric.registry import RubricRegistry
from storage.duties import OPEN, DutyRepository, DutyRow, EvidenceRow
from storage.files import FileStore
from storage.pending import PendingInput, PendingInputRepository
from storage.sites import Site, SiteRepository
from storage.users import UserRepository

UPLOAD = "duty_upload"  # pending input: files, photos and texts go to this duty (已完成 was pressed)
# Pending input: the person sent a file without the button and it went to this duty; the next files go
# there too, but an inspection under way comes first (nothing was pressed to say otherwise).
FOLLOW = "duty_follow"
NA_REASON = "duty_na"  # pending input: the next text is why this duty does not apply
# An upload left unconfirmed stops claiming files after this long, so a later inspection photo of a
# person who is both staff and inspector is not taken for a duty's evidence.
UPLOAD_WINDOW = timedelta(hours=12)
MAX_REASON = 500
MAX_NOTE = 2000


class DutyRefusal(StrEnum):
    """Each value is a macro in ``bot/templates/<lang>/duties.j2``."""

    NOT_FOUND = "refused_not_found"
    NOT_YOURS = "refused_not_yours"
    CLOSED = "refused_closed"
    NO_EVIDENCE = "refused_no_evidence"
    TOO_BIG = "refused_too_big"
    NOT_ALLOWED = "refused_not_allowed"


class DutyRefusedError(RefusedError):
    """Caught by ``guarded`` like every refusal; its text lives in ``duties.j2``."""

    def __init__(self, reason: DutyRefusal, **details: object) -> None:
        Exception.__init__(self, reason.value)
        self.reason = reason  # type: ignore[assignment]
        self.details = details

    @property
    def text_key(self) -> str:
        return f"duties.{self.reason.value}"


@dataclass(frozen=True)
class UploadOutcome:
    duty: DutyView
    added: bool


@dataclass(frozen=True)
class Answered:
    """A duty closed (done or not applicable); ``changed`` False: it already was."""

    duty: DutyView
    changed: bool


@dataclass(frozen=True)
class Snoozed:
    duty: DutyView
    until: datetime  # local: when the reminder comes back


@dataclass(frozen=True)
class Filed:
    """Files that waited for a duty, now its evidence."""

    duty: DutyView
    files: int  # how many were in the batch
    added: int  # how many were new to the duty (the same file twice is kept once)


@dataclass(frozen=True)
class BoardCell:
    rule: DutyRule
    status: DutyStatus  # the worst of its duties
    duties: tuple[DutyView, ...]
    starts: datetime | None  # UPCOMING: when the first reminder goes (local)

    @property
    def done(self) -> int:
        return sum(1 for duty in self.duties if duty.status in (DutyStatus.DONE, DutyStatus.NA))


@dataclass(frozen=True)
class BoardRow:
    site_id: int
    site_name: str
    cells: tuple[BoardCell, ...]


@dataclass(frozen=True)
class Board:
    quarter: Period
    rules: tuple[DutyRule, ...]
    rows: tuple[BoardRow, ...]

    def count(self, status: DutyStatus | str) -> int:
        return sum(1 for row in self.rows for cell in row.cells if cell.status == status)


@dataclass(frozen=True)
class Evidence:
    duty: DutyView
    files: tuple[EvidenceRow, ...]


class DutyFlow:
    def __init__(
        self,
        repo: DutyRepository,
        sites: SiteRepository,
        users: UserRepository,
        pending: PendingInputRepository,
        files: FileStore,
        clock: Clock,
        settings: DutySettings,
        tz: ZoneInfo,
        max_file_mb: int,
        default_language: str,
        admin_ids: frozenset[int],
        rubrics: RubricRegistry | None = None,
    ) -> None:
        self.repo = repo
        self.sites = sites
        self.users = users
        self.pending = pending
        self.files = files
        self.clock = clock
        self.settings = settings
        self.tz = tz
        self.max_file_mb = max_file_mb
        self.engine = DutyEngine(
            repo, users, clock, settings, tz, default_language, admin_ids, clauses=ClauseBook(rubrics)
        )

    # -- staff -------------------------------------------------------------------------------------

    async def my_tasks(self, caller: Caller) -> list[DutyView]:
        """Open duties that have started, at the sites where the caller is one of the people reminded."""
        grants = await self._site_grants(caller.user_id)
        now = self.clock.now()
        await self._reachable(caller)
        rows = await self.repo.started_open(sorted(grants), iso(now))
        views = []
        for row in rows:
            rule = self.settings.rule(row.rule_id)
            if rule and rule.enabled and grants[row.site_id] & set(rule.roles):
                views.append(self.engine.view(row, rule))
        return sorted(views, key=lambda v: (v.due_date, v.site_name, v.id))

    async def duty(self, caller: Caller, duty_id: int) -> DutyView:
        """A duty the caller answers for (its site's people with the rule's roles, or an admin)."""
        row, rule = await self._load(duty_id)
        await self._check_responsible(caller, row, rule)
        return self.engine.view(row, rule)

    async def begin_upload(self, caller: Caller, duty_id: int) -> DutyView:
        view = await self._open_duty(caller, duty_id)
        await self._reachable(caller)
        await self.pending.set(caller.user_id, UPLOAD, f"{duty_id}|{iso(self.clock.now())}", iso(self.clock.now()))
        return view

    async def upload_target(self, caller: Caller) -> int | None:
        """The duty the caller is uploading evidence for, if they are (either way, see below)."""
        state = await self.upload_state(caller)
        return state[0] if state else None

    async def upload_state(self, caller: Caller) -> tuple[int, bool] | None:
        """(the duty the caller's files go to, whether they pressed 已完成 for it) or None. Without the
        press the first file went there on its own, and an inspection under way comes first."""
        pending = await self.pending.get(caller.user_id)
        duty_id = self._duty_in(pending, (UPLOAD, FOLLOW), UPLOAD_WINDOW)
        return (duty_id, pending is not None and pending.kind == UPLOAD) if duty_id is not None else None

    def check_file(self, size: int | None) -> None:
        if size is not None and size > self.max_file_mb * 1024 * 1024:
            raise DutyRefusedError(DutyRefusal.TOO_BIG, limit_mb=self.max_file_mb)

    async def add_file(
        self,
        caller: Caller,
        duty_id: int,
        kind: str,
        file_id: str,
        file_unique_id: str,
        data: bytes,
        file_name: str | None,
        mime_type: str | None,
        caption: str | None,
    ) -> UploadOutcome:
        await self._open_duty(caller, duty_id)
        self.check_file(len(data))
        digest = await asyncio.to_thread(self.files.put, data)
        now = iso(self.clock.now())
        added = await self.repo.add_evidence(
            duty_id,
            kind,
            file_id,
            file_unique_id,
            file_name,
            mime_type,
            len(data),
            digest,
            caption,
            caller.user_id,
            now,
        )
        if caption and caption.strip():
            await self.repo.append_note(duty_id, caption.strip()[:MAX_NOTE], now)
        return UploadOutcome(await self.duty(caller, duty_id), added)

    async def add_note(self, caller: Caller, duty_id: int, text: str) -> DutyView:
        text = bounded_text(text, MAX_NOTE)
        await self._open_duty(caller, duty_id)
        await self.repo.append_note(duty_id, text, iso(self.clock.now()))
        return await self.duty(caller, duty_id)

    async def confirm_done(self, caller: Caller, duty_id: int) -> Answered:
        row, rule = await self._load(duty_id)
        await self._check_responsible(caller, row, rule)
        if row.status != OPEN:
            await self._clear_pending(caller, duty_id)
            return Answered(self.engine.view(row, rule), changed=False)
        if row.evidence_count == 0:
            raise DutyRefusedError(DutyRefusal.NO_EVIDENCE)
        changed = await self.repo.complete(duty_id, caller.user_id, iso(self.clock.now()))
        await self._clear_pending(caller, duty_id)
        return Answered(await self.duty(caller, duty_id), changed)

    async def snooze(self, caller: Caller, duty_id: int) -> Snoozed:
        """Remind again in ``snooze_hours`` (a weekend moves it to Monday); says when, local."""
        row, rule = await self._load(duty_id)
        await self._check_responsible(caller, row, rule)
        if row.status != OPEN:
            raise DutyRefusedError(DutyRefusal.CLOSED, duty=self.engine.view(row, rule))
        until = self.engine.schedules[rule.id].snoozed(self.clock.now(), self.settings.snooze_hours)
        await self._reachable(caller)
        await self.repo.snooze(duty_id, iso(until), iso(self.clock.now()))
        return Snoozed(self.engine.view(row, rule), until.astimezone(self.tz))

    async def ask_not_applicable(self, caller: Caller, duty_id: int) -> DutyView:
        view = await self._open_duty(caller, duty_id)
        await self._reachable(caller)
        await self.pending.set(caller.user_id, NA_REASON, f"{duty_id}|{iso(self.clock.now())}", iso(self.clock.now()))
        return view

    async def reason_target(self, caller: Caller) -> int | None:
        return await self._pending_duty(caller, (NA_REASON,), None)

    async def not_applicable(self, caller: Caller, duty_id: int, reason: str) -> Answered:
        reason = bounded_text(reason, MAX_REASON)  # refused before the question is cleared: they may retry
        row, rule = await self._load(duty_id)
        await self._check_responsible(caller, row, rule)
        await self._clear_pending(caller, duty_id)
        if row.status != OPEN:
            return Answered(self.engine.view(row, rule), changed=False)
        changed = await self.repo.mark_not_applicable(duty_id, caller.user_id, reason, iso(self.clock.now()))
        return Answered(await self.duty(caller, duty_id), changed)

    # -- files and texts sent without a button ----------------------------------------------------

    async def duty_of_reply(self, caller: Caller, message_id: int) -> int | None:
        """The duty of the message the caller replied to in their private chat (a reminder, a task
        card...), if it was one of ours."""
        return await self.repo.duty_of_message(caller.user_id, message_id)

    async def remember(self, chat_id: int, message_id: int, duty_id: int) -> None:
        """A message about this duty: a reply to it is for the duty."""
        await self.repo.remember_message(chat_id, message_id, duty_id)

    async def asked_elsewhere(self, caller: Caller) -> bool:
        """Another feature is waiting for this person's next message (an /import file, a site name...):
        then a file or text that names no duty is theirs, not a duty's."""
        pending = await self.pending.get(caller.user_id)
        return pending is not None and pending.kind not in (UPLOAD, FOLLOW, NA_REASON)

    async def keep_uploading(self, caller: Caller, duty_id: int) -> None:
        """After a file went to a duty without 已完成 being pressed, the next files and texts go to it
        too, as after the button, unless another feature is waiting for the person's next message."""
        pending = await self.pending.get(caller.user_id)
        if pending is None or pending.kind == FOLLOW:  # an explicit upload or question is left as it is
            now = iso(self.clock.now())
            await self.pending.set(caller.user_id, FOLLOW, f"{duty_id}|{now}", now)

    async def keep_file(
        self,
        caller: Caller,
        media_group_id: str | None,
        kind: str,
        file_id: str,
        file_unique_id: str,
        data: bytes,
        file_name: str | None,
        mime_type: str | None,
        caption: str | None,
    ) -> int:
        """A file whose duty the person must choose: stored now (bytes in the file store, so the choice
        needs no second download), filed by :meth:`file_kept`. Returns its batch."""
        self.check_file(len(data))
        digest = await asyncio.to_thread(self.files.put, data)
        text = caption.strip()[:MAX_NOTE] if caption and caption.strip() else None
        return await self.repo.keep_pending_file(
            caller.user_id,
            media_group_id,
            kind,
            file_id,
            file_unique_id,
            file_name,
            mime_type,
            len(data),
            digest,
            text,
            iso(self.clock.now()),
        )

    async def kept_batches(self, caller: Caller) -> list[tuple[int, int]]:
        """(batch, files) still waiting for the person to choose their duty."""
        return await self.repo.pending_batches(caller.user_id)

    async def file_kept(self, caller: Caller, duty_id: int, batch: int) -> Filed | None:
        """The chosen duty takes a batch of kept files. None: the batch was filed already (a double tap)."""
        await self._open_duty(caller, duty_id)
        files = await self.repo.pending_files(caller.user_id, batch)
        if not files:
            return None
        note = "\n".join(f.caption for f in files if f.caption) or None
        added = await self.repo.file_batch(caller.user_id, batch, duty_id, note, iso(self.clock.now()))
        return Filed(await self.duty(caller, duty_id), len(files), added)

    # -- managers, inspectors ----------------------------------------------------------------------

    def current_quarter(self) -> Period:
        return calendar_period(Cadence.QUARTERLY, self.clock.now().astimezone(self.tz).date())

    async def board(self, caller: Caller, quarter: Period) -> Board:
        """Sites x duties of the quarter, for the sites the caller manages."""
        sites = await self._managed_sites(caller)
        now = self.clock.now()
        rules = self.settings.active_rules
        rows = await self.repo.overlapping([s.id for s in sites], quarter.start, quarter.end)
        by_cell: dict[tuple[int, str], list[DutyView]] = {}
        for row in rows:
            rule = self.settings.rule(row.rule_id)
            if rule and rule.enabled:
                by_cell.setdefault((row.site_id, row.rule_id), []).append(self.engine.view(row, rule))
        board_rows = []
        for site in sites:
            cells = []
            for rule in rules:
                duties = tuple(by_cell.get((site.id, rule.id), ()))
                cells.append(self._cell(rule, duties, quarter, now))
            board_rows.append(BoardRow(site.id, site.name, tuple(cells)))
        return Board(quarter, rules, tuple(board_rows))

    def _cell(self, rule: DutyRule, duties: tuple[DutyView, ...], quarter: Period, now: datetime) -> BoardCell:
        if duties:
            status = min((d.status for d in duties), key=SEVERITY.index)
            return BoardCell(rule, status, duties, None)
        schedule = self.engine.schedules[rule.id]
        periods = schedule.periods_overlapping(quarter.start, quarter.end)
        starts = [schedule.occurrence(p).remind_at for p in periods]
        ahead = [moment for moment in starts if moment > now]
        if starts and len(ahead) == len(starts):
            return BoardCell(rule, DutyStatus.UPCOMING, (), ahead[0].astimezone(self.tz))
        return BoardCell(rule, DutyStatus.MISSING, (), None)

    async def overdue(self, caller: Caller) -> list[DutyView]:
        sites = await self._managed_sites(caller)
        now = self.clock.now()
        views = []
        for row in await self.repo.overdue([s.id for s in sites], iso(now)):
            rule = self.settings.rule(row.rule_id)
            if rule and rule.enabled:
                views.append(self.engine.view(row, rule))
        return sorted(views, key=lambda v: (v.due_date, v.site_name, v.id))

    async def evidence(self, caller: Caller, duty_id: int) -> Evidence:
        """A duty's files, for its own people, admins, and the managers and inspectors of its site."""
        row, rule = await self._load(duty_id)
        if not await self._is_responsible(caller, row, rule):
            visible = await self.sites.visible_to(caller.user_id, (Role.MANAGER, Role.INSPECTOR))
            if row.site_id not in {site.id for site in visible}:
                raise DutyRefusedError(DutyRefusal.NOT_ALLOWED)
        files = tuple(await self.repo.evidence(duty_id))
        return Evidence(self.engine.view(row, rule), files)

    async def status_for_clause(self, site_id: int, clause_code: str) -> DutyClauseStatus | None:
        """What a clause card shows about the duty serving ``clause_code`` at this site: the latest
        duty that has started (this period's), or the current period with no duty recorded.
        None when no enabled rule serves the clause."""
        code = normalise_code(clause_code)
        rules = [rule for rule in self.settings.active_rules if rule.serves(code)]
        if not rules:
            return None
        now = self.clock.now()
        row = await self.repo.latest_started(site_id, [rule.id for rule in rules], iso(now))
        if row is not None:
            rule = self.settings.rule(row.rule_id)
            assert rule is not None
            view = self.engine.view(row, rule)
            return DutyClauseStatus(
                duty_id=view.id,
                rule_id=rule.id,
                title_zh=rule.title_zh,
                title_en=rule.title_en,
                clause_code=code,
                period=view.period,
                status=view.status,
                due_date=view.due_date,
                done_at=view.done_at,
                done_by=view.done_by_name,
                evidence_count=view.evidence_count,
                na_reason=view.na_reason,
                covered=view.covered,
            )
        rule = rules[0]
        schedule = self.engine.schedules[rule.id]
        occurrence = schedule.current(now) or schedule.upcoming(now)
        if occurrence is None:
            return None
        status = DutyStatus.UPCOMING if occurrence.remind_at > now else DutyStatus.MISSING
        return DutyClauseStatus(
            duty_id=None,
            rule_id=rule.id,
            title_zh=rule.title_zh,
            title_en=rule.title_en,
            clause_code=code,
            period=occurrence.period,
            status=status,
            due_date=None,
            done_at=None,
            done_by=None,
            evidence_count=0,
            na_reason=None,
            covered=covered_period(rule, occurrence.period),
        )

    # -- helpers -----------------------------------------------------------------------------------

    async def _load(self, duty_id: int) -> tuple[DutyRow, DutyRule]:
        row = await self.repo.get(duty_id)
        rule = self.settings.rule(row.rule_id) if row else None
        if row is None or rule is None:
            raise DutyRefusedError(DutyRefusal.NOT_FOUND)
        return row, rule

    async def _open_duty(self, caller: Caller, duty_id: int) -> DutyView:
        row, rule = await self._load(duty_id)
        await self._check_responsible(caller, row, rule)
        view = self.engine.view(row, rule)
        if row.status != OPEN:
            await self._clear_pending(caller, duty_id)  # someone else closed it: stop taking files for it
            raise DutyRefusedError(DutyRefusal.CLOSED, duty=view)
        return view

    async def _reachable(self, caller: Caller) -> None:
        """Someone answering a duty has the chat open: if a 403 once marked them unreachable (they
        blocked the bot, then unblocked it), reminders are planned for them again."""
        await self.repo.mark_reachable(caller.user_id, iso(self.clock.now()))

    async def _site_grants(self, user_id: int) -> dict[int, set[str]]:
        person = await self.users.get(user_id)
        grants: dict[int, set[str]] = {}
        for grant in person.roles if person else ():
            if grant.site_id is not None:
                grants.setdefault(grant.site_id, set()).add(grant.role)
        return grants

    async def _is_responsible(self, caller: Caller, row: DutyRow, rule: DutyRule) -> bool:
        if Role.ADMIN in caller.roles:
            return True
        grants = await self._site_grants(caller.user_id)
        return bool(grants.get(row.site_id, set()) & set(rule.roles))

    async def _check_responsible(self, caller: Caller, row: DutyRow, rule: DutyRule) -> None:
        if not await self._is_responsible(caller, row, rule):
            raise DutyRefusedError(DutyRefusal.NOT_YOURS)

    async def _managed_sites(self, caller: Caller) -> list[Site]:
        return await self.sites.visible_to(caller.user_id, (Role.MANAGER,), everything=Role.ADMIN in caller.roles)

    async def _pending_duty(self, caller: Caller, kinds: tuple[str, ...], window: timedelta | None) -> int | None:
        return self._duty_in(await self.pending.get(caller.user_id), kinds, window)

    def _duty_in(self, pending: PendingInput | None, kinds: tuple[str, ...], window: timedelta | None) -> int | None:
        """The duty a pending input of one of ``kinds`` is for, unless older than ``window``."""
        if pending is None or pending.kind not in kinds:
            return None
        raw_id, _, since = pending.payload.partition("|")
        if not raw_id.isdigit():
            return None
        if window is not None and since and self.clock.now() - parse_moment(since) > window:
            return None
        return int(raw_id)

    async def _clear_pending(self, caller: Caller, duty_id: int) -> None:
        pending = await self.pending.get(caller.user_id)
        ours = pending is not None and pending.kind in (UPLOAD, FOLLOW, NA_REASON)
        if ours and pending.payload.partition("|")[0] == str(duty_id):
            await self.pending.clear(caller.user_id)
