"""/people, /role, /deactivate and /audit: the people list, a person's card, grants and revocations.

Callback data (checked against the database on every tap):
  pl:<filter>:<site>:<page>   the list; filter ``-`` all, a role, or ``off`` (deactivated); site 0: any
  pf:<filter>:<page>          choose a site to filter by          pc:<user>   a person's card
  px:<grant>                  revoke a grant                       pd:<user>   deactivate? (asks)
  py:<user>                   deactivate, confirmed                pa:<user>   reactivate
  pz:<entry>                  audit entries older than <entry>
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flows.access import Role
from bot.flows.paging import paginate
from bot.flows.people.audit import AuditPage
from bot.flows.people.manage import ROLE_FILTERS, PeoplePage
from bot.flows.people.refusals import Denied, PeopleRefusedError
from bot.handlers.base import ID, PAGE, Turn, guarded, parse_id
from bot.handlers.keyboards import page_nav
from bot.handlers.menus import set_chat_menu
from bot.handlers.people.common import callback_data, labels_fit, number, show, text_fits

MANAGERS = frozenset({Role.MANAGER})
ADMINS = frozenset({Role.ADMIN})
SITES_PER_PAGE = 8  # of the site filter picker, at most


# -- the list -----------------------------------------------------------------------------------


def _list_keyboard(turn: Turn, page: PeoplePage) -> InlineKeyboardMarkup:
    rows = [[Button(turn.label("people.person_button", person=p), callback_data=f"pc:{p.id}")] for p in page.people]
    filters = [
        Button(
            ("✓ " if f == page.role_filter else "") + turn.label("people.filter_name", filter=f),
            callback_data=f"pl:{f}:{page.site_id}:0",
        )
        for f in ROLE_FILTERS
    ]
    rows += [filters[:3], filters[3:]]
    if page.site_id:
        rows.append([Button(turn.label("people.btn_clear_site"), callback_data=f"pl:{page.role_filter}:0:0")])
    else:
        rows.append([Button(turn.label("people.btn_filter_site"), callback_data=f"pf:{page.role_filter}:0")])
    if page.search is None:  # a search shows its matches on one page
        rows += page_nav(page.page, page.pages, lambda n: f"pl:{page.role_filter}:{page.site_id}:{n}")
    return InlineKeyboardMarkup(rows)


async def show_list(turn: Turn, role_filter: str = "-", site_id: int = 0, page: int = 0, search: str | None = None):
    def fits(candidate: PeoplePage) -> bool:
        return text_fits(turn, "people.list", page=candidate)

    people = await turn.services.people.people_page(turn.caller, role_filter, site_id, page, search, fits)
    await show(turn, "people.list", _list_keyboard(turn, people), page=people)


@guarded(MANAGERS)
async def people_command(turn: Turn) -> None:
    search = " ".join(turn.context.args or []).strip() or None
    await show_list(turn, search=search[:64] if search else None)


@guarded(MANAGERS)
async def on_list(turn: Turn) -> None:
    _, role_filter, site_id, page = callback_data(turn).split(":")
    await show_list(turn, role_filter, number(site_id), number(page))
    await turn.answer()


@guarded(MANAGERS)
async def on_filter_site(turn: Turn) -> None:
    _, role_filter, raw_page = callback_data(turn).split(":")
    if role_filter not in ROLE_FILTERS:
        await turn.answer("common.stale_button", alert=True)
        return
    sites = await turn.services.people.filter_sites(turn.caller)
    found = paginate(sites, number(raw_page), lambda chunk: labels_fit(s.name for s in chunk), SITES_PER_PAGE)
    rows = [[Button(s.name, callback_data=f"pl:{role_filter}:{s.id}:0")] for s in found.items]
    rows += page_nav(found.index, found.count, lambda n: f"pf:{role_filter}:{n}")
    rows.append([Button(turn.label("people.btn_back_to_list"), callback_data=f"pl:{role_filter}:0:0")])
    await show(turn, "people.pick_filter_site", InlineKeyboardMarkup(rows), count=len(sites))
    await turn.answer()


# -- a person's card ----------------------------------------------------------------------------


async def show_card(turn: Turn, user_id: int, confirm_deactivate: bool = False) -> None:
    card = await turn.services.people.card(turn.caller, user_id)
    rows = []
    if confirm_deactivate:
        rows.append([Button(turn.label("people.btn_confirm_deactivate"), callback_data=f"py:{user_id}")])
        rows.append([Button(turn.label("people.btn_cancel"), callback_data=f"pc:{user_id}")])
    else:
        for line in card.grants:
            if line.revocable:
                label = turn.label("people.btn_revoke", grant=line.grant)
                rows.append([Button(label, callback_data=f"px:{line.grant.id}")])
        if card.can_grant:
            rows.append([Button(turn.label("people.btn_grant"), callback_data=f"pi:{user_id}")])
        if card.can_toggle_active:
            if card.person.active:
                rows.append([Button(turn.label("people.btn_deactivate"), callback_data=f"pd:{user_id}")])
            else:
                rows.append([Button(turn.label("people.btn_reactivate"), callback_data=f"pa:{user_id}")])
        rows.append([Button(turn.label("people.btn_back_to_list"), callback_data="pl:-:0:0")])
    await show(turn, "people.card", InlineKeyboardMarkup(rows), card=card, confirm=confirm_deactivate)


@guarded(MANAGERS)
async def on_card(turn: Turn) -> None:
    user_id = number(callback_data(turn).split(":")[1])
    await show_card(turn, user_id)
    await turn.answer()


@guarded(MANAGERS)
async def role_command(turn: Turn) -> None:
    """``/role <id>`` opens a person's card (grant and revoke there); ``/role <name>`` searches."""
    argument = " ".join(turn.context.args or []).strip()
    if not argument:
        await turn.say("people.role_usage")
    elif argument.isascii() and argument.isdigit():
        await show_card(turn, _person_id(argument))
    else:
        await show_list(turn, search=argument[:64])


