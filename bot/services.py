"""What handlers reach through ``context.bot_data``: settings, database, texts, clock, flows."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from telegram import Bot, InlineKeyboardMarkup, User
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackContext

from bot.clock import Clock, iso
from bot.flows.access import Caller
from bot.flows.actions.assign import AssignFlow
from bot.flows.actions.extend import ExtensionFlow
from bot.flows.actions.loop import ActionLoop
from bot.flows.actions.notices import ActionMessenger
from bot.flows.actions.recheck import RecheckFlow
from bot.flows.actions.views import ActionFlow
from bot.flows.duties.answers import DutyFlow
from bot.flows.inspection.on_the_spot import OnTheSpot
from bot.flows.inspection.walk import InspectionFlow
from bot.flows.people import recognition
from bot.flows.people.audit import Audit
from bot.flows.people.importing import ImportFlow
from bot.flows.people.manage import PeopleFlow
from bot.flows.people.sites import SitesFlow
from bot.flows.plans.engine import PlanEngine
from bot.flows.plans.manage import PlanFlow
from bot.flows.reports.actions import ActionFigureFlow
from bot.flows.reports.digest import DigestFlow
from bot.flows.reports.views import ReportFlow
from bot.flows.schedule import WorkCalendar
from bot.i18n import Texts, language_from_telegram
from bot.rate_limits import broadcasting
from config.settings import Settings
from rubric.registry import RubricRegistry
from storage.action_extensions import ExtensionRepository
from storage.action_figures import ActionFigureRepository
from storage.action_messages import ActionMessageRepository
from storage.actions import ActionRepository
from storage.db import Database
from storage.duties import DutyRepository
from storage.files import FileStore
from storage.inspections import InspectionRepository
from storage.pending import PendingInputRepository
from storage.people import AuditRepository, InvitationRepository, PeopleRepository
from storage.plans import PlanRepository
from storage.rechecks import RecheckRepository
from storage.reports import ReportRepository
from storage.sites import SiteRepository
from storage.users import UserRecord, UserRepository

SERVICES_KEY = "services"
log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    texts: Texts
    clock: Clock
    rubrics: RubricRegistry
    users: UserRepository = field(init=False)
    sites: SiteRepository = field(init=False)
    pending: PendingInputRepository = field(init=False)
    files: FileStore = field(init=False)
    inspections: InspectionFlow = field(init=False)
    on_the_spot: OnTheSpot = field(init=False)
    duties: DutyFlow = field(init=False)
    actions: ActionFlow = field(init=False)
    action_loop: ActionLoop = field(init=False)
    extensions: ExtensionFlow = field(init=False)
    rechecks: RecheckFlow = field(init=False)
    action_messages: ActionMessageRepository = field(init=False)
    reports: ReportFlow = field(init=False)
    digests: DigestFlow = field(init=False)
    action_figures: ActionFigureFlow = field(init=False)
    audit: Audit = field(init=False)
    people: PeopleFlow = field(init=False)
    site_admin: SitesFlow = field(init=False)
    imports: ImportFlow = field(init=False)
    plans: PlanFlow = field(init=False)

    def __post_init__(self) -> None:
        self.users = UserRepository(self.db)
        self.sites = SiteRepository(self.db)
        self.pending = PendingInputRepository(self.db)
        self.files = FileStore(self.settings.data_dir / "files")
        self.inspections = InspectionFlow(
            repo=InspectionRepository(self.db),
            sites=self.sites,
            rubrics=self.rubrics,
            files=self.files,
            clock=self.clock,
            settings=self.settings.inspection,
            actions=self.settings.actions,
            calendar=WorkCalendar.of(self.settings.duties),
            tz=self.settings.tz,
        )
        self.on_the_spot = OnTheSpot(self.inspections, self.pending)
        self.duties = DutyFlow(
            repo=DutyRepository(self.db),
            sites=self.sites,
            users=self.users,
            pending=self.pending,
            files=self.files,
            clock=self.clock,
            settings=self.settings.duties,
            tz=self.settings.tz,
            max_file_mb=self.settings.inspection.max_photo_mb,
            default_language=self.settings.default_language,
            admin_ids=self.settings.admin_ids,
            rubrics=self.rubrics,  # clause texts quoted in reminders come from the company's rubric files
        )
        plan_engine = PlanEngine(
            PlanRepository(self.db),
            self.clock,
            self.settings.plans,
            WorkCalendar.of(self.settings.duties),
            self.settings.tz,
            self.settings.admin_ids,
        )
        self.duties.engine.plans = plan_engine  # plan visits and messages ride on the duty engine's ticks
        self.plans = PlanFlow(plan_engine.repo, self.sites, plan_engine, self.clock)
        self.actions = ActionFlow(ActionRepository(self.db), self.sites, self.rubrics, self.clock, self.settings.tz)
        self.action_messages = ActionMessageRepository(self.db)
        self.rechecks = RecheckFlow(RecheckRepository(self.db), self.actions, self.inspections)
        engine = self.duties.engine
        engine.extensions.append(
            ActionMessenger(
                self.action_messages,
                self.actions,
                engine.repo,
                engine,
                self.settings.actions,
                engine.calendar,
                self.clock,
                self.settings.tz,
            )
        )
        self.action_loop = ActionLoop(self.actions, self.pending, self.files, self.settings.inspection.max_photo_mb)
        self.assignments = AssignFlow(self.actions, engine.repo)
        self.extensions = ExtensionFlow(
            self.actions, ExtensionRepository(self.db), self.pending, engine.calendar, self.settings.actions
        )
        report_repo = ReportRepository(self.db)
        self.reports = ReportFlow(
            report_repo, self.sites, self.rubrics, self.files, self.clock, self.settings, InspectionRepository(self.db)
        )
        self.digests = DigestFlow(self.reports, report_repo, self.users, self.clock, self.settings)
        self.action_figures = ActionFigureFlow(
            ActionFigureRepository(self.db), self.reports, self.rubrics, self.clock, self.settings.tz
        )
        self.audit = Audit(AuditRepository(self.db), self.clock, self.settings.tz)
        people_repo = PeopleRepository(self.db)
        self.people = PeopleFlow(
            people_repo, InvitationRepository(self.db), self.sites, self.audit, self.settings, self.clock
        )
        self.site_admin = SitesFlow(people_repo, self.sites, self.audit, self.clock)
        self.imports = ImportFlow(people_repo, self.audit, self.clock)

    async def identify(self, user: User) -> Caller:
        return await recognition.identify(
            self.users, self.settings, self.clock, user.id, user.first_name, user.username, user.language_code
        )

    def language_of(self, person: UserRecord) -> str:
        return person.language or language_from_telegram(person.tg_language, self.settings.default_language)

    async def send_safely(self, bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None) -> bool:
        """A notice that must not fail the action that caused it. A 403 marks the person unreachable.
        Notices are broadcast traffic: the tap that caused one is answered before it, never after."""
        try:
            with broadcasting():
                await bot.send_message(chat_id, text, reply_markup=markup)
        except Forbidden:
            await self.users.mark_unreachable(chat_id, iso(self.clock.now()))
            return False
        except TelegramError as exc:
            log.warning("could not send a notice to %s: %s", chat_id, exc)
            return False
        return True

    async def notify_site_group(self, bot: Bot, site_id: int, text: str) -> bool:
        """Send a site's notice to its linked group chat. False: no group linked, or it failed (logged)."""
        site = await self.sites.get(site_id)
        if site is None or site.group_chat_id is None:
            return False
        try:
            with broadcasting():
                await bot.send_message(site.group_chat_id, text)
        except TelegramError as exc:
            log.warning("could not send a notice to the group of site %s: %s", site_id, exc)
            return False
        return True


def app_services(app: Application) -> Services:
    return app.bot_data[SERVICES_KEY]


def services(context: CallbackContext) -> Services:
    return app_services(context.application)
