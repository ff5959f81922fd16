"""What corrective actions tell people, through the duty engine's outbox (its tick, its guarantees:
at least once, nothing twice across a restart, a 403 marks the person unreachable).

- **整改通知单** (notice): when an inspection is submitted, the site's staff (or the person an action
  is assigned to) and its linked group get one message per inspection listing its actions.
- **To verify** (review): proof submitted goes to the inspector who found the problem; when they
  cannot be reached, or submitted the proof themselves (nobody verifies their own), to the site's
  inspectors and managers but the submitter, and to the admins when that leaves nobody: one message
  per batch of a tick.
- **Result** (returned, closed): to whoever submitted the proof, and to the person the action is
  assigned to.
- **Assigned** (指派): to the person a manager assigned the action to; given back to the site's
  staff, to them.
- **Extension**: a request for more time goes to the site's managers (admins when it has none);
  its approval or refusal to whoever asked.
- **Overdue**: an open action past its due date is followed up with its site's staff every
  ``follow_up_days`` working days, and ``escalate_days`` working days after it its managers are
  told, in one message per manager per day. Both wait for the duties' first reminder time.

Nobody is told of their own act.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso
from bot.flows.actions.rules import ActionStatus, next_follow_up
from bot.flows.actions.views import LIVE, ActionFlow, ActionLine
from bot.flows.duties.engine import DutyEngine
from bot.flows.duties.views import Notice, NoticeKind
from bot.flows.schedule import WorkCalendar
from config.settings import ActionSettings
from storage.action_messages import ActionMessageRepository, MessageItem, WaitingAlert
from storage.duties import DutyRepository, OutboxRow

BATCH = 500
STAFF = ("staff",)
VERIFIERS = ("inspector", "manager")
SHOWN = 20  # lines of one message; the rest are counted (the message stays far under 4096)


# The message an alert goes out in.
MESSAGE_OF = {
    "notice": NoticeKind.ACTION_NOTICE,
    "review": NoticeKind.ACTION_REVIEW,
    "returned": NoticeKind.ACTION_RESULT,
    "closed": NoticeKind.ACTION_RESULT,
    "overdue": NoticeKind.ACTION_OVERDUE,
    "escalation": NoticeKind.ACTION_ESCALATION,
    "extension": NoticeKind.ACTION_EXTENSION,
    "extension_decided": NoticeKind.ACTION_EXTENSION,
    "assigned": NoticeKind.ACTION_ASSIGNED,
}


@dataclass(frozen=True)
class ExtensionNews:
    """A request for more time, as a message line tells it."""

    status: str  # pending (to a manager), approved, refused (to whoever asked)
    requester_name: str | None
    old_due: date
    new_due: date
    reason: str
    refusal: str | None


@dataclass(frozen=True)
class MessageLine:
    line: ActionLine
    event: str  # the alert: notice, review, returned, closed, overdue, escalation, extension, extension_decided,
    # assigned
    reason: str | None = None  # returned: why; assigned: the person's id (None: back to the site's staff)
    extension: ExtensionNews | None = None  # extension, extension_decided
    reused: str | None = None  # review: the proof has a file seen before (storage.actions.REUSED_*)


@dataclass(frozen=True)
class ActionMessage:
    lines: tuple[MessageLine, ...]
    more: int = 0  # lines left out of the message (they are in /actions)
    inspection_id: int | None = None  # a notice: its inspection
    found_on: date | None = None
    fixed_on_the_spot: int = 0  # a notice: the inspection's findings closed at submit (当场整改), not listed


def still_worth_telling(item: MessageItem) -> bool:
    """A line is left out when what it asks for is done already (a verifier passed it meanwhile...)."""
    live = item.status in {status.value for status in LIVE}
    if item.kind == "review":
        return item.status == ActionStatus.SUBMITTED.value and item.action_round == item.round
    if item.kind in ("overdue", "escalation"):
        return item.status == ActionStatus.OPEN.value
    if item.kind == "notice":
        return live
    if item.kind == "extension":  # a request a manager decided meanwhile is not asked again
        return item.extension_status == "pending" and live
    if item.kind == "assigned":  # reassigned meanwhile: only the latest holder hears of it
        return live and (str(item.assignee_id) if item.assignee_id is not None else None) == item.reason
    return True  # a result is news whatever happened since


class ActionMessenger:
    """Plugged into :class:`DutyEngine` (``engine.extensions``)."""

    kinds = frozenset(kind.value for kind in NoticeKind if kind.value.startswith("action_"))

    def __init__(
        self,
        repo: ActionMessageRepository,
        views: ActionFlow,
        duties: DutyRepository,
        engine: DutyEngine,
        settings: ActionSettings,
        calendar: WorkCalendar,
        clock: Clock,
        tz: ZoneInfo,
    ) -> None:
        self.repo = repo
        self.views = views
        self.duties = duties
        self.engine = engine
        self.settings = settings
        self.calendar = calendar
        self.clock = clock
        self.tz = tz

    # -- planning, in the engine's tick ------------------------------------------------------------

    async def plan(self, now: datetime) -> int:
        local = now.astimezone(self.tz)
        working_hours = local.time() >= self.engine.digest_from
        if working_hours:
            await self._overdue(local.date(), iso(now))
        await self._choose_recipients(iso(now))
        return await self._pack(local.date(), working_hours, iso(now))

    async def _overdue(self, today: date, now: str) -> None:
        next_on = next_follow_up(today, self.calendar, self.settings).isoformat()
        while due := await self.repo.due_follow_ups(today.isoformat(), BATCH):
            progress = [await self.repo.follow_up(action_id, count + 1, next_on, now) for action_id, count in due]
            if not any(progress):
                break
        while due_ids := await self.repo.due_escalations(today.isoformat(), BATCH):
            if not any([await self.repo.escalate(action_id, now) for action_id in due_ids]):
                break

    async def _choose_recipients(self, now: str) -> None:
        while alerts := await self.repo.waiting(BATCH):
            chosen = [await self.repo.choose_recipients(a.id, await self._recipients(a), now) for a in alerts]
            if not any(chosen):
                break

    async def _recipients(self, alert: WaitingAlert) -> list[int]:
        chats: list[int] = []
        if alert.kind in ("notice", "overdue"):
            chats = [alert.assignee_id] if alert.assignee_id else await self._staff(alert.site_id)
            site = await self.duties.site(alert.site_id) if alert.kind == "notice" else None
            if site is not None and site.group_chat_id is not None:
                chats.append(site.group_chat_id)
        elif alert.kind == "review":
            chats = await self._verifiers(alert)
        elif alert.kind in ("returned", "closed"):
            chats = [alert.proof_by] if alert.proof_by else await self._staff(alert.site_id)
            if alert.assignee_id:
                chats.append(alert.assignee_id)
        elif alert.kind == "assigned":
            chats = [alert.assigned_to] if alert.assigned_to else await self._staff(alert.site_id)
        elif alert.kind in ("escalation", "extension"):
            chats = await self.engine.managers_of(alert.site_id)
        elif alert.kind == "extension_decided":
            chats = [alert.requester] if alert.requester else []
        return [chat for chat in chats if chat != alert.actor_id]

    async def _verifiers(self, alert: WaitingAlert) -> list[int]:
        """Who is asked to verify proof: never whoever submitted it (``proof_by``)."""
        finder = await self.duties.person(alert.inspector_id)
        reachable = finder is not None and not finder.unreachable and await self._active(alert.inspector_id)
        if reachable and alert.inspector_id != alert.proof_by:
            return [alert.inspector_id]
        site_people = await self.duties.site_people(alert.site_id, VERIFIERS)
        managers = await self.engine.users.managers_of_site(alert.site_id)
        others = [p.id for p in site_people if not p.unreachable] + [m.id for m in managers]
        chosen = [chat for chat in dict.fromkeys(others) if chat not in (alert.proof_by, alert.inspector_id)]
        return chosen or [chat for chat in sorted(self.engine.admin_ids) if chat != alert.proof_by]

    async def _staff(self, site_id: int) -> list[int]:
        return [person.id for person in await self.duties.site_people(site_id, STAFF) if not person.unreachable]

    async def _active(self, user_id: int) -> bool:
        person = await self.engine.users.get(user_id)
        return person is not None and person.active

    async def _pack(self, today: date, working_hours: bool, now: str) -> int:
        """Each chat's waiting alerts, one message per kind (a notice: per inspection). Escalations
        wait for working hours, and go to a manager once a day."""
        groups: dict[tuple[int, NoticeKind, int], list[int]] = defaultdict(list)
        for waiting in await self.repo.waiting_recipients():
            kind = MESSAGE_OF[waiting.kind]
            if kind is NoticeKind.ACTION_ESCALATION and not working_hours:
                continue
            groups[(waiting.chat_id, kind, waiting.inspection_id if kind is NoticeKind.ACTION_NOTICE else 0)].append(
                waiting.alert_id
            )
        packed = 0
        for (chat_id, kind, _), alert_ids in groups.items():
            day = today.isoformat() if kind is NoticeKind.ACTION_ESCALATION else None
            packed += await self.repo.pack(chat_id, kind.value, alert_ids, day, now)
        return packed

    # -- composing, when a row is sent -------------------------------------------------------------

    async def _extension(self, extension_id: int) -> ExtensionNews | None:
        row = await self.repo.extension(extension_id)
        if row is None:
            return None
        return ExtensionNews(
            row.status,
            row.requester_name,
            date.fromisoformat(row.old_due_date),
            date.fromisoformat(row.new_due_date),
            row.reason,
            row.refusal_reason,
        )

    async def compose(self, row: OutboxRow) -> Notice | None:
        kind = NoticeKind(row.kind)
        items = [item for item in await self.repo.items(row.key) if still_worth_telling(item)]
        if not items:
            return None
        lines = []
        for item in items[:SHOWN]:
            action = await self.views.repo.get(item.action_id)
            if action is not None:
                news = await self._extension(item.extension_id) if item.extension_id else None
                lines.append(MessageLine(self.views.line_of(action), item.kind, item.reason, news, item.reused))
        if not lines:
            return None
        first = await self.views.repo.get(items[0].action_id)
        inspection_id = first.inspection_id if first and kind is NoticeKind.ACTION_NOTICE else None
        message = ActionMessage(
            tuple(lines),
            more=len(items) - len(lines),
            inspection_id=inspection_id,
            found_on=datetime.fromisoformat(first.created_at).astimezone(self.tz).date() if first else None,
            fixed_on_the_spot=await self.repo.fixed_on_the_spot(inspection_id) if inspection_id else 0,
        )
        to_group = row.chat_id < 0
        lang = self.engine.default_language if to_group else await self.engine.language_of(row.chat_id)
        return Notice(kind, row.chat_id, lang, to_group=to_group, resent=row.interrupted, actions=message)
