"""/sites, /addsite, /editsite, /linkgroup and /unlinkgroup. Logic lives in bot.flows.people.sites.

Callback data (checked against the database on every tap):
  pt:<page>        the sites list           pu:<site>        a site's card (admins)
  pe:<site>:n|r    rename / set region: asks for a text       pw:<site>:0|1   archive / restore
  pg:<site>        unlink the site's group  pb:<site>        a region button while adding or editing a site:
                                                             the region of <site>; 0 = no region
  pj:<site>        link the group the button is in to <site>  ph:<page>        page of that picker
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.flows.access import Role
from bot.flows.paging import paginate
from bot.flows.people.refusals import Denied, PeopleRefusedError
from bot.flows.people.sites import SITES_PER_PAGE, SitesPage
from bot.handlers.base import ID, PAGE, Turn, guarded
from bot.handlers.keyboards import page_nav
from bot.handlers.people.common import (
    ADDSITE_NAME,
    ADDSITE_REGION,
    SITE_REGION,
    SITE_RENAME,
    callback_data,
    labels_fit,
    number,
    show,
    text_fits,
)
from bot.handlers.router import router_of
from storage.people import SiteRow

ADMINS = frozenset({Role.ADMIN})
VIEWERS = frozenset({Role.MANAGER})
SITE_TEXT_KINDS = (ADDSITE_NAME, ADDSITE_REGION, SITE_RENAME, SITE_REGION)
LINK_PER_PAGE = 8  # sites of the link picker, at most


# -- list and card ------------------------------------------------------------------------------


async def show_sites(turn: Turn, page: int = 0, editing: bool = False) -> None:
    def fits(candidate: SitesPage) -> bool:
        return text_fits(turn, "people.sites", page=candidate, editing=editing)

    result = await turn.services.site_admin.page(turn.caller, page, fits)
    rows = []
    if result.editable:
        rows = [[Button(turn.label("people.site_button", site=s), callback_data=f"pu:{s.id}")] for s in result.sites]
    rows += page_nav(result.page, result.pages, lambda n: f"pt:{n}")
    await show(turn, "people.sites", InlineKeyboardMarkup(rows) if rows else None, page=result, editing=editing)


async def show_site_card(turn: Turn, site: SiteRow) -> None:
    rows = [
        [
            Button(turn.label("people.btn_rename"), callback_data=f"pe:{site.id}:n"),
            Button(turn.label("people.btn_region"), callback_data=f"pe:{site.id}:r"),
        ],
        [
            Button(
                turn.label("people.btn_site_restore" if not site.active else "people.btn_site_archive"),
                callback_data=f"pw:{site.id}:{0 if site.active else 1}",
            )
        ],
    ]
    if site.group_chat_id is not None:
        rows.append([Button(turn.label("people.btn_unlink_group"), callback_data=f"pg:{site.id}")])
    # The site's inspection plan (bot/handlers/plans): frequency and inspector.
    rows.append([Button(turn.label("plans.btn_plan"), callback_data=f"vs:{site.id}")])
    rows.append([Button(turn.label("people.btn_back_to_sites"), callback_data="pt:0")])
    await show(turn, "people.site_card", InlineKeyboardMarkup(rows), site=site)


def _region_keyboard(turn: Turn, regions: list[tuple[str, int]]) -> InlineKeyboardMarkup:
    rows = [[Button(region, callback_data=f"pb:{site_id}")] for region, site_id in regions[:20]]
    rows.append([Button(turn.label("people.btn_no_region"), callback_data="pb:0")])
    return InlineKeyboardMarkup(rows)


@guarded(VIEWERS)
async def sites_command(turn: Turn) -> None:
    await show_sites(turn)


@guarded(VIEWERS)
async def on_sites_page(turn: Turn) -> None:
    await show_sites(turn, number(callback_data(turn).split(":")[1]))
    await turn.answer()


@guarded(ADMINS)
async def editsite_command(turn: Turn) -> None:
    argument = " ".join(turn.context.args or []).strip()
    if not argument:
        await show_sites(turn, editing=True)
        return
    matches = await turn.services.site_admin.find(turn.caller, argument)
    if len(matches) == 1:
        await show_site_card(turn, matches[0])
    elif not matches:
        await turn.say("people.no_site_match", query=argument)
    else:
        rows = [[Button(s.name, callback_data=f"pu:{s.id}")] for s in matches[:SITES_PER_PAGE]]
        await turn.say("people.site_matches", InlineKeyboardMarkup(rows), query=argument, count=len(matches))


@guarded(ADMINS)
async def on_site_card(turn: Turn) -> None:
    site = await turn.services.site_admin.site(turn.caller, number(callback_data(turn).split(":")[1]))
    await turn.answer()
    await show_site_card(turn, site)


@guarded(ADMINS)
async def on_site_edit(turn: Turn) -> None:
    _, raw_id, field = callback_data(turn).split(":")
    svc = turn.services
    site = await svc.site_admin.site(turn.caller, number(raw_id))
    await turn.answer()
    if field == "n":
        await svc.pending.set(turn.caller.user_id, SITE_RENAME, str(site.id), turn.now())
        await turn.say("people.ask_site_name", site=site)
    else:
        await svc.pending.set(turn.caller.user_id, SITE_REGION, str(site.id), turn.now())
        await turn.say("people.ask_region", _region_keyboard(turn, await svc.site_admin.regions()), site=site)


@guarded(ADMINS)
async def on_site_active(turn: Turn) -> None:
    _, raw_id, active = callback_data(turn).split(":")
    site = await turn.services.site_admin.set_active(turn.caller, number(raw_id), active == "1")
    await turn.answer("people.site_saved_toast")
    await show_site_card(turn, site)


@guarded(ADMINS)
async def on_site_unlink(turn: Turn) -> None:
    flow = turn.services.site_admin
    site = await flow.unlink_group(turn.caller, number(callback_data(turn).split(":")[1]))
    await turn.answer("people.unlinked_toast", site=site)
    await show_site_card(turn, await flow.site(turn.caller, site.id))


# -- adding and editing by text -----------------------------------------------------------------


@guarded(ADMINS)
async def addsite_command(turn: Turn) -> None:
    svc = turn.services
    argument = " ".join(turn.context.args or []).strip()
    if not argument:
        await svc.pending.set(turn.caller.user_id, ADDSITE_NAME, "", turn.now())
        await turn.say("people.ask_new_site_name")
        return
    await _ask_new_site_region(turn, await svc.site_admin.check_new_name(turn.caller, argument))


async def _ask_new_site_region(turn: Turn, name: str) -> None:
    svc = turn.services
    await svc.pending.set(turn.caller.user_id, ADDSITE_REGION, name, turn.now())
    await turn.say("people.ask_region", _region_keyboard(turn, await svc.site_admin.regions()), site=None, name=name)


async def _apply_region(turn: Turn, kind: str, payload: str, region: str | None) -> None:
    """The region step of /addsite or of a site's card, by text or by button."""
    svc = turn.services
    flow = svc.site_admin
    try:
        if kind == ADDSITE_REGION:
            site = await flow.add(turn.caller, payload, region)
            await svc.pending.clear(turn.caller.user_id)
            await turn.say("people.site_added", site=site)
        else:
            site = await flow.set_region(turn.caller, int(payload), region)
            await svc.pending.clear(turn.caller.user_id)
            await show_site_card(turn, site)
    except PeopleRefusedError as refusal:
        if refusal.reason in (Denied.NAME_TAKEN, Denied.NO_SITE):  # retrying cannot help
            await svc.pending.clear(turn.caller.user_id)
        raise


