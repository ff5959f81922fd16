"""当场整改 (fixed on the spot, issue #15 §1) as plain logic.

In review the inspector picks a finding, gives a short reason (required; a preset one-tap reason
is offered) and optionally an "after" photo. The mark is stored the moment the reason is given; it
can be undone (撤销) until submit. At submit the finding still becomes an action, created already
closed (storage.actions.reconcile_for_inspection_sync). What the next message is for (the reason,
then the photo) is a pending input, so a restart in the middle loses nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import iso
from bot.flows.access import Caller
from bot.flows.errors import Refusal, RefusedError, bounded_text
from bot.flows.inspection.walk import FindingLine, InspectionFlow, Review
from storage.pending import PendingInputRepository

REASON = "spot_reason"  # pending input: the next text is why this finding counts as fixed on the spot
PHOTO = "spot_photo"  # pending input: the next photo is its "after" photo
KINDS = (REASON, PHOTO)
# An unanswered question stops claiming messages after this long: a note typed on a clause card much
# later is not taken for a reason (the actions loop, asked from a card of its own, waits 12 hours).
WINDOW = timedelta(hours=1)
MAX_REASON = 500


@dataclass(frozen=True)
class SpotWaiting:
    kind: str  # REASON or PHOTO
    inspection_id: int
    clause_id: str


@dataclass(frozen=True)
class SpotStep:
    """A finding being marked, as the prompts show it."""

    inspection_id: int
    finding: FindingLine
    reason: str | None = None
    photo: bool = False


@dataclass
class OnTheSpot:
    flow: InspectionFlow
    pending: PendingInputRepository

    @property
    def enabled(self) -> bool:
        return self.flow.actions.on_the_spot

    async def findings(self, caller: Caller, inspection_id: int) -> Review:
        """The review with its findings and marks: the list to pick from."""
        self._check_enabled()
        return await self.flow.review(caller, inspection_id)

    async def begin(self, caller: Caller, inspection_id: int, clause_id: str) -> SpotStep:
        """A finding picked: its reason is asked next."""
        finding = await self._finding(caller, inspection_id, clause_id)
        await self._ask(caller, REASON, inspection_id, clause_id)
        return SpotStep(inspection_id, finding)

    async def give_reason(self, caller: Caller, inspection_id: int, clause_id: str, text: str) -> SpotStep:
        """Store the mark with its reason (a preset tap or a text); the photo is asked next."""
        reason = bounded_text(text, MAX_REASON)
        if not reason:
            raise RefusedError(Refusal.NO_REASON)
        finding = await self._finding(caller, inspection_id, clause_id)
        now = iso(self.flow.clock.now())
        if not await self.flow.repo.mark_on_the_spot(inspection_id, clause_id, reason, caller.user_id, now):
            raise RefusedError(Refusal.NOT_FOUND)  # submitted between the read and the write
        await self._ask(caller, PHOTO, inspection_id, clause_id)
        return SpotStep(inspection_id, finding, reason)

    async def add_photo(
        self,
        caller: Caller,
        inspection_id: int,
        clause_id: str,
        file_id: str,
        file_unique_id: str,
        data: bytes,
        mime_type: str | None,
    ) -> SpotStep:
        finding = await self._finding(caller, inspection_id, clause_id)
        self.flow.check_file(len(data), mime_type or "image/jpeg", is_photo=True)
        digest = await asyncio.to_thread(self.flow.files.put, data)
        stored = await self.flow.repo.on_the_spot_photo(
            inspection_id, clause_id, file_id, file_unique_id, digest, len(data), mime_type or "image/jpeg"
        )
        await self.pending.clear(caller.user_id)
        if not stored:  # undone meanwhile
            raise RefusedError(Refusal.NOT_A_FINDING)
        return SpotStep(inspection_id, finding, photo=True)

    async def skip_photo(self, caller: Caller, inspection_id: int) -> None:
        await self.flow.load(caller, inspection_id, for_change=True)
        waiting = await self.waiting(caller)
        if waiting is not None and waiting.inspection_id == inspection_id:
            await self.pending.clear(caller.user_id)

    async def undo(self, caller: Caller, inspection_id: int, clause_id: str) -> None:
        """撤销 a mark before submit (a second tap finds nothing to undo and changes nothing)."""
        self._check_enabled()
        await self.flow.load(caller, inspection_id, for_change=True)
        await self.flow.repo.unmark_on_the_spot(inspection_id, clause_id)
        waiting = await self.waiting(caller)
        if waiting is not None and (waiting.inspection_id, waiting.clause_id) == (inspection_id, clause_id):
            await self.pending.clear(caller.user_id)

    async def waiting(self, caller: Caller) -> SpotWaiting | None:
        """What the person's next text or photo is for, while one of our questions is open."""
        pending = await self.pending.get(caller.user_id)
        if pending is None or pending.kind not in KINDS:
            return None
        inspection, clause, asked = pending.payload.split("|", 2)
        if datetime.fromisoformat(asked) < self.flow.clock.now() - WINDOW:
            return None
        return SpotWaiting(pending.kind, int(inspection), clause)

    # -- internals ------------------------------------------------------------------------------

    def _check_enabled(self) -> None:
        if not self.enabled:
            raise RefusedError(Refusal.ON_THE_SPOT_OFF)

    async def _finding(self, caller: Caller, inspection_id: int, clause_id: str) -> FindingLine:
        """The finding, while 当场整改 is on, the draft the caller's and the clause still below 符合."""
        self._check_enabled()
        review = await self.flow.review(caller, inspection_id)
        for finding in review.findings:
            if finding.clause.id == clause_id:
                return finding
        raise RefusedError(Refusal.NOT_A_FINDING)

    async def _ask(self, caller: Caller, kind: str, inspection_id: int, clause_id: str) -> None:
        now = iso(self.flow.clock.now())
        await self.pending.set(caller.user_id, kind, f"{inspection_id}|{clause_id}|{now}", now)
