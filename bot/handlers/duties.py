"""/mytasks, /duties, /overdue, the buttons of duty reminders, and the engine's Telegram sender.
Logic lives in bot.flows.duties and bot.flows.duty_engine.

Callback data (checked against the database on every tap, so old buttons keep working):
  dd:<duty>  已完成，上传材料: start sending evidence     dc:<duty>  confirm: the duty is done
  ds:<duty>  稍后提醒: snooze                            dn:<duty>  不适用: asks for a reason
  dv:<duty>  view the evidence (the duty's people, its site's managers and inspectors)
"""

from __future__ import annotations

import html
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flows.access import Role
from bot.flows.duties import Board, DutyRefusedError
from bot.flows.duty_views import Delivery, DutyClauseStatus, Notice, NoticeKind, Sender, SendResult
from bot.flows.schedule import parse_quarter
from bot.handlers.base import ID, Turn, guarded
from bot.handlers.router import router_of
from bot.i18n import Texts

log = logging.getLogger(__name__)

STAFF = frozenset({Role.STAFF})
MANAGERS = frozenset({Role.MANAGER})
MAX_CARDS = 10  # /mytasks sends one card per duty, up to this many
MESSAGE_LIMIT = 4000  # under Telegram's 4096, with room for markup


# -- keyboards ----------------------------------------------------------------------------------


def reminder_keyboard(texts: Texts, lang: str, duty_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.plain(lang, "duties.btn_done"), callback_data=f"dd:{duty_id}")],
            [
                InlineKeyboardButton(texts.plain(lang, "duties.btn_snooze"), callback_data=f"ds:{duty_id}"),
                InlineKeyboardButton(texts.plain(lang, "duties.btn_na"), callback_data=f"dn:{duty_id}"),
            ],
        ]
    )


def confirm_keyboard(texts: Texts, lang: str, duty_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.plain(lang, "duties.btn_confirm"), callback_data=f"dc:{duty_id}")]]
    )


def view_evidence_data(duty_id: int) -> str:
    return f"dv:{duty_id}"


def evidence_button(turn: Turn, status: DutyClauseStatus) -> InlineKeyboardButton | None:
    """The "view evidence" button for an inspection's clause card (None when there is nothing to view)."""
    if not status.can_view_evidence or status.duty_id is None:
        return None
    return InlineKeyboardButton(
        turn.label("duties.btn_view_evidence", count=status.evidence_count),
        callback_data=view_evidence_data(status.duty_id),
    )


# -- commands -----------------------------------------------------------------------------------


@guarded(STAFF)
async def mytasks(turn: Turn) -> None:
    duties = await turn.services.duties.my_tasks(turn.caller)
    if not duties:
        await turn.say("duties.no_tasks")
        return
    await turn.say("duties.tasks_header", count=len(duties), shown=min(len(duties), MAX_CARDS))
    texts, lang = turn.services.texts, turn.caller.lang
    for duty in duties[:MAX_CARDS]:
        await turn.say("duties.task_card", markup=reminder_keyboard(texts, lang, duty.id), duty=duty)


@guarded(MANAGERS)
async def duties_command(turn: Turn) -> None:
    flow = turn.services.duties
    args = turn.context.args or []
    quarter = parse_quarter(" ".join(args)) if args else flow.current_quarter()
    if quarter is None:
        await turn.say("duties.board_usage", example=flow.current_quarter().key)
        return
    board = await flow.board(turn.caller, quarter)
    if not board.rows:
        await turn.say("duties.no_sites")
        return
    if not board.rules:
        await turn.say("duties.no_rules")
        return
    await _say_long(turn, [turn.text("duties.board_header", board=board), *_board_blocks(turn, board)])


def _board_blocks(turn: Turn, board: Board) -> list[str]:
    return [turn.text("duties.board_site", row=row) for row in board.rows]


@guarded(MANAGERS)
async def overdue_command(turn: Turn) -> None:
    duties = await turn.services.duties.overdue(turn.caller)
    if not duties:
        await turn.say("duties.no_overdue")
        return
    blocks = [turn.text("duties.overdue_header", count=len(duties))]
    blocks += [turn.text("duties.overdue_line", duty=duty) for duty in duties]
    await _say_long(turn, blocks, separator="\n")