@guarded(ADMINS)
async def on_region_button(turn: Turn) -> None:
    svc = turn.services
    pending = await svc.pending.get(turn.caller.user_id)
    if pending is None or pending.kind not in (ADDSITE_REGION, SITE_REGION):
        await turn.answer("common.stale_button", alert=True)
        return
    site_id = number(callback_data(turn).split(":")[1])
    region = await svc.site_admin.region_of_site(site_id) if site_id else None
    await _apply_region(turn, pending.kind, pending.payload, region)
    await turn.answer()


async def text_for_sites(turn: Turn, text: str) -> bool:
    """A site name or region the admin was asked for. False: not ours."""
    svc = turn.services
    pending = await svc.pending.get(turn.caller.user_id)
    if pending is None or pending.kind not in SITE_TEXT_KINDS:
        return False
    if Role.ADMIN not in turn.caller.roles:  # no longer an admin since the question
        await svc.pending.clear(turn.caller.user_id)
        return False
    flow = svc.site_admin
    if pending.kind == ADDSITE_NAME:
        await _ask_new_site_region(turn, await flow.check_new_name(turn.caller, text))
    elif pending.kind == SITE_RENAME:
        try:
            site = await flow.rename(turn.caller, int(pending.payload), text)
        except PeopleRefusedError as refusal:
            if refusal.reason is Denied.NO_SITE:
                await svc.pending.clear(turn.caller.user_id)
            raise
        await svc.pending.clear(turn.caller.user_id)
        await show_site_card(turn, site)
    else:
        await _apply_region(turn, pending.kind, pending.payload, text)
    return True


