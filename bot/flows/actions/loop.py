"""The fix-and-verify loop of a corrective action (整改 → 验证), as plain logic.

Staff of the action's site press 提交整改材料: a pending input (``storage/pending.py``) makes their next
photos, files and texts the action's proof for its current round. 提交整改 (with at least one item
of proof) moves it to submitted. A verifier then passes it (closed) or returns it with a reason (open
again, round + 1, new proof needed). Every refusal changes nothing; each transition is one transaction
with its event, its UPDATE checking the state it starts from (a double tap applies once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.clock import iso
from bot.flows.access import Caller
from bot.flows.actions.rules import ActionStatus
from bot.flows.actions.views import ActionCard, ActionFlow
from bot.flows.errors import Refusal, RefusedError, bounded_text
from storage.actions import ActionRow, ProofItem
from storage.files import FileStore
from storage.pending import PendingInputRepository

PROOF = "action_proof"  # pending input: the next photos, files and texts are this action's proof
RETURN = "action_return"  # pending input: the next text is why this action's proof is returned
KINDS = (PROOF, RETURN)
# A question left unanswered stops claiming messages after this long (a later inspection photo of a
# person who is both staff and inspector is not taken for proof).
WINDOW = timedelta(hours=12)
MAX_NOTE = 2000
MAX_REASON = 500


class ActionRefusal(StrEnum):
    """Each value is a macro in ``bot/templates/actions.j2``."""

    NOT_ALLOWED = "refused_not_allowed"  # a loop button for someone without the role for it
    STALE = "refused_stale"  # ... for a state the action has left (a double tap, an old message)
    NO_PROOF = "refused_no_proof"  # 提交整改 before any photo, file or note
    RECHECKED = "refused_rechecked"  # a 复查 button of an action decided already (a double tap)
    OWN_PROOF = "refused_own_proof"  # 通过 or 退回 of the proof the caller submitted themselves
    NOT_ASSIGNEE = "refused_not_assignee"  # proof from staff while the action is assigned to another person
    NOT_SITE_STAFF = "refused_not_site_staff"  # 指派 to someone no longer staff of the action's site
    NOT_MANAGER = "refused_assign_not_manager"  # 指派 by someone not a manager of the site (nor an admin)


class ActionRefusedError(RefusedError):
    """Caught by ``guarded`` like every refusal; its text lives in ``actions.j2``."""

    def __init__(self, reason: ActionRefusal) -> None:
        Exception.__init__(self, reason.value)
        self.reason = reason  # type: ignore[assignment]
        self.details = {}

    @property
    def text_key(self) -> str:
        return f"actions.{self.reason.value}"


@dataclass(frozen=True)
class Waiting:
    """What the person's next message is for."""

    kind: str  # PROOF or RETURN
    action_id: int


@dataclass(frozen=True)
class ProofSaved:
    card: ActionCard
    kind: str  # photo, document, note
    added: bool  # False: the same file was already proof of this round
    reused: str | None = None  # the sender is told once: the file was the "before" (or an earlier round's)


@dataclass(frozen=True)
class ReusedFile:
    """A file of the proof seen before, as the verifier is warned of it."""

    kind: str  # photo, document
    number: int  # photo: its place among the round's photos, as they are shown (1 = the first)
    file_name: str | None
    reused: str  # REUSED_BEFORE, REUSED_EARLIER


@dataclass(frozen=True)
class Proof:
    card: ActionCard
    items: tuple[ProofItem, ...]

    @property
    def reused(self) -> tuple[ReusedFile, ...]:
        return reused_files(self.items)


def reused_files(items: Sequence[ProofItem]) -> tuple[ReusedFile, ...]:
    """The flagged files of a round's proof, photos numbered in the order they are shown (an album)."""
    found: list[ReusedFile] = []
    photos = 0
    for item in items:
        photos += item.kind == "photo"
        if item.reused and item.kind in ("photo", "document"):
            found.append(ReusedFile(item.kind, photos if item.kind == "photo" else 0, item.file_name, item.reused))
    return tuple(found)


