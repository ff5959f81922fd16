"""Small helpers the people, sites and import handlers share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.flows.paging import KEYBOARD_BUDGET, MESSAGE_BUDGET, utf16_len
from bot.handlers.base import Turn

# Pending inputs (storage/pending.py): what the person's next message is for.
ADDSITE_NAME = "people.addsite_name"
ADDSITE_REGION = "people.addsite_region"
SITE_RENAME = "people.site_rename"
SITE_REGION = "people.site_region"
IMPORT_FILE = "people.import"


def callback_data(turn: Turn) -> str:
    query = turn.update.callback_query
    assert query is not None
    return query.data or ""


def number(text: str) -> int:
    return int(text)  # the callback patterns admit digits only


def text_fits(turn: Turn, key: str, **values: Any) -> bool:
    """Does the text ``key``, rendered with ``values`` (a candidate page of a list), fit in one message?"""
    return utf16_len(turn.text(key, **values)) <= MESSAGE_BUDGET


def labels_fit(labels: Iterable[str]) -> bool:
    """Do these button labels (a candidate page of a picker) stay within a keyboard's budget?"""
    return sum(utf16_len(label) for label in labels) <= KEYBOARD_BUDGET


async def show(turn: Turn, key: str, markup: InlineKeyboardMarkup | None = None, **values: Any) -> None:
    """Answer a button by editing its message; a command, or a button on a message that can no
    longer be edited (too old, deleted), with a new message (what ``Turn.edit`` does)."""
    await turn.edit(key, markup, **values)