# -- group chats --------------------------------------------------------------------------------


def _in_group(turn: Turn) -> bool:
    chat = turn.update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def show_link_picker(turn: Turn, page: int, sites: list[SiteRow] | None = None) -> None:
    flow = turn.services.site_admin
    current = await flow.group_site(turn.chat_id)
    sites = sites if sites is not None else await flow.linkable(turn.caller)
    if not sites:
        await show(turn, "people.no_sites_yet")
        return

    def label(site: SiteRow) -> str:
        return ("✓ " if current and current.id == site.id else "") + site.name

    found = paginate(sites, page, lambda chunk: labels_fit(label(s) for s in chunk), LINK_PER_PAGE)
    rows = [[Button(label(s), callback_data=f"pj:{s.id}")] for s in found.items]
    rows += page_nav(found.index, found.count, lambda n: f"ph:{n}")
    values = {"current": current, "page": found.index + 1, "pages": found.count}
    await show(turn, "people.link_pick", InlineKeyboardMarkup(rows), **values)


async def _link(turn: Turn, site_id: int) -> None:
    flow = turn.services.site_admin
    chat = turn.update.effective_chat
    assert chat is not None
    before = await flow.site(turn.caller, site_id)
    linked = await flow.link_group(turn.caller, chat.id, chat.title, site_id)
    replaced = before.group_chat_id is not None and before.group_chat_id != chat.id
    await show(turn, "people.linked", site=linked.site, previous=linked.previous, replaced=replaced)


@guarded(ADMINS, in_groups=True)
async def linkgroup_command(turn: Turn) -> None:
    if not _in_group(turn):
        await turn.say("people.linkgroup_in_private")
        return
    argument = " ".join(turn.context.args or []).strip()
    if argument:
        matches = [s for s in await turn.services.site_admin.find(turn.caller, argument) if s.active]
        if len(matches) == 1:
            await _link(turn, matches[0].id)
            return
        if not matches:
            await turn.say("people.no_site_match", query=argument)
            return
        await show_link_picker(turn, 0, matches)
        return
    await show_link_picker(turn, 0)


@guarded(ADMINS, in_groups=True)
async def on_link(turn: Turn) -> None:
    if not _in_group(turn):
        await turn.answer("common.stale_button", alert=True)
        return
    await _link(turn, number(callback_data(turn).split(":")[1]))
    await turn.answer()


@guarded(ADMINS, in_groups=True)
async def on_link_page(turn: Turn) -> None:
    if not _in_group(turn):
        await turn.answer("common.stale_button", alert=True)
        return
    await show_link_picker(turn, number(callback_data(turn).split(":")[1]))
    await turn.answer()


@guarded(ADMINS, in_groups=True)
async def unlinkgroup_command(turn: Turn) -> None:
    if not _in_group(turn):
        await turn.say("people.unlinkgroup_in_private")
        return
    flow = turn.services.site_admin
    site = await flow.group_site(turn.chat_id)
    if site is None:
        raise PeopleRefusedError(Denied.GROUP_NOT_LINKED)
    await flow.unlink_group(turn.caller, site.id)
    await turn.say("people.unlinked", site=site)


@guarded(open_to_all=True, in_groups=True)
async def on_group_migrated(turn: Turn) -> None:
    """A group upgraded to a supergroup changes its chat id; its site link follows, and the audit log
    records it with the person Telegram names as having upgraded the group."""
    message = turn.update.effective_message
    if message is not None and message.migrate_to_chat_id:
        await turn.services.site_admin.move_group(turn.caller.user_id, message.chat.id, message.migrate_to_chat_id)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("sites", sites_command))
    app.add_handler(CommandHandler("addsite", addsite_command))
    app.add_handler(CommandHandler("editsite", editsite_command))
    app.add_handler(CommandHandler("linkgroup", linkgroup_command))
    app.add_handler(CommandHandler("unlinkgroup", unlinkgroup_command))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_group_migrated))
    app.add_handler(CallbackQueryHandler(on_sites_page, pattern=rf"^pt:{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_site_card, pattern=rf"^pu:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_site_edit, pattern=rf"^pe:{ID}:[nr]$"))
    app.add_handler(CallbackQueryHandler(on_site_active, pattern=rf"^pw:{ID}:[01]$"))
    app.add_handler(CallbackQueryHandler(on_site_unlink, pattern=rf"^pg:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_region_button, pattern=rf"^pb:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_link, pattern=rf"^pj:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_link_page, pattern=rf"^ph:{PAGE}$"))
    router_of(app).text.append(text_for_sites)
