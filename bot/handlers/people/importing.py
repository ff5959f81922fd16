"""/import: an admin sends an .xlsx or .csv of sites and people. Logic lives in bot.flows.people.importing.

The file must follow /import (a pending input), so a spreadsheet is never mistaken for evidence of
another feature (a duty report, say), nor evidence for an import.
"""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from bot.flows.access import Role
from bot.flows.people.importing import MAX_FILE_BYTES, ImportFlow
from bot.handlers.base import Turn, guarded
from bot.handlers.downloads import fetch_limited
from bot.handlers.people.common import IMPORT_FILE
from bot.handlers.router import router_of

ADMINS = frozenset({Role.ADMIN})
MAX_ERRORS_SHOWN = 30


@guarded(ADMINS)
async def import_command(turn: Turn) -> None:
    await turn.services.pending.set(turn.caller.user_id, IMPORT_FILE, "", turn.now())
    await turn.say("people.import_prompt")


async def document_for_import(turn: Turn) -> bool:
    """The spreadsheet an admin sends after /import. False: not ours."""
    message = turn.update.effective_message
    document = message.document if message else None
    if document is None:
        return False
    svc = turn.services
    pending = await svc.pending.get(turn.caller.user_id)
    if pending is None or pending.kind != IMPORT_FILE or Role.ADMIN not in turn.caller.roles:
        return False  # a spreadsheet may be evidence for another feature; imports start with /import
    file_name = document.file_name or ""
    if not ImportFlow.accepts(file_name):
        await turn.say("people.import_wrong_type")
        return True
    # The size a message declares is optional: what counts is what arrives (the download stops past the limit).
    data = await fetch_limited(document, MAX_FILE_BYTES)
    if data is None:
        await turn.say("people.import_too_big", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
        return True
    report = await svc.imports.run(turn.caller, file_name, data)
    if report.counts is not None:
        await svc.pending.clear(turn.caller.user_id)
    await turn.say("people.import_report", report=report, shown=report.errors[:MAX_ERRORS_SHOWN])
    return True


async def text_for_import(turn: Turn, text: str) -> bool:
    pending = await turn.services.pending.get(turn.caller.user_id)
    if pending is None or pending.kind != IMPORT_FILE:
        return False
    await turn.say("people.import_waiting")
    return True


def register(app: Application) -> None:
    app.add_handler(CommandHandler("import", import_command))
    router_of(app).media.append(document_for_import)
    router_of(app).text.append(text_for_import)
