"""Sending, copying, editing and deleting messages, with Telegram's text, caption and markup rules.

A part of :class:`FakeBotAPI` (server.py), which holds the state and the lock these methods use.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any, Literal

from ..entities import EntityParseError, parse_formatted_text, utf16_len
from ..models import BotMessage, ChatEvent
from .state import (
    _CONTENT_KEYS,
    _INLINE_BUTTON_ACTIONS,
    _NOT_MODIFIED,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    _bad,
    _Chat,
    _MessageRecord,
    _Upload,
)


class MessagesMixin:
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
