"""/mytasks, /duties, /overdue, the buttons of duty reminders, and the engine's Telegram sender.
Logic lives in bot.flows.duties.answers and bot.flows.duties.engine.

Callback data (checked against the database on every tap, so old buttons keep working):
  dd:<duty>  已完成，上传材料: start sending evidence     dc:<duty>  confirm: the duty is done
  ds:<duty>  稍后提醒: snooze                            dn:<duty>  不适用: asks for a reason
  dv:<duty>  view the evidence (the duty's people, its site's managers and inspectors)
  da:<duty>:<batch>  file the kept files of a batch under this duty (asked when it was not clear)

Files and texts need no button first: a reply to a reminder (or to any message about one duty) goes to
that duty; a file from someone with exactly one open duty goes to it; with several, the bot keeps the
file and asks which, one button per duty. An inspector's walk keeps its photos: without a reply to a
duty message, a person with an active inspection is left to the inspection's claimer.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackContext, CallbackQueryHandler, CommandHandler

from bot.flows.access import Role
from bot.flows.duties.answers import Board, DutyRefusedError
from bot.flows.duties.views import Delivery, DutyClauseStatus, DutyView, Notice, NoticeKind, Sender, SendResult
from bot.flows.schedule import parse_quarter
from bot.handlers.actions.notices import message_keyboard
from bot.handlers.base import ID, Turn, guarded
from bot.handlers.plans.keyboards import plan_keyboard
from bot.handlers.router import router_of
from bot.i18n import Texts, html_to_plain

log = logging.getLogger(__name__)

STAFF = frozenset({Role.STAFF})
MANAGERS = frozenset({Role.MANAGER})
INSPECTORS = frozenset({Role.INSPECTOR})
MAX_CARDS = 10  # /mytasks sends one card per duty, up to this many
MAX_PICKS = 8  # "which duty is this file for?": one button per open duty, the earliest due first
MESSAGE_LIMIT = 4000  # under Telegram's 4096, with room for markup
ALBUM_PAUSE = 1.0  # seconds after an album's last picture before the bot answers the album once


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


def pick_keyboard(turn: Turn, duties: list[DutyView], batch: int) -> InlineKeyboardMarkup:
    """One button per open duty; the site is named only when the duties are of several sites."""
    shown = duties[:MAX_PICKS]
    with_site = len({duty.site_id for duty in shown}) > 1
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    turn.label("duties.btn_pick", duty=duty, with_site=with_site), callback_data=f"da:{duty.id}:{batch}"
                )
            ]
            for duty in shown
        ]
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
        await _say_about(turn, duty.id, "duties.task_card", reminder_keyboard(texts, lang, duty.id), duty=duty)
    # Files kept while it was unclear which duty they are for: asked again, so none is forgotten.
    for batch, count in await turn.services.duties.kept_batches(turn.caller):
        await turn.say("duties.which_duty", markup=pick_keyboard(turn, duties, batch), count=count, duties=len(duties))


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
    await _say_about(turn, duty.id, "duties.upload_prompt", _confirm(turn, duty.id), duty=duty)


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
    """A line in the chat, not only a toast: the reminder comes back at a time the person can read later."""
    snoozed = await turn.services.duties.snooze(turn.caller, _duty_id(turn))
    await turn.answer()
    await _say_about(turn, snoozed.duty.id, "duties.snoozed", None, duty=snoozed.duty, until=snoozed.until)


@guarded()
async def on_not_applicable(turn: Turn) -> None:
    duty = await turn.services.duties.ask_not_applicable(turn.caller, _duty_id(turn))
    await turn.answer()
    await turn.say("duties.ask_reason", duty=duty)


@guarded()
async def on_file_to(turn: Turn) -> None:
    """``da:<duty>:<batch>``: the person chose the duty of files the bot kept for them."""
    query = turn.update.callback_query
    assert query is not None and query.data is not None
    _, duty_id, batch = query.data.split(":")
    flow = turn.services.duties
    filed = await flow.file_kept(turn.caller, int(duty_id), int(batch))
    if filed is None:
        await turn.answer("duties.batch_gone")
        return
    await turn.answer()
    if not await _walking(turn):
        await flow.keep_uploading(turn.caller, filed.duty.id)
    await turn.edit("duties.filed", markup=_confirm(turn, filed.duty.id), filed=filed)
    if isinstance(query.message, Message):
        await flow.remember(turn.chat_id, query.message.message_id, filed.duty.id)


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
    """A reason for 不适用, a text replying to a duty's message (a note on it), or a note while
    uploading evidence. Other texts are not ours."""
    flow = turn.services.duties
    duty_id = await flow.reason_target(turn.caller)
    if duty_id is not None:
        outcome = await flow.not_applicable(turn.caller, duty_id, text)
        key = "duties.marked_na" if outcome.changed else "duties.already_closed"
        await turn.say(key, duty=outcome.duty)
        return True
    duty_id = await _replied_duty(turn) or await _uploading_to(turn)
    if duty_id is None:
        return False
    duty = await flow.add_note(turn.caller, duty_id, text)
    await _say_about(turn, duty.id, "duties.note_saved", _confirm(turn, duty.id), duty=duty)
    return True


async def media_for_duty(turn: Turn) -> bool:
    """A report file or photo for a duty, whenever it is clear which: a reply to a duty's message, an
    upload under way, or the one open duty of the person. With several, the file is kept and the
    person asked. An active inspection keeps everything that is not a reply to a duty message."""
    message = turn.update.effective_message
    media = _media(message)
    if message is None or media is None:
        return False
    flow = turn.services.duties
    replied = await _replied_duty(turn)
    if replied is not None:
        await _attach(turn, replied, media, follow_on=not await _walking(turn))
        return True
    uploading = await _uploading_to(turn)
    if uploading is not None:
        await _attach(turn, uploading, media, follow_on=False)
        return True
    if await _walking(turn) or await flow.asked_elsewhere(turn.caller):
        return False
    duties = await flow.my_tasks(turn.caller)
    if len(duties) == 1:
        await _attach(turn, duties[0].id, media, follow_on=True)
    elif duties:
        await _keep_and_ask(turn, media, duties)
    elif _cannot_inspect(turn):
        await turn.say("duties.file_no_duty")  # staff: the fallback would point them to /inspect
    else:
        return False
    return True


class _Media:
    """The file of a message: its biggest photo size, or the document."""

    def __init__(self, message: Message) -> None:
        if message.photo:
            self.file = message.photo[-1]
            self.kind, self.name, self.mime = "photo", None, "image/jpeg"
        else:
            assert message.document is not None
            self.file = message.document
            self.kind, self.name, self.mime = "document", message.document.file_name, message.document.mime_type
        self.caption = message.caption
        self.group = message.media_group_id

    async def download(self, turn: Turn) -> bytes:
        turn.services.duties.check_file(self.file.file_size)  # refused before the download, not after
        return bytes(await (await self.file.get_file()).download_as_bytearray())


def _media(message: Message | None) -> _Media | None:
    if message is None or not (message.photo or message.document):
        return None
    return _Media(message)


async def _attach(turn: Turn, duty_id: int, media: _Media, follow_on: bool) -> None:
    """Save the file as the duty's evidence and say which duty took it (once per album)."""
    flow = turn.services.duties
    data = await media.download(turn)
    file = media.file
    outcome = await flow.add_file(
        turn.caller, duty_id, media.kind, file.file_id, file.file_unique_id, data, media.name, media.mime, media.caption
    )
    if follow_on:
        await flow.keep_uploading(turn.caller, duty_id)  # the next files go to it, as after 已完成
    if media.group:
        _confirm_album_later(turn, media.group, duty_id, outcome.added)
    else:
        await _say_about(
            turn, duty_id, "duties.file_saved", _confirm(turn, duty_id), duty=outcome.duty, added=outcome.added, count=1
        )


