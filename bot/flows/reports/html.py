"""The full inspection report as one self-contained HTML file, and as PDF through headless Chromium.

Photos are read from the content-addressed file store, turned upright, scaled down and embedded
as JPEG ``data:`` URIs, so the file opens anywhere (a phone's file viewer, a mail client, a printer)
without the bot. A picture that cannot be read shows a short note instead of a broken image.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot.flows.reports.actions import ActionItem
from bot.flows.reports.views import InspectionReport
from bot.i18n import environment
from config.settings import LANGUAGES
from storage.files import FileStore

log = logging.getLogger(__name__)

PHOTO_MAX_SIDE = 960  # pixels: sharp on a phone and in print at a third of A4's width
PHOTO_QUALITY = 70
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT = 90.0


def render_inspection_html(
    report: InspectionReport, lang: str, files: FileStore, actions: Sequence[ActionItem] = ()
) -> str:
    """Blocking (reads and scales photos): call it in a worker thread. ``actions``: the inspection's
    corrective actions, listed in a section of their own."""
    lang = lang if lang in LANGUAGES else "zh-hans"
    images: dict[int, str | None] = {}
    for view in (*report.findings, *(c for s in report.sections for cat in s.categories for c in cat.clauses)):
        for photo in view.photos:
            if photo.id not in images:
                images[photo.id] = embedded_photo(files, photo.sha256)
    return (
        environment(lang)
        .get_template("report/inspection.html.j2")
        .render(r=report, images=images, actions=tuple(actions))
    )


def embedded_photo(files: FileStore, sha256: str | None) -> str | None:
    """A ``data:image/jpeg;base64,...`` URI of the scaled photo, None when it is missing or unreadable."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not sha256:
        return None
    try:
        with Image.open(files.path_of(sha256)) as original:
            picture = ImageOps.exif_transpose(original) or original
            picture = picture.convert("RGB")
            picture.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=PHOTO_QUALITY, optimize=True)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        log.warning("photo %s could not be embedded: %s", sha256[:12], exc)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def chromium_path() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(browser: str, profile: Path, *args: str) -> list[str]:
    """Headless Chromium, quiet and offline: no sandbox (root in containers), no sync, no updates."""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        *args,
    ]


async def html_to_pdf(html: str, workdir: Path | None = None) -> bytes | None:
    """Print the page to A4 PDF with headless Chromium; None when Chromium is missing or fails."""
    browser = chromium_path()
    if browser is None:
        return None
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        base = Path(folder)
        page, pdf = base / "report.html", base / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = chromium_command(
            browser, base / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()
        )
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            await asyncio.wait_for(process.wait(), PDF_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            log.warning("chromium took longer than %ss to print a report", PDF_TIMEOUT)
            return None
        if process.returncode != 0 or not pdf.is_file():
            log.warning("chromium could not print a report (exit %s)", process.returncode)
            return None
        return pdf.read_bytes()
