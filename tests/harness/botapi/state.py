"""The stand-in's limits, refusal texts and internal records, shared by the parts of the server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from ..models import CallbackAnswer, ChatEvent

DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses bigger files
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)  # Telegram's default: everything except chat_member, message_reaction, message_reaction_count
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendMediaGroup",
        "sendLocation",
        "copyMessage",
        "forwardMessage",
    }
)
EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
# Parameters that are strings even when they look like JSON ("123", "true"): never json-decoded.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "title",
        "description",
        "short_description",
        "name",
        "secret_token",
        "ip_address",
        "language_code",
        "emoji",
        "action",
        "business_connection_id",
        "message_effect_id",
        "file_id",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "animation",
        "sticker",
        "thumbnail",
        "inline_message_id",
        "query",
        "first_name",
        "last_name",
        "phone_number",
        "address",
        "question",
        "explanation",
        "custom_title",
        "performer",
        "payload",
        "currency",
        "start_parameter",
    }
)
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
# HTML entities or Telegram's tags: shown literally where Telegram does not parse HTML.
_MARKUP_IN_PLAIN = re.compile(
    r"&(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);"
    r"|</?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|a|span|tg-spoiler|tg-emoji|blockquote)(?:\s[^<>]*)?>"
)
_STATE_DEPENDENT = re.compile(
    r"message is not modified|chat not found|message to (?:edit|delete) not found|message can't be"
    r"|message to be replied not found|Too Many Requests"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_CONFLICT_POLL = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
_CONTENT_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "video",
    "audio",
    "voice",
    "animation",
    "sticker",
    "caption",
    "caption_entities",
    "location",
    "contact",
)
_MEDIA_KINDS = ("photo", "document", "video", "audio", "voice", "animation", "sticker")
_DEFAULT_MIME = {
    "photo": "image/jpeg",
    "document": "application/octet-stream",
    "video": "video/mp4",
    "audio": "audio/mpeg",
    "voice": "audio/ogg",
    "animation": "video/mp4",
    "sticker": "image/webp",
}
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "video/mp4": "mp4",
    "audio/mpeg": "mp3",
    "audio/ogg": "oga",
    "text/plain": "txt",
    "application/zip": "zip",
}

UnreachableMode = Literal["disconnect", "502", "timeout"]
T = TypeVar("T")


class ApiError(Exception):
    """Raised inside request handling to answer ``{"ok": false, ...}``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------------------
# Cross-thread wake-ups
# --------------------------------------------------------------------------------------------------


class _Signal:
    """Wakes asyncio waiters in any event loop / thread whenever the server state changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def waiter(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiters.append((loop, fut))
        return fut

    def notify(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, fut in waiters:
            if loop is running:
                _resolve(fut)
            elif not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(_resolve, fut)
                except RuntimeError:  # loop closed meanwhile
                    pass

    async def wait(self, fut: asyncio.Future[None], timeout: float) -> None:  # noqa: ASYNC109
        try:
            if timeout > 0:
                await asyncio.wait({fut}, timeout=timeout)
        finally:
            if not fut.done():
                fut.cancel()
            with self._lock:
                self._waiters = [(lp, f) for lp, f in self._waiters if f is not fut]


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


# --------------------------------------------------------------------------------------------------
# Internal state objects
# --------------------------------------------------------------------------------------------------


@dataclass
class _MessageRecord:
    chat_id: int
    message_id: int
    raw: dict[str, Any]
    from_bot: bool
    kind: str
    raw_text: str | None = None
    parse_mode: str | None = None
    reply_keyboard: dict[str, Any] | None = None
    edit_count: int = 0
    deleted: bool = False


@dataclass
class _Chat:
    chat: dict[str, Any]
    started: bool = True
    blocked: bool = False
    next_message_id: int = 1
    messages: dict[int, _MessageRecord] = field(default_factory=dict)
    events: list[ChatEvent] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    admins: set[int] = field(default_factory=set)
    creator: int | None = None
    members: set[int] = field(default_factory=set)
    placeholder: bool = False  # created by block() before person()/group(): "chat not found"

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def private(self) -> bool:
        return self.chat["type"] == "private"


@dataclass
class _CallbackQuery:
    query_id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    created: float
    answer: CallbackAnswer | None = None


@dataclass
class _Fault:
    method: str | None  # None = any method but getUpdates; "*" = any
    status: int
    remaining: int
    retry_after: int
    description: str | None


class _Bucket:
    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1.0)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + max(now - self.stamp, 0.0) * self.rate)
        self.stamp = max(now, self.stamp)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass
class _Upload:
    filename: str | None
    content_type: str | None
    data: bytes


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _b64id(*parts: str, length: int) -> str:
    raw = hashlib.sha256("\x00".join(parts).encode()).digest() * 2
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:length]


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG / GIF / JPEG / WebP image, None when unknown."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
            w, h = struct.unpack(">II", data[16:24])
            return int(w), int(h)
        if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
            w, h = struct.unpack("<HH", data[6:10])
            return int(w), int(h)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            chunk = data[12:16]
            if chunk == b"VP8X":
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
                return w, h
            if chunk == b"VP8 ":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
            if chunk == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if data[:2] == b"\xff\xd8":
            i = 2
            while i + 9 < len(data):
                if data[i] != 0xFF:
                    i += 1
                    continue
                marker = data[i + 1]
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                    i += 1 if marker == 0xFF else 2
                    continue
                length = struct.unpack(">H", data[i + 2 : i + 4])[0]
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                    return int(w), int(h)
                i += 2 + length
    except (struct.error, IndexError):
        return None
    return None


def _scope_key(scope: dict[str, Any] | None) -> str:
    if not scope:
        return "default"
    kind = scope.get("type", "default")
    if kind in ("chat", "chat_administrators"):
        return f"{kind}:{scope.get('chat_id')}"
    if kind == "chat_member":
        return f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
    return str(kind)


def _coerce(name: str, value: Any) -> Any:
    """Form fields are strings; PTB JSON-encodes every non-string value. Decode those."""
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    if isinstance(decoded, dict | list | bool | int | float) or decoded is None:
        return decoded
    return value


def _opt_int(p: dict[str, Any], key: str) -> int | None:
    value = p.get(key)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(f"{key} must be an integer") from None


def _short(params: dict[str, Any], limit: int = 200) -> str:
    text = json.dumps(params, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def read_data(data: bytes | str | Path) -> bytes:
    """bytes, or the content of a path."""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return Path(data).read_bytes()
