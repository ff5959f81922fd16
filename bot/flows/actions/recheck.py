"""复查: the next inspection of a site begins by re-checking its corrective actions on site.

Each action still open, or closed since the site's last visit, gets one of: 已整改 (fixed: an open
one is closed, the site is told), 未整改 (not fixed: it stays open, or a closed one opens again
for another round, and it counts as a repeat finding), 整改后复发 (a closed one whose problem is
back: a repeat finding) or 跳过 (not checked, recorded). Only the inspection's own inspector decides,
while it is a draft; a double tap or a stale button changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.clock import iso
from bot.flows.access import Caller
from bot.flows.actions.loop import ActionRefusal, ActionRefusedError
from bot.flows.actions.rules import ActionStatus
from bot.flows.actions.views import ActionFlow, ActionLine
from bot.flows.errors import Refusal, RefusedError
from bot.flows.inspection.walk import InspectionFlow
from storage.rechecks import Pictures, RecheckRepository


class Outcome(StrEnum):
    FIXED = "fixed"  # 已整改
    NOT_FIXED = "not_fixed"  # 未整改
    RECURRED = "recurred"  # 整改后复发: only for an action closed since the last visit
    SKIPPED = "skipped"  # 跳过


@dataclass(frozen=True)
class RecheckCard:
    inspection_id: int
    line: ActionLine
    found_on: date
    position: int  # 1-based among the inspection's re-checks
    total: int
    proof_count: int  # proof items of the action's current round
    outcomes: tuple[Outcome, ...]  # what may be chosen for it


@dataclass(frozen=True)
class RecheckDone:
    inspection_id: int
    counts: dict[str, int]  # outcome -> how many


class RecheckFlow:
    def __init__(self, repo: RecheckRepository, views: ActionFlow, inspections: InspectionFlow) -> None:
        self.repo = repo
        self.views = views
        self.inspections = inspections

    async def next(self, caller: Caller, inspection_id: int) -> RecheckCard | None:
        """The first undecided re-check of the caller's draft; None when there is none (left)."""
        await self.inspections.load(caller, inspection_id, for_change=True)
        rows = await self.repo.of_inspection(inspection_id)
        for position, row in enumerate(rows, start=1):
            if row.outcome is None:
                return await self._card(caller, inspection_id, row.action_id, position, len(rows))
        return None

    async def decide(self, caller: Caller, inspection_id: int, action_id: int, outcome: Outcome) -> None:
        await self.inspections.load(caller, inspection_id, for_change=True)
        rows = {row.action_id: row for row in await self.repo.of_inspection(inspection_id)}
        if action_id not in rows:
            raise RefusedError(Refusal.NOT_FOUND)
        if outcome is Outcome.FIXED and await self._own_proof(caller, action_id):
            raise ActionRefusedError(ActionRefusal.OWN_PROOF)
        now = iso(self.views.clock.now())
        if not await self.repo.decide(inspection_id, action_id, outcome.value, caller.user_id, now):
            raise ActionRefusedError(ActionRefusal.RECHECKED)

    async def summary(self, inspection_id: int) -> RecheckDone:
        counts = dict.fromkeys((outcome.value for outcome in Outcome), 0)
        for row in await self.repo.of_inspection(inspection_id):
            if row.outcome is not None:
                counts[row.outcome] += 1
        return RecheckDone(inspection_id, counts)

    async def pictures(self, caller: Caller, inspection_id: int, action_id: int) -> Pictures:
        await self.inspections.load(caller, inspection_id, for_change=True)
        if action_id not in {row.action_id for row in await self.repo.of_inspection(inspection_id)}:
            raise RefusedError(Refusal.NOT_FOUND)
        return await self.repo.pictures(action_id)

    async def _own_proof(self, caller: Caller, action_id: int) -> bool:
        """The action waits with proof the caller submitted: 已整改 would verify their own proof (a
        person who is both the site's staff and its inspector), which only someone else may do."""
        row = await self.views.repo.get(action_id)
        return row is not None and (await self.views.powers(caller, row)).own_proof

    async def _card(self, caller: Caller, inspection_id: int, action_id: int, position: int, total: int) -> RecheckCard:
        row = await self.views.repo.get(action_id)
        if row is None:
            raise RefusedError(Refusal.NOT_FOUND)
        line = self.views.line_of(row)
        own = (await self.views.powers(caller, row)).own_proof
        outcomes = (Outcome.NOT_FIXED,) if own else (Outcome.FIXED, Outcome.NOT_FIXED)
        if line.status is ActionStatus.CLOSED:
            outcomes += (Outcome.RECURRED,)
        return RecheckCard(
            inspection_id,
            line,
            datetime.fromisoformat(row.created_at).astimezone(self.views.tz).date(),
            position,
            total,
            await self.views.repo.proof_count(row.id, row.round),
            (*outcomes, Outcome.SKIPPED),
        )
