"""Evidence files on disk, content-addressed: ``<data_dir>/files/<sha256[:2]>/<sha256>``.

The same bytes are stored once whoever sends them; the write goes to a temporary name and is
renamed into place, so a crash never leaves a half-written file under a real name. Each write has
its own temporary name: two threads storing the same photo at once must not share one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
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
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{digest[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # Atomic; when another writer got there first, the same bytes simply replace the same bytes.
            os.replace(name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path_of(sha256).read_bytes()