class ActionLoop:
    def __init__(self, views: ActionFlow, pending: PendingInputRepository, files: FileStore, max_file_mb: int) -> None:
        self.views = views
        self.repo = views.repo
        self.pending = pending
        self.files = files
        self.clock = views.clock
        self.max_file_mb = max_file_mb

    # -- staff ------------------------------------------------------------------------------------

    async def begin_proof(self, caller: Caller, action_id: int) -> ActionCard:
        row = await self._staff_row(caller, action_id)
        now = iso(self.clock.now())
        await self.pending.set(caller.user_id, PROOF, f"{action_id}|{now}", now)
        return await self.views.card_of(caller, row)

    def check_file(self, size: int | None) -> None:
        """Before the download when Telegram says the size, and after it on the bytes."""
        if size is not None and size > self.max_file_mb * 1024 * 1024:
            raise RefusedError(Refusal.TOO_BIG, limit_mb=self.max_file_mb)

    async def add_file(
        self,
        caller: Caller,
        action_id: int,
        kind: str,
        file_id: str,
        file_unique_id: str,
        data: bytes,
        file_name: str | None,
        mime_type: str | None,
        caption: str | None,
    ) -> ProofSaved:
        row = await self._proof_row(caller, action_id)
        self.check_file(len(data))
        digest = await asyncio.to_thread(self.files.put, data)
        text = caption.strip()[:MAX_NOTE] if caption and caption.strip() else None
        result = await self.repo.add_proof(
            action_id,
            row.round,
            kind,
            caller.user_id,
            iso(self.clock.now()),
            file_id=file_id,
            file_unique_id=file_unique_id,
            sha256=digest,
            file_name=file_name,
            mime_type=mime_type,
            size=len(data),
            text=text,
        )
        card = await self._fresh_card(caller, action_id)
        return ProofSaved(card, kind, result.added, result.reused if result.added else None)

    async def add_note(self, caller: Caller, action_id: int, text: str) -> ProofSaved:
        text = bounded_text(text, MAX_NOTE)  # refused before anything else: they may send a shorter one
        row = await self._proof_row(caller, action_id)
        now = iso(self.clock.now())
        result = await self.repo.add_proof(action_id, row.round, "note", caller.user_id, now, text=text)
        return ProofSaved(await self._fresh_card(caller, action_id), "note", result.added)

    async def submit(self, caller: Caller, action_id: int) -> ActionCard:
        row = await self._staff_row(caller, action_id)
        if not await self.repo.proof_count(action_id, row.round):
            raise ActionRefusedError(ActionRefusal.NO_PROOF)
        if not await self.repo.submit(action_id, row.round, caller.user_id, iso(self.clock.now()), PROOF):
            raise ActionRefusedError(ActionRefusal.STALE)  # a double tap: the first one submitted it
        return await self._fresh_card(caller, action_id)

    # -- verifiers ----------------------------------------------------------------------------------

    async def proof(self, caller: Caller, action_id: int) -> Proof:
        """The current round's proof, for whoever may see the action."""
        row = await self.views.visible(caller, action_id)
        items = await self.repo.proof(action_id, row.round)
        return Proof(await self.views.card_of(caller, row), tuple(items))

    async def close(self, caller: Caller, action_id: int) -> ActionCard:
        row = await self._verifier_row(caller, action_id)
        if not await self.repo.close(action_id, row.round, caller.user_id, iso(self.clock.now())):
            raise ActionRefusedError(ActionRefusal.STALE)
        return await self._fresh_card(caller, action_id)

    async def ask_return(self, caller: Caller, action_id: int) -> ActionCard:
        row = await self._verifier_row(caller, action_id)
        now = iso(self.clock.now())
        await self.pending.set(caller.user_id, RETURN, f"{action_id}|{now}", now)
        return await self.views.card_of(caller, row)

    async def return_(self, caller: Caller, action_id: int, reason: str) -> ActionCard:
        reason = bounded_text(reason, MAX_REASON)  # refused before the question is cleared: they may retry
        row = await self._verifier_row(caller, action_id, question=RETURN)
        if not await self.repo.return_(action_id, row.round, caller.user_id, reason, iso(self.clock.now()), RETURN):
            await self._drop_question(caller, RETURN, action_id)
            raise ActionRefusedError(ActionRefusal.STALE)
        return await self._fresh_card(caller, action_id)

    # -- the person's pending question ------------------------------------------------------------

    async def waiting(self, caller: Caller) -> Waiting | None:
        """What the person's next message is for, if one of the loop's questions is open. A question
        older than :data:`WINDOW` is dropped (the message then goes to whoever else claims it)."""
        pending = await self.pending.get(caller.user_id)
        if pending is None or pending.kind not in KINDS:
            return None
        action, _, asked = pending.payload.partition("|")
        try:
            action_id, asked_at = int(action), datetime.fromisoformat(asked)
        except ValueError:
            await self.pending.clear(caller.user_id)
            return None
        if self.clock.now() - asked_at > WINDOW:
            await self.pending.clear(caller.user_id)
            return None
        return Waiting(pending.kind, action_id)

    # -- checks -----------------------------------------------------------------------------------

    async def _staff_row(self, caller: Caller, action_id: int) -> ActionRow:
        """An open action the caller may send proof for; refused otherwise."""
        row = await self.views.visible(caller, action_id)
        if not (await self.views.powers(caller, row)).submit:
            assigned_elsewhere = row.assignee_id is not None and row.assignee_id != caller.user_id
            raise ActionRefusedError(ActionRefusal.NOT_ASSIGNEE if assigned_elsewhere else ActionRefusal.NOT_ALLOWED)
        if row.status != ActionStatus.OPEN:
            raise ActionRefusedError(ActionRefusal.STALE)
        return row

    async def _proof_row(self, caller: Caller, action_id: int) -> ActionRow:
        """As :meth:`_staff_row`, for a message sent after the question: when the action can no longer
        take proof, the question is dropped too, so the next messages go elsewhere."""
        try:
            return await self._staff_row(caller, action_id)
        except RefusedError:
            await self._drop_question(caller, PROOF, action_id)
            raise

    async def _verifier_row(self, caller: Caller, action_id: int, question: str | None = None) -> ActionRow:
        """A submitted action the caller may verify; refused otherwise (and then the question asked
        for it, if any, is dropped)."""
        try:
            row = await self.views.visible(caller, action_id)
            powers = await self.views.powers(caller, row)
            if not powers.verify:
                raise ActionRefusedError(ActionRefusal.OWN_PROOF if powers.own_proof else ActionRefusal.NOT_ALLOWED)
            if row.status != ActionStatus.SUBMITTED:
                raise ActionRefusedError(ActionRefusal.STALE)
        except RefusedError:
            if question:
                await self._drop_question(caller, question, action_id)
            raise
        return row

    async def _drop_question(self, caller: Caller, kind: str, action_id: int) -> None:
        pending = await self.pending.get(caller.user_id)
        if pending is not None and pending.kind == kind and pending.payload.startswith(f"{action_id}|"):
            await self.pending.clear(caller.user_id)

    async def _fresh_card(self, caller: Caller, action_id: int) -> ActionCard:
        row = await self.repo.get(action_id)
        if row is None:
            raise RefusedError(Refusal.NOT_FOUND)
        return await self.views.card_of(caller, row)
