"""Files: uploads people send, getFile, downloads, and media the bot sends.

A part of :class:`FakeBotAPI` (server.py), which holds the state and the lock these methods use.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from ..models import StoredFile
from .state import _DEFAULT_MIME, _EXTENSIONS, MAX_DOWNLOAD_SIZE, _b64id, _bad, _digest, _Upload, image_size


class FilesMixin:
    def add_file(
        self,
        data: bytes,
        kind: str = "document",
        *,
        mime_type: str | None = None,
        file_name: str | None = None,
        file_size: int | None = None,
        variant: str = "",
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        """Register a file (same bytes + kind + variant -> same ids). `file_size` may claim a bigger size."""
        with self._lock:
            digest = _digest(data)
            file_unique_id = "AQAD" + _b64id("unique", kind, variant, digest, length=12)
            prefix = {"photo": "AgACAgIAAxk", "document": "BQACAgIAAxk", "sticker": "CAACAgIAAxk"}.get(
                kind, "AwACAgIAAxk"
            )
            size = file_size if file_size is not None else len(data)
            file_id = prefix + _b64id("id", kind, variant, digest, str(size), file_name or "", length=60)
            existing = self._files.get(file_id)
            if existing is not None:
                return existing
            mime = mime_type or _DEFAULT_MIME.get(kind)
            ext = (file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else None) or _EXTENSIONS.get(
                mime or "", "bin"
            )
            folder = {"photo": "photos", "document": "documents", "sticker": "stickers", "voice": "voice"}.get(
                kind, f"{kind}s"
            )
            path = f"{folder}/file_{next(self._file_counter)}.{ext}"
            stored = StoredFile(
                file_id=file_id,
                file_unique_id=file_unique_id,
                data=data,
                file_size=size,
                file_path=path,
                kind=kind,
                mime_type=mime,
                file_name=file_name,
                width=width,
                height=height,
            )
            self._files[file_id] = stored
            self._files_by_path[path] = stored
            return stored

    def add_photo(self, data: bytes) -> list[dict[str, Any]]:
        """Register a photo and return its PhotoSize list (smallest first), like Telegram's ``photo``."""
        dims = image_size(data) or (1280, 960)
        w, h = dims
        longest = max(w, h)
        sizes: list[tuple[str, int, int]] = []
        # Telegram's thumbnails: s=90, m=320, x=800, y=1280 (and w=2560 for very large photos); a photo
        # smaller than 1280 keeps its own size as the largest one. All sizes download the original bytes.
        for tag, limit in (("s", 90), ("m", 320), ("x", 800), ("y", 1280), ("w", 2560)):
            if longest > limit and (limit <= 1280 or longest > 2560):
                scale = limit / longest
                sizes.append((tag, max(1, round(w * scale)), max(1, round(h * scale))))
        if longest <= 1280:
            sizes.append(("o", w, h))
        result = []
        for tag, sw, sh in sizes:
            stored = self.add_file(data, "photo", variant=tag, width=sw, height=sh, mime_type="image/jpeg")
            result.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.file_size,
                    "width": sw,
                    "height": sh,
                }
            )
        with self._lock:
            for size in result:
                self._photo_sets[size["file_id"]] = result
        return copy.deepcopy(result)

    @property
    def files(self) -> dict[str, StoredFile]:
        with self._lock:
            return dict(self._files)

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].data

    @property
    def downloads(self) -> list[str]:
        """file_paths downloaded by the bot, in order."""
        with self._lock:
            return list(self._downloads)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        mode = self._unreachable
        if mode is not None:
            return await self._unreachable_response(request, mode)
        with self._lock:
            fault = self._take_fault("download")
            stored = self._files_by_path.get(request.match_info["file_path"])
            ok = request.match_info["token"] == self.token and stored is not None
            if ok and fault is None and stored is not None:
                self._downloads.append(stored.file_path)
        if fault is not None:
            return self._error_response(fault)
        if not ok or stored is None:
            return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    def _media_input(
        self, kind: str, value: Any, uploads: dict[str, _Upload], field_name: str, p: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        """Resolve a file parameter (upload / attach:// / file_id / URL) into message content."""
        upload: _Upload | None = None
        if field_name in uploads and not value:
            upload = uploads[field_name]
        elif isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad(f"file of type {kind} was not found in the request")
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            upload = _Upload(value.rsplit("/", 1)[-1] or None, None, value.encode())  # URLs are not fetched
        elif isinstance(value, str) and value:
            stored = self._files.get(value)
            if stored is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if kind == "photo":
                sizes = self._photo_sets.get(value)
                if sizes is None:
                    sizes = self.add_photo(stored.data)
                return {"photo": copy.deepcopy(sizes)}, "photo"
            return {kind: self._file_object(kind, stored, p)}, kind
        elif field_name in uploads:
            upload = uploads[field_name]
        else:
            raise _bad(f"there is no {kind} in the request")
        if kind == "photo":
            return {"photo": self.add_photo(upload.data)}, "photo"
        dims = image_size(upload.data) if kind in ("sticker", "video", "animation") else None
        stored = self.add_file(
            upload.data,
            kind,
            mime_type=upload.content_type if upload.content_type not in (None, "application/octet-stream") else None,
            file_name=upload.filename,
            width=dims[0] if dims else None,
            height=dims[1] if dims else None,
        )
        content = {kind: self._file_object(kind, stored, p)}
        if kind == "animation":
            content["document"] = self._file_object("document", stored, p)
        return content, kind

    @staticmethod
    def _file_object(kind: str, stored: StoredFile, p: dict[str, Any]) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if kind in ("document", "audio", "video", "animation") and stored.file_name:
            obj["file_name"] = stored.file_name
        if kind != "sticker" and stored.mime_type:
            obj["mime_type"] = stored.mime_type
        if kind in ("video", "animation", "sticker"):
            obj["width"] = int(p.get("width") or stored.width or (512 if kind == "sticker" else 640))
            obj["height"] = int(p.get("height") or stored.height or (512 if kind == "sticker" else 480))
        if kind in ("video", "animation", "audio", "voice"):
            obj["duration"] = int(p.get("duration") or 1)
        if kind == "sticker":
            obj.update({"type": "regular", "is_animated": False, "is_video": False})
            if p.get("emoji"):
                obj["emoji"] = p["emoji"]
        return obj

    def _m_getFile(self, p: dict[str, Any], files: dict[str, _Upload]) -> Any:
        file_id = str(p.get("file_id") or "")
        if not file_id:
            raise _bad("file_id is empty")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }
