"""Sites as plain logic: list, add, rename, set the region, archive, and link a site's group chat."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.clock import Clock, iso
from bot.flows.access import Caller, Role
from bot.flows.paging import paginate
from bot.flows.people.audit import Audit, AuditAction, site_target
from bot.flows.people.refusals import Denied, PeopleRefusedError
from storage.people import PeopleRepository, SiteRow
from storage.sites import SiteRepository

NAME_MAX = 64
REGION_MAX = 32
SITES_PER_PAGE = 10  # at most; fewer when they would not fit in one message
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(text: str) -> str:
    """A site name as typed: spaces tidied; not empty, one line, not a command, at most 64 characters."""
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX or name.startswith("/") or _CONTROL.search(text.strip()):
        raise PeopleRefusedError(Denied.NAME_INVALID, limit=NAME_MAX)
    return name


def clean_region(text: str) -> str:
    region = " ".join(text.split())
    if not region or len(region) > REGION_MAX or region.startswith("/") or _CONTROL.search(text.strip()):
        raise PeopleRefusedError(Denied.REGION_INVALID, limit=REGION_MAX)
    return region


@dataclass(frozen=True)
class SitesPage:
    sites: tuple[SiteRow, ...]
    page: int  # 0-based
    pages: int
    total: int
    editable: bool  # the caller is an admin: each site opens its card


@dataclass(frozen=True)
class Linked:
    site: SiteRow
    previous: SiteRow | None  # the site this group served before, if another one


class SitesFlow:
    def __init__(self, people: PeopleRepository, sites: SiteRepository, audit: Audit, clock: Clock) -> None:
        self.repo = people
        self.sites = sites
        self.audit = audit
        self.clock = clock

    def _now(self) -> str:
        return iso(self.clock.now())

    @staticmethod
    def _admin_only(caller: Caller) -> None:
        if Role.ADMIN not in caller.roles:
            raise PeopleRefusedError(Denied.NOT_ALLOWED)

    async def visible(self, caller: Caller) -> list[SiteRow]:
        """Admins: every site, archived ones last. Managers: the active sites they see."""
        if Role.ADMIN in caller.roles:
            return await self.repo.sites(include_inactive=True)
        if Role.MANAGER not in caller.roles:
            raise PeopleRefusedError(Denied.NOT_ALLOWED)
        seen = {s.id for s in await self.sites.visible_to(caller.user_id, (Role.MANAGER.value,))}
        return [s for s in await self.repo.sites(include_inactive=False) if s.id in seen]

    async def page(self, caller: Caller, page: int = 0, fits: Callable[[SitesPage], bool] | None = None) -> SitesPage:
        """One page of the sites: at most :data:`SITES_PER_PAGE`, and only as many as ``fits`` (the
        rendered page fits in a message); a page number past the end gives the last page."""
        sites = await self.visible(caller)
        editable = Role.ADMIN in caller.roles
        total = len(sites)

        def measured(chunk: Sequence[SiteRow]) -> bool:
            # Measured with the largest page numbers there could be: the header is never longer.
            return fits is None or fits(SitesPage(tuple(chunk), total, total, total, editable))

        found = paginate(sites, page, measured, SITES_PER_PAGE)
        return SitesPage(found.items, found.index, found.count, total, editable)

    async def site(self, caller: Caller, site_id: int) -> SiteRow:
        self._admin_only(caller)
        site = await self.repo.site(site_id)
        if site is None:
            raise PeopleRefusedError(Denied.NO_SITE)
        return site

    async def find(self, caller: Caller, text: str) -> list[SiteRow]:
        """Sites whose id is ``text`` or whose name contains it; an exact name wins."""
        self._admin_only(caller)
        needle = " ".join(text.split())
        sites = await self.repo.sites(include_inactive=True)
        exact = [s for s in sites if s.name == needle or str(s.id) == needle]
        return exact or [s for s in sites if needle.casefold() in s.name.casefold()]

    async def check_new_name(self, caller: Caller, text: str) -> str:
        self._admin_only(caller)
        name = clean_name(text)
        if await self.repo.site_by_name(name) is not None:
            raise PeopleRefusedError(Denied.NAME_TAKEN, name=name)
        return name

    async def regions(self) -> list[tuple[str, int]]:
        return await self.repo.regions()

    async def region_of_site(self, site_id: int) -> str:
        """The region a region button (carrying one of its sites) stands for."""
        site = await self.repo.site(site_id)
        if site is None or site.region is None:
            raise PeopleRefusedError(Denied.STALE)
        return site.region

    async def add(self, caller: Caller, name: str, region: str | None) -> SiteRow:
        name = await self.check_new_name(caller, name)
        region = clean_region(region) if region else None
        entry = self.audit.entry(caller.user_id, AuditAction.SITE_ADD, None, {"site": name, "region": region})
        site_id = await self.repo.add_site(name, region, self._now(), entry)
        if site_id is None:
            raise PeopleRefusedError(Denied.NAME_TAKEN, name=name)
        site = await self.repo.site(site_id)
        assert site is not None
        return site

    async def rename(self, caller: Caller, site_id: int, text: str) -> SiteRow:
        site = await self.site(caller, site_id)
        name = clean_name(text)
        if name == site.name:
            return site
        detail = {"old_name": site.name, "site": name}
        entry = self.audit.entry(caller.user_id, AuditAction.SITE_EDIT, site_target(site_id), detail)
        if not await self.repo.update_site(site_id, self._now(), entry, name=name):
            raise PeopleRefusedError(Denied.NAME_TAKEN, name=name)
        return await self.site(caller, site_id)

    async def set_region(self, caller: Caller, site_id: int, region: str | None) -> SiteRow:
        site = await self.site(caller, site_id)
        region = clean_region(region) if region else None
        if region == site.region:
            return site
        entry = self.audit.entry(
            caller.user_id, AuditAction.SITE_EDIT, site_target(site_id), {"site": site.name, "region": region or ""}
        )
        await self.repo.update_site(site_id, self._now(), entry, region=region)
        return await self.site(caller, site_id)

    async def set_active(self, caller: Caller, site_id: int, active: bool) -> SiteRow:
        site = await self.site(caller, site_id)
        if site.active == active:
            return site
        entry = self.audit.entry(
            caller.user_id, AuditAction.SITE_EDIT, site_target(site_id), {"site": site.name, "active": active}
        )
        await self.repo.update_site(site_id, self._now(), entry, active=int(active))
        return await self.site(caller, site_id)

    # -- group chats ----------------------------------------------------------------------------

    async def group_site(self, chat_id: int) -> SiteRow | None:
        return await self.repo.site_of_group(chat_id)

    async def linkable(self, caller: Caller) -> list[SiteRow]:
        self._admin_only(caller)
        return await self.repo.sites(include_inactive=False)

    async def link_group(self, caller: Caller, chat_id: int, title: str | None, site_id: int) -> Linked:
        site = await self.site(caller, site_id)
        if not site.active:
            raise PeopleRefusedError(Denied.STALE)
        detail = {"site": site.name, "group": title or str(chat_id)}
        entry = self.audit.entry(caller.user_id, AuditAction.GROUP_LINK, site_target(site_id), detail)
        previous = await self.repo.link_group(site_id, chat_id, title, self._now(), entry)
        linked = await self.site(caller, site_id)
        return Linked(linked, previous if previous and previous.id != site_id else None)

    async def unlink_group(self, caller: Caller, site_id: int) -> SiteRow:
        site = await self.site(caller, site_id)
        if site.group_chat_id is None:
            raise PeopleRefusedError(Denied.GROUP_NOT_LINKED)
        detail = {"site": site.name, "group": site.group_title or str(site.group_chat_id)}
        entry = self.audit.entry(caller.user_id, AuditAction.GROUP_UNLINK, site_target(site_id), detail)
        if not await self.repo.unlink_group(site_id, self._now(), entry):
            raise PeopleRefusedError(Denied.GROUP_NOT_LINKED)
        return site

    async def move_group(self, actor_id: int | None, old_chat_id: int, new_chat_id: int) -> bool:
        """Telegram upgraded a group to a supergroup (a new chat id): its site's link follows, recorded
        with the person Telegram names as having upgraded it. False: no site was linked to the group."""
        detail = {"old_chat": old_chat_id, "new_chat": new_chat_id}
        entry = self.audit.entry(actor_id, AuditAction.GROUP_MIGRATED, None, detail)
        return await self.repo.move_group(old_chat_id, new_chat_id, self._now(), entry)
