"""/invite, /people, /sites, /import, /audit and access requests on Telegram."""

from telegram.ext import Application

from bot.handlers.people import admin, importing, invites, sites


def register(app: Application) -> None:
    invites.register(app)
    admin.register(app)
    sites.register(app)
    importing.register(app)
