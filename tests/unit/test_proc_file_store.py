"""FileStore.put under concurrency: the same bytes stored from many threads at once."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storage.files import FileStore


def test_many_threads_storing_the_same_bytes_all_succeed(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    data = b"photo" * 200_000  # 1 MB: the writes overlap
    start = threading.Barrier(16)

    def put() -> str:
        start.wait()
        return store.put(data)

    for _ in range(5):
        with ThreadPoolExecutor(16) as pool:
            digests = list(pool.map(lambda _: put(), range(16)))
        assert set(digests) == {hashlib.sha256(data).hexdigest()}
        assert store.get(digests[0]) == data
        store.path_of(digests[0]).unlink()  # the next round writes again instead of finding it there
    leftovers = [p.name for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert leftovers == []


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileStore(tmp_path / "files")

    def broken_fsync(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("storage.files.os.fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        store.put(b"evidence")
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []
