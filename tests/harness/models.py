"""Plain data objects shared by the fake Bot API and the people who talk to the bot."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "BotMessage",
    "CallbackAnswer",
    "ChatEvent",
    "RecordedRequest",
    "StoredFile",
    "UploadedFile",
]


@dataclass(frozen=True)
class StoredFile:
    """A file known to the fake server (uploaded by the bot or sent by a simulated person)."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_size: int
    file_path: str
    kind: str  # photo | document | sticker | voice | video | audio | animation
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part of a request, exactly as the bot uploaded it."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One HTTP request that reached the server, with what it answered."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    time: float = 0.0
    status: int | None = None  # HTTP status answered; 0 = dropped (unreachable); None = still running
    description: str | None = None  # error description when not ok
    result: Any = None
    token_ok: bool = True
    injected: bool = False  # answered by fail_next / rate-limit emulation / unreachable mode

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class CallbackAnswer:
    """An answerCallbackQuery call the bot made for a query the harness issued."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    user_id: int | None
    chat_id: int | None
    callback_data: str | None


def _keyboard_labels(markup: dict[str, Any] | None, key: str) -> list[list[str]]:
    if not markup or key not in markup:
        return []
    rows = []
    for row in markup[key]:
        rows.append([b if isinstance(b, str) else str(b.get("text", "")) for b in row])
    return rows


@dataclass(frozen=True)
class BotMessage:
    """A bot message as the person sees it (a snapshot: events keep the state at that time).

    `text` is the plain text Telegram shows (HTML/Markdown parsed away); `raw_text` is what the bot sent.
    For media messages `text` is None and `caption` holds the caption. `edited` on an event from
    `wait_reply` means "this event is an edit"; on `messages` it means "was edited at least once".
    """

    message_id: int
    chat_id: int
    date: int
    kind: str  # text | photo | document | sticker | voice | video | audio | animation | location | other
    text: str | None
    caption: str | None
    raw_text: str | None
    parse_mode: str | None
    entities: tuple[dict[str, Any], ...]
    reply_markup: dict[str, Any] | None  # inline keyboard (as Telegram echoes it back)
    reply_keyboard: dict[str, Any] | None  # ReplyKeyboardMarkup / ReplyKeyboardRemove / ForceReply sent
    photo: tuple[dict[str, Any], ...] | None
    document: dict[str, Any] | None
    media_group_id: str | None
    edited: bool
    edit_count: int
    deleted: bool
    reply_to_message_id: int | None
    raw: dict[str, Any]

    @property
    def content(self) -> str:
        """Text or caption (empty string when neither)."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def button_rows(self) -> list[list[str]]:
        """Labels of the inline keyboard, row by row."""
        return _keyboard_labels(self.reply_markup, "inline_keyboard")

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline keyboard, flattened."""
        return [label for row in self.button_rows for label in row]

    @property
    def inline_buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons as dicts (text, callback_data / url / ...), flattened."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [dict(b) for row in self.reply_markup["inline_keyboard"] for b in row]

    @property
    def keyboard_labels(self) -> list[list[str]]:
        """Labels of a reply keyboard (ReplyKeyboardMarkup) sent with this message."""
        return _keyboard_labels(self.reply_keyboard, "keyboard")

    @property
    def file_id(self) -> str | None:
        """file_id of the document, or of the largest photo size."""
        if self.document:
            return self.document["file_id"]
        if self.photo:
            return self.photo[-1]["file_id"]
        media = self.raw.get(self.kind)
        if isinstance(media, dict):
            return media.get("file_id")
        return None

    def copy_raw(self) -> dict[str, Any]:
        return copy.deepcopy(self.raw)


@dataclass(frozen=True)
class ChatEvent:
    """Something the bot did to a message in a chat."""

    seq: int
    chat_id: int
    kind: Literal["sent", "edited", "deleted"]
    message: BotMessage
    time: float
