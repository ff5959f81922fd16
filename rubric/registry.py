"""Every rubric version the bot knows: the current file of each edition, and old snapshots by hash.

``RubricRegistry.load()`` reads the editions bundled with the package (``rubric/editions/*.yaml``),
then each extra directory in turn; a later file of the same ``(id, edition)`` becomes that
edition's current version (so a company's hand-edited file replaces the bundled one), while every
version stays resolvable through :meth:`RubricRegistry.by_hash`. Two files for one edition in the
same directory are an error: which one is meant cannot be guessed.

Snapshots loaded back from the database join with :meth:`RubricRegistry.remember`, so an
inspection is always scored against the exact rubric it was walked with.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from rubric.errors import RubricLoadError
from rubric.loader import load_rubric, load_rubric_text
from rubric.model import Rubric

BUNDLED_PACKAGE = "rubric"
BUNDLED_DIR = "editions"


class RubricRegistry:
    def __init__(self, rubrics: Iterable[Rubric] = ()) -> None:
        self._current: dict[tuple[str, int], Rubric] = {}
        self._by_hash: dict[str, Rubric] = {}
        for rubric in rubrics:
            self.add(rubric)

    @classmethod
    def load(cls, extra_dirs: Iterable[str | Path] = ()) -> RubricRegistry:
        """Bundled editions, then those in ``extra_dirs`` (later ones win, per edition)."""
        registry = cls()
        registry._add_layer(_bundled_rubrics())
        for directory in extra_dirs:
            directory = Path(directory)
            if not directory.is_dir():
                raise RubricLoadError(f"{directory}: not a directory")
            registry._add_layer((str(path), load_rubric(path)) for path in sorted(directory.glob("*.yaml")))
        return registry

    def _add_layer(self, named: Iterable[tuple[str, Rubric]]) -> None:
        seen: dict[tuple[str, int], str] = {}
        for name, rubric in named:
            key = (rubric.id, rubric.edition)
            if key in seen:
                raise RubricLoadError(f"{name}: {rubric.id} edition {rubric.edition} is also defined in {seen[key]}")
            seen[key] = name
            self.add(rubric)

    def add(self, rubric: Rubric) -> None:
        """Make ``rubric`` its edition's current version (earlier versions stay known by hash)."""
        self._current[(rubric.id, rubric.edition)] = rubric
        self.remember(rubric)

    def remember(self, rubric: Rubric) -> None:
        """Know a version by its hash without making it current, e.g. a stored snapshot."""
        self._by_hash.setdefault(rubric.content_hash, rubric)

    def rubric_ids(self) -> list[str]:
        return sorted({rubric_id for rubric_id, _ in self._current})

    def editions(self, rubric_id: str | None = None) -> list[int]:
        rubric_id = self._resolve_id(rubric_id)
        return sorted(edition for rid, edition in self._current if rid == rubric_id)

    def get(self, edition: int | None = None, rubric_id: str | None = None) -> Rubric:
        """The current version of an edition (the newest edition when None); KeyError if unknown.

        ``rubric_id`` may be left out while the registry holds a single rubric id.
        """
        rubric_id = self._resolve_id(rubric_id)
        if edition is None:
            editions = self.editions(rubric_id)
            if not editions:
                raise KeyError(f"no editions of rubric {rubric_id!r}")
            edition = editions[-1]
        try:
            return self._current[(rubric_id, edition)]
        except KeyError:
            raise KeyError(f"rubric {rubric_id!r} has no edition {edition}") from None

    def latest(self, rubric_id: str | None = None) -> Rubric:
        return self.get(None, rubric_id)

    def by_hash(self, content_hash: str) -> Rubric:
        """Any version seen since the registry was built; KeyError if none has this hash."""
        try:
            return self._by_hash[content_hash]
        except KeyError:
            raise KeyError(f"no rubric with content hash {content_hash!r}") from None

    def find_by_hash(self, content_hash: str) -> Rubric | None:
        return self._by_hash.get(content_hash)

    def versions(self) -> list[Rubric]:
        """Every known version, current or not."""
        return list(self._by_hash.values())

    def _resolve_id(self, rubric_id: str | None) -> str:
        if rubric_id is not None:
            return rubric_id
        ids = self.rubric_ids()
        if len(ids) != 1:
            raise KeyError(f"several rubrics are loaded ({', '.join(ids)}): say which" if ids else "no rubrics")
        return ids[0]


def _bundled_rubrics() -> list[tuple[str, Rubric]]:
    folder = resources.files(BUNDLED_PACKAGE) / BUNDLED_DIR
    rubrics = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            name = f"{BUNDLED_PACKAGE}/{BUNDLED_DIR}/{entry.name}"
            rubrics.append((name, load_rubric_text(entry.read_text(encoding="utf-8"), name)))
    return rubrics
