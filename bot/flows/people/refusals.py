"""Why a people, site or access action did nothing. Each value has a text: macro ``refused_<value>``
in ``bot/templates/<lang>/people.j2``. Raised as a :class:`RefusedError`, so ``guarded`` replies."""

from __future__ import annotations

from enum import StrEnum

from bot.flows.errors import RefusedError


class Denied(StrEnum):
    NOT_ALLOWED = "not_allowed"  # the caller may not manage this person, role or site
    NOT_YOUR_PERSON = "not_your_person"  # a manager and someone with no role on a site they manage
    STALE = "stale"  # a button whose subject changed or vanished
    NO_PERSON = "no_person"
    NO_SITE = "no_site"
    INVITE_INVALID = "invite_invalid"
    INVITE_USED = "invite_used"
    INVITE_EXPIRED = "invite_expired"
    INVITE_DEACTIVATED = "invite_deactivated"
    INVITATION_CLOSED = "invitation_closed"  # revoking a link that was used, revoked or expired meanwhile
    ALREADY_CREATED = "already_created"
    SELF = "self"
    CONFIG_ADMIN = "config_admin"
    NAME_TAKEN = "name_taken"
    NAME_INVALID = "name_invalid"
    REGION_INVALID = "region_invalid"
    GROUP_NOT_LINKED = "group_not_linked"
    REQUEST_HANDLED = "request_handled"


class PeopleRefusedError(RefusedError):
    def __init__(self, reason: Denied, **details: object) -> None:
        Exception.__init__(self, reason.value)
        self.reason = reason  # type: ignore[assignment]
        self.details = details

    @property
    def text_key(self) -> str:
        return f"people.refused_{self.reason.value}"