async def _keep_and_ask(turn: Turn, media: _Media, duties: list[DutyView]) -> None:
    """Keep the file (downloaded once, now) and ask which duty it is for; an album is asked once."""
    flow = turn.services.duties
    data = await media.download(turn)
    file = media.file
    batch = await flow.keep_file(
        turn.caller,
        media.group,
        media.kind,
        file.file_id,
        file.file_unique_id,
        data,
        media.name,
        media.mime,
        media.caption,
    )
    if media.group is None:
        await turn.say("duties.which_duty", markup=pick_keyboard(turn, duties, batch), count=1, duties=len(duties))
        return
    chat_id, caller, svc = turn.chat_id, turn.caller, turn.services

    async def ask(context: CallbackContext) -> None:
        count = dict(await svc.duties.kept_batches(caller)).get(batch, 0)
        if not count:
            return  # filed meanwhile
        text = svc.texts.render(caller.lang, "duties.which_duty", count=count, duties=len(duties))
        await context.bot.send_message(chat_id, text, reply_markup=pick_keyboard(turn, duties, batch))

    _after_album(turn, f"duty_album_ask:{media.group}", ask)


async def _replied_duty(turn: Turn) -> int | None:
    """The duty of the bot's message this one replies to (a reminder, a task card...), if any."""
    message = turn.update.effective_message
    replied = message.reply_to_message if message else None
    if replied is None or replied.from_user is None or not replied.from_user.is_bot:
        return None
    return await turn.services.duties.duty_of_reply(turn.caller, replied.message_id)


