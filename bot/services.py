"""What handlers reach through ``context.bot_data``: settings, database, texts, clock, flows."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from telegram import Bot, User
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackContext

from bot.clock import Clock, iso
from bot.flows import people
from bot.flows.access import Caller
from bot.flows.inspection import InspectionFlow
from bot.i18n import Texts, language_from_telegram
from config.settings import Settings
from rubric.registry import RubricRegistry
from storage.db import Database
from storage.files import FileStore
from storage.inspections import InspectionRepository
from storage.pending import PendingInputRepository
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
            default_edition=self.settings.default_edition,
        )

    async def identify(self, user: User) -> Caller:
        return await people.identify(
            self.users, self.settings, self.clock, user.id, user.first_name, user.username, user.language_code
        )

    def language_of(self, person: UserRecord) -> str:
        return person.language or language_from_telegram(person.tg_language, self.settings.default_language)

    async def send_safely(self, bot: Bot, chat_id: int, text: str) -> bool:
        """A notice that must not fail the action that caused it. A 403 marks the person unreachable."""
        try:
            await bot.send_message(chat_id, text)
        except Forbidden:
            await self.users.mark_unreachable(chat_id, iso(self.clock.now()))
            return False
        except TelegramError as exc:
            log.warning("could not send a notice to %s: %s", chat_id, exc)
            return False
        return True


def app_services(app: Application) -> Services:
    return app.bot_data[SERVICES_KEY]


def services(context: CallbackContext) -> Services:
    return app_services(context.application)
