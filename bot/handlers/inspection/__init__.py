"""/inspect and /resume on Telegram."""

from bot.handlers.inspection.walk import register

__all__ = ["register"]
