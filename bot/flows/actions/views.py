"""What people see of corrective actions: the open ones of their sites, and one action's card with
its history. Everyone sees only the actions of the sites their roles reach (admins: all)."""

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


@dataclass(frozen=True)
class HistoryLine:
    at: datetime  # local
    actor_name: str | None
    event: str  # created, changed, cancelled (and, to come: submitted, returned, closed, extended)
    round: int
    due_date: date | None
    detail: str | None


@dataclass(frozen=True)
class ActionCard:
    line: ActionLine
    inspection_id: int
    found_on: date
    history: tuple[HistoryLine, ...]


@dataclass
class ActionFlow:
    repo: ActionRepository
    sites: SiteRepository
    rubrics: RubricRegistry
    clock: Clock
    tz: ZoneInfo

    async def live(self, caller: Caller) -> list[ActionLine]:
        """Open and submitted actions of the caller's sites, the most urgent first."""
        rows = await self.repo.listed(await self._site_ids(caller), [status.value for status in LIVE])
        return [self._line(row) for row in rows]

    async def card(self, caller: Caller, action_id: int) -> ActionCard:
        row = await self.repo.get(action_id)
        site_ids = await self._site_ids(caller)
        if row is None or (site_ids is not None and row.site_id not in site_ids):
            raise RefusedError(Refusal.NOT_FOUND)
        history = tuple(self._history(event) for event in await self.repo.events(action_id))
        found_on = datetime.fromisoformat(row.created_at).astimezone(self.tz).date()
        return ActionCard(self._line(row), row.inspection_id, found_on, history)

    async def _site_ids(self, caller: Caller) -> list[int] | None:
        """None: every site (an admin)."""
        if Role.ADMIN in caller.roles:
            return None
        sites = await self.sites.visible_to(caller.user_id, tuple(role.value for role in SEEING_ROLES))
        return [site.id for site in sites]

    def _history(self, event: ActionEvent) -> HistoryLine:
        due = date.fromisoformat(event.due_date) if event.due_date else None
        at = datetime.fromisoformat(event.at).astimezone(self.tz)
        return HistoryLine(at, event.actor_name, event.event, event.round, due, event.detail)

    def _line(self, row: ActionRow) -> ActionLine:
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
        )
