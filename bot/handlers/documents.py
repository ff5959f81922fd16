"""Sending a document the bot made (a report, a 整改通知单): as HTML, and as PDF too when headless
Chromium is installed and ``[reports] pdf`` is on."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram.constants import ChatAction

from bot.handlers.base import Turn, showing_progress


def file_safe(name: str) -> str:
    """A site's name as part of a file name (no path separators, no spaces), short."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("_")[:40] or "site"


def work_dir(turn: Turn) -> Path:
    """Where Chromium may write while it prints (inside the data folder, never /tmp of a sandbox)."""
    folder = turn.services.settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def send_html_and_pdf(
    turn: Turn, render: Callable[[], Awaitable[str]], name: str, caption: str, pdf_caption: str
) -> None:
    """``render`` makes the HTML. The press is answered first (rendering and printing take seconds);
    "sending a file…" shows meanwhile."""
    bot, chat = turn.context.bot, turn.chat_id
    async with showing_progress(turn, ChatAction.UPLOAD_DOCUMENT):
        html = await render()
        await bot.send_document(chat, html.encode("utf-8"), filename=f"{name}.html", caption=caption)
        if not turn.services.settings.reports.pdf:
            return
        from bot.flows.reports.html import html_to_pdf

        pdf = await html_to_pdf(html, work_dir(turn))
        if pdf:
            await bot.send_document(chat, pdf, filename=f"{name}.pdf", caption=pdf_caption)
