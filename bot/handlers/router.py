"""Free text, photos and files: whose are they?

A text may be a site search, a note on the clause being inspected, a reason a duty asked for...
Features add a claimer here, in order; the first that says True handled the message. What nobody
claims gets the short fallback reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram.ext import Application, MessageHandler, filters

from bot.handlers.base import Turn, guarded

TextClaimer = Callable[[Turn, str], Awaitable[bool]]
MediaClaimer = Callable[[Turn], Awaitable[bool]]

_ROUTER_KEY = "router"


@dataclass
class Router:
    text: list[TextClaimer] = field(default_factory=list)
    media: list[MediaClaimer] = field(default_factory=list)


def router_of(app: Application) -> Router:
    return app.bot_data.setdefault(_ROUTER_KEY, Router())


@guarded()
async def on_text(turn: Turn) -> None:
    message = turn.update.effective_message
    assert message is not None and message.text is not None
    for claimer in router_of(turn.context.application).text:
        if await claimer(turn, message.text):
            return
    await turn.say("common.no_context")


@guarded()
async def on_media(turn: Turn) -> None:
    for claimer in router_of(turn.context.application).media:
        if await claimer(turn):
            return
    await turn.say("common.no_context_media", roles=sorted(turn.caller.roles))


def register(app: Application) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(private & (filters.PHOTO | filters.Document.ALL), on_media))
