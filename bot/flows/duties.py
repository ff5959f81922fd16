"""Periodic duties as plain logic: what staff answer, what managers see, what an inspection shows.

Staff answer a reminder with 已完成，上传材料 (files and photos, then a confirmation), 稍后提醒 or
不适用 (with a reason). The answer in progress is a pending input row (``storage/pending.py``), so
a restart in the middle of an upload loses nothing. The engine that creates duties and sends the
reminders is :class:`bot.flows.duty_engine.DutyEngine`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso
from bot.flows.access import Caller, Role
from bot.flows.duty_engine import DutyEngine
from bot.flows.duty_views import (
    SEVERITY,
    DutyClauseStatus,
    DutyStatus,
    DutyView,
    parse_moment,
    view_of,
)
from bot.flows.errors import RefusedError, bounded_text
from bot.flows.schedule import Period, calendar_period
from config.duties import Cadence, DutyRule, DutySettings, normalise_code
from storage.duties import OPEN, DutyRepository, DutyRow, EvidenceRow
from storage.files import FileStore
from storage.pending import PendingInputRepository
from storage.sites import Site, SiteRepository
from storage.users import UserRepository

UPLOAD = "duty_upload"  # pending input: files, photos and texts go to this duty
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
        self.engine = DutyEngine(repo, users, clock, settings, tz, default_language, admin_ids)

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
                views.append(view_of(row, rule, now, self.tz))
        return sorted(views, key=lambda v: (v.due_date, v.site_name, v.id))

    async def duty(self, caller: Caller, duty_id: int) -> DutyView:
        """A duty the caller answers for (its site's people with the rule's roles, or an admin)."""
        row, rule = await self._load(duty_id)
        await self._check_responsible(caller, row, rule)
        return view_of(row, rule, self.clock.now(), self.tz)

    async def begin_upload(self, caller: Caller, duty_id: int) -> DutyView:
        view = await self._open_duty(caller, duty_id)
        await self._reachable(caller)
        await self.pending.set(caller.user_id, UPLOAD, f"{duty_id}|{iso(self.clock.now())}", iso(self.clock.now()))
        return view

    async def upload_target(self, caller: Caller) -> int | None:
        """The duty the caller is uploading evidence for, if they are."""
        return await self._pending_duty(caller, UPLOAD, UPLOAD_WINDOW)

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
            return Answered(view_of(row, rule, self.clock.now(), self.tz), changed=False)
        if row.evidence_count == 0:
            raise DutyRefusedError(DutyRefusal.NO_EVIDENCE)
        changed = await self.repo.complete(duty_id, caller.user_id, iso(self.clock.now()))
        await self._clear_pending(caller, duty_id)
        return Answered(await self.duty(caller, duty_id), changed)

    async def snooze(self, caller: Caller, duty_id: int) -> datetime:
        """Remind again in ``snooze_hours`` (a weekend moves it to Monday). Returns when, local."""
        row, rule = await self._load(duty_id)
        await self._check_responsible(caller, row, rule)
        if row.status != OPEN:
            raise DutyRefusedError(DutyRefusal.CLOSED, duty=view_of(row, rule, self.clock.now(), self.tz))
        until = self.engine.schedules[rule.id].snoozed(self.clock.now(), self.settings.snooze_hours)
        await self._reachable(caller)
        await self.repo.snooze(duty_id, iso(until), iso(self.clock.now()))
        return until.astimezone(self.tz)

    async def ask_not_applicable(self, caller: Caller, duty_id: int) -> DutyView:
        view = await self._open_duty(caller, duty_id)
        await self._reachable(caller)
        await self.pending.set(caller.user_id, NA_REASON, f"{duty_id}|{iso(self.clock.now())}", iso(self.clock.now()))
        return view

    async def reason_target(self, caller: Caller) -> int | None:
        return await self._pending_duty(caller, NA_REASON, None)

    async def not_applicable(self, caller: Caller, duty_id: int, reason: str) -> Answered:
        reason = bounded_text(reason, MAX_REASON)  # refused before the question is cleared: they may retry
        row, rule = await self._load(duty_id)
        await self._check_responsible(caller, row, rule)
        await self._clear_pending(caller, duty_id)
        if row.status != OPEN:
            return Answered(view_of(row, rule, self.clock.now(), self.tz), changed=False)
        changed = await self.repo.mark_not_applicable(duty_id, caller.user_id, reason, iso(self.clock.now()))
        return Answered(await self.duty(caller, duty_id), changed)

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
                by_cell.setdefault((row.site_id, row.rule_id), []).append(view_of(row, rule, now, self.tz))
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
                views.append(view_of(row, rule, now, self.tz))
        return sorted(views, key=lambda v: (v.due_date, v.site_name, v.id))

    async def evidence(self, caller: Caller, duty_id: int) -> Evidence:
        """A duty's files, for its own people, admins, and the managers and inspectors of its site."""
        row, rule = await self._load(duty_id)
        if not await self._is_responsible(caller, row, rule):
            visible = await self.sites.visible_to(caller.user_id, (Role.MANAGER, Role.INSPECTOR))
            if row.site_id not in {site.id for site in visible}:
                raise DutyRefusedError(DutyRefusal.NOT_ALLOWED)
        files = tuple(await self.repo.evidence(duty_id))
        return Evidence(view_of(row, rule, self.clock.now(), self.tz), files)

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
            view = view_of(row, rule, now, self.tz)
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
            )
        rule = rules[0]
        schedule = self.engine.schedules[rule.id]
        occurrence = schedule.current(now) or schedule.upcoming(now)
        if occurrence is None:
            return None
        status = DutyStatus.UPCOMING if occurrence.remind_at > now else DutyStatus.MISSING
        return DutyClauseStatus(
            None, rule.id, rule.title_zh, rule.title_en, code, occurrence.period, status, None, None, None, 0, None
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
        view = view_of(row, rule, self.clock.now(), self.tz)
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

    async def _pending_duty(self, caller: Caller, kind: str, window: timedelta | None) -> int | None:
        pending = await self.pending.get(caller.user_id)
        if pending is None or pending.kind != kind:
            return None
        raw_id, _, since = pending.payload.partition("|")
        if not raw_id.isdigit():
            return None
        if window is not None and since and self.clock.now() - parse_moment(since) > window:
            return None
        return int(raw_id)

    async def _clear_pending(self, caller: Caller, duty_id: int) -> None:
        pending = await self.pending.get(caller.user_id)
        if pending and pending.kind in (UPLOAD, NA_REASON) and pending.payload.partition("|")[0] == str(duty_id):
            await self.pending.clear(caller.user_id)
