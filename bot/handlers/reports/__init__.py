"""/summary, /ranking, /weak, /site, /report, /export and the digest on Telegram."""

from bot.handlers.reports.views import register

__all__ = ["register"]
