"""The server: state, lifecycle, simulated people, the HTTP layer and what tests inspect.

The Bot API methods live in the parts it mixes in (updates, messages, files, callbacks, chats, faults)."""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..models import CallbackAnswer, ChatEvent, RecordedRequest, StoredFile, UploadedFile
from .callbacks import CallbacksMixin
from .chats import ChatsMixin
from .faults import FaultsMixin
from .files import FilesMixin
from .messages import MessagesMixin
from .state import (
    _MARKUP_IN_PLAIN,
    _STATE_DEPENDENT,
    DEFAULT_ALLOWED_UPDATES,
    DEFAULT_TOKEN,
    MAX_UPLOAD_SIZE,
    SEND_METHODS,
    ApiError,
    T,
    UnreachableMode,
    _bad,
    _Bucket,
    _CallbackQuery,
    _Chat,
    _coerce,
    _Fault,
    _short,
    _Signal,
    _Upload,
)
from .updates import UpdatesMixin

if TYPE_CHECKING:
    from ..driver import Group, Person


__all__ = ["DEFAULT_TOKEN", "FakeBotAPI", "UnreachableMode"]


class FakeBotAPI(UpdatesMixin, MessagesMixin, FilesMixin, CallbacksMixin, ChatsMixin, FaultsMixin):
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

    @property
    def unknown_methods(self) -> list[str]:
        with self._lock:
            return list(self._unknown_methods)

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

    # ------------------------------------------------------------------ getUpdates

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
