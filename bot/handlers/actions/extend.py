"""Extensions (申请延期) on Telegram: staff ask for a later due date, a manager approves or refuses.
Logic lives in bot.flows.actions.extend.

Callback data (checked against the database on every tap; a stale or forged one changes nothing):
  ax:<action>  申请延期: asks for the new date, then the reason
  xa:<request> 同意延期       xr:<request> 不同意: asks for the reason

Texts are claimed only while the person's pending input is one of these questions.
"""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler

from bot.flows.actions.extend import EXTEND_DATE, EXTEND_REASON, ExtensionFlow
from bot.flows.actions.views import SEEING_ROLES
from bot.handlers.actions.loop import action_id_of, card_keyboard
from bot.handlers.base import ID, Turn, guarded
from bot.handlers.router import router_of

ROLES = frozenset(SEEING_ROLES)


def flow_of(turn: Turn) -> ExtensionFlow:
    return turn.services.extensions


@guarded(ROLES)
async def on_extend(turn: Turn) -> None:
    asked = await flow_of(turn).begin(turn.caller, action_id_of(turn))
    await turn.answer()
    await turn.say("actions.extension_date_prompt", asked=asked)


@guarded(ROLES)
async def on_approve(turn: Turn) -> None:
    card = await flow_of(turn).approve(turn.caller, action_id_of(turn))
    await turn.answer("actions.toast_extension_approved")
    await turn.edit("actions.card", card_keyboard(turn, card), card=card)


@guarded(ROLES)
async def on_refuse(turn: Turn) -> None:
    asked = await flow_of(turn).ask_refusal(turn.caller, action_id_of(turn))
    await turn.answer()
    await turn.say("actions.extension_refusal_prompt", asked=asked)


async def text_for_extension(turn: Turn, text: str) -> bool:
    """The new date, the reason of a request, or why a manager refuses one; only while asked."""
    flow = flow_of(turn)
    waiting = await flow.waiting(turn.caller)
    if waiting is None:
        return False
    if waiting.kind == EXTEND_DATE:
        asked = await flow.take_date(turn.caller, waiting.target, text)
        await turn.say("actions.extension_reason_prompt", asked=asked)
    elif waiting.kind == EXTEND_REASON:
        assert waiting.new_due is not None
        card = await flow.request(turn.caller, waiting.target, waiting.new_due, text)
        await turn.say("actions.extension_requested", card=card)
    else:
        card = await flow.refuse(turn.caller, waiting.target, text)
        await turn.say("actions.extension_refused", card=card)
    return True


async def media_for_extension(turn: Turn) -> bool:
    """A photo or file while a date or a reason is asked: said so, and kept nowhere."""
    message = turn.update.effective_message
    if message is None or not (message.photo or message.document):
        return False
    if await flow_of(turn).waiting(turn.caller) is None:
        return False
    await turn.say("actions.extension_needs_text")
    return True


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_extend, pattern=rf"^ax:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_approve, pattern=rf"^xa:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_refuse, pattern=rf"^xr:{ID}$"))
    router_of(app).text.insert(0, text_for_extension)
    router_of(app).media.insert(0, media_for_extension)
