"""Small valid media files for tests (no image library needed)."""

from __future__ import annotations

import struct
import zlib

__all__ = ["make_png"]


def make_png(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A valid RGB PNG of the given size; different `seed` -> different bytes (and file_unique_id)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    pattern = bytes(range(256)) * (width * 3 // 256 + 2)
    rows = b"".join(b"\x00" + pattern[(seed + y) % 256 :][: width * 3] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
