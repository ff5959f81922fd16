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

Parts, by the Bot API's own sections: ``server.py`` (state, lifecycle, simulated people, the HTTP
layer, what tests inspect), ``updates.py`` (getUpdates, webhooks), ``messages.py`` (send, copy, edit,
delete), ``files.py`` (uploads, getFile, downloads), ``callbacks.py`` (button presses and their one
answer), ``chats.py`` (the bot's commands and descriptions, chat actions, members), ``faults.py``
(injected failures, 429s, outages) and ``state.py`` (limits, refusal texts, internal records).
"""

from .server import FakeBotAPI
from .state import DEFAULT_TOKEN, UnreachableMode

__all__ = ["DEFAULT_TOKEN", "FakeBotAPI", "UnreachableMode"]
