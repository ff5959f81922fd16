"""Simulated people and group chats that talk to the bot through a `FakeBotAPI`.

    alice = api.person(1001, "Alice")
    await alice.send_command("start")
    reply = await alice.wait_reply()          # next bot message event (send or edit) in her chat
    qid = await alice.press("确认")            # inline button by label (exact, else substring)
    answer = await alice.wait_callback_answer(qid)
    edited = await alice.wait_reply()         # e.g. the message the button edited (edited=True)

Every ``send_*`` queues updates and returns them (Telegram-shaped dicts). Reading is cursor based:
each person keeps one cursor per chat, so ``wait_reply`` returns events in order and never the same
event twice; ``drain()`` skips what is pending. ``messages`` / ``last_message`` show the current state.
"""

from __future__ import annotations

import inspect
import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .entities import utf16_len
from .models import BotMessage, CallbackAnswer, ChatEvent

if TYPE_CHECKING:
    from .botapi import FakeBotAPI

__all__ = ["ChatView", "Group", "Person"]

_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
Predicate = Callable[[BotMessage], bool]


def _read(data: bytes | str | Path) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return Path(data).read_bytes()


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities for every /command in `text`, as Telegram clients produce them."""
    entities = []
    for match in _COMMAND_RE.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
        )
    return entities


class ChatView:
    """Reading side of one chat: the bot's messages and events, with a read cursor."""

    def __init__(self, api: FakeBotAPI, chat_id: int) -> None:
        self.api = api
        self.chat_id = chat_id
        self._cursors: dict[int, int] = {}

    # -- state ---------------------------------------------------------------------------------

    def _chat_id(self, chat: ChatView | int | None) -> int:
        if chat is None:
            return self.chat_id
        return chat if isinstance(chat, int) else chat.chat_id

    def chat_messages(self, chat: ChatView | int | None = None) -> list[BotMessage]:
        return self.api.sent_messages(self._chat_id(chat))

    @property
    def messages(self) -> list[BotMessage]:
        """Current state of the bot's messages in this chat (after edits, deleted ones left out)."""
        return self.api.sent_messages(self.chat_id)

    @property
    def last_message(self) -> BotMessage | None:
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def last_text(self) -> str:
        """Text (or caption) of the latest bot message; "" when there is none."""
        message = self.last_message
        return message.content if message else ""

    @property
    def texts(self) -> list[str]:
        return [m.content for m in self.messages]

    def buttons(self, message: BotMessage | int | None = None) -> list[str]:
        """Inline button labels of `message` (id or object), default: the latest message with buttons."""
        if isinstance(message, BotMessage):
            message = message.message_id
        for candidate in reversed(self.messages):
            if message is None and candidate.buttons:
                return candidate.buttons
            if message is not None and candidate.message_id == message:
                return candidate.buttons
        return []

    @property
    def keyboard(self) -> list[list[str]]:
        """Labels of the reply keyboard currently shown (ReplyKeyboardMarkup), [] when none."""
        with self.api._lock:
            chat = self.api._chats.get(self.chat_id)
            markup = chat.reply_keyboard if chat else None
        if not markup or "keyboard" not in markup:
            return []
        return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in markup["keyboard"]]

    # -- reading events ------------------------------------------------------------------------

    def pending(self, chat: ChatView | int | None = None) -> list[ChatEvent]:
        """Events after the cursor, without consuming them."""
        chat_id = self._chat_id(chat)
        return self.api.chat_events(chat_id, self._cursors.get(chat_id, 0))

    def drain(self, chat: ChatView | int | None = None) -> list[BotMessage]:
        """Consume every pending event (sent/edited) and return their messages."""
        chat_id = self._chat_id(chat)
        events = self.pending(chat_id)
        self._cursors[chat_id] = self._cursors.get(chat_id, 0) + len(events)
        return [e.message for e in events if e.kind != "deleted"]

    def _next_event(
        self, chat_id: int, predicate: Predicate | None, include_edits: bool, include_deletes: bool
    ) -> BotMessage | None:
        events = self.api.chat_events(chat_id, self._cursors.get(chat_id, 0))
        for event in events:
            self._cursors[chat_id] = self._cursors.get(chat_id, 0) + 1
            if event.kind == "edited" and not include_edits:
                continue
            if event.kind == "deleted" and not include_deletes:
                continue
            if predicate is None or predicate(event.message):
                return event.message
        return None

    async def wait_reply(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109
        predicate: Predicate | None = None,
        *,
        chat: ChatView | int | None = None,
        include_edits: bool = True,
        include_deletes: bool = False,
    ) -> BotMessage:
        """The next bot message event in the chat since the last read: a new message or an edit
        (``edited=True``). Events that do not match `predicate` are consumed and skipped.
        Raises AssertionError with diagnostics on timeout."""
        chat_id = self._chat_id(chat)
        return await self.api.wait_for(
            lambda: self._next_event(chat_id, predicate, include_edits, include_deletes),
            timeout,
            lambda: self._diagnostics(chat_id, "a bot reply"),
        )

    async def wait_replies(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        chat: ChatView | int | None = None,
    ) -> list[BotMessage]:
        """The next `count` events (sends and edits)."""
        return [await self.wait_reply(timeout, chat=chat) for _ in range(count)]

    async def wait_text(
        self,
        fragment: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        chat: ChatView | int | None = None,
    ) -> BotMessage:
        """Skip events until one whose text/caption contains `fragment`."""
        return await self.wait_reply(timeout, lambda m: fragment in m.content, chat=chat)

    async def wait_until(self, predicate: Callable[..., Any], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Wait until `predicate` is truthy, re-checked on every server change; returns its value.
        `predicate` takes no argument, or one: the current list of bot messages in this chat.
        Does not move the cursor."""
        takes_arg = bool(inspect.signature(predicate).parameters)

        def check() -> Any:
            value = predicate(self.messages) if takes_arg else predicate()
            return value if value else None

        return await self.api.wait_for(check, timeout, lambda: self._diagnostics(self.chat_id, "wait_until"))

    async def assert_no_reply(self, within: float = 0.3, *, chat: ChatView | int | None = None) -> None:
        """Assert that the bot sends/edits nothing in the chat during `within` seconds."""
        chat_id = self._chat_id(chat)
        try:
            message = await self.wait_reply(within, chat=chat_id)
        except AssertionError:
            return
        raise AssertionError(f"unexpected bot message in chat {chat_id}: {message.content!r}")

    async def wait_callback_answer(self, query_id: str, timeout: float = 5.0) -> CallbackAnswer:  # noqa: ASYNC109
        """The answerCallbackQuery the bot made for `query_id`."""
        return await self.api.wait_for(
            lambda: self.api.callback_answer(query_id),
            timeout,
            lambda: self._diagnostics(self.chat_id, f"answerCallbackQuery({query_id})"),
        )

    def _diagnostics(self, chat_id: int, what: str) -> str:
        lines = [f"{what} in chat {chat_id}"]
        recent = self.api.sent_messages(chat_id)[-5:]
        if recent:
            lines.append("  latest bot messages in the chat:")
            lines += [f"    #{m.message_id}{' (edited)' if m.edited else ''}: {m.content[:120]!r}" for m in recent]
        else:
            lines.append("  the bot sent nothing to this chat")
        errors = self.api.errors(include_injected=True)[-5:]
        if errors:
            lines.append("  failed Bot API requests:")
            lines += [f"    {r.method} -> {r.status} {r.description}" for r in errors]
        pending = self.api.pending_updates
        if pending:
            lines.append(f"  {len(pending)} update(s) not yet confirmed by the bot (is it polling?)")
        return "\n".join(lines)

    # -- buttons -------------------------------------------------------------------------------

    def find_button(
        self, label: str, message_id: int | None = None, *, chat: ChatView | int | None = None
    ) -> tuple[BotMessage, dict[str, Any]]:
        """(message, button) for `label`: exact match on the newest message that has it, else a unique
        substring match; AssertionError listing the available buttons otherwise."""
        chat_id = self._chat_id(chat)
        messages = list(reversed(self.api.sent_messages(chat_id)))
        if message_id is not None:
            messages = [m for m in messages if m.message_id == message_id]
            if not messages:
                raise AssertionError(f"no bot message {message_id} in chat {chat_id}")
        for message in messages:
            for button in message.inline_buttons:
                if button.get("text") == label:
                    return message, button
        for message in messages:
            matches = [b for b in message.inline_buttons if label in str(b.get("text", ""))]
            if len(matches) == 1:
                return message, matches[0]
            if len(matches) > 1:
                labels = [b.get("text") for b in matches]
                raise AssertionError(f"button label {label!r} is ambiguous in message {message.message_id}: {labels}")
        available = [f"    #{m.message_id}: {m.buttons}" for m in messages if m.buttons] or ["    (none)"]
        raise AssertionError(f"no inline button {label!r} in chat {chat_id}; available:\n" + "\n".join(available))


class Person(ChatView):
    """A simulated Telegram user. Their private chat with the bot has chat id = user id."""

    def __init__(self, api: FakeBotAPI, user: dict[str, Any]) -> None:
        super().__init__(api, int(user["id"]))
        self.user = dict(user)

    @property
    def user_id(self) -> int:
        return int(self.user["id"])

    @property
    def first_name(self) -> str:
        return str(self.user["first_name"])

    @property
    def username(self) -> str | None:
        return self.user.get("username")

    @property
    def language_code(self) -> str | None:
        return self.user.get("language_code")

    def __repr__(self) -> str:
        return f"Person({self.user_id}, {self.first_name!r})"

    # -- sending -------------------------------------------------------------------------------

    def _send(
        self, content: dict[str, Any], chat: ChatView | int | None, reply_to: int | None = None
    ) -> dict[str, Any]:
        return self.api.user_message(self.user_id, self._chat_id(chat), content, reply_to_message_id=reply_to)

    async def send_text(
        self,
        text: str,
        *,
        chat: ChatView | int | None = None,
        reply_to: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Send a text message; /commands in it get bot_command entities automatically."""
        content: dict[str, Any] = {"text": text}
        ents = entities if entities is not None else command_entities(text)
        if ents:
            content["entities"] = ents
        return self._send(content, chat, reply_to)

    async def send_command(
        self,
        cmd: str,
        payload: str | None = None,
        *,
        chat: ChatView | int | None = None,
        mention: bool = False,
    ) -> dict[str, Any]:
        """Send ``/cmd [payload]`` (``mention=True``: ``/cmd@bot_username``, as group clients do)."""
        name = cmd.lstrip("/")
        text = f"/{name}"
        if mention:
            text += f"@{self.api.bot_username}"
        if payload:
            text += f" {payload}"
        return await self.send_text(text, chat=chat)

    async def send_photo(
        self,
        data: bytes | str | Path,
        caption: str | None = None,
        *,
        chat: ChatView | int | None = None,
        media_group_id: str | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Send a photo: a PhotoSize list (several sizes; same bytes -> same file_unique_id)."""
        content: dict[str, Any] = {"photo": self.api.add_photo(_read(data))}
        if caption:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self._send(content, chat, reply_to)

    async def send_album(
        self,
        items: Sequence[bytes | str | Path],
        caption: str | None = None,
        *,
        chat: ChatView | int | None = None,
    ) -> list[dict[str, Any]]:
        """Several photo messages sharing a media_group_id (caption on the first, like clients do)."""
        group_id = str(next(self.api._media_group_ids))
        updates = []
        for index, item in enumerate(items):
            updates.append(
                await self.send_photo(item, caption if index == 0 else None, chat=chat, media_group_id=group_id)
            )
        return updates

    async def send_document(
        self,
        data: bytes | str | Path,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        *,
        chat: ChatView | int | None = None,
        file_size: int | None = None,
        omit_size: bool = False,
    ) -> dict[str, Any]:
        """Send a file. `file_size` may claim a size other than len(data) (e.g. > 20 MB); `omit_size`
        leaves it out of the message, as Telegram may (getFile still reports the stored size)."""
        stored = self.api.add_file(
            _read(data), "document", mime_type=mime_type, file_name=file_name, file_size=file_size
        )
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": stored.file_size,
        }
        if omit_size:
            del document["file_size"]
        content: dict[str, Any] = {"document": document}
        if caption:
            content["caption"] = caption
        return self._send(content, chat)

    async def send_sticker(self, emoji: str = "👍", *, chat: ChatView | int | None = None) -> dict[str, Any]:
        stored = self.api.add_file(f"sticker:{emoji}".encode(), "sticker", mime_type="image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "HarnessStickers",
            "file_size": stored.file_size,
        }
        return self._send({"sticker": sticker}, chat)

    async def send_voice(
        self, data: bytes = b"OggS\x00fake-voice", duration: int = 2, *, chat: ChatView | int | None = None
    ) -> dict[str, Any]:
        stored = self.api.add_file(data, "voice", mime_type="audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.file_size,
        }
        return self._send({"voice": voice}, chat)

    async def send_location(
        self, latitude: float, longitude: float, *, chat: ChatView | int | None = None
    ) -> dict[str, Any]:
        return self._send({"location": {"latitude": latitude, "longitude": longitude}}, chat)

    async def send_contact(
        self,
        phone_number: str,
        first_name: str | None = None,
        last_name: str | None = None,
        user_id: int | None = None,
        *,
        chat: ChatView | int | None = None,
    ) -> dict[str, Any]:
        """Share a contact (default: their own, with user_id, like the "share my phone" button)."""
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        if last_name:
            contact["last_name"] = last_name
        if user_id is not None or first_name is None:
            contact["user_id"] = user_id if user_id is not None else self.user_id
        return self._send({"contact": contact}, chat)

    async def send_message(self, content: dict[str, Any], *, chat: ChatView | int | None = None) -> dict[str, Any]:
        """Send any other Message fields (e.g. ``{"video": {...}}``)."""
        return self._send(content, chat)

    async def edit_text(self, message_id: int, text: str, *, chat: ChatView | int | None = None) -> dict[str, Any]:
        """Edit one of their own text messages (an ``edited_message`` update)."""
        return self.api.user_edit(self.user_id, self._chat_id(chat), message_id, text)

    async def press(self, label: str, message_id: int | None = None, *, chat: ChatView | int | None = None) -> str:
        """Press an inline button by label (exact match first, else unique substring) on the newest bot
        message that has it, or on `message_id`. Returns the callback query id."""
        message, button = self.find_button(label, message_id, chat=chat)
        if "callback_data" not in button:
            kinds = [k for k in button if k != "text"]
            raise AssertionError(f"button {button.get('text')!r} has no callback_data (it is a {kinds} button)")
        return await self.press_data(str(button["callback_data"]), message.message_id, chat=chat)

    async def press_data(
        self, callback_data: str | None, message_id: int | None, *, chat: ChatView | int | None = None
    ) -> str:
        """Send a callback query with arbitrary data (forged or stale buttons). Returns the query id."""
        return self.api.callback_query(self.user_id, self._chat_id(chat), message_id, callback_data)

    def block_bot(self, *, notify: bool = True) -> None:
        """The user blocks the bot: later sends get 403; queues the my_chat_member update Telegram sends."""
        self.api.block(self.user_id)
        if notify:
            self._member_update("member", "kicked")

    def unblock_bot(self, *, notify: bool = True) -> None:
        self.api.unblock(self.user_id)
        if notify:
            self._member_update("kicked", "member")

    def _member_update(self, old: str, new: str) -> None:
        bot = self.api.bot_user
        new_member: dict[str, Any] = {"status": new, "user": bot}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: dict[str, Any] = {"status": old, "user": bot}
        if old == "kicked":
            old_member["until_date"] = 0
        chat = {k: v for k, v in self.user.items() if k in ("id", "first_name", "last_name", "username")}
        chat["type"] = "private"
        self.api.queue_update(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": dict(self.user),
                    "date": int(time.time()),
                    "old_chat_member": old_member,
                    "new_chat_member": new_member,
                }
            }
        )


class Group(ChatView):
    """A group chat the bot is in; people write in it with ``person.send_text(..., chat=group)``."""

    def __init__(self, api: FakeBotAPI, chat: dict[str, Any]) -> None:
        super().__init__(api, int(chat["id"]))
        self.chat = dict(chat)

    @property
    def title(self) -> str:
        return str(self.chat["title"])

    def set_admin(self, person: Person | int, admin: bool = True) -> None:
        user_id = person if isinstance(person, int) else person.user_id
        with self.api._lock:
            admins = self.api._chats[self.chat_id].admins
            if admin:
                admins.add(user_id)
            else:
                admins.discard(user_id)

    def __repr__(self) -> str:
        return f"Group({self.chat_id}, {self.title!r})"


def describe_message(message: BotMessage) -> str:
    """One-line description for logs and assertion messages."""
    parts = [f"#{message.message_id}"]
    if message.kind != "text":
        parts.append(f"[{message.kind}]")
    if message.content:
        parts.append(repr(message.content))
    if message.buttons:
        parts.append(json.dumps(message.buttons, ensure_ascii=False))
    return " ".join(parts)
