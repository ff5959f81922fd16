"""Samples of every screen of ``bot/templates/commands.j2``: the command menu's descriptions (at most
256 characters each), one per command. None takes arguments. Plain data for the screen tests."""

from bot.flows.commands import COMMANDS

SAMPLES: dict[str, list[dict]] = {command.name: [{}] for command in COMMANDS}
