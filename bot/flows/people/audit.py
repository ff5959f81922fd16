"""The audit log: who granted, revoked, invited, imported, reopened or deleted what, and when; and
every transition of a corrective action (submitted, passed, returned, extended...).

Other features record through :meth:`Audit.record`, e.g. a manager reopening an inspection::

    await services.audit.record(caller.user_id, AuditAction.REOPEN, f"inspection:{inspection_id}", {"reason": text})
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso
from bot.flows.paging import first_page, shorten
from storage.people import AuditEntry, AuditRepository, AuditRow


class AuditAction(StrEnum):
    """Each value has a label: macro ``audit_action`` in ``people.j2``; other values show as they are."""

    GRANT = "grant"
    REVOKE = "revoke"
    INVITE = "invite"
    INVITE_ACCEPTED = "invite_accepted"
    INVITE_REVOKED = "invite_revoked"
    IMPORT = "import"
    REOPEN = "reopen"
    DELETE = "delete"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    SITE_ADD = "site_add"
    SITE_EDIT = "site_edit"
    GROUP_LINK = "group_link"
    GROUP_UNLINK = "group_unlink"
    GROUP_MIGRATED = "group_migrated"  # Telegram upgraded a site's group to a supergroup; the link followed
    REQUEST_DISMISSED = "request_dismissed"
    # A corrective action's transitions (storage/action_history.py writes them with the event, target
    # ``action:<id>``, detail: site, round and why).
    ACTION_CREATED = "action.created"
    ACTION_CHANGED = "action.changed"
    ACTION_CANCELLED = "action.cancelled"
    ACTION_SUBMITTED = "action.submitted"
    ACTION_CLOSED = "action.closed"
    ACTION_RETURNED = "action.returned"
    ACTION_REOPENED = "action.reopened"
    ACTION_CONFIRMED = "action.confirmed"
    ACTION_NOT_FIXED = "action.not_fixed"
    ACTION_RECURRED = "action.recurred"
    ACTION_RECHECK_SKIPPED = "action.recheck_skipped"
    ACTION_EXTENSION_REQUESTED = "action.extension_requested"
    ACTION_EXTENDED = "action.extended"
    ACTION_EXTENSION_REFUSED = "action.extension_refused"


def user_target(user_id: int) -> str:
    return f"user:{user_id}"


def site_target(site_id: int) -> str:
    return f"site:{site_id}"


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: datetime  # in the configured time zone
    actor_id: int | None
    actor_name: str | None
    action: str
    target: str | None
    target_name: str | None
    detail: dict[str, Any] | None  # structured details, when the entry has them
    detail_text: str | None  # otherwise the text as recorded

    def shortened(self, limit: int) -> AuditLine:
        """The line with every text in it cut to ``limit`` characters: for an entry too long to show
        whole (a reason of thousands of characters). Cut before rendering, so no markup is ever cut."""

        def cut(value: Any) -> Any:
            return shorten(value, limit) if isinstance(value, str) else value

        return replace(
            self,
            actor_name=cut(self.actor_name),
            target=cut(self.target),
            target_name=cut(self.target_name),
            detail={key: cut(value) for key, value in self.detail.items()} if self.detail is not None else None,
            detail_text=cut(self.detail_text),
        )


@dataclass(frozen=True)
class AuditPage:
    lines: tuple[AuditLine, ...]
    older: int | None  # pass as ``before_id`` for the next page; None: nothing older


class Audit:
    PAGE_SIZE = 15

    def __init__(self, repo: AuditRepository, clock: Clock, tz: ZoneInfo) -> None:
        self.repo = repo
        self.clock = clock
        self.tz = tz

    async def record(
        self,
        actor_id: int | None,
        action: AuditAction | str,
        target: str | None = None,
        detail: dict[str, Any] | str | None = None,
    ) -> None:
        await self.repo.add(AuditEntry(actor_id, str(action), target, detail), iso(self.clock.now()))

    def entry(
        self, actor_id: int | None, action: AuditAction, target: str | None = None, detail: dict[str, Any] | None = None
    ) -> AuditEntry:
        """An entry to write in the same transaction as the change it records."""
        return AuditEntry(actor_id, str(action), target, detail)

    async def recent(
        self, before_id: int | None = None, limit: int = PAGE_SIZE, fits: Callable[[AuditPage], bool] | None = None
    ) -> AuditPage:
        """The entries before ``before_id`` (the newest when None), newest first: at most ``limit``, and
        only as many as ``fits`` (the rendered page fits in a message); one too long alone is shortened."""
        rows = await self.repo.page(before_id, limit + 1)
        lines = [self._line(row) for row in rows[:limit]]
        if fits is None:
            shown = tuple(lines)
        else:
            shown = first_page(
                lines, lambda chunk: fits(AuditPage(tuple(chunk), None)), limit, lambda line, n: line.shortened(n)
            )
        return AuditPage(shown, shown[-1].id if len(rows) > len(shown) else None)

    def _line(self, row: AuditRow) -> AuditLine:
        detail: dict[str, Any] | None = None
        if row.detail and row.detail.startswith("{"):
            try:
                parsed = json.loads(row.detail)
            except ValueError:
                parsed = None
            detail = parsed if isinstance(parsed, dict) else None
        return AuditLine(
            id=row.id,
            at=datetime.fromisoformat(row.at).astimezone(self.tz),
            actor_id=row.actor_id,
            actor_name=row.actor_name,
            action=row.action,
            target=row.target,
            target_name=row.target_name,
            detail={k: v for k, v in detail.items() if v is not None} if detail is not None else None,
            detail_text=None if detail is not None else row.detail,
        )
