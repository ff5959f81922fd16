"""Offline end-to-end harness: a fake Telegram Bot API server plus simulated people.

    from tests.harness import FakeBotAPI
    from tests.harness.ptb import ptb_builder, running

    api = FakeBotAPI()
    await api.start()
    app = ptb_builder(api).build()          # or ApplicationBuilder().token(api.token).base_url(api.base_url)...
    async with running(app):                # initialize + start_polling(poll_interval=0, timeout=1) + start
        alice = api.person(1001, "王督导")
        await alice.send_command("start")
        reply = await alice.wait_reply()
        await alice.press("确认")
    await api.stop()

Modules: botapi (FakeBotAPI), driver (Person, Group), models (BotMessage, ...), entities (Telegram
HTML/Markdown parsing), terminal (run_terminal_chat), ptb (Application helpers), fixtures (pytest
`botapi` fixture), media (make_png).
"""

from .botapi import DEFAULT_TOKEN, FakeBotAPI
from .driver import ChatView, Group, Person
from .media import make_png
from .models import BotMessage, CallbackAnswer, ChatEvent, RecordedRequest, StoredFile, UploadedFile

__all__ = [
    "DEFAULT_TOKEN",
    "BotMessage",
    "CallbackAnswer",
    "ChatEvent",
    "ChatView",
    "FakeBotAPI",
    "Group",
    "Person",
    "RecordedRequest",
    "StoredFile",
    "UploadedFile",
    "make_png",
]
