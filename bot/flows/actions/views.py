"""What people see of corrective actions: the open ones of their sites, and one action's card with
its history. Everyone sees only the actions of the sites their roles reach (admins: all); the
inspector who found a problem also sees its action.

Who may do what in the fix-and-verify loop (:func:`ActionFlow.powers`): the site's staff (and admins)
send proof and submit it, and ask for more time (申请延期) - only the assignee (and admins) while a
manager has assigned the action to a person; the inspector who found it, the inspectors and managers
of the site, and admins verify (通过 or 退回), except whoever submitted the proof waiting (nobody
verifies their own proof); the site's managers and admins approve or refuse a request for more time,
and assign the action to one of the site's staff (指派)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.flows.access import Caller, Role
from bot.flows.actions.rules import ActionStatus, Severity
from bot.flows.errors import Refusal, RefusedError
from rubric.model import Answer, Clause
from rubric.registry import RubricRegistry
from storage.actions import ActionEvent, ActionRepository, ActionRow
from storage.sites import SiteRepository

SEEING_ROLES = (Role.MANAGER, Role.INSPECTOR, Role.STAFF)
LIVE = (ActionStatus.OPEN, ActionStatus.SUBMITTED)


@dataclass(frozen=True)
class ActionLine:
    id: int
    site_name: str
    clause: Clause
    answer: Answer
    severity: Severity
    status: ActionStatus
    round: int
    due_date: date
    overdue_days: int  # calendar days past the due date; 0 when not late
    repeat: bool = False  # 重复问题: found at the site's previous inspection too


@dataclass(frozen=True)
class HistoryLine:
    at: datetime  # local
    actor_name: str | None
    event: str  # created, changed, cancelled, submitted, returned, closed, extension_requested, extended, ...
    round: int
    due_date: date | None
    detail: str | None
    asked_due: date | None = None  # extension_requested: the date asked for
    old_due: date | None = None  # extended: the due date before
    assignee_name: str | None = None  # assigned: the person named (None with no detail: back to the staff)


@dataclass(frozen=True)
class PendingExtension:
    """A request for more time (申请延期) waiting for a manager."""

    id: int
    requester_name: str | None
    new_due: date
    reason: str


@dataclass(frozen=True)
class ActionCard:
    line: ActionLine
    inspection_id: int
    found_on: date
    history: tuple[HistoryLine, ...]
    proof_count: int = 0  # proof items of the current round
    last_return: str | None = None  # why the proof was last returned, if it was
    may_submit: bool = False  # the caller may send proof and submit it (staff of the site, admins)
    may_verify: bool = False  # the caller may pass or return it
    extension: PendingExtension | None = None  # a request for more time, waiting for a manager
    may_extend: bool = False  # the caller may ask for more time (staff of an open action, none pending)
    may_decide: bool = False  # the caller may approve or refuse the pending request (managers, admins)
    assignee_name: str | None = None  # 负责人: the person assigned (None: the site's staff)
    may_assign: bool = False  # the caller may assign it (managers of the site, admins; open or submitted)
    own_proof: bool = False  # the proof waiting is the caller's own: someone else verifies it


@dataclass(frozen=True)
class LivePage:
    lines: tuple[ActionLine, ...]
    index: int
    pages: int
    total: int


@dataclass(frozen=True)
class Powers:
    submit: bool
    verify: bool
    decide: bool = False  # approve or refuse a request for more time; assign the action (指派)
    own_proof: bool = False  # a verifier who submitted the proof waiting themselves, so may not verify it


@dataclass
class ActionFlow:
    repo: ActionRepository
    sites: SiteRepository
    rubrics: RubricRegistry
    clock: Clock
    tz: ZoneInfo

    async def live_page(self, caller: Caller, index: int, size: int) -> LivePage:
        """One page of the open and submitted actions of the caller's sites, the most urgent first, cut
        in the database: a company's 100,000 actions are never all read."""
        site_ids, statuses = await self._site_ids(caller), [status.value for status in LIVE]
        total = await self.repo.count_listed(site_ids, statuses)
        pages = max(1, -(-total // size))
        index = min(max(index, 0), pages - 1)
        rows = await self.repo.listed(site_ids, statuses, page=(index * size, size)) if total else []
        return LivePage(tuple(self.line_of(row) for row in rows), index, pages, total)

    async def card(self, caller: Caller, action_id: int) -> ActionCard:
        row = await self.visible(caller, action_id)
        return await self.card_of(caller, row)

    async def visible(self, caller: Caller, action_id: int) -> ActionRow:
        """The action, if the caller may see it; refused as not found otherwise (a forged id tells
        nothing about other sites' actions)."""
        row = await self.repo.get(action_id)
        if row is None:
            raise RefusedError(Refusal.NOT_FOUND)
        if row.inspector_id == caller.user_id and Role.INSPECTOR in caller.roles:
            return row
        site_ids = await self._site_ids(caller)
        if site_ids is not None and row.site_id not in site_ids:
            raise RefusedError(Refusal.NOT_FOUND)
        return row

    async def powers(self, caller: Caller, row: ActionRow) -> Powers:
        submitter = (
            await self.repo.assignees().submitter(row.id, row.round) if row.status == ActionStatus.SUBMITTED else None
        )
        own = submitter == caller.user_id
        if Role.ADMIN in caller.roles:
            return Powers(submit=True, verify=not own, decide=True, own_proof=own)
        roles = await self.repo.roles_at(caller.user_id, row.site_id)
        finder = row.inspector_id == caller.user_id and Role.INSPECTOR in caller.roles
        verifier = finder or bool(roles & {Role.INSPECTOR.value, Role.MANAGER.value})
        return Powers(
            submit=Role.STAFF.value in roles and row.assignee_id in (None, caller.user_id),
            verify=verifier and not own,
            decide=Role.MANAGER.value in roles,
            own_proof=verifier and own,
        )

    async def card_of(self, caller: Caller, row: ActionRow) -> ActionCard:
        events = await self.repo.events(row.id)
        named = [int(e.detail) for e in events if e.event == "assigned" and e.detail and e.detail.isdigit()]
        names = await self.repo.assignees().names([*named, *([row.assignee_id] if row.assignee_id else [])])
        history = tuple(self._history(event, names) for event in events)
        found_on = datetime.fromisoformat(row.created_at).astimezone(self.tz).date()
        powers = await self.powers(caller, row)
        asked = await self.repo.pending_extension(row.id)
        extension = (
            PendingExtension(asked.id, asked.requester_name, date.fromisoformat(asked.new_due_date), asked.reason)
            if asked is not None and row.status in (ActionStatus.OPEN, ActionStatus.SUBMITTED)
            else None
        )
        return ActionCard(
            self.line_of(row),
            row.inspection_id,
            found_on,
            history,
            proof_count=await self.repo.proof_count(row.id, row.round),
            last_return=await self.repo.last_return(row.id) if row.round > 1 else None,
            may_submit=powers.submit,
            may_verify=powers.verify,
            extension=extension,
            may_extend=powers.submit and row.status == ActionStatus.OPEN and asked is None,
            may_decide=powers.decide and extension is not None,
            assignee_name=names.get(row.assignee_id, str(row.assignee_id)) if row.assignee_id else None,
            may_assign=powers.decide and row.status in LIVE,
            own_proof=powers.own_proof,
        )

    async def _site_ids(self, caller: Caller) -> list[int] | None:
        """None: every site (an admin)."""
        if Role.ADMIN in caller.roles:
            return None
        sites = await self.sites.visible_to(caller.user_id, tuple(role.value for role in SEEING_ROLES))
        return [site.id for site in sites]

    def _history(self, event: ActionEvent, names: dict[int, str]) -> HistoryLine:
        due = date.fromisoformat(event.due_date) if event.due_date else None
        at = datetime.fromisoformat(event.at).astimezone(self.tz)
        asked = date.fromisoformat(event.asked_due) if event.asked_due else None
        old = date.fromisoformat(event.detail) if event.event == "extended" and event.detail else None
        assigned = (
            names.get(int(event.detail), event.detail)
            if event.event == "assigned" and event.detail and event.detail.isdigit()
            else None
        )
        return HistoryLine(at, event.actor_name, event.event, event.round, due, event.detail, asked, old, assigned)

    def line_of(self, row: ActionRow) -> ActionLine:
        rubric = self.rubrics.by_hash(row.rubric_hash)
        due = date.fromisoformat(row.due_date)
        today = self.clock.now().astimezone(self.tz).date()
        status = ActionStatus(row.status)
        late = (today - due).days if status in LIVE else 0
        return ActionLine(
            id=row.id,
            site_name=row.site_name,
            clause=rubric.clause(row.clause_id),
            answer=Answer(row.answer),
            severity=Severity(row.severity),
            status=status,
            round=row.round,
            due_date=due,
            overdue_days=max(late, 0),
            repeat=row.repeat_of is not None or row.found_again > 0,
        )
