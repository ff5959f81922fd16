"""/actions and an action's card on Telegram."""

from bot.handlers.actions.views import register

__all__ = ["register"]
