"""The fix-and-verify loop on Telegram: staff send proof and submit it, a verifier passes or returns
it. Logic lives in bot.flows.actions.loop.

Callback data (checked against the database on every tap; a stale or forged one changes nothing):
  ap:<action>  提交整改材料: the next photos, files and texts are proof    as:<action>  提交整改
  av:<action>  通过 (closed)     ar:<action>  退回: asks for a reason     ae:<action>  view the proof

Photos, files and texts are claimed only while the person's pending input is one of the loop's.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, InputMediaPhoto, Message
from telegram.ext import Application, CallbackQueryHandler

from bot.flows.actions.loop import PROOF, RETURN, ActionLoop, ProofSaved
from bot.flows.actions.views import SEEING_ROLES, ActionCard
from bot.handlers.base import ID, Turn, guarded
from bot.handlers.router import router_of

LOOP_ROLES = frozenset(SEEING_ROLES)


def loop_of(turn: Turn) -> ActionLoop:
    return turn.services.action_loop


def card_keyboard(turn: Turn, card: ActionCard) -> InlineKeyboardMarkup:
    """The card's buttons: what the caller may do in the action's state, then back to the list."""
    action_id, status = card.line.id, card.line.status.value
    rows: list[list[Button]] = []
    if status == "open" and card.may_submit:
        rows.append([Button(turn.label("actions.btn_proof"), callback_data=f"ap:{action_id}")])
        if card.proof_count:
            rows.append([Button(turn.label("actions.btn_submit"), callback_data=f"as:{action_id}")])
    if status in ("open", "submitted") and card.proof_count and (card.may_verify or card.may_submit):
        label = turn.label("actions.btn_view_proof", count=card.proof_count)
        rows.append([Button(label, callback_data=f"ae:{action_id}")])
    if status == "submitted" and card.may_verify:
        rows.append(
            [
                Button(turn.label("actions.btn_pass"), callback_data=f"av:{action_id}"),
                Button(turn.label("actions.btn_return"), callback_data=f"ar:{action_id}"),
            ]
        )
    if card.may_assign:
        rows.append([Button(turn.label("actions.btn_assign"), callback_data=f"aa:{action_id}:0")])
    if card.may_extend:
        rows.append([Button(turn.label("actions.btn_extend"), callback_data=f"ax:{action_id}")])
    if card.may_decide and card.extension is not None:
        rows.append(
            [
                Button(turn.label("actions.btn_extension_approve"), callback_data=f"xa:{card.extension.id}"),
                Button(turn.label("actions.btn_extension_refuse"), callback_data=f"xr:{card.extension.id}"),
            ]
        )
    rows.append([Button(turn.label("actions.btn_back"), callback_data="al:0")])
    return InlineKeyboardMarkup(rows)


def _submit_keyboard(turn: Turn, action_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(turn.label("actions.btn_submit"), callback_data=f"as:{action_id}")]])


def action_id_of(turn: Turn) -> int:
    """The action id a loop or extension button carries (``xx:<action>``)."""
    query = turn.update.callback_query
    assert query is not None and query.data is not None
    return int(query.data.split(":")[1])  # the patterns below admit digits only


# -- buttons --------------------------------------------------------------------------------------


@guarded(LOOP_ROLES)
async def on_proof(turn: Turn) -> None:
    card = await loop_of(turn).begin_proof(turn.caller, action_id_of(turn))
    await turn.answer()
    await turn.say("actions.proof_prompt", card=card)


@guarded(LOOP_ROLES)
async def on_submit(turn: Turn) -> None:
    card = await loop_of(turn).submit(turn.caller, action_id_of(turn))
    await turn.answer("actions.toast_submitted")
    await turn.edit("actions.submitted", card=card)


@guarded(LOOP_ROLES)
async def on_pass(turn: Turn) -> None:
    card = await loop_of(turn).close(turn.caller, action_id_of(turn))
    await turn.answer("actions.toast_closed")
    await turn.edit("actions.card", card_keyboard(turn, card), card=card)


@guarded(LOOP_ROLES)
async def on_return(turn: Turn) -> None:
    card = await loop_of(turn).ask_return(turn.caller, action_id_of(turn))
    await turn.answer()
    await turn.say("actions.return_prompt", card=card)


async def send_photos(turn: Turn, file_ids: list[str], captions: Sequence[str | None] = ()) -> None:
    """Photos re-sent by their Telegram file_id, in albums of ten (an album needs two at least);
    ``captions``, when given, one per photo (None: no caption)."""
    bot, chat = turn.context.bot, turn.chat_id
    shown = list(captions) or [None] * len(file_ids)
    for start in range(0, len(file_ids), 10):
        chunk = list(zip(file_ids[start : start + 10], shown[start : start + 10], strict=True))
        if len(chunk) == 1:
            await bot.send_photo(chat, chunk[0][0], caption=chunk[0][1])
        else:
            await bot.send_media_group(chat, [InputMediaPhoto(file_id, caption=text) for file_id, text in chunk])


@guarded(LOOP_ROLES)
async def on_view_proof(turn: Turn) -> None:
    """The round's proof: its notes in one message, then its photos (albums of ten) and files, re-sent
    by their Telegram file_id."""
    proof = await loop_of(turn).proof(turn.caller, action_id_of(turn))
    await turn.answer()
    await turn.say("actions.proof_header", proof=proof)
    bot, chat = turn.context.bot, turn.chat_id
    photos = [item for item in proof.items if item.kind == "photo" and item.file_id]
    await send_photos(
        turn,
        [item.file_id for item in photos if item.file_id],
        [_reused_caption(turn, item.reused) for item in photos],
    )
    for item in proof.items:
        if item.kind == "document" and item.file_id:
            caption = html.escape(item.file_name[:200]) if item.file_name else None
            if item.reused:
                caption = "\n".join(filter(None, (caption, _reused_caption(turn, item.reused))))
            await bot.send_document(chat, item.file_id, caption=caption)


def _reused_caption(turn: Turn, reused: str | None) -> str | None:
    """A file seen before is marked on the file itself too, not only in the header above."""
    return turn.text("actions.reused_caption", reused=reused) if reused else None


# -- free text and files --------------------------------------------------------------------------


async def text_for_action(turn: Turn, text: str) -> bool:
    """A note while sending proof, or the reason of a 退回. Only while one of those was asked."""
    loop = loop_of(turn)
    waiting = await loop.waiting(turn.caller)
    if waiting is None:
        return False
    if waiting.kind == PROOF:
        saved = await loop.add_note(turn.caller, waiting.action_id, text)
        await turn.say("actions.proof_saved", _submit_keyboard(turn, waiting.action_id), saved=saved)
    else:
        card = await loop.return_(turn.caller, waiting.action_id, text)
        await turn.say("actions.returned", card=card)
    return True


async def media_for_action(turn: Turn) -> bool:
    """A photo or file while sending proof (refused before the download when too big). While a
    reason is asked, a file is not one: said so, and kept nowhere."""
    message = turn.update.effective_message
    if message is None or not (message.photo or message.document):
        return False
    loop = loop_of(turn)
    waiting = await loop.waiting(turn.caller)
    if waiting is None:
        return False
    if waiting.kind == RETURN:
        await turn.say("actions.reason_needs_text")
        return True
    saved = await _save_file(turn, loop, waiting.action_id, message)
    await turn.say("actions.proof_saved", _submit_keyboard(turn, waiting.action_id), saved=saved)
    return True


async def _save_file(turn: Turn, loop: ActionLoop, action_id: int, message: Message) -> ProofSaved:
    if message.photo:
        file, kind, name, mime = message.photo[-1], "photo", None, "image/jpeg"
    else:
        assert message.document is not None
        document = message.document
        file, kind, name, mime = document, "document", document.file_name, document.mime_type
    loop.check_file(file.file_size)  # refused before the download, not after
    data = bytes(await (await file.get_file()).download_as_bytearray())
    return await loop.add_file(
        turn.caller, action_id, kind, file.file_id, file.file_unique_id, data, name, mime, message.caption
    )


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_proof, pattern=rf"^ap:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_submit, pattern=rf"^as:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_pass, pattern=rf"^av:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_return, pattern=rf"^ar:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_view_proof, pattern=rf"^ae:{ID}$"))
    # First in line (actions register after duties): they claim a message only while the person's
    # pending input is one of the loop's, so duties, people and the inspection walk keep theirs.
    router_of(app).text.insert(0, text_for_action)
    router_of(app).media.insert(0, media_for_action)
