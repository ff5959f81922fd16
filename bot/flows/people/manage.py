"""People and access as plain logic: invitations, role grants and revocations, deactivation,
the people list, access requests from strangers, and who counts as a member of a site's group.

Who may manage what is decided here, in one predicate family: admins manage everything; managers
may invite, grant and revoke the staff role on the sites they see, and nothing else.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock, iso
from bot.flows.access import Caller, Role, caller_roles
from bot.flows.paging import first_page, paginate
from bot.flows.people.audit import Audit, AuditAction, user_target
from bot.flows.people.refusals import Denied, PeopleRefusedError
from bot.i18n import language_from_telegram
from config.settings import Settings
from storage.people import Grant, Invitation, InvitationRepository, PeopleRepository, Person, SiteRow
from storage.sites import SiteRepository

ROLE_ORDER: tuple[Role, ...] = (Role.ADMIN, Role.MANAGER, Role.INSPECTOR, Role.STAFF)
# Scope tokens carried by buttons: everywhere, no scope (admins), the region of a site, a site.
SCOPE_ALL = "*"
SCOPE_NONE = "-"
# token_urlsafe(24): 192 random bits in 32 characters, well inside the 64 a /start payload allows.
_CODE_BYTES = 24
OPEN_INVITATIONS_SHOWN = 20  # /invites lists this many, soonest to expire first
_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
PEOPLE_PER_PAGE = 10  # at most; fewer when they would not fit in one message


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True)
class Scope:
    """Where a role applies: one site, the sites of a region, or (both None) everywhere."""

    site_id: int | None = None
    site_name: str | None = None
    region: str | None = None

    @property
    def everywhere(self) -> bool:
        return self.site_id is None and self.region is None

    def detail(self, role: str) -> dict[str, object]:
        return {"role": role, "site": self.site_name, "region": self.region}


def scope_of(grant: Grant) -> Scope:
    return Scope(grant.site_id, grant.site_name, grant.region)


@dataclass(frozen=True)
class ScopeOption:
    token: str
    scope: Scope


@dataclass(frozen=True)
class NewInvitation:
    code: str
    role: Role
    scope: Scope
    expires_at: datetime  # in the configured time zone


@dataclass(frozen=True)
class OpenInvitation:
    """A link that can still be used: not used, revoked or expired."""

    id: int
    role: Role
    scope: Scope
    inviter_name: str
    mine: bool  # made by the person looking at it
    expires_at: datetime  # in the configured time zone


@dataclass(frozen=True)
class Accepted:
    role: Role
    scope: Scope
    inviter_id: int


@dataclass(frozen=True)
class Granted:
    user_id: int
    role: Role
    scope: Scope
    added: bool  # False: the person already held exactly this role


@dataclass(frozen=True)
class GrantLine:
    grant: Grant
    revocable: bool


@dataclass(frozen=True)
class PersonCard:
    person: Person
    grants: tuple[GrantLine, ...]
    config_admin: bool
    can_grant: bool
    can_toggle_active: bool


@dataclass(frozen=True)
class PeoplePage:
    people: tuple[Person, ...]
    role_filter: str  # "-" all, a role, or "off" (deactivated)
    site_id: int  # 0: no site filter
    site_name: str | None
    page: int  # 0-based
    pages: int
    total: int
    search: str | None
    config_admins: frozenset[int]


ROLE_FILTERS = ("-", *(r.value for r in ROLE_ORDER), "off")


class PeopleFlow:
    def __init__(
        self,
        people: PeopleRepository,
        invitations: InvitationRepository,
        sites: SiteRepository,
        audit: Audit,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.repo = people
        self.invitations = invitations
        self.sites = sites
        self.audit = audit
        self.settings = settings
        self.clock = clock

    def _now(self) -> str:
        return iso(self.clock.now())

    # -- who may manage what --------------------------------------------------------------------

    def grantable_roles(self, caller: Caller) -> list[Role]:
        if Role.ADMIN in caller.roles:
            return list(ROLE_ORDER)
        if Role.MANAGER in caller.roles:
            return [Role.STAFF]
        return []

    async def managed_site_ids(self, caller: Caller) -> set[int] | None:
        """The sites whose staff the caller manages; None means every site (admins)."""
        if Role.ADMIN in caller.roles:
            return None
        if Role.MANAGER not in caller.roles:
            return set()
        return {site.id for site in await self.sites.visible_to(caller.user_id, (Role.MANAGER.value,))}

    @staticmethod
    def _sees(managed: set[int] | None, person: Person) -> bool:
        """Whose card the caller may open: admins (``managed`` None) anyone the bot knows; managers
        those holding a role on a site they manage (the people their /people list shows)."""
        return managed is None or any(g.site_id in managed for g in person.grants)

    async def visible_person(self, caller: Caller, user_id: int) -> Person:
        """The person, if their card is the caller's to see; else refused."""
        person = await self.repo.person(user_id)
        if person is None:
            raise PeopleRefusedError(Denied.NO_PERSON, user_id=user_id)
        if not self._sees(await self.managed_site_ids(caller), person):
            raise PeopleRefusedError(Denied.NOT_YOUR_PERSON)
        return person

    async def grant_target(self, caller: Caller, user_id: int) -> Person:
        """Someone the caller may grant a role to: a grant starts from a card the caller may see, so a
        forged button cannot reach a stranger who once wrote to the bot, or a person of another region."""
        if not self.grantable_roles(caller):
            raise PeopleRefusedError(Denied.NOT_ALLOWED)
        return await self.visible_person(caller, user_id)

    async def _may_manage_grant(self, caller: Caller, grant: Grant) -> bool:
        managed = await self.managed_site_ids(caller)
        if managed is None:
            return True
        return grant.role == Role.STAFF and grant.site_id in managed

    def _check_role(self, caller: Caller, role: Role) -> None:
        if role not in self.grantable_roles(caller):
            raise PeopleRefusedError(Denied.NOT_ALLOWED)

    async def scope_options(self, caller: Caller, role: Role) -> list[ScopeOption]:
        """What a role may be tied to, as the caller may grant it."""
        self._check_role(caller, role)
        if role is Role.ADMIN:
            return [ScopeOption(SCOPE_NONE, Scope())]
        managed = await self.managed_site_ids(caller)
        options = []
        if managed is None and role is not Role.STAFF:
            options.append(ScopeOption(SCOPE_ALL, Scope()))
            options += [
                ScopeOption(f"r{site_id}", Scope(region=region)) for region, site_id in await self.repo.regions()
            ]
        for site in await self.repo.sites(include_inactive=False):
            if managed is None or site.id in managed:
                options.append(ScopeOption(f"s{site.id}", Scope(site.id, site.name)))
        return options

    async def resolve_scope(self, caller: Caller, role: Role, token: str) -> Scope:
        """A button's scope token, checked again against the database and the caller's rights."""
        self._check_role(caller, role)
        managed = await self.managed_site_ids(caller)
        if role is Role.ADMIN:
            if token != SCOPE_NONE:
                raise PeopleRefusedError(Denied.STALE)
            return Scope()
        broad = managed is None and role is not Role.STAFF
        if token == SCOPE_ALL and broad:
            return Scope()
        kind, number = token[:1], token[1:]
        if kind not in ("r", "s") or not number.isdigit():
            raise PeopleRefusedError(Denied.STALE)
        site = await self.repo.site(int(number))
        if site is None or not site.active:
            raise PeopleRefusedError(Denied.STALE)
        if kind == "r":
            if not broad or site.region is None:
                raise PeopleRefusedError(Denied.STALE)
            return Scope(region=site.region)
        if managed is not None and site.id not in managed:
            raise PeopleRefusedError(Denied.NOT_ALLOWED)
        return Scope(site.id, site.name)

    # -- invitations ----------------------------------------------------------------------------

    async def invite(self, caller: Caller, role: Role, token: str, origin: str | None) -> NewInvitation:
        scope = await self.resolve_scope(caller, role, token)
        code = secrets.token_urlsafe(_CODE_BYTES)
        now = self.clock.now()
        expires = now + timedelta(days=self.settings.access.invite_ttl_days)
        detail = {**scope.detail(role.value), "expires": iso(expires)}
        created = await self.invitations.create(
            code_hash(code),
            role.value,
            scope.site_id,
            scope.region,
            caller.user_id,
            iso(now),
            iso(expires),
            origin,
            self.audit.entry(caller.user_id, AuditAction.INVITE, None, detail),
        )
        if created is None:
            raise PeopleRefusedError(Denied.ALREADY_CREATED)
        return NewInvitation(code, role, scope, expires.astimezone(self.settings.tz))

    async def open_invitations(self, caller: Caller) -> list[OpenInvitation]:
        """The links still usable: an admin sees everyone's, a manager their own."""
        mine_only = None if Role.ADMIN in caller.roles else caller.user_id
        found = await self.invitations.open_ones(self._now(), mine_only, OPEN_INVITATIONS_SHOWN)
        return [self._open(caller, invitation) for invitation in found]

    async def revoke_invitation(self, caller: Caller, invitation_id: int) -> OpenInvitation:
        """Void a link before anyone uses it. Refused when it is no longer usable."""
        invitation = await self.invitations.by_id(invitation_id)
        if invitation is None:
            raise PeopleRefusedError(Denied.STALE)
        if Role.ADMIN not in caller.roles and invitation.created_by != caller.user_id:
            raise PeopleRefusedError(Denied.NOT_ALLOWED)
        scope = Scope(invitation.site_id, invitation.site_name, invitation.region)
        detail = {**scope.detail(invitation.role), "invitation": invitation.id, "by": invitation.created_by}
        entry = self.audit.entry(caller.user_id, AuditAction.INVITE_REVOKED, f"invitation:{invitation.id}", detail)
        if not await self.invitations.revoke(invitation.id, self._now(), entry):
            raise PeopleRefusedError(Denied.INVITATION_CLOSED)
        return self._open(caller, invitation)

    def _open(self, caller: Caller, invitation: Invitation) -> OpenInvitation:
        return OpenInvitation(
            invitation.id,
            Role(invitation.role),
            Scope(invitation.site_id, invitation.site_name, invitation.region),
            invitation.inviter_name,
            invitation.created_by == caller.user_id,
            datetime.fromisoformat(invitation.expires_at).astimezone(self.settings.tz),
        )

    async def accept(self, caller: Caller, first_name: str, code: str) -> Accepted:
        """Register the caller with the invitation's role. Unknown, used, expired codes grant nothing."""
        me = caller.user_id
        if not _CODE_PATTERN.match(code):
            raise PeopleRefusedError(Denied.INVITE_INVALID, user_id=me)
        invitation = await self.invitations.by_hash(code_hash(code))
        now = self._now()
        if invitation is None or invitation.revoked_at is not None:
            raise PeopleRefusedError(Denied.INVITE_INVALID, user_id=me)
        if invitation.used_at is not None:
            raise PeopleRefusedError(Denied.INVITE_USED, user_id=me)
        if invitation.expires_at <= now:
            raise PeopleRefusedError(Denied.INVITE_EXPIRED, user_id=me)
        if not caller.active:
            raise PeopleRefusedError(Denied.INVITE_DEACTIVATED, user_id=me)
        scope = Scope(invitation.site_id, invitation.site_name, invitation.region)
        detail = {**scope.detail(invitation.role), "invitation": invitation.id, "by": invitation.created_by}
        entry = self.audit.entry(caller.user_id, AuditAction.INVITE_ACCEPTED, user_target(caller.user_id), detail)
        if not await self.invitations.accept(invitation, caller.user_id, first_name, now, entry):
            raise PeopleRefusedError(Denied.INVITE_USED, user_id=me)  # used by someone else a moment ago
        return Accepted(Role(invitation.role), scope, invitation.created_by)

    # -- grants, revocations, deactivation ------------------------------------------------------

    async def grant(self, caller: Caller, user_id: int, role: Role, token: str) -> Granted:
        scope = await self.resolve_scope(caller, role, token)
        await self.grant_target(caller, user_id)
        entry = self.audit.entry(caller.user_id, AuditAction.GRANT, user_target(user_id), scope.detail(role.value))
        added = await self.repo.grant(
            user_id, role.value, scope.site_id, scope.region, caller.user_id, self._now(), entry
        )
        return Granted(user_id, role, scope, added)

    async def revoke(self, caller: Caller, grant_id: int) -> Grant:
        grant = await self.repo.grant_by_id(grant_id)
        if grant is None:
            raise PeopleRefusedError(Denied.STALE)
        if not await self._may_manage_grant(caller, grant):
            raise PeopleRefusedError(Denied.NOT_ALLOWED)
        if grant.role == Role.ADMIN and grant.user_id == caller.user_id:
            raise PeopleRefusedError(Denied.SELF)
        entry = self.audit.entry(
            caller.user_id, AuditAction.REVOKE, user_target(grant.user_id), scope_of(grant).detail(grant.role)
        )
        if not await self.repo.revoke(grant_id, self._now(), entry):
            raise PeopleRefusedError(Denied.STALE)
        return grant

    async def check_may_set_active(self, caller: Caller, user_id: int, active: bool) -> None:
        """Only admins, never on themselves, and never deactivating an admin from the configuration."""
        if Role.ADMIN not in caller.roles:
            raise PeopleRefusedError(Denied.NOT_ALLOWED)
        if user_id == caller.user_id:
            raise PeopleRefusedError(Denied.SELF)
        if not active and user_id in self.settings.admin_ids:
            raise PeopleRefusedError(Denied.CONFIG_ADMIN)
        if await self.repo.person(user_id) is None:
            raise PeopleRefusedError(Denied.NO_PERSON, user_id=user_id)

    async def set_active(self, caller: Caller, user_id: int, active: bool) -> bool:
        """Deactivate (history kept, may no longer act) or reactivate. False: it already was so."""
        await self.check_may_set_active(caller, user_id, active)
        action = AuditAction.REACTIVATE if active else AuditAction.DEACTIVATE
        entry = self.audit.entry(caller.user_id, action, user_target(user_id))
        return await self.repo.set_active(user_id, active, self._now(), entry)

    # -- looking at people ----------------------------------------------------------------------

    async def card(self, caller: Caller, user_id: int) -> PersonCard:
        person = await self.visible_person(caller, user_id)
        lines = tuple([GrantLine(g, await self._may_manage_grant(caller, g)) for g in person.grants])
        is_admin = Role.ADMIN in caller.roles
        return PersonCard(
            person=person,
            grants=lines,
            config_admin=user_id in self.settings.admin_ids,
            can_grant=bool(self.grantable_roles(caller)),
            can_toggle_active=is_admin and user_id != caller.user_id and user_id not in self.settings.admin_ids,
        )

    async def people_page(
        self,
        caller: Caller,
        role_filter: str = "-",
        site_id: int = 0,
        page: int = 0,
        search: str | None = None,
        fits: Callable[[PeoplePage], bool] | None = None,
    ) -> PeoplePage:
        """One page of the people list: at most :data:`PEOPLE_PER_PAGE`, and only as many as ``fits``
        (the rendered page fits in a message). A search shows its first page only."""
        managed = await self.managed_site_ids(caller)
        if managed is not None and Role.MANAGER not in caller.roles:
            raise PeopleRefusedError(Denied.NOT_ALLOWED)
        if role_filter not in ROLE_FILTERS:
            raise PeopleRefusedError(Denied.STALE)
        site_name = None
        if site_id:
            site = await self.repo.site(site_id)
            if site is None:
                raise PeopleRefusedError(Denied.STALE)
            if managed is not None and site_id not in managed:
                raise PeopleRefusedError(Denied.NOT_ALLOWED)
            site_name = site.name
        role = role_filter if role_filter in {r.value for r in ROLE_ORDER} else None
        active = False if role_filter == "off" else None
        query = dict(
            role=role,
            site_id=site_id or None,
            within_sites=sorted(managed) if managed is not None else None,
            active=active,
            search=search,
            config_admins=self.settings.admin_ids,
        )
        # Every match is read: pages are cut by rendered length, so where page n starts depends on all
        # the pages before it. People lists are hundreds at most.
        people, total = await self.repo.people(**query)
        admins = self.settings.admin_ids

        def measured(chunk: Sequence[Person]) -> bool:
            # Measured with the largest page numbers there could be: the header is never longer.
            return fits is None or fits(
                PeoplePage(tuple(chunk), role_filter, site_id, site_name, total, total, total, search, admins)
            )

        if search:  # a search shows its first page, and asks for something more specific if there is more
            shown, page, pages = first_page(people, measured, PEOPLE_PER_PAGE), 0, 1
        else:  # a page number past the end (the list shrank since the button was made): the last page
            found = paginate(people, page, measured, PEOPLE_PER_PAGE)
            shown, page, pages = found.items, found.index, found.count
        return PeoplePage(shown, role_filter, site_id, site_name, page, pages, total, search, admins)

    async def filter_sites(self, caller: Caller) -> list[SiteRow]:
        managed = await self.managed_site_ids(caller)
        return [s for s in await self.repo.sites(include_inactive=False) if managed is None or s.id in managed]

    async def caller_of(self, user_id: int) -> Caller | None:
        """How the bot sees someone else now (for their menu and notices)."""
        person = await self.repo.person(user_id)
        if person is None:
            return None
        lang = person.language or language_from_telegram(person.tg_language, self.settings.default_language)
        roles = caller_roles([g.role for g in person.grants], user_id, self.settings.admin_ids)
        return Caller(user_id, person.display_name, lang, roles, person.active)

    # -- access requests ------------------------------------------------------------------------

    async def note_request(self, caller: Caller) -> bool:
        """True when admins should hear of this stranger now (the first time they write)."""
        if not self.settings.access.notify_admins_of_requests or not caller.active:
            return False
        return await self.repo.note_request(caller.user_id, self._now())

    async def admin_recipients(self) -> list[int]:
        return sorted(set(self.settings.admin_ids) | set(await self.repo.admin_ids()))

    async def pending_request(self, caller: Caller, user_id: int) -> Person:
        if Role.ADMIN not in caller.roles:
            raise PeopleRefusedError(Denied.NOT_ALLOWED)
        person = await self.repo.person(user_id)
        if person is None or await self.repo.request_status(user_id) != "pending":
            raise PeopleRefusedError(Denied.REQUEST_HANDLED)
        return person

    async def dismiss_request(self, caller: Caller, user_id: int) -> Person:
        person = await self.pending_request(caller, user_id)
        entry = self.audit.entry(caller.user_id, AuditAction.REQUEST_DISMISSED, user_target(user_id))
        if not await self.repo.dismiss_request(user_id, caller.user_id, self._now(), entry):
            raise PeopleRefusedError(Denied.REQUEST_HANDLED)
        return person

    # -- site group chats -----------------------------------------------------------------------

    async def group_member(self, caller: Caller, chat_id: int) -> bool:
        """May this person use the bot in this group? Admins anywhere; others only in the group of a
        site they are tied to."""
        if not caller.registered:
            return False
        if Role.ADMIN in caller.roles:
            return True
        site = await self.repo.site_of_group(chat_id)
        if site is None or not site.active:
            return False
        roles = tuple(role.value for role in caller.roles)
        return any(s.id == site.id for s in await self.sites.visible_to(caller.user_id, roles))
