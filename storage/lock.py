"""The data folder's lock: ``<data_dir>/bot.lock``, held with ``flock`` while a bot serves from it.

``restore`` takes the same lock, so it refuses while a bot runs on the folder and no bot starts while
a restore swaps the database. The kernel drops a ``flock`` when its holder exits, however it exits:
a crash leaves no stale lock behind (the file stays, harmless). The holder's pid is written into the
file, only to name it in a refusal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class LockedError(RuntimeError):
    """Another process holds the lock; ``pid`` is the one it wrote, if readable."""

    def __init__(self, path: Path, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(f"{path} is held by {who}: a bot is running on this data folder")
        self.path = path
        self.pid = pid


class DataLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> DataLock:
        """Take the lock now or raise :class:`LockedError` (never waits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(self.path, holder_pid(self.path)) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> DataLock:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()


def holder_pid(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text(encoding="ascii").strip() or 0) or None
    return None
