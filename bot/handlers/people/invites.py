"""/invite, the role-and-scope picker, /invites, invitation links opened with /start, and access requests.
Logic lives in bot.flows.people.manage; the people list, sites and imports have their own modules.

Callback data (checked against the database on every tap):
  pi:<target>                        open the role picker; target ``n`` = a new invitation, else a user id
  pr:<target>:<role>                 role chosen          pq:<target>:<role>:<page>  scope page
  ps:<target>:<role>:<scope>         scope chosen: ``*`` everywhere, ``-`` none, ``r<site>`` its region, ``s<site>``
  pk:<user>  approve an access request (opens the picker)    pn:<user>  dismiss it
  pv:<invitation>                    revoke an unused invitation link (/invites)
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flows.access import Caller, Role
from bot.flows.paging import paginate, take
from bot.flows.people.manage import (
    OPEN_INVITATIONS_SHOWN,
    SCOPE_NONE,
    Granted,
    NewInvitation,
    OpenInvitation,
    ScopeOption,
)
from bot.handlers.base import ID, PAGE, Turn, guarded, unregistered_hooks
from bot.handlers.keyboards import page_nav
from bot.handlers.menus import set_chat_menu
from bot.handlers.people.common import callback_data, labels_fit, number, show, text_fits

INVITERS = frozenset({Role.ADMIN, Role.MANAGER})
ADMINS = frozenset({Role.ADMIN})
SCOPES_PER_PAGE = 8  # at most; fewer when their labels are long
INVITATION = "n"


# -- the role and scope picker ------------------------------------------------------------------


async def show_role_picker(turn: Turn, target: str) -> None:
    """Step 1: which role (skipped when the caller may grant only one)."""
    svc = turn.services
    name = None
    if target != INVITATION:
        name = (await svc.people.grant_target(turn.caller, int(target))).display_name
    roles = svc.people.grantable_roles(turn.caller)
    if len(roles) == 1:
        await show_scope_page(turn, target, roles[0], 0)
        return
    rows = [
        [Button(turn.label("common.role_name", role=role.value), callback_data=f"pr:{target}:{role.value}")]
        for role in roles
    ]
    await show(turn, "people.pick_role", InlineKeyboardMarkup(rows), name=name)


async def show_scope_page(turn: Turn, target: str, role: Role, page: int) -> None:
    """Step 2: where the role applies. Admins need no scope: the picker finishes at once."""
    if target != INVITATION:  # a forged page of the picker names nobody the caller may not see
        await turn.services.people.grant_target(turn.caller, int(target))
    options = await turn.services.people.scope_options(turn.caller, role)
    if len(options) == 1 and options[0].token == SCOPE_NONE:
        await finish(turn, target, role, SCOPE_NONE)
        return
    if not options:
        await show(turn, "people.no_sites_yet")
        return

    def labels(chunk: Sequence[ScopeOption]) -> list[str]:
        return [turn.label("people.scope_button", scope=o.scope) for o in chunk]

    found = paginate(options, page, lambda chunk: labels_fit(labels(chunk)), SCOPES_PER_PAGE)
    rows = [
        [Button(label, callback_data=f"ps:{target}:{role.value}:{o.token}")]
        for label, o in zip(labels(found.items), found.items, strict=True)
    ]
    rows += page_nav(found.index, found.count, lambda n: f"pq:{target}:{role.value}:{n}")
    values = {"role": role.value, "page": found.index + 1, "pages": found.count}
    await show(turn, "people.pick_scope", InlineKeyboardMarkup(rows), **values)


async def finish(turn: Turn, target: str, role: Role, token: str) -> None:
    if target == INVITATION:
        await _create_invitation(turn, role, token)
    else:
        await _grant(turn, int(target), role, token)


async def _create_invitation(turn: Turn, role: Role, token: str) -> None:
    query = turn.update.callback_query
    origin = f"{query.message.chat.id}:{query.message.message_id}" if query and query.message else None
    invitation = await turn.services.people.invite(turn.caller, role, token, origin)
    await show(turn, "people.invite_created", invitation=invitation)
    link = invitation_link(turn, invitation)
    markup = InlineKeyboardMarkup([[Button(turn.label("people.invite_open_button"), url=link)]])
    await turn.say("people.invite_forward", markup=markup, invitation=invitation, link=link, inviter=turn.caller.name)


def invitation_link(turn: Turn, invitation: NewInvitation) -> str:
    return f"https://t.me/{turn.context.bot.username}?start={invitation.code}"


async def _grant(turn: Turn, user_id: int, role: Role, token: str) -> None:
    svc = turn.services
    granted = await svc.people.grant(turn.caller, user_id, role, token)
    person = await svc.people.caller_of(user_id)
    name = person.name if person else str(user_id)
    await show(turn, "people.granted", granted=granted, name=name)
    if granted.added and person is not None:
        await _tell_granted(turn, person, granted)


async def _tell_granted(turn: Turn, person: Caller, granted: Granted) -> None:
    """The person hears of their new role, in their language, and gets the matching menu."""
    svc = turn.services
    text = svc.texts.render(person.lang, "people.you_were_granted", role=granted.role.value, scope=granted.scope)
    if person.active and await svc.send_safely(turn.context.bot, person.user_id, text):
        await set_chat_menu(turn.context.application, person, person.user_id)


# -- commands and buttons -----------------------------------------------------------------------


@guarded(INVITERS)
async def invite(turn: Turn) -> None:
    await show_role_picker(turn, INVITATION)


@guarded(INVITERS)
async def on_pick_role(turn: Turn) -> None:
    await show_role_picker(turn, callback_data(turn).split(":")[1])
    await turn.answer()


@guarded(INVITERS)
async def on_role(turn: Turn) -> None:
    _, target, role = callback_data(turn).split(":")
    await show_scope_page(turn, target, Role(role), 0)
    await turn.answer()


@guarded(INVITERS)
async def on_scope_page(turn: Turn) -> None:
    _, target, role, page = callback_data(turn).split(":")
    await show_scope_page(turn, target, Role(role), number(page))
    await turn.answer()


@guarded(INVITERS)
async def on_scope(turn: Turn) -> None:
    _, target, role, token = callback_data(turn).split(":")
    await finish(turn, target, Role(role), token)
    await turn.answer()


# -- open invitations ---------------------------------------------------------------------------


def _revoke_labels(turn: Turn, invitations: Sequence[OpenInvitation]) -> list[str]:
    return [turn.label("people.btn_revoke_invite", index=n, invitation=i) for n, i in enumerate(invitations, 1)]


async def show_open_invitations(turn: Turn, revoked: OpenInvitation | None = None) -> None:
    """The links still open, soonest to expire first: as many as fit in one message (the 20 first at
    most); when fewer fit, the text says only the first ones are listed."""
    found = await turn.services.people.open_invitations(turn.caller)

    def fits(chunk: Sequence[OpenInvitation]) -> bool:
        values = {"invitations": chunk, "revoked": revoked, "shown": OPEN_INVITATIONS_SHOWN}
        return text_fits(turn, "people.open_invitations", **values) and labels_fit(_revoke_labels(turn, chunk))

    listed = found[: take(found, fits, OPEN_INVITATIONS_SHOWN)]
    # The text says "only the first N are listed" when it lists N = ``shown`` of them.
    shown = len(listed) if len(listed) < len(found) else OPEN_INVITATIONS_SHOWN
    rows = [
        [Button(label, callback_data=f"pv:{i.id}")]
        for label, i in zip(_revoke_labels(turn, listed), listed, strict=True)
    ]
    markup = InlineKeyboardMarkup(rows) if rows else None
    await show(turn, "people.open_invitations", markup, invitations=listed, revoked=revoked, shown=shown)


@guarded(INVITERS)
async def invites(turn: Turn) -> None:
    await show_open_invitations(turn)


@guarded(INVITERS)
async def on_revoke_invitation(turn: Turn) -> None:
    revoked = await turn.services.people.revoke_invitation(turn.caller, number(callback_data(turn).split(":")[1]))
    await turn.answer("people.invite_revoked_toast")
    await show_open_invitations(turn, revoked)


# -- invitation links ---------------------------------------------------------------------------


async def accept_invitation(turn: Turn, code: str) -> None:
    """``/start <code>``: called by the /start handler, which is open to everyone."""
    svc = turn.services
    user = turn.update.effective_user
    assert user is not None
    accepted = await svc.people.accept(turn.caller, user.first_name, code)
    turn.caller = await svc.identify(user)
    await set_chat_menu(turn.context.application, turn.caller, turn.chat_id)
    await turn.say(
        "people.invite_accepted",
        name=turn.caller.name,
        role=accepted.role.value,
        scope=accepted.scope,
        roles=sorted(turn.caller.roles),
    )
    inviter = await svc.people.caller_of(accepted.inviter_id)
    if inviter is not None and inviter.active and inviter.user_id != turn.caller.user_id:
        text = svc.texts.render(
            inviter.lang,
            "people.invite_used_notice",
            name=turn.caller.name,
            user_id=turn.caller.user_id,
            role=accepted.role.value,
            scope=accepted.scope,
        )
        await svc.send_safely(turn.context.bot, inviter.user_id, text)


# -- strangers asking for access ----------------------------------------------------------------


async def tell_admins_of_request(turn: Turn) -> None:
    """After a stranger got the "not registered" reply: admins hear of it once, if config says so."""
    svc = turn.services
    if not await svc.people.note_request(turn.caller):
        return
    user = turn.update.effective_user
    assert user is not None
    for admin_id in await svc.people.admin_recipients():
        admin = await svc.people.caller_of(admin_id)
        lang = admin.lang if admin else svc.settings.default_language
        text = svc.texts.render(
            lang, "people.request_notice", name=user.full_name, username=user.username, user_id=user.id
        )
        markup = InlineKeyboardMarkup(
            [
                [Button(svc.texts.plain(lang, "people.btn_approve"), callback_data=f"pk:{user.id}")],
                [Button(svc.texts.plain(lang, "people.btn_dismiss"), callback_data=f"pn:{user.id}")],
            ]
        )
        await svc.send_safely(turn.context.bot, admin_id, text, markup)


@guarded(ADMINS)
async def on_approve(turn: Turn) -> None:
    user_id = number(callback_data(turn).split(":")[1])
    await turn.services.people.pending_request(turn.caller, user_id)
    await show_role_picker(turn, str(user_id))
    await turn.answer()


@guarded(ADMINS)
async def on_dismiss(turn: Turn) -> None:
    user_id = number(callback_data(turn).split(":")[1])
    person = await turn.services.people.dismiss_request(turn.caller, user_id)
    await turn.answer()
    await show(turn, "people.request_dismissed", name=person.display_name, user_id=user_id)


def register(app: Application) -> None:
    roles = "|".join(role.value for role in Role)
    app.add_handler(CommandHandler("invite", invite))
    app.add_handler(CallbackQueryHandler(on_pick_role, pattern=rf"^pi:(n|{ID})$"))
    app.add_handler(CallbackQueryHandler(on_role, pattern=rf"^pr:(n|{ID}):({roles})$"))
    app.add_handler(CallbackQueryHandler(on_scope_page, pattern=rf"^pq:(n|{ID}):({roles}):{PAGE}$"))
    app.add_handler(CallbackQueryHandler(on_scope, pattern=rf"^ps:(n|{ID}):({roles}):(\*|-|[rs]{ID})$"))
    app.add_handler(CommandHandler("invites", invites))
    app.add_handler(CallbackQueryHandler(on_revoke_invitation, pattern=rf"^pv:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_approve, pattern=rf"^pk:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_dismiss, pattern=rf"^pn:{ID}$"))
    unregistered_hooks(app).append(tell_admins_of_request)
