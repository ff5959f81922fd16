"""The managers' weekly digest: the week's inspections, new findings and overdue duties of their sites.

The schedule is ours, not the job queue's: a periodic tick asks :meth:`DigestFlow.run` for the
latest scheduled moment (``[digest] day`` and ``time``) and sends each manager that week's digest
unless ``report_digests`` already holds it. The row is written *before* the send, so a restart
never sends a week twice; a bot that was down at the moment sends it when it is back (the same
week), and a new database does not reach back before its own creation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.clock import Clock, iso
from bot.flows.access import Caller, caller_roles
from bot.flows.reports.periods import DigestWeek, latest_digest_week
from bot.flows.reports.views import ReportFlow
from bot.i18n import language_from_telegram
from config.settings import Settings
from storage.reports import DigestInspection, ReportRepository
from storage.users import UserRecord, UserRepository

log = logging.getLogger(__name__)

DIGEST_LINES = 15
DIGEST_DUTIES = 10


@dataclass(frozen=True)
class Digest:
    week: DigestWeek
    inspections: int
    findings: int
    lines: tuple[DigestInspection, ...]
    overdue: tuple[tuple[str, str, str], ...]  # (site, duty, due)

    @property
    def more(self) -> int:
        return max(self.inspections - len(self.lines), 0)


Sender = Callable[[UserRecord, str, Digest], Awaitable[bool]]


@dataclass
class DigestFlow:
    reports: ReportFlow
    repo: ReportRepository
    users: UserRepository
    clock: Clock
    settings: Settings

    def due_week(self) -> DigestWeek:
        digest = self.settings.digest
        return latest_digest_week(self.clock.now(), self.settings.tz, digest.day, digest.at)

    async def run(self, send: Sender) -> int:
        """Send every manager the latest due week's digest they have not had; returns how many were sent."""
        if not self.settings.digest.enabled:
            return 0
        week = self.due_week()
        born = await self.repo.database_born()
        if born is not None and iso(week.moment) < born:
            return 0
        sent = 0
        for manager_id in await self.repo.managers():
            person = await self.users.get(manager_id)
            if person is None or not await self.repo.claim_digest(manager_id, week.key, iso(self.clock.now())):
                continue
            lang = person.language or language_from_telegram(person.tg_language, self.settings.default_language)
            try:
                digest = await self.compose(self._caller(person, lang), week)
                sent += bool(await send(person, lang, digest))
            except Exception:
                log.exception("the weekly digest of manager %s could not be sent", manager_id)
        return sent

    async def compose(self, caller: Caller, week: DigestWeek) -> Digest:
        scope = await self.reports.scope_for(caller)
        if scope.empty:
            return Digest(week, 0, 0, (), ())
        inspections, findings = await self.repo.week_findings(scope, week.start, week.end)
        lines = await self.repo.week_inspections(scope, week.start, week.end, DIGEST_LINES)
        overdue = [
            (site, self.reports.duty_title(rule_id, caller.lang), due)
            for site, rule_id, due in await self.repo.overdue_duties(scope, iso(self.clock.now()), DIGEST_DUTIES)
        ]
        return Digest(week, inspections, findings, tuple(lines), tuple(overdue))

    def _caller(self, person: UserRecord, lang: str) -> Caller:
        roles = caller_roles([grant.role for grant in person.roles], person.id, self.settings.admin_ids)
        return Caller(person.id, person.display_name, lang, roles, person.active)