@guarded(MANAGERS)
async def on_revoke(turn: Turn) -> None:
    grant = await turn.services.people.revoke(turn.caller, number(callback_data(turn).split(":")[1]))
    await turn.answer("people.revoked_toast", grant=grant)
    await _refresh_menu(turn, grant.user_id)
    try:
        await show_card(turn, grant.user_id)
    except PeopleRefusedError:  # a manager revoked the last role they could see: back to the list
        await show_list(turn)


# -- deactivation -------------------------------------------------------------------------------


@guarded(ADMINS)
async def deactivate_command(turn: Turn) -> None:
    argument = " ".join(turn.context.args or []).strip()
    if not (argument.isascii() and argument.isdigit()):
        await turn.say("people.deactivate_usage")
        return
    user_id = _person_id(argument)
    await turn.services.people.check_may_set_active(turn.caller, user_id, False)
    await show_card(turn, user_id, confirm_deactivate=True)


def _person_id(typed: str) -> int:
    """A typed Telegram id; one too long to be anyone's is a person we do not know."""
    user_id = parse_id(typed)
    if user_id is None:
        raise PeopleRefusedError(Denied.NO_PERSON, user_id=typed[:20])
    return user_id


@guarded(ADMINS)
async def on_deactivate_ask(turn: Turn) -> None:
    user_id = number(callback_data(turn).split(":")[1])
    await turn.services.people.check_may_set_active(turn.caller, user_id, False)
    await show_card(turn, user_id, confirm_deactivate=True)
    await turn.answer()


@guarded(ADMINS)
async def on_set_active(turn: Turn) -> None:
    action, raw_id = callback_data(turn).split(":")
    user_id, active = number(raw_id), action == "pa"
    changed = await turn.services.people.set_active(turn.caller, user_id, active)
    key = "people.reactivated_toast" if active else "people.deactivated_toast"
    await turn.answer(key if changed else "people.unchanged_toast")
    await show_card(turn, user_id)
    if changed:
        await _refresh_menu(turn, user_id)


async def _refresh_menu(turn: Turn, user_id: int) -> None:
    """Their command menu follows their roles (a deactivated person sees the public one)."""
    person = await turn.services.people.caller_of(user_id)
    if person is not None:
        await set_chat_menu(turn.context.application, person, user_id)


# -- audit --------------------------------------------------------------------------------------


async def show_audit(turn: Turn, before_id: int | None) -> None:
    """A page of the audit log: as many entries as fit in one message (one too long alone is shortened);
    "older" continues after the last one shown, so every entry is reachable."""
    first = before_id is None

    def fits(candidate: AuditPage) -> bool:
        return text_fits(turn, "people.audit", page=candidate, first=first)

    page = await turn.services.audit.recent(before_id, fits=fits)
    rows = []
    if page.older is not None:
        rows.append([Button(turn.label("people.btn_older"), callback_data=f"pz:{page.older}")])
    # Older entries come as a new message, so the newer page stays readable above.
    await turn.say("people.audit", InlineKeyboardMarkup(rows) if rows else None, page=page, first=first)


@guarded(ADMINS)
async def audit_command(turn: Turn) -> None:
    await show_audit(turn, None)


@guarded(ADMINS)
async def on_audit_older(turn: Turn) -> None:
    await turn.answer()
    await show_audit(turn, number(callback_data(turn).split(":")[1]))


def register(app: Application) -> None:
    filters = "|".join(ROLE_FILTERS).replace("-", r"\-")
    app.add_handler(CommandHandler("people", people_command))
    app.add_handler(CommandHandler("role", role_command))
    app.add_handler(CommandHandler("deactivate", deactivate_command))
    app.add_handler(CommandHandler("audit", audit_command))
    app.add_handler(CallbackQueryHandler(on_list, pattern=rf"^pl:({filters}):{ID}:{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_filter_site, pattern=rf"^pf:({filters}):{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_card, pattern=rf"^pc:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_revoke, pattern=rf"^px:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_deactivate_ask, pattern=rf"^pd:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_set_active, pattern=rf"^p[ya]:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_audit_older, pattern=rf"^pz:{ID}$"))
