"""指派: a manager of the site (or an admin) names the one person responsible for an action, among the
site's staff, or gives it back to the whole staff (the default). While assigned, only that person
(and admins) send proof; the overdue follow-ups and the results go to them (notices.py).

Each choice carries the assignee it starts from: a double tap, or a list drawn before someone else
reassigned it, changes nothing and is refused as stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import iso
from bot.flows.access import Caller
from bot.flows.actions.loop import ActionRefusal, ActionRefusedError
from bot.flows.actions.views import LIVE, ActionCard, ActionFlow
from storage.actions import ActionRow
from storage.duties import DutyRepository

PER_PAGE = 8
STAFF = ("staff",)


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str


@dataclass(frozen=True)
class AssignPage:
    card: ActionCard
    people: tuple[Candidate, ...]  # this page of the site's staff, the current assignee left out
    index: int
    pages: int
    total: int
    current: int | None  # who it is assigned to now (None: the site's staff)


class AssignFlow:
    def __init__(self, views: ActionFlow, duties: DutyRepository) -> None:
        self.views = views
        self.duties = duties
        self.clock = views.clock

    async def choices(self, caller: Caller, action_id: int, index: int) -> AssignPage:
        row = await self._assignable(caller, action_id)
        people = [
            Candidate(person.id, person.name)
            for person in await self.duties.site_people(row.site_id, STAFF)
            if person.id != row.assignee_id
        ]
        pages = max(1, -(-len(people) // PER_PAGE))
        index = min(max(index, 0), pages - 1)
        shown = tuple(people[index * PER_PAGE : (index + 1) * PER_PAGE])
        card = await self.views.card_of(caller, row)
        return AssignPage(card, shown, index, pages, len(people), row.assignee_id)

    async def assign(self, caller: Caller, action_id: int, current: int | None, to: int | None) -> ActionCard:
        row = await self._assignable(caller, action_id)
        if row.assignee_id != current or to == current:
            raise ActionRefusedError(ActionRefusal.STALE)
        if to is not None and to not in {person.id for person in await self.duties.site_people(row.site_id, STAFF)}:
            raise ActionRefusedError(ActionRefusal.NOT_SITE_STAFF)
        now = iso(self.clock.now())
        if not await self.views.repo.assignees().assign(action_id, current, to, caller.user_id, now):
            raise ActionRefusedError(ActionRefusal.STALE)  # moved on between the reads and the write
        fresh = await self.views.repo.get(action_id)
        assert fresh is not None
        return await self.views.card_of(caller, fresh)

    async def _assignable(self, caller: Caller, action_id: int) -> ActionRow:
        row = await self.views.visible(caller, action_id)
        if not (await self.views.powers(caller, row)).decide:
            raise ActionRefusedError(ActionRefusal.NOT_MANAGER)
        if row.status not in LIVE:
            raise ActionRefusedError(ActionRefusal.STALE)
        return row