async def _say_long(turn: Turn, blocks: list[str], separator: str = "\n\n") -> None:
    """Blocks packed into messages under Telegram's length limit (a block is never cut in two)."""
    message = ""
    for block in blocks:
        block = block[:MESSAGE_LIMIT]
        if message and len(message) + len(separator) + len(block) > MESSAGE_LIMIT:
            await turn.context.bot.send_message(turn.chat_id, message)
            message = ""
        message = f"{message}{separator}{block}" if message else block
    if message:
        await turn.context.bot.send_message(turn.chat_id, message)


# -- buttons ------------------------------------------------------------------------------------


@guarded()
async def on_done(turn: Turn) -> None:
    duty = await turn.services.duties.begin_upload(turn.caller, _duty_id(turn))
    await turn.answer()
    await turn.say(
        "duties.upload_prompt", markup=confirm_keyboard(turn.services.texts, turn.caller.lang, duty.id), duty=duty
    )


@guarded()
async def on_confirm(turn: Turn) -> None:
    outcome = await turn.services.duties.confirm_done(turn.caller, _duty_id(turn))
    if not outcome.changed:
        await turn.answer("duties.already_closed", alert=True, duty=outcome.duty)
        return
    await turn.answer("duties.done_toast")
    await turn.edit("duties.done", duty=outcome.duty)


@guarded()
async def on_snooze(turn: Turn) -> None:
    until = await turn.services.duties.snooze(turn.caller, _duty_id(turn))
    await turn.answer("duties.snoozed", until=until)


@guarded()
async def on_not_applicable(turn: Turn) -> None:
    duty = await turn.services.duties.ask_not_applicable(turn.caller, _duty_id(turn))
    await turn.answer()
    await turn.say("duties.ask_reason", duty=duty)


@guarded()
async def on_view_evidence(turn: Turn) -> None:
    await send_evidence(turn, _duty_id(turn))


async def send_evidence(turn: Turn, duty_id: int) -> None:
    """Re-send a duty's files and photos by their Telegram file_id, after a line saying whose they are.
    For the inspection's clause card too (callback ``dv:<duty>``)."""
    evidence = await turn.services.duties.evidence(turn.caller, duty_id)
    await turn.answer()
    await turn.say("duties.evidence_header", evidence=evidence)
    bot, chat = turn.context.bot, turn.chat_id
    photos = [item for item in evidence.files if item.kind == "photo"]
    for start in range(0, len(photos), 10):
        chunk = photos[start : start + 10]
        if len(chunk) == 1:
            await bot.send_photo(chat, chunk[0].file_id, caption=_caption(chunk[0].caption))
        else:
            await bot.send_media_group(chat, [InputMediaPhoto(p.file_id, caption=_caption(p.caption)) for p in chunk])
    for item in evidence.files:
        if item.kind == "document":
            await bot.send_document(chat, item.file_id, caption=_caption(item.caption))


def _caption(text: str | None) -> str | None:
    """A caption typed by staff, shown as they typed it (parse mode is HTML)."""
    return html.escape(text[:1000]) if text else None


# -- free text and files ------------------------------------------------------------------------


async def text_for_duty(turn: Turn, text: str) -> bool:
    """A reason for 不适用, or a note while uploading evidence. Only when the person asked for it."""
    flow = turn.services.duties
    duty_id = await flow.reason_target(turn.caller)
    if duty_id is not None:
        outcome = await flow.not_applicable(turn.caller, duty_id, text)
        key = "duties.marked_na" if outcome.changed else "duties.already_closed"
        await turn.say(key, duty=outcome.duty)
        return True
    duty_id = await flow.upload_target(turn.caller)
    if duty_id is None:
        return False
    duty = await flow.add_note(turn.caller, duty_id, text)
    await turn.say(
        "duties.note_saved", markup=confirm_keyboard(turn.services.texts, turn.caller.lang, duty.id), duty=duty
    )
    return True


async def media_for_duty(turn: Turn) -> bool:
    """A report file or a photo for the duty whose evidence the person is sending."""
    message = turn.update.effective_message
    flow = turn.services.duties
    if message is None:
        return False
    duty_id = await flow.upload_target(turn.caller)
    if duty_id is None:
        return False
    if message.photo:
        media, kind, name, mime = message.photo[-1], "photo", None, "image/jpeg"
    elif message.document:
        doc = message.document
        media, kind, name, mime = doc, "document", doc.file_name, doc.mime_type
    else:
        return False
    flow.check_file(media.file_size)
    data = bytes(await (await media.get_file()).download_as_bytearray())
    outcome = await flow.add_file(
        turn.caller, duty_id, kind, media.file_id, media.file_unique_id, data, name, mime, message.caption
    )
    if message.media_group_id:
        _confirm_album_later(turn, message.media_group_id, duty_id, outcome.added)
    else:
        await turn.say(
            "duties.file_saved",
            markup=confirm_keyboard(turn.services.texts, turn.caller.lang, duty_id),
            duty=outcome.duty,
            added=outcome.added,
            count=1,
        )
    return True