async def _uploading_to(turn: Turn) -> int | None:
    """The duty files and notes go to now: after 已完成 always; after a first file sent without the
    button only while no inspection is under way (its photos are not to be taken)."""
    state = await turn.services.duties.upload_state(turn.caller)
    if state is None:
        return None
    duty_id, pressed = state
    return duty_id if pressed or not await _walking(turn) else None


async def _walking(turn: Turn) -> bool:
    """The person is in the middle of an inspection: its photos and notes are the inspection's."""
    if not turn.caller.may(INSPECTORS):
        return False
    return await turn.services.inspections.active(turn.caller) is not None


def _cannot_inspect(turn: Turn) -> bool:
    return Role.STAFF in turn.caller.roles and not turn.caller.may(INSPECTORS)


def _confirm(turn: Turn, duty_id: int) -> InlineKeyboardMarkup:
    return confirm_keyboard(turn.services.texts, turn.caller.lang, duty_id)


async def _say_about(turn: Turn, duty_id: int, key: str, markup: InlineKeyboardMarkup | None, **values: Any) -> None:
    """Say something about one duty and remember the message: a reply to it goes to that duty."""
    message = await turn.say(key, markup=markup, **values)
    await turn.services.duties.remember(turn.chat_id, message.message_id, duty_id)


def _after_album(turn: Turn, name: str, callback: Callable[[CallbackContext], Awaitable[None]]) -> None:
    """Run ``callback`` a moment after an album's last picture (each picture restarts the wait)."""
    job_queue = turn.context.job_queue
    assert job_queue is not None
    for job in job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    job_queue.run_once(callback, when=ALBUM_PAUSE, name=name)


def _confirm_album_later(turn: Turn, group_id: str, duty_id: int, added: bool) -> None:
    """One confirmation per album, a moment after its last picture, instead of one per picture."""
    app = turn.context.application
    counts = app.bot_data.setdefault("duty_album_counts", {})
    counts[group_id] = counts.get(group_id, 0) + (1 if added else 0)
    chat_id, caller, svc = turn.chat_id, turn.caller, turn.services

    async def confirm(context: CallbackContext) -> None:
        count = app.bot_data["duty_album_counts"].pop(group_id, 0)
        duty = await svc.duties.duty(caller, duty_id)
        text = svc.texts.render(caller.lang, "duties.file_saved", duty=duty, added=count > 0, count=count)
        markup = confirm_keyboard(svc.texts, caller.lang, duty_id)
        message = await context.bot.send_message(chat_id, text, reply_markup=markup)
        await svc.duties.remember(chat_id, message.message_id, duty_id)

    _after_album(turn, f"duty_album:{group_id}", confirm)


# -- the engine's sender ------------------------------------------------------------------------


def make_sender(bot: Bot, texts: Texts) -> Sender:
    """Renders a notice in its reader's language and sends it; the outcome says what Telegram answered.
    Sends go through the Application's rate limiter (429s are retried there after retry_after)."""

    async def send(notice: Notice) -> SendResult:
        text = texts.render(notice.lang, notice.kind.template, notice=notice)
        markup = None
        if notice.kind is NoticeKind.REMINDER and not notice.to_group and notice.duty is not None:
            markup = reminder_keyboard(texts, notice.lang, notice.duty.id)
        elif notice.plan is not None:
            markup = plan_keyboard(texts, notice.lang, notice.plan)
        elif notice.actions is not None:
            markup = message_keyboard(texts, notice.lang, notice.actions, notice.to_group)
        chunks = split_lines(text, MESSAGE_LIMIT) if len(html_to_plain(text)) > MESSAGE_LIMIT else [text]
        result = SendResult(Delivery.SENT)
        for index, chunk in enumerate(chunks):
            # A digest part is cut to fit when it is planned; this only guards against an estimate gone
            # wrong, and then a failure after the first piece repeats it rather than losing the rest.
            outcome = await send_with_outcome(bot, notice.chat_id, chunk, markup if index == len(chunks) - 1 else None)
            if outcome.delivery is not Delivery.SENT:
                return outcome
            result = result if result.message_id else outcome
        return result

    return send


def split_lines(text: str, limit: int) -> list[str]:
    """``text`` in pieces under ``limit`` characters, cut between lines (a template's tags never span
    lines); a single longer line is cut where it must."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current.strip():
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


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
    app.add_handler(CallbackQueryHandler(on_file_to, pattern=rf"^da:{ID}:{ID}$"))
    # First in line. They take a text or file only when it is clearly a duty's (a reply to a duty's
    # message, an upload under way, the one open duty of someone not inspecting), so they never take
    # an inspection's notes or photos, nor a file another feature asked for.
    router_of(app).text.insert(0, text_for_duty)
    router_of(app).media.insert(0, media_for_duty)


__all__ = ["DutyRefusedError", "evidence_button", "register", "send_evidence", "view_evidence_data"]
