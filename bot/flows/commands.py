"""The bot's commands and who may use them; feeds /help and the per-chat command menus."""

from __future__ import annotations

from dataclasses import dataclass

from bot.flows.access import Caller, Role


@dataclass(frozen=True)
class Command:
    name: str
    # None: every registered person. Descriptions live in templates (``commands.<name>``).
    roles: frozenset[Role] | None = None


COMMANDS: tuple[Command, ...] = (
    Command("start"),
    Command("help"),
    Command("lang"),
    Command("cancel"),
    Command("inspect", frozenset({Role.INSPECTOR})),
    Command("resume", frozenset({Role.INSPECTOR})),
    Command("plan", frozenset({Role.MANAGER, Role.INSPECTOR})),
    Command("mytasks", frozenset({Role.STAFF})),
    Command("duties", frozenset({Role.MANAGER})),
    Command("overdue", frozenset({Role.MANAGER})),
    Command("actions", frozenset({Role.MANAGER, Role.INSPECTOR, Role.STAFF})),
    Command("summary", frozenset({Role.MANAGER})),
    Command("ranking", frozenset({Role.MANAGER})),
    Command("weak", frozenset({Role.MANAGER})),
    Command("site", frozenset({Role.MANAGER})),
    Command("report", frozenset({Role.MANAGER, Role.INSPECTOR})),
    Command("export", frozenset({Role.MANAGER})),
    Command("reopen", frozenset({Role.MANAGER})),
    Command("invite", frozenset({Role.ADMIN, Role.MANAGER})),
    Command("invites", frozenset({Role.ADMIN, Role.MANAGER})),
    Command("people", frozenset({Role.ADMIN, Role.MANAGER})),
    Command("role", frozenset({Role.ADMIN, Role.MANAGER})),
    Command("sites", frozenset({Role.ADMIN, Role.MANAGER})),
    Command("addsite", frozenset({Role.ADMIN})),
    Command("editsite", frozenset({Role.ADMIN})),
    Command("deactivate", frozenset({Role.ADMIN})),
    Command("import", frozenset({Role.ADMIN})),
    Command("audit", frozenset({Role.ADMIN})),
    Command("linkgroup", frozenset({Role.ADMIN})),
    Command("unlinkgroup", frozenset({Role.ADMIN})),
)

# What people not yet registered see in the menu.
PUBLIC_COMMANDS: tuple[str, ...] = ("start", "help")


def commands_for(caller: Caller) -> list[Command]:
    if not caller.registered:
        return [c for c in COMMANDS if c.name in PUBLIC_COMMANDS]
    return [c for c in COMMANDS if caller.may(c.roles)]


def command_roles(name: str) -> frozenset[Role] | None:
    for command in COMMANDS:
        if command.name == name:
            return command.roles
    raise KeyError(name)
