"""/mytasks, /duties, /overdue and the buttons of duty reminders on Telegram."""

from bot.handlers.duties.answers import register

__all__ = ["register"]
