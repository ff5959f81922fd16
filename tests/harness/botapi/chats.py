"""The bot's settings (commands, descriptions, menu button) and chats: actions, pins, members.

A part of :class:`FakeBotAPI` (server.py), which holds the state and the lock these methods use.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .state import CHAT_ACTIONS, _bad, _Chat, _opt_int, _scope_key, _Upload


class ChatsMixin:
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

    def _language(self, p: dict[str, Any]) -> str:
        lang = p.get("language_code") or ""
        if lang and (len(lang) != 2 or not lang.isalpha()):
            raise _bad("invalid language code specified")
        return str(lang)

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
