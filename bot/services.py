"""What handlers reach through ``context.bot_data``: settings, database, texts, clock, repositories."""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import User
from telegram.ext import Application, CallbackContext

from bot.clock import Clock
from bot.flows import people
from bot.flows.access import Caller
from bot.i18n import Texts
from config.settings import Settings
from storage.db import Database
from storage.users import UserRepository

SERVICES_KEY = "services"


@dataclass
class Services:
    settings: Settings
    db: Database
    texts: Texts
    clock: Clock
    users: UserRepository = field(init=False)

    def __post_init__(self) -> None:
        self.users = UserRepository(self.db)

    async def identify(self, user: User) -> Caller:
        return await people.identify(
            self.users, self.settings, self.clock, user.id, user.first_name, user.username, user.language_code
        )


def app_services(app: Application) -> Services:
    return app.bot_data[SERVICES_KEY]


def services(context: CallbackContext) -> Services:
    return app_services(context.application)
