"""Recognising the person behind an update."""

from __future__ import annotations

from bot.clock import Clock, iso
from bot.flows.access import Caller, caller_roles
from bot.i18n import language_from_telegram
from config.settings import Settings
from storage.users import UserRepository


async def identify(
    users: UserRepository,
    settings: Settings,
    clock: Clock,
    user_id: int,
    first_name: str,
    username: str | None,
    tg_language: str | None,
) -> Caller:
    known = await users.get(user_id)
    await users.touch(user_id, first_name, username, tg_language, iso(clock.now()), known)
    lang = (known.language if known else None) or language_from_telegram(tg_language, settings.default_language)
    roles = caller_roles([g.role for g in known.roles] if known else [], user_id, settings.admin_ids)
    # Admins named in the config are always active: the config is the way back in.
    active = (known.active if known else True) or user_id in settings.admin_ids
    name = (known.registered_name if known else None) or first_name or str(user_id)
    return Caller(user_id=user_id, name=name, lang=lang, roles=roles, active=active)


async def set_language(users: UserRepository, clock: Clock, caller: Caller, lang: str) -> Caller:
    await users.set_language(caller.user_id, lang, iso(clock.now()))
    return Caller(caller.user_id, caller.name, lang, caller.roles, caller.active)