def _confirm_album_later(turn: Turn, group_id: str, duty_id: int, added: bool) -> None:
    """One confirmation per album, a moment after its last picture, instead of one per picture."""
    app = turn.context.application
    counts = app.bot_data.setdefault("duty_album_counts", {})
    counts[group_id] = counts.get(group_id, 0) + (1 if added else 0)
    job_queue = turn.context.job_queue
    assert job_queue is not None
    for job in job_queue.get_jobs_by_name(f"duty_album:{group_id}"):
        job.schedule_removal()
    chat_id, caller, svc = turn.chat_id, turn.caller, turn.services

    async def confirm(context) -> None:
        count = app.bot_data["duty_album_counts"].pop(group_id, 0)
        duty = await svc.duties.duty(caller, duty_id)
        text = svc.texts.render(caller.lang, "duties.file_saved", duty=duty, added=count > 0, count=count)
        await context.bot.send_message(chat_id, text, reply_markup=confirm_keyboard(svc.texts, caller.lang, duty_id))

    job_queue.run_once(confirm, when=1.0, name=f"duty_album:{group_id}")


# -- the engine's sender ------------------------------------------------------------------------


def make_sender(bot: Bot, texts: Texts) -> Sender:
    """Renders a notice in its reader's language and sends it; the outcome says what Telegram answered.
    Sends go through the Application's rate limiter (429s are retried there after retry_after)."""

    async def send(notice: Notice) -> SendResult:
        text = texts.render(notice.lang, f"duties.{notice.kind.value}", notice=notice)
        markup = None
        if notice.kind is NoticeKind.REMINDER and not notice.to_group:
            markup = reminder_keyboard(texts, notice.lang, notice.duty.id)
        return await send_with_outcome(bot, notice.chat_id, text, markup)

    return send


async def send_with_outcome(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> SendResult:
    """Like ``Services.send_safely``, but says what happened instead of hiding it."""
    try:
        message = await bot.send_message(chat_id, text, reply_markup=markup)
    except Forbidden as exc:
        return SendResult(Delivery.BLOCKED, error=str(exc))
    except ChatMigrated as exc:
        return SendResult(Delivery.FAILED, error=f"group moved to {exc.new_chat_id}")
    except BadRequest as exc:  # chat not found, and the like: trying again will not help
        return SendResult(Delivery.FAILED, error=str(exc))
    except RetryAfter as exc:  # flood control still, after the rate limiter's own retries
        wait = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else exc.retry_after
        return SendResult(Delivery.RETRY, error=str(exc), retry_after=float(wait))
    except NetworkError as exc:  # TimedOut included
        return SendResult(Delivery.RETRY, error=str(exc))
    except TelegramError as exc:
        return SendResult(Delivery.FAILED, error=str(exc))
    return SendResult(Delivery.SENT, message_id=message.message_id)


# -- helpers ------------------------------------------------------------------------------------


def _duty_id(turn: Turn) -> int:
    query = turn.update.callback_query
    assert query is not None and query.data is not None
    return int(query.data.split(":")[1])  # the patterns below admit digits only


def register(app: Application) -> None:
    app.add_handler(CommandHandler("mytasks", mytasks))
    app.add_handler(CommandHandler("duties", duties_command))
    app.add_handler(CommandHandler("overdue", overdue_command))
    app.add_handler(CallbackQueryHandler(on_done, pattern=rf"^dd:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_confirm, pattern=rf"^dc:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_snooze, pattern=rf"^ds:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_not_applicable, pattern=rf"^dn:{ID}$"))
    app.add_handler(CallbackQueryHandler(on_view_evidence, pattern=rf"^dv:{ID}$"))
    # First in line, but they claim only what the person explicitly started (a pending input), so
    # they never take an inspection's notes or photos.
    router_of(app).text.insert(0, text_for_duty)
    router_of(app).media.insert(0, media_for_duty)


__all__ = ["DutyRefusedError", "evidence_button", "register", "send_evidence", "view_evidence_data"]
