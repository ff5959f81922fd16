"""Keyboard pieces several screens share."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton as Button


def page_nav(page: int, pages: int, data: Callable[[int], str]) -> list[list[Button]]:
    """The ◀ ▶ row of a paged list (``page`` counts from 0; ``data(n)`` is page n's callback data),
    as a list of rows to add: none when there is only one page."""
    nav = []
    if page > 0:
        nav.append(Button("◀", callback_data=data(page - 1)))
    if page < pages - 1:
        nav.append(Button("▶", callback_data=data(page + 1)))
    return [nav] if nav else []
