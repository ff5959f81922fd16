"""/plan: inspection plans on Telegram."""

from bot.handlers.plans.views import register

__all__ = ["register"]
