"""Downloading what people send, with a hard cap on the bytes read.

The size a message declares (``file_size``) is optional, and PTB's ``File.download_as_bytearray`` /
``download_to_memory`` read the whole body whatever its size: a 15 MB document sent without a size
was downloaded whole and parsed despite a 5 MB limit. :func:`download_limited` checks the sizes that
are declared, then streams the body and stops as soon as more than the limit has arrived.

Use :func:`fetch_limited` with a Document, PhotoSize, Video... and :func:`download_limited` with a
``File`` already fetched; both return None when the file is over the limit, so the caller can say so.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp
from telegram import File
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.transport import AiohttpRequest

CHUNK_BYTES = 64 * 1024
# Longer than an API call's: a few MB over a slow link. sock_read bounds a stalled transfer.
TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10, sock_read=30)


class Attachment(Protocol):
    """What a message carries a file as: Document, PhotoSize, Video, Audio, Voice..."""

    @property
    def file_size(self) -> int | None: ...

    async def get_file(self) -> File: ...


async def fetch_limited(attachment: Attachment, limit_bytes: int) -> bytes | None:
    """``attachment``'s bytes, or None when it is bigger than ``limit_bytes``."""
    if attachment.file_size is not None and attachment.file_size > limit_bytes:
        return None
    try:
        file = await attachment.get_file()
    except BadRequest as error:
        if "too big" in error.message.lower():  # getFile refuses files over 20 MB, declared size or not
            return None
        raise
    return await download_limited(file, limit_bytes)


async def download_limited(file: File, limit_bytes: int) -> bytes | None:
    """The file's bytes, or None when it is bigger than ``limit_bytes`` (reading stops right there).

    Raises ``telegram.error.NetworkError`` / ``TimedOut`` when the download fails, like PTB's own.
    """
    if file.file_size is not None and file.file_size > limit_bytes:
        return None
    if not file.file_path:
        raise RuntimeError("the File has no file_path: get it with get_file()")
    if not file.file_path.startswith(("https://", "http://")):  # a Bot API server in --local mode
        return await asyncio.to_thread(_read_local, Path(file.file_path), limit_bytes)
    request = file.get_bot().request
    session = request.open_session if isinstance(request, AiohttpRequest) else None
    if session is None:
        # Another transport (PTB's httpx, in benchmarks) cannot stream: the limit is checked afterwards.
        data = await file.download_as_bytearray()
        return None if len(data) > limit_bytes else bytes(data)
    url = _encoded(file.file_path)
    return await _stream(session, url, request.proxy_for(url), limit_bytes)


async def _stream(session: aiohttp.ClientSession, url: str, proxy: dict, limit_bytes: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    try:
        async with session.get(url, timeout=TIMEOUT, **proxy) as response:
            if response.status != 200:
                raise NetworkError(f"file download answered HTTP {response.status}")
            if response.content_length is not None and response.content_length > limit_bytes:
                return None
            async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                size += len(chunk)
                if size > limit_bytes:
                    return None  # leaving unread closes the connection: the rest is never downloaded
                chunks.append(chunk)
    except TimeoutError as error:
        raise TimedOut("file download timed out") from error
    except aiohttp.ClientError as error:
        raise NetworkError(f"file download: aiohttp.{error.__class__.__name__}: {error}") from error
    return b"".join(chunks)


def _read_local(path: Path, limit_bytes: int) -> bytes | None:
    with path.open("rb") as stream:
        data = stream.read(limit_bytes + 1)
    return None if len(data) > limit_bytes else data


def _encoded(url: str) -> str:
    """Non-ASCII characters of the path percent-encoded, as PTB does before downloading."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=quote(parts.path)))
