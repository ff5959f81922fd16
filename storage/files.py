"""Evidence files on disk, content-addressed: ``<data_dir>/files/<sha256[:2]>/<sha256>``.

The same bytes are stored once whoever sends them; the write goes to a temporary name and is
renamed into place, so a crash never leaves a half-written file under a real name.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_of(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".tmp{os.getpid()}")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path_of(sha256).read_bytes()
