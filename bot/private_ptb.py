"""Every private use of python-telegram-bot, in one place (tests/unit/test_private_apis.py checks their
shape, naming the installed version when one changed).

- ``DefaultValue`` / ``DEFAULT_NONE`` (``telegram._utils.defaultvalue``): a custom ``BaseRequest``
  receives PTB's "not given" sentinels for timeouts and must tell them from a real value; and a
  call posted directly must pass them so the bot's ``Defaults`` (HTML, no link previews) apply.
- ``ExtBot._post``: editing a card through it skips building PTB's ``Message`` from the edited
  message Telegram returns, which nothing reads and which was a tenth of the CPU of a tap
  (bench/RESULTS.md); ``_post`` still applies the Defaults, the rate limiter and the error mapping.

Written for python-telegram-bot 22.8 (pyproject pins the upper bound).
"""

from __future__ import annotations

from typing import Any

from telegram import Bot
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue

__all__ = ["DEFAULT_NONE", "DefaultValue", "post_without_parsing"]


async def post_without_parsing(bot: Bot, endpoint: str, data: dict[str, Any]) -> Any:
    """Call a Bot API method with PTB's Defaults, rate limiter and errors, returning the raw JSON."""
    return await bot._post(endpoint, data)
