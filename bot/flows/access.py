"""Who is asking, and what they may do. The one place roles are decided."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    INSPECTOR = "inspector"
    STAFF = "staff"


@dataclass(frozen=True)
class Caller:
    user_id: int
    name: str
    lang: str
    roles: frozenset[Role]
    active: bool = True

    @property
    def registered(self) -> bool:
        """Known to the bot: holds a role and is not deactivated."""
        return self.active and bool(self.roles)

    def may(self, required: frozenset[Role] | None) -> bool:
        """``None`` means open to every registered person; admins may do everything."""
        if not self.registered:
            return False
        if required is None or Role.ADMIN in self.roles:
            return True
        return bool(self.roles & required)


def caller_roles(db_roles: list[str], user_id: int, admin_ids: frozenset[int]) -> frozenset[Role]:
    roles = {Role(role) for role in db_roles}
    if user_id in admin_ids:
        roles.add(Role.ADMIN)
    return frozenset(roles)
