"""Telegram-facing code: turns updates into flow calls and renders the answers."""

from __future__ import annotations

from telegram.ext import Application

from bot.handlers import actions, common, duties, inspection, people, plans, reports, router
from bot.handlers.errors import on_error


def register_handlers(app: Application) -> None:
    common.register(app)
    people.register(app)  # before inspection: its text/file claimers only act on its own pending inputs
    inspection.register(app)
    reports.register(app)
    duties.register(app)
    actions.register(app)
    plans.register(app)
    # Free text and media go through the router, whose claimers the features above added.
    router.register(app)
    common.register_fallbacks(app)
    app.add_error_handler(on_error)
