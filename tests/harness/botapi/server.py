"""`FakeBotAPI`: a local, offline stand-in for the Telegram Bot API server.

It is an aiohttp server on 127.0.0.1 that python-telegram-bot (or any client) talks to exactly as it
talks to api.telegram.org::

    api = FakeBotAPI()
    await api.start()
    app = (
        ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url).build()
    )

* ``POST {base_url}{token}/{method}`` with form, multipart or JSON bodies (GET with a query string works
  too); answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}``
  with the descriptions the real server uses (``Bad Request: message is not modified: ...``,
  ``Forbidden: bot was blocked by the user``, ``Bad Request: can't parse entities: ...`` ...).
* ``GET {base_file_url}{token}/{file_path}`` downloads files (``getFile`` gives the path).
* Simulated people (`person()` / `group()`, see driver.py) queue updates that ``getUpdates`` long polling
  hands out; their chats record what the bot sends and edits.

Thread safety: all state sits behind one lock and waiters are woken with ``call_soon_threadsafe``, so
the server can run in the test's event loop (``await api.start()``) or in its own thread
(``api.start_in_thread()``) while people and assertions run elsewhere. The bot may also be a separate
process: it only needs ``base_url``/``base_file_url``.

Faithfulness notes (deliberate, because they catch real bugs):

* a private chat only accepts messages after the person wrote to the bot (``started``), otherwise
  ``403 Forbidden: bot can't initiate conversation with a user``; unknown chat ids give
  ``400 Bad Request: chat not found``. Create people with ``started=True`` to skip this;
* HTML / MarkdownV2 text is parsed like Telegram does (see entities.py) and rejected when malformed;
  stored texts are the plain text plus entities, trimmed like Telegram trims;
* ``editMessageText`` without ``reply_markup`` removes the inline keyboard (as on Telegram);
* ``setMyCommands`` with a ``language_code`` that is not two letters (e.g. ``zh-hans``) is rejected;
* callback_data longer than 64 bytes gives ``BUTTON_DATA_INVALID``;
* a second ``getUpdates`` while one is pending terminates the first with 409 Conflict.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import hashlib
import itertools
import json
import math
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from aiohttp import web

from ..entities import EntityParseError, parse_formatted_text, utf16_len
from ..models import BotMessage, CallbackAnswer, ChatEvent, RecordedRequest, StoredFile, UploadedFile

if TYPE_CHECKING:
    from ..driver import Group, Person

__all__ = ["DEFAULT_TOKEN", "FakeBotAPI", "UnreachableMode"]

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


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


class FakeBotAPI:
    """A local Telegram Bot API server. See the module docstring.

    Public state for assertions (all snapshots, safe to read from any thread):
    `requests`, `request_log`, `calls(method)`, `errors()`, `sent_messages(chat_id)`, `events`,
    `callback_answers`, `commands`, `chat_actions`, `files`, `unknown_methods`, `webhook`,
    `rate_limit_hits`.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "dudao_test_bot",
        *,
        bot_first_name: str = "督导助手 Test",
        update_id_start: int = 1000,
    ) -> None:
        self.token = token
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        try:
            self.bot_id = int(token.split(":", 1)[0])
        except ValueError:
            self.bot_id = 123456
        self._lock = threading.RLock()
        self._changed = _Signal()
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._handlers: dict[str, tuple[str, Callable[[dict[str, Any], dict[str, _Upload]], Any]]] = {}
        for name in dir(self):
            if name.startswith("_m_"):
                canonical = name[3:]
                self._handlers[canonical.lower()] = (canonical, getattr(self, name))
        self._reset_state(update_id_start)

    def _reset_state(self, update_id_start: int) -> None:
        self._update_ids = itertools.count(update_id_start)
        self._updates: list[dict[str, Any]] = []
        self._dropped_updates: list[dict[str, Any]] = []
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._polls_waiting = 0
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._request_log: list[RecordedRequest] = []
        self._unknown_methods: list[str] = []
        self._chats: dict[int, _Chat] = {}
        self._people: dict[int, Person] = {}
        self._groups: dict[int, Group] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._events: list[ChatEvent] = []
        self._event_seq = itertools.count(1)
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}
        self._file_counter = itertools.count(1)
        self._downloads: list[str] = []
        self._callback_queries: dict[str, _CallbackQuery] = {}
        self._callback_answers: list[CallbackAnswer] = []
        self._query_ids = itertools.count(1)
        self._media_group_ids = itertools.count(13_000_000_000_000_000)
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._bot_texts: dict[tuple[str, str], str] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._chat_actions: list[tuple[int, str]] = []
        self._webhook: dict[str, Any] | None = None
        self._faults: list[_Fault] = []
        self._unreachable: UnreachableMode | None = None
        self._unreachable_hits = 0
        self._global_bucket: _Bucket | None = None
        self._chat_bucket_cfg: tuple[float, float] | None = None
        self._chat_buckets: dict[int, _Bucket] = {}
        self._rate_limited_methods: frozenset[str] = SEND_METHODS
        self._rate_limit_hits = 0
        self._rate_limit_hits_by_chat: Counter[int] = Counter()
        # Telegram drops a press that was not answered within about 15 s; a later answer is refused.
        self.callback_answer_timeout: float | None = 15.0  # seconds; None = no expiry
        self._plain_violations: list[str] = []  # markup shown literally on a plain-text surface

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``: PTB appends the token."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    async def start(self) -> None:
        """Start serving in the running event loop."""
        if self._runner is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        sock.setblocking(False)
        self._port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner

    async def stop(self) -> None:
        """Stop serving; pending long polls return immediately."""
        if self._runner is None:
            return
        self._closing = True
        self._changed.notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> FakeBotAPI:
        """Run the server in a daemon thread with its own event loop (for a bot in another loop)."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the starting thread
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="FakeBotAPI", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("FakeBotAPI thread did not start")
        if errors:
            self._thread = None
            raise errors[0]
        return self

    def stop_in_thread(self, timeout: float = 10.0) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str | None = None,
        status: int = 429,
        count: int = 1,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next `count` calls of `method` with an error.

        `method=None` matches any method except getUpdates (so a polling bot is not hit by accident);
        `method="*"` matches everything, ``"download"`` matches file downloads. 429 answers carry
        ``parameters.retry_after``; the default descriptions are Telegram's (``Too Many Requests: retry
        after N``, ``Bad Gateway``, ``Internal Server Error``, ...).
        """
        with self._lock:
            self._faults.append(_Fault(method, status, count, retry_after, description))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def block(self, chat_id: int) -> None:
        """Sends/edits to this chat answer 403 (``bot was blocked by the user`` / ``kicked from the group``)."""
        with self._lock:
            self._chat_or_placeholder(chat_id).blocked = True
        self._touch()

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            if chat_id in self._chats:
                self._chats[chat_id].blocked = False
        self._touch()

    def set_rate_limit(
        self,
        global_per_s: float | None = 30,
        per_chat_per_s: float | None = 1,
        *,
        global_burst: float | None = None,
        per_chat_burst: float = 3,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Emulate flood control with token buckets; excess sends answer 429 with retry_after.

        `global_per_s` / `per_chat_per_s` are refill rates (None = unlimited), bursts the bucket sizes
        (global default = its rate). Applies to `methods` (default: the send* methods, copy and forward).
        Counters: `rate_limit_hits`, `rate_limit_hits_by_chat`. ``set_rate_limit(None, None)`` disables.
        """
        with self._lock:
            self._global_bucket = (
                _Bucket(global_per_s, global_burst if global_burst is not None else global_per_s)
                if global_per_s
                else None
            )
            self._chat_bucket_cfg = (per_chat_per_s, per_chat_burst) if per_chat_per_s else None
            self._chat_buckets.clear()
            if methods is not None:
                self._rate_limited_methods = frozenset(methods)

    @property
    def rate_limit_hits(self) -> int:
        with self._lock:
            return self._rate_limit_hits

    @property
    def rate_limit_hits_by_chat(self) -> dict[int, int]:
        with self._lock:
            return dict(self._rate_limit_hits_by_chat)

    def set_unreachable(self, unreachable: bool = True, mode: UnreachableMode = "disconnect") -> None:
        """Make the server unreachable for the bot (file downloads included).

        * ``"disconnect"`` (default): the connection is closed without an answer; PTB raises
          ``NetworkError("httpx.RemoteProtocolError: Server disconnected ...")`` - what a bot sees when
          Telegram cannot be reached, immediately, so startup-retry loops can be tested fast;
        * ``"502"``: answer 502 Bad Gateway (PTB: ``NetworkError("Bad Gateway")``);
        * ``"timeout"``: hold the request until the client gives up (PTB: ``TimedOut``), then drop it.

        Pending long polls are dropped too. `unreachable_hits` counts refused requests.
        """
        with self._lock:
            self._unreachable = mode if unreachable else None
        self._changed.notify()

    @property
    def unreachable_hits(self) -> int:
        with self._lock:
            return self._unreachable_hits

    # ------------------------------------------------------------------ people and chats

    def person(
        self,
        user_id: int,
        first_name: str = "测试用户",
        language_code: str | None = "zh-hans",
        username: str | None = None,
        *,
        last_name: str | None = None,
        started: bool = False,
    ) -> Person:
        """A simulated user with a private chat (chat id = user id). Same id -> same Person.

        `started=False` (default): the bot cannot message them before they write to it, like Telegram.
        """
        from ..driver import Person

        with self._lock:
            if user_id in self._people:
                return self._people[user_id]
            user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
            if last_name:
                user["last_name"] = last_name
            if username:
                user["username"] = username
            if language_code:
                user["language_code"] = language_code
            self._users[user_id] = user
            chat = {k: v for k, v in user.items() if k in ("id", "first_name", "last_name", "username")}
            chat["type"] = "private"
            existing = self._chats.get(user_id)
            self._chats[user_id] = _Chat(chat=chat, started=started, blocked=bool(existing and existing.blocked))
            person = Person(self, user)
            self._people[user_id] = person
            return person

    def group(
        self,
        chat_id: int,
        title: str,
        *,
        supergroup: bool | None = None,
        username: str | None = None,
        admins: Iterable[int] = (),
    ) -> Group:
        """A group chat the bot is a member of. Negative ids; ``-100...`` ids are supergroups."""
        from ..driver import Group

        with self._lock:
            if chat_id in self._groups:
                return self._groups[chat_id]
            if supergroup is None:
                supergroup = chat_id <= -1_000_000_000_000
            chat: dict[str, Any] = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
            if username:
                chat["username"] = username
            state = _Chat(chat=chat, admins=set(admins))
            existing = self._chats.get(chat_id)
            if existing is not None:  # placeholder created by block()
                state.blocked = existing.blocked
            self._chats[chat_id] = state
            group = Group(self, chat)
            self._groups[chat_id] = group
            return group

    @property
    def people(self) -> list[Person]:
        with self._lock:
            return list(self._people.values())

    def _chat_or_placeholder(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            kind = "private" if chat_id > 0 else "group"
            chat = _Chat(chat={"id": chat_id, "type": kind}, started=False, placeholder=True)
            self._chats[chat_id] = chat
        return chat

    def _user_dict(self, user_id: int) -> dict[str, Any]:
        return dict(self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": str(user_id)})

    # ------------------------------------------------------------------ updates (driver side)

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an ``update_id`` is assigned); returns it. Filtered by allowed_updates."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **{k: v for k, v in update.items() if k != "update_id"}}
            kind = next((k for k in update if k != "update_id"), "")
            if kind in self._allowed_updates:
                self._updates.append(update)
            else:
                self._dropped_updates.append(update)
            self._last_activity = time.monotonic()
        self._changed.notify()
        return copy.deepcopy(update)

    def user_message(
        self,
        user_id: int,
        chat_id: int,
        content: dict[str, Any],
        *,
        reply_to_message_id: int | None = None,
        update_type: str = "message",
    ) -> dict[str, Any]:
        """Record a message from a person in a chat and queue its update (used by driver.Person)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise AssertionError(f"unknown chat {chat_id}: create it with api.person() / api.group()")
            if chat.private:
                chat.started = True
            else:
                chat.members.add(user_id)
            message_id = chat.next_message_id
            chat.next_message_id += 1
            raw: dict[str, Any] = {
                "message_id": message_id,
                "from": self._user_dict(user_id),
                "chat": dict(chat.chat),
                "date": int(time.time()),
                **content,
            }
            if reply_to_message_id is not None:
                target = chat.messages.get(reply_to_message_id)
                if target is not None and not target.deleted:
                    raw["reply_to_message"] = self._shallow(target.raw)
            kind = next((k for k in _MEDIA_KINDS if k in content), "text" if "text" in content else "other")
            chat.messages[message_id] = _MessageRecord(chat_id, message_id, raw, from_bot=False, kind=kind)
            update = {update_type: copy.deepcopy(raw)}
        return self.queue_update(update)

    def user_edit(self, user_id: int, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """A person edits their own text message: queues an ``edited_message`` update."""
        with self._lock:
            chat = self._chats[chat_id]
            record = chat.messages.get(message_id)
            if record is None or record.from_bot or record.raw["from"]["id"] != user_id:
                raise AssertionError(f"message {message_id} in chat {chat_id} is not a message of user {user_id}")
            record.raw["text"] = text
            record.raw["edit_date"] = int(time.time())
            update = {"edited_message": copy.deepcopy(record.raw)}
        return self.queue_update(update)

    def callback_query(self, user_id: int, chat_id: int, message_id: int | None, data: str | None) -> str:
        """Queue a callback_query update as if the user pressed a button; returns the query id."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise AssertionError(f"unknown chat {chat_id}")
            if chat.private:
                chat.started = True
            query_id = str(4_300_000_000_000_000_000 + next(self._query_ids))
            record = chat.messages.get(message_id) if message_id is not None else None
            if record is not None and not record.deleted:
                message = copy.deepcopy(record.raw)
            else:  # InaccessibleMessage
                message = {"chat": dict(chat.chat), "message_id": message_id or 0, "date": 0}
            query: dict[str, Any] = {
                "id": query_id,
                "from": self._user_dict(user_id),
                "message": message,
                "chat_instance": str(abs(hash((self.bot_id, chat_id))) % 10**18),
            }
            if data is not None:
                query["data"] = data
            self._callback_queries[query_id] = _CallbackQuery(
                query_id, user_id, chat_id, message_id, data, time.monotonic()
            )
        self.queue_update({"callback_query": query})
        return query_id

    def add_file(
        self,
        data: bytes,
        kind: str = "document",
        *,
        mime_type: str | None = None,
        file_name: str | None = None,
        file_size: int | None = None,
        variant: str = "",
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        """Register a file (same bytes + kind + variant -> same ids). `file_size` may claim a bigger size."""
        with self._lock:
            digest = _digest(data)
            file_unique_id = "AQAD" + _b64id("unique", kind, variant, digest, length=12)
            prefix = {"photo": "AgACAgIAAxk", "document": "BQACAgIAAxk", "sticker": "CAACAgIAAxk"}.get(
                kind, "AwACAgIAAxk"
            )
            size = file_size if file_size is not None else len(data)
            file_id = prefix + _b64id("id", kind, variant, digest, str(size), file_name or "", length=60)
            existing = self._files.get(file_id)
            if existing is not None:
                return existing
            mime = mime_type or _DEFAULT_MIME.get(kind)
            ext = (file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else None) or _EXTENSIONS.get(
                mime or "", "bin"
            )
            folder = {"photo": "photos", "document": "documents", "sticker": "stickers", "voice": "voice"}.get(
                kind, f"{kind}s"
            )
            path = f"{folder}/file_{next(self._file_counter)}.{ext}"
            stored = StoredFile(
                file_id=file_id,
                file_unique_id=file_unique_id,
                data=data,
                file_size=size,
                file_path=path,
                kind=kind,
                mime_type=mime,
                file_name=file_name,
                width=width,
                height=height,
            )
            self._files[file_id] = stored
            self._files_by_path[path] = stored
            return stored

    def add_photo(self, data: bytes) -> list[dict[str, Any]]:
        """Register a photo and return its PhotoSize list (smallest first), like Telegram's ``photo``."""
        dims = image_size(data) or (1280, 960)
        w, h = dims
        longest = max(w, h)
        sizes: list[tuple[str, int, int]] = []
        # Telegram's thumbnails: s=90, m=320, x=800, y=1280 (and w=2560 for very large photos); a photo
        # smaller than 1280 keeps its own size as the largest one. All sizes download the original bytes.
        for tag, limit in (("s", 90), ("m", 320), ("x", 800), ("y", 1280), ("w", 2560)):
            if longest > limit and (limit <= 1280 or longest > 2560):
                scale = limit / longest
                sizes.append((tag, max(1, round(w * scale)), max(1, round(h * scale))))
        if longest <= 1280:
            sizes.append(("o", w, h))
        result = []
        for tag, sw, sh in sizes:
            stored = self.add_file(data, "photo", variant=tag, width=sw, height=sh, mime_type="image/jpeg")
            result.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.file_size,
                    "width": sw,
                    "height": sh,
                }
            )
        with self._lock:
            for size in result:
                self._photo_sets[size["file_id"]] = result
        return copy.deepcopy(result)

    # ------------------------------------------------------------------ introspection

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        """(method, params) of every request that reached the server with the right token, in order."""
        with self._lock:
            return [(r.method, r.params) for r in self._request_log if r.token_ok and r.status != 0]

    @property
    def request_log(self) -> list[RecordedRequest]:
        """Every request received, with status / description / result (status 0 = dropped)."""
        with self._lock:
            return list(self._request_log)

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Params of every call of `method` (case-insensitive)."""
        low = method.lower()
        return [p for m, p in self.requests if m.lower() == low]

    def errors(self, *, include_injected: bool = False) -> list[RecordedRequest]:
        """Requests answered with an error (default: not counting the ones fault injection caused)."""
        with self._lock:
            return [
                r
                for r in self._request_log
                if r.status not in (None, 200, 499) and (include_injected or not r.injected)
            ]

    def malformed_requests(self) -> list[RecordedRequest]:
        """Refused requests that are the bot's fault whatever the chat's state: bad HTML, too long, bad
        callback data, a second answer to a press... Not those that depend on what Telegram knows and the
        bot cannot (a person who blocked the bot or never wrote to it, an edit that changed nothing, a
        message deleted meanwhile): the bot handles those, and tests that care assert them directly."""
        return [r for r in self.errors() if r.status != 403 and not _STATE_DEPENDENT.search(r.description or "")]

    def assert_well_formed(self) -> None:
        """Fail when the bot sent what Telegram refuses as malformed, or showed HTML markup as plain text."""
        self._assert_none(self.malformed_requests(), "malformed")

    def plain_text_violations(self) -> list[str]:
        """Button labels, toasts and alerts that show HTML markup literally (``&amp;``, ``<code>``...).

        Telegram never parses HTML there, so such markup reaches the person as-is: an escaping bug."""
        with self._lock:
            return list(self._plain_violations)

    def assert_no_errors(self) -> None:
        """Fail when the bot made a request Telegram would have refused (bad HTML, not modified, ...),
        or put HTML markup on a surface Telegram shows as plain text."""
        self._assert_none(self.errors(), "failing")

    def _assert_none(self, refused: list[RecordedRequest], what: str) -> None:
        lines = [f"  {r.method} -> {r.status} {r.description}  params={_short(r.params)}" for r in refused]
        lines += [f"  markup shown as plain text: {v}" for v in self.plain_text_violations()]
        if lines:
            raise AssertionError(f"the bot made {what} Bot API requests:\n" + "\n".join(lines))

    def _check_plain(self, surface: str, text: str) -> None:
        if _MARKUP_IN_PLAIN.search(text):
            self._plain_violations.append(f"{surface}: {text[:120]!r}")

    def sent_messages(self, chat_id: int) -> list[BotMessage]:
        """Current state (after edits, without deleted ones) of the bot's messages in a chat."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [
                self._snapshot(r, r.edit_count > 0)
                for _, r in sorted(chat.messages.items())
                if r.from_bot and not r.deleted
            ]

    def message(self, chat_id: int, message_id: int) -> BotMessage | None:
        """Current state of one bot message (deleted ones included, flagged)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            record = chat.messages.get(message_id) if chat else None
            if record is None or not record.from_bot:
                return None
            return self._snapshot(record, record.edit_count > 0)

    def chat_events(self, chat_id: int, start: int = 0) -> list[ChatEvent]:
        with self._lock:
            chat = self._chats.get(chat_id)
            return list(chat.events[start:]) if chat else []

    def events_since(self, seq: int) -> list[ChatEvent]:
        """All chat events (any chat) with a sequence number greater than `seq`."""
        with self._lock:
            return [e for e in self._events if e.seq > seq]

    @property
    def events(self) -> list[ChatEvent]:
        with self._lock:
            return list(self._events)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        with self._lock:
            return list(self._callback_answers)

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        with self._lock:
            query = self._callback_queries.get(query_id)
            return query.answer if query else None

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Bot commands by (scope, language_code); scope is ``"default"``, ``"all_private_chats"``,
        ``"chat:<id>"``, ``"chat_member:<chat>:<user>"`` ...; language_code ``""`` = all languages."""
        with self._lock:
            return copy.deepcopy(self._commands)

    def get_commands(self, scope: str = "default", language_code: str = "") -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._commands.get((scope, language_code), []))

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._chat_actions)

    @property
    def files(self) -> dict[str, StoredFile]:
        with self._lock:
            return dict(self._files)

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].data

    @property
    def downloads(self) -> list[str]:
        """file_paths downloaded by the bot, in order."""
        with self._lock:
            return list(self._downloads)

    @property
    def unknown_methods(self) -> list[str]:
        with self._lock:
            return list(self._unknown_methods)

    @property
    def webhook(self) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._webhook)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (delivered or not)."""
        with self._lock:
            return copy.deepcopy(self._updates)

    @property
    def dropped_updates(self) -> list[dict[str, Any]]:
        """Updates filtered out by allowed_updates or dropped by deleteWebhook(drop_pending_updates)."""
        with self._lock:
            return copy.deepcopy(self._dropped_updates)

    @property
    def allowed_updates(self) -> frozenset[str]:
        with self._lock:
            return self._allowed_updates

    # ------------------------------------------------------------------ waiting

    def _touch(self) -> None:
        with self._lock:
            self._last_activity = time.monotonic()
        self._changed.notify()

    async def wait_for(
        self,
        check: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109
        describe: Callable[[], str] | str | None = None,
    ) -> T:
        """Re-run `check` whenever the server state changes until it returns non-None (returned)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            fut = self._changed.waiter()
            result = check()
            if result is not None and result is not False:
                await self._changed.wait(fut, 0)
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self._changed.wait(fut, 0)
                message = describe() if callable(describe) else (describe or "condition")
                raise AssertionError(f"timed out after {timeout}s waiting for {message}")
            await self._changed.wait(fut, remaining)

    async def changed(self, timeout: float) -> None:  # noqa: ASYNC109
        """Sleep until anything changes on the server (or `timeout`)."""
        await self._changed.wait(self._changed.waiter(), timeout)

    async def idle(self, timeout: float = 5.0, quiet: float = 0.05) -> None:  # noqa: ASYNC109
        """Wait until every queued update was confirmed (a later getUpdates offset), no request is in
        flight and nothing happened for `quiet` seconds. Heuristic: a handler doing slow non-HTTP work
        (database, sleeps) longer than `quiet` between two requests looks idle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            fut = self._changed.waiter()
            with self._lock:
                pending = len(self._updates)
                inflight = self._inflight
                since = time.monotonic() - self._last_activity
            if pending == 0 and inflight == 0 and since >= quiet:
                await self._changed.wait(fut, 0)
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self._changed.wait(fut, 0)
                raise AssertionError(
                    f"bot not idle after {timeout}s: {pending} unconfirmed update(s), "
                    f"{inflight} request(s) in flight (is the bot polling?)"
                )
            await self._changed.wait(fut, min(remaining, max(quiet - since, 0.005)))

    # ------------------------------------------------------------------ HTTP layer

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, _Upload]]:
        params: dict[str, Any] = {}
        files: dict[str, _Upload] = {}
        for key, value in request.query.items():
            params[key] = value
        if request.method == "POST" and request.body_exists:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _bad("can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise _bad("can't parse JSON object")
                params.update(body)
            elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = _Upload(value.filename, value.content_type, value.file.read())
                    elif isinstance(value, bytes | bytearray):
                        files[key] = _Upload(None, None, bytes(value))
                    else:
                        params[key] = value
            else:
                await request.read()
        return {k: _coerce(k, v) for k, v in params.items()}, files

    def _json(self, status: int, payload: dict[str, Any]) -> web.Response:
        return web.json_response(payload, status=status, dumps=functools.partial(json.dumps, ensure_ascii=False))

    def _error_response(self, err: ApiError) -> web.Response:
        payload: dict[str, Any] = {"ok": False, "error_code": err.status, "description": err.description}
        if err.parameters:
            payload["parameters"] = err.parameters
        return self._json(err.status, payload)

    async def _unreachable_response(self, request: web.Request, mode: UnreachableMode) -> web.StreamResponse:
        with self._lock:
            self._unreachable_hits += 1
        if mode == "502":
            return web.Response(status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>")
        if mode == "timeout":
            while not self._closing and self._unreachable == "timeout":
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
                await self.changed(0.1)
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=502)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        mode = self._unreachable
        if mode is not None:
            with self._lock:
                self._request_log.append(
                    RecordedRequest(request.match_info["method"], {}, time=time.time(), status=0, injected=True)
                )
            return await self._unreachable_response(request, mode)
        token = request.match_info["token"]
        method_raw = request.match_info["method"]
        entry = self._handlers.get(method_raw.lower())
        method = entry[0] if entry else method_raw
        record = RecordedRequest(method, {}, time=time.time())
        try:
            params, uploads = await self._read_params(request)
        except ApiError as err:
            record.status, record.description = err.status, err.description
            with self._lock:
                self._request_log.append(record)
            return self._error_response(err)
        record.params = params
        record.files = {
            k: UploadedFile(field=k, filename=u.filename, content_type=u.content_type, data=u.data)
            for k, u in uploads.items()
        }
        polling = method == "getUpdates"
        with self._lock:
            self._request_log.append(record)
            if token != self.token:
                record.token_ok = False
            elif not polling:
                self._inflight += 1
                self._last_activity = time.monotonic()
        self._changed.notify()
        if token != self.token:
            err = ApiError(401, "Unauthorized")
            record.status, record.description = err.status, err.description
            return self._error_response(err)
        try:
            with self._lock:
                fault = self._take_fault(method)
            if fault is not None:
                record.injected = True
                raise fault
            if entry is None:
                with self._lock:
                    self._unknown_methods.append(method_raw)
                raise ApiError(404, "Not Found")
            if method in self._rate_limited_methods:
                self._check_rate_limit(params, record)
            if polling:
                result = await self._get_updates(params, request, record)
            else:
                with self._lock:
                    result = entry[1](params, uploads)
            record.status, record.result = 200, result
            payload: dict[str, Any] = {"ok": True, "result": result}
            if method == "setWebhook":
                payload["description"] = "Webhook was set"
            elif method == "deleteWebhook":
                payload["description"] = "Webhook was deleted"
            return self._json(200, payload)
        except ApiError as err:
            if record.status != 499:
                record.status, record.description = err.status, err.description
            return self._error_response(err)
        finally:
            with self._lock:
                if not polling:
                    self._inflight -= 1
                self._last_activity = time.monotonic()
            self._changed.notify()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        mode = self._unreachable
        if mode is not None:
            return await self._unreachable_response(request, mode)
        with self._lock:
            fault = self._take_fault("download")
            stored = self._files_by_path.get(request.match_info["file_path"])
            ok = request.match_info["token"] == self.token and stored is not None
            if ok and fault is None and stored is not None:
                self._downloads.append(stored.file_path)
        if fault is not None:
            return self._error_response(fault)
        if not ok or stored is None:
            return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    def _take_fault(self, method: str) -> ApiError | None:
        for fault in self._faults:
            if fault.method == "*" or (
                fault.method.lower() == method.lower()
                if fault.method is not None
                else method not in ("getUpdates", "download")
            ):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                description = fault.description
                params = None
                if fault.status == 429:
                    params = {"retry_after": fault.retry_after}
                    description = description or f"Too Many Requests: retry after {fault.retry_after}"
                if description is None:
                    try:
                        description = HTTPStatus(fault.status).phrase
                    except ValueError:
                        description = "Error"
                    if fault.status == 400:
                        description = "Bad Request"
                return ApiError(fault.status, description, params)
        return None

    def _check_rate_limit(self, params: dict[str, Any], record: RecordedRequest) -> None:
        with self._lock:
            if self._global_bucket is None and self._chat_bucket_cfg is None:
                return
            now = time.monotonic()
            waits = []
            chat_bucket = None
            chat_id = params.get("chat_id")
            if self._global_bucket is not None:
                waits.append(self._global_bucket.wait_time(now))
            if self._chat_bucket_cfg is not None and isinstance(chat_id, int):
                chat_bucket = self._chat_buckets.get(chat_id)
                if chat_bucket is None:
                    chat_bucket = _Bucket(*self._chat_bucket_cfg)
                    self._chat_buckets[chat_id] = chat_bucket
                waits.append(chat_bucket.wait_time(now))
            wait = max(waits, default=0.0)
            if wait > 0:
                self._rate_limit_hits += 1
                if isinstance(chat_id, int):
                    self._rate_limit_hits_by_chat[chat_id] += 1
                record.injected = True
                retry_after = max(1, math.ceil(wait))
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
            if self._global_bucket is not None:
                self._global_bucket.take()
            if chat_bucket is not None:
                chat_bucket.take()

    # ------------------------------------------------------------------ getUpdates

    async def _get_updates(
        self, p: dict[str, Any], request: web.Request, record: RecordedRequest
    ) -> list[dict[str, Any]]:
        offset = _opt_int(p, "offset")
        limit = min(max(_opt_int(p, "limit") or 100, 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        with self._lock:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                    "to delete the webhook first",
                )
            if "allowed_updates" in p and p["allowed_updates"] is not None:
                allowed = p["allowed_updates"]
                if isinstance(allowed, str):
                    allowed = json.loads(allowed)
                self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            if offset is not None:
                if offset < 0:
                    keep = -offset
                    self._updates = self._updates[-keep:] if keep else []
                else:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self._last_activity = time.monotonic()
            self._poll_generation += 1
            generation = self._poll_generation
        self._changed.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiting = False
        try:
            while True:
                fut = self._changed.waiter()
                transport = request.transport
                if transport is None or transport.is_closing():
                    record.status = 499  # client went away (e.g. Updater.stop() cancelled the poll)
                    await self._changed.wait(fut, 0)
                    raise ApiError(499, "client closed the request")
                with self._lock:
                    superseded = generation != self._poll_generation
                    batch = [] if superseded else copy.deepcopy(self._updates[:limit])
                    if batch:
                        self._last_activity = time.monotonic()
                if superseded:
                    await self._changed.wait(fut, 0)
                    raise ApiError(409, _CONFLICT_POLL)
                remaining = deadline - loop.time()
                if batch or remaining <= 0 or self._closing or self._unreachable is not None:
                    await self._changed.wait(fut, 0)
                    if self._unreachable is not None and not batch:
                        request.transport.close()
                    return batch
                if not waiting:
                    waiting = True
                    with self._lock:
                        self._polls_waiting += 1
                await self._changed.wait(fut, min(remaining, 0.5))
        finally:
            if waiting:
                with self._lock:
                    self._polls_waiting -= 1

    # ------------------------------------------------------------------ helpers for handlers

    def _resolve_chat(self, p: dict[str, Any], key: str = "chat_id") -> _Chat:
        chat_id = p.get(key)
        if chat_id is None or chat_id == "":
            raise _bad(f"{key} is empty")
        if isinstance(chat_id, str):
            if chat_id.startswith("@"):
                for chat in self._chats.values():
                    if chat.chat.get("username", "").lower() == chat_id[1:].lower() and not chat.private:
                        return chat
                raise _bad("chat not found")
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise _bad("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None or chat.placeholder:
            raise _bad("chat not found")
        return chat

    def _check_can_send(self, chat: _Chat) -> None:
        if chat.blocked:
            if chat.private:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.chat['type']} chat")
        if chat.private and not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    def _format(self, text: Any, parse_mode: Any, entities: Any, *, caption: bool) -> tuple[str, list[dict[str, Any]]]:
        text = "" if text is None else str(text)
        try:
            plain, ents = parse_formatted_text(text, parse_mode or None, entities or None)
        except EntityParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
        except ValueError:
            raise _bad("unsupported parse_mode") from None
        for entity in ents:
            if entity.get("type") == "text_mention" and isinstance(entity.get("user"), dict):
                entity["user"] = self._user_dict(int(entity["user"]["id"]))
        limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
        if utf16_len(plain) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        if not caption and not plain:
            raise _bad("message text is empty")
        return plain, ents

    def _markup(self, p: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(inline keyboard to echo, other reply markup) from the reply_markup parameter."""
        markup = p.get("reply_markup")
        if markup is None or markup == "":
            return None, None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise _bad("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse inline keyboard button: InlineKeyboardMarkup must be an Array of Arrays")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
                    self._check_plain("button label", button["text"])
                    actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
                    if not actions:
                        raise _bad(
                            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                        )
                    if "callback_data" in button:
                        data = str(button["callback_data"])
                        if not 1 <= len(data.encode()) <= 64:
                            raise _bad("BUTTON_DATA_INVALID")
                    if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
                        raise _bad("inline keyboard button URL '" + str(button["url"]) + "' is invalid")
            return markup, None
        return None, markup

    def _reply_target(self, chat: _Chat, p: dict[str, Any]) -> dict[str, Any] | None:
        reply = p.get("reply_parameters")
        target_id = None
        allow_without = bool(p.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            target_id = reply.get("message_id")
            allow_without = allow_without or bool(reply.get("allow_sending_without_reply"))
        elif p.get("reply_to_message_id") is not None:
            target_id = p.get("reply_to_message_id")
        if target_id is None:
            return None
        target = chat.messages.get(int(target_id))
        if target is None or target.deleted:
            if allow_without:
                return None
            raise _bad("message to be replied not found")
        return self._shallow(target.raw)

    @staticmethod
    def _shallow(raw: dict[str, Any]) -> dict[str, Any]:
        result = copy.deepcopy(raw)
        result.pop("reply_to_message", None)
        return result

    def _new_bot_message(
        self,
        chat: _Chat,
        content: dict[str, Any],
        p: dict[str, Any],
        *,
        kind: str,
        raw_text: str | None = None,
        parse_mode: str | None = None,
        inline: dict[str, Any] | None = None,
        other_markup: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        raw: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": dict(chat.chat),
            "date": int(time.time()),
        }
        if reply_to is not None:
            raw["reply_to_message"] = reply_to
        raw.update(content)
        if p.get("protect_content"):
            raw["has_protected_content"] = True
        if inline is not None:
            raw["reply_markup"] = copy.deepcopy(inline)
        record = _MessageRecord(
            chat.id,
            message_id,
            raw,
            from_bot=True,
            kind=kind,
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_keyboard=copy.deepcopy(other_markup),
        )
        if other_markup is not None:
            chat.reply_keyboard = None if other_markup.get("remove_keyboard") else copy.deepcopy(other_markup)
        chat.messages[message_id] = record
        self._add_event(chat, record, "sent")
        return copy.deepcopy(raw)

    def _add_event(self, chat: _Chat, record: _MessageRecord, kind: Literal["sent", "edited", "deleted"]) -> None:
        event = ChatEvent(
            seq=next(self._event_seq),
            chat_id=chat.id,
            kind=kind,
            message=self._snapshot(record, kind == "edited"),
            time=time.time(),
        )
        chat.events.append(event)
        self._events.append(event)

    def _snapshot(self, record: _MessageRecord, edited: bool) -> BotMessage:
        raw = copy.deepcopy(record.raw)
        photo = raw.get("photo")
        return BotMessage(
            message_id=record.message_id,
            chat_id=record.chat_id,
            date=raw.get("date", 0),
            kind=record.kind,
            text=raw.get("text"),
            caption=raw.get("caption"),
            raw_text=record.raw_text,
            parse_mode=record.parse_mode,
            entities=tuple(raw.get("entities") or raw.get("caption_entities") or ()),
            reply_markup=raw.get("reply_markup"),
            reply_keyboard=copy.deepcopy(record.reply_keyboard),
            photo=tuple(photo) if photo else None,
            document=raw.get("document"),
            media_group_id=raw.get("media_group_id"),
            edited=edited,
            edit_count=record.edit_count,
            deleted=record.deleted,
            reply_to_message_id=(raw.get("reply_to_message") or {}).get("message_id"),
            raw=raw,
        )

    def _edit_target(self, p: dict[str, Any]) -> tuple[_Chat, _MessageRecord]:
        if p.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(p)
        if p.get("message_id") in (None, ""):
            raise _bad("message identifier is not specified")
        self._check_can_send(chat)
        record = chat.messages.get(int(p["message_id"]))
        if record is None or record.deleted:
            raise _bad("message to edit not found")
        if not record.from_bot:
            raise _bad("message can't be edited")
        return chat, record

    def _finish_edit(self, chat: _Chat, record: _MessageRecord) -> dict[str, Any]:
        record.edit_count += 1
        record.raw["edit_date"] = int(time.time())
        self._add_event(chat, record, "edited")
        return copy.deepcopy(record.raw)

    def _media_input(
        self, kind: str, value: Any, uploads: dict[str, _Upload], field_name: str, p: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        """Resolve a file parameter (upload / attach:// / file_id / URL) into message content."""
        upload: _Upload | None = None
        if field_name in uploads and not value:
            upload = uploads[field_name]
        elif isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad(f"file of type {kind} was not found in the request")
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            upload = _Upload(value.rsplit("/", 1)[-1] or None, None, value.encode())  # URLs are not fetched
        elif isinstance(value, str) and value:
            stored = self._files.get(value)
            if stored is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if kind == "photo":
                sizes = self._photo_sets.get(value)
                if sizes is None:
                    sizes = self.add_photo(stored.data)
                return {"photo": copy.deepcopy(sizes)}, "photo"
            return {kind: self._file_object(kind, stored, p)}, kind
        elif field_name in uploads:
            upload = uploads[field_name]
        else:
            raise _bad(f"there is no {kind} in the request")
        if kind == "photo":
            return {"photo": self.add_photo(upload.data)}, "photo"
        dims = image_size(upload.data) if kind in ("sticker", "video", "animation") else None
        stored = self.add_file(
            upload.data,
            kind,
            mime_type=upload.content_type if upload.content_type not in (None, "application/octet-stream") else None,
            file_name=upload.filename,
            width=dims[0] if dims else None,
            height=dims[1] if dims else None,
        )
        content = {kind: self._file_object(kind, stored, p)}
        if kind == "animation":
            content["document"] = self._file_object("document", stored, p)
        return content, kind

    @staticmethod
    def _file_object(kind: str, stored: StoredFile, p: dict[str, Any]) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if kind in ("document", "audio", "video", "animation") and stored.file_name:
            obj["file_name"] = stored.file_name
        if kind != "sticker" and stored.mime_type:
            obj["mime_type"] = stored.mime_type
        if kind in ("video", "animation", "sticker"):
            obj["width"] = int(p.get("width") or stored.width or (512 if kind == "sticker" else 640))
            obj["height"] = int(p.get("height") or stored.height or (512 if kind == "sticker" else 480))
        if kind in ("video", "animation", "audio", "voice"):
            obj["duration"] = int(p.get("duration") or 1)
        if kind == "sticker":
            obj.update({"type": "regular", "is_animated": False, "is_video": False})
            if p.get("emoji"):
                obj["emoji"] = p["emoji"]
        return obj

    def _caption(self, p: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        if p.get("caption") in (None, ""):
            return {}, None
        plain, ents = self._format(p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), caption=True)
        content: dict[str, Any] = {}
        if plain:
            content["caption"] = plain
            if ents:
                content["caption_entities"] = ents
        return content, str(p.get("caption"))

    def _language(self, p: dict[str, Any]) -> str:
        lang = p.get("language_code") or ""
        if lang and (len(lang) != 2 or not lang.isalpha()):
            raise _bad("invalid language code specified")
        return str(lang)

    # ------------------------------------------------------------------ Bot API methods
    # Each `_m_<methodName>` runs under the lock and returns the `result` (or raises ApiError).

    def _m_getMe(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_getUpdates(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:  # pragma: no cover
        raise AssertionError("handled in _get_updates")

    def _m_logOut(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return True

    def _m_close(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return True

    def _m_setWebhook(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        url = p.get("url") or ""
        if not url:
            self._webhook = None
            return True
        if not str(url).startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = {k: v for k, v in p.items() if k != "certificate"}
        if p.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _m_deleteWebhook(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self._webhook = None
        if p.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _drop_pending(self) -> None:
        self._dropped_updates.extend(self._updates)
        self._updates = []

    def _m_getWebhookInfo(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        info: dict[str, Any] = {
            "url": (self._webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook:
            info["max_connections"] = int(self._webhook.get("max_connections") or 40)
            if self._webhook.get("allowed_updates"):
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    def _m_sendMessage(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        self._check_can_send(chat)
        plain, ents = self._format(p.get("text"), p.get("parse_mode"), p.get("entities"), caption=False)
        inline, other = self._markup(p)
        reply_to = self._reply_target(chat, p)
        content: dict[str, Any] = {"text": plain}
        if ents:
            content["entities"] = ents
        return self._new_bot_message(
            chat,
            content,
            p,
            kind="text",
            raw_text=str(p.get("text")),
            parse_mode=p.get("parse_mode"),
            inline=inline,
            other_markup=other,
            reply_to=reply_to,
        )

    def _send_media(self, kind: str, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        self._check_can_send(chat)
        caption, raw_caption = self._caption(p) if kind != "sticker" else ({}, None)
        inline, other = self._markup(p)
        reply_to = self._reply_target(chat, p)
        media, kind = self._media_input(kind, p.get(kind), files, kind, p)
        return self._new_bot_message(
            chat,
            {**media, **caption},
            p,
            kind=kind,
            raw_text=raw_caption,
            parse_mode=p.get("parse_mode"),
            inline=inline,
            other_markup=other,
            reply_to=reply_to,
        )

    def _m_sendPhoto(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._send_media("photo", p, files)

    def _m_sendDocument(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._send_media("document", p, files)

    def _m_sendVideo(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._send_media("video", p, files)

    def _m_sendAudio(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._send_media("audio", p, files)

    def _m_sendVoice(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._send_media("voice", p, files)

    def _m_sendAnimation(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._send_media("animation", p, files)

    def _m_sendSticker(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._send_media("sticker", p, files)

    def _m_sendMediaGroup(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        self._check_can_send(chat)
        media = p.get("media")
        if isinstance(media, str):
            media = json.loads(media)
        if not isinstance(media, list) or not media:
            raise _bad("media is empty")  # approximation of Telegram's wording
        if not 2 <= len(media) <= 10:
            raise _bad("wrong number of media group items: must include 2-10 items")  # approximation
        types = {item.get("type") for item in media if isinstance(item, dict)}
        for single in ("document", "audio"):
            if single in types and len(types) > 1:
                raise _bad(f"{single} can't be mixed with other media types")  # approximation
        reply_to = self._reply_target(chat, p)
        group_id = str(next(self._media_group_ids))
        prepared = []
        for item in media:
            kind = item.get("type")
            if kind not in ("photo", "video", "document", "audio"):
                raise _bad(f'unsupported media type "{kind}"')  # approximation
            caption, raw_caption = self._caption(item)
            content, kind = self._media_input(kind, item.get("media"), files, "media", item)
            prepared.append((kind, {**content, **caption, "media_group_id": group_id}, raw_caption, item))
        return [
            self._new_bot_message(
                chat,
                content,
                p,
                kind=kind,
                raw_text=raw_caption,
                parse_mode=item.get("parse_mode"),
                reply_to=reply_to,
            )
            for kind, content, raw_caption, item in prepared
        ]

    def _m_sendLocation(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        self._check_can_send(chat)
        inline, other = self._markup(p)
        content = {"location": {"latitude": float(p["latitude"]), "longitude": float(p["longitude"])}}
        return self._new_bot_message(
            chat, content, p, kind="location", inline=inline, other_markup=other, reply_to=self._reply_target(chat, p)
        )

    def _copy_source(self, p: dict[str, Any], what: str) -> _MessageRecord:
        source_chat = self._resolve_chat(p, "from_chat_id")
        record = source_chat.messages.get(int(p.get("message_id") or 0))
        if record is None or record.deleted:
            raise _bad(f"message to {what} not found")
        return record

    def _m_copyMessage(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        self._check_can_send(chat)
        source = self._copy_source(p, "copy")
        content = {k: copy.deepcopy(v) for k, v in source.raw.items() if k in _CONTENT_KEYS}
        raw_text = source.raw_text
        if "caption" in p:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            caption, raw_text = self._caption(p)
            content.update(caption)
        inline, other = self._markup(p)
        raw = self._new_bot_message(
            chat,
            content,
            p,
            kind=source.kind,
            raw_text=raw_text,
            parse_mode=p.get("parse_mode") or source.parse_mode,
            inline=inline,
            other_markup=other,
            reply_to=self._reply_target(chat, p),
        )
        return {"message_id": raw["message_id"]}

    def _m_forwardMessage(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        self._check_can_send(chat)
        source = self._copy_source(p, "forward")
        content = {k: copy.deepcopy(v) for k, v in source.raw.items() if k in _CONTENT_KEYS}
        sender = source.raw.get("from") or self.bot_user
        content["forward_origin"] = {"type": "user", "sender_user": sender, "date": source.raw.get("date", 0)}
        return self._new_bot_message(
            chat, content, p, kind=source.kind, raw_text=source.raw_text, parse_mode=source.parse_mode
        )

    def _m_editMessageText(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat, record = self._edit_target(p)
        plain, ents = self._format(p.get("text"), p.get("parse_mode"), p.get("entities"), caption=False)
        if "text" not in record.raw:
            raise _bad("there is no text in the message to edit")
        inline, _ = self._markup(p)
        old = (record.raw.get("text"), record.raw.get("entities") or [], record.raw.get("reply_markup"))
        if old == (plain, ents, inline):
            raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
        record.raw["text"] = plain
        record.raw.pop("entities", None)
        if ents:
            record.raw["entities"] = ents
        record.raw.pop("reply_markup", None)
        if inline is not None:
            record.raw["reply_markup"] = inline
        record.raw_text = str(p.get("text"))
        record.parse_mode = p.get("parse_mode")
        return self._finish_edit(chat, record)

    def _m_editMessageCaption(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat, record = self._edit_target(p)
        if record.kind in ("text", "location", "sticker", "other"):
            raise _bad("there is no caption in the message to edit")
        caption, raw_caption = self._caption(p)
        inline, _ = self._markup(p)
        old = (record.raw.get("caption"), record.raw.get("caption_entities"), record.raw.get("reply_markup"))
        if old == (caption.get("caption"), caption.get("caption_entities"), inline):
            raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
        for key in ("caption", "caption_entities", "reply_markup"):
            record.raw.pop(key, None)
        record.raw.update(caption)
        if inline is not None:
            record.raw["reply_markup"] = inline
        record.raw_text = raw_caption
        record.parse_mode = p.get("parse_mode")
        return self._finish_edit(chat, record)

    def _m_editMessageReplyMarkup(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat, record = self._edit_target(p)
        inline, _ = self._markup(p)
        if record.raw.get("reply_markup") == inline:
            raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
        record.raw.pop("reply_markup", None)
        if inline is not None:
            record.raw["reply_markup"] = inline
        return self._finish_edit(chat, record)

    def _m_deleteMessage(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        record = chat.messages.get(int(p.get("message_id") or 0))
        if record is None or record.deleted:
            raise _bad("message to delete not found")
        record.deleted = True
        if record.from_bot:
            self._add_event(chat, record, "deleted")
        return True

    def _m_deleteMessages(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        ids = p.get("message_ids") or []
        if not 1 <= len(ids) <= 100:
            raise _bad("message_ids must be non-empty and contain at most 100 identifiers")  # approximation
        for message_id in ids:
            record = chat.messages.get(int(message_id))
            if record is not None and not record.deleted:
                record.deleted = True
                if record.from_bot:
                    self._add_event(chat, record, "deleted")
        return True

    def _m_answerCallbackQuery(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        query_id = str(p.get("callback_query_id") or "")
        query = self._callback_queries.get(query_id)
        expired = (
            query is not None
            and self.callback_answer_timeout is not None
            and time.monotonic() - query.created > self.callback_answer_timeout
        )
        if query is None or query.answer is not None or expired:
            raise _bad(_QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        if text:
            self._check_plain("alert" if p.get("show_alert") else "toast", str(text))
        answer = CallbackAnswer(
            query_id=query_id,
            text=None if text is None else str(text),
            show_alert=bool(p.get("show_alert")),
            url=p.get("url"),
            cache_time=_opt_int(p, "cache_time"),
            user_id=query.user_id,
            chat_id=query.chat_id,
            callback_data=query.data,
        )
        query.answer = answer
        self._callback_answers.append(answer)
        return True

    def _m_getFile(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        file_id = str(p.get("file_id") or "")
        if not file_id:
            raise _bad("file_id is empty")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _m_setMyCommands(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        commands = p.get("commands")
        if isinstance(commands, str):
            commands = json.loads(commands)
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")  # approximation
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not 1 <= len(name) <= 32 or not all(
                c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name
            ):
                raise _bad("BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")  # approximation
        key = self._commands_key(p)
        if commands:
            self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        else:
            self._commands.pop(key, None)
        return True

    def _commands_key(self, p: dict[str, Any]) -> tuple[str, str]:
        scope = p.get("scope")
        if isinstance(scope, str):
            scope = json.loads(scope)
        lang = self._language(p)
        if isinstance(scope, dict) and scope.get("type") in ("chat", "chat_administrators", "chat_member"):
            self._resolve_chat(scope)
        return _scope_key(scope), lang

    def _m_getMyCommands(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return copy.deepcopy(self._commands.get(self._commands_key(p), []))

    def _m_deleteMyCommands(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self._commands.pop(self._commands_key(p), None)
        return True

    def _bot_text(self, field_name: str, p: dict[str, Any], limit: int) -> Any:
        value = str(p.get(field_name) or "")
        if len(value) > limit:
            raise _bad(f"{field_name} is too long")  # approximation
        self._bot_texts[(field_name, self._language(p))] = value
        return True

    def _m_setMyDescription(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._bot_text("description", p, 512)

    def _m_getMyDescription(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return {"description": self._bot_texts.get(("description", self._language(p)), "")}

    def _m_setMyShortDescription(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._bot_text("short_description", p, 120)

    def _m_getMyShortDescription(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return {"short_description": self._bot_texts.get(("short_description", self._language(p)), "")}

    def _m_setMyName(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self._bot_text("name", p, 64)

    def _m_getMyName(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return {"name": self._bot_texts.get(("name", self._language(p))) or self.bot_first_name}

    def _m_setChatMenuButton(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat_id = _opt_int(p, "chat_id")
        button = p.get("menu_button") or {"type": "default"}
        self._menu_buttons[chat_id] = button
        return True

    def _m_getChatMenuButton(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat_id = _opt_int(p, "chat_id")
        return self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "commands"}

    def _m_sendChatAction(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        self._check_can_send(chat)
        action = str(p.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._chat_actions.append((chat.id, action))
        return True

    def _m_pinChatMessage(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        record = chat.messages.get(int(p.get("message_id") or 0))
        if record is None or record.deleted:
            raise _bad("message to pin not found")
        return True

    def _m_unpinChatMessage(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self._resolve_chat(p)
        return True

    def _m_unpinAllChatMessages(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self._resolve_chat(p)
        return True

    def _m_leaveChat(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self._resolve_chat(p)
        return True

    def _m_getChat(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        return {
            **chat.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member(self, chat: _Chat, user_id: int) -> dict[str, Any]:
        user = self.bot_user if user_id == self.bot_id else self._user_dict(user_id)
        if chat.private:
            return {"status": "member", "user": user}
        if user_id == chat.creator:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.admins:
            rights = dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                    "can_pin_messages",
                ),
                True,
            )
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_promote_members": False,
                **rights,
            }
        if user_id == self.bot_id or user_id in chat.members or user_id in self._users:
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}

    def _m_getChatMember(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        user_id = _opt_int(p, "user_id")
        if user_id is None:
            raise _bad("user_id is empty")
        return self._member(chat, user_id)

    def _m_getChatAdministrators(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        ids = ([chat.creator] if chat.creator else []) + sorted(chat.admins)
        return [self._member(chat, i) for i in ids]

    def _m_getChatMemberCount(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat = self._resolve_chat(p)
        return 2 if chat.private else len(chat.members | chat.admins) + 1


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
