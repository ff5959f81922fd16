"""Telegram-facing code: turns updates into flow calls and renders the answers."""

from __future__ import annotations

from telegram.ext import Application

from bot.handlers import common
from bot.handlers.errors import on_error


def register_handlers(app: Application) -> None:
    common.register(app)
    # Features register here, before the fallbacks.
    common.register_fallbacks(app)
    app.add_error_handler(on_error)
