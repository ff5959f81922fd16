"""Samples of every screen of ``bot/templates/common.j2`` (everyday texts: welcome, /help, /lang, /cancel,
messages nothing is waiting for, errors): for each macro, keyword arguments that render it, covering its
main branches. Built from the types the handlers pass (bot/handlers/common.py). Plain data for the
screen tests."""

from bot.flows.access import Caller, Role
from bot.flows.commands import COMMANDS, commands_for
from bot.i18n import LANGUAGE_NAMES

INSPECTOR = Caller(user_id=1001, name="张三", lang="zh-hans", roles=frozenset({Role.INSPECTOR}))
BOSS = Caller(user_id=1002, name="李经理", lang="zh-hans", roles=frozenset({Role.MANAGER, Role.ADMIN}))
STRANGER = Caller(user_id=424242, name="王五", lang="zh-hans", roles=frozenset())

SAMPLES: dict[str, list[dict]] = {
    "role_name": [{"role": role} for role in Role] + [{"role": "staff"}],
    "welcome": [
        {"name": INSPECTOR.name, "roles": sorted(INSPECTOR.roles)},
        {"name": BOSS.name, "roles": sorted(BOSS.roles)},
        {"name": "<小李>", "roles": [Role.STAFF]},
        {"name": "张三", "roles": sorted(Role)},
    ],
    "not_registered": [{"user_id": STRANGER.user_id}],
    "deactivated": [{"user_id": INSPECTOR.user_id}],
    "not_allowed": [{}],
    "help": [
        {"commands": [c.name for c in commands_for(INSPECTOR)], "registered": True, "user_id": INSPECTOR.user_id},
        {"commands": [c.name for c in commands_for(BOSS)], "registered": True, "user_id": BOSS.user_id},
        {"commands": [c.name for c in commands_for(STRANGER)], "registered": False, "user_id": STRANGER.user_id},
    ],
    "describe": [{"name": command.name} for command in COMMANDS],
    "lang_prompt": [{}],
    "lang_set": [{"language": name} for name in LANGUAGE_NAMES.values()],
    "cancelled": [{}],
    "no_context_media": [
        {"roles": [Role.INSPECTOR]},
        {"roles": [Role.STAFF]},
        {"roles": [Role.INSPECTOR, Role.STAFF]},
        {"roles": [Role.MANAGER]},
        {},
    ],
    "nothing_to_cancel": [{}],
    "unknown_command": [{}],
    "no_context": [{}],
    "unsupported": [{}],
    "stale_button": [{}],
    "error": [{}],
    "save_failed": [{}],
}
