from __future__ import annotations

from pathlib import Path

import pytest

from rubric.errors import RubricLoadError
from rubric.loader import dump_yaml, load_rubric
from rubric.model import Rubric
from rubric.registry import RubricRegistry

CUSTOM = Path(__file__).parent / "fixtures" / "rubric_custom.yaml"


def reworded(rubric: Rubric, text: str) -> Rubric:
    data = rubric.to_dict()
    data["sections"][0]["categories"][0]["clauses"][0] = text
    return Rubric.from_dict(data)


def test_bundled_editions() -> None:
    registry = RubricRegistry.load()
    assert registry.rubric_ids() == ["cs-supervision"]
    assert registry.editions() == [1, 2]
    assert registry.get().edition == 2
    assert registry.latest() is registry.get(2)
    first = registry.get(1)
    assert registry.by_hash(first.content_hash) is first
    assert len(registry.versions()) == 2
    with pytest.raises(KeyError, match="no edition 7"):
        registry.get(7)
    with pytest.raises(KeyError, match="no rubric with content hash"):
        registry.by_hash("0" * 16)
    assert registry.find_by_hash("0" * 16) is None


def test_extra_dir_replaces_an_edition_but_old_version_stays_resolvable(tmp_path: Path) -> None:
    bundled = RubricRegistry.load().get(2)
    edited = reworded(bundled, "公司修改过的条款")
    (tmp_path / "cs-supervision.v2.yaml").write_text(dump_yaml(edited), encoding="utf-8")
    registry = RubricRegistry.load([tmp_path])
    assert registry.get(2) == edited
    assert registry.get(2).clause("1.1.1").text == "公司修改过的条款"
    assert registry.by_hash(bundled.content_hash) == bundled  # inspections made before the edit
    assert registry.by_hash(edited.content_hash) == edited
    assert len(registry.versions()) == 3


def test_extra_dir_may_add_editions_and_rubrics(tmp_path: Path) -> None:
    data = RubricRegistry.load().get(2).to_dict()
    data["edition"] = 3
    (tmp_path / "v3.yaml").write_text(dump_yaml(Rubric.from_dict(data)), encoding="utf-8")
    (tmp_path / "custom.yaml").write_text(CUSTOM.read_text(encoding="utf-8"), encoding="utf-8")
    registry = RubricRegistry.load([str(tmp_path)])
    assert registry.rubric_ids() == ["cs-supervision", "safety-walk"]
    assert registry.editions("cs-supervision") == [1, 2, 3]
    assert registry.get(rubric_id="cs-supervision").edition == 3
    assert registry.get(3, "safety-walk").title == "安全巡查评分表"
    with pytest.raises(KeyError, match="several rubrics"):
        registry.get(1)


def test_two_files_for_one_edition_in_one_dir_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(CUSTOM.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(CUSTOM.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(RubricLoadError, match=r"b\.yaml: safety-walk edition 3 is also defined in .*a\.yaml"):
        RubricRegistry.load([tmp_path])


def test_missing_extra_dir(tmp_path: Path) -> None:
    with pytest.raises(RubricLoadError, match="not a directory"):
        RubricRegistry.load([tmp_path / "nope"])


def test_snapshots_are_remembered_without_becoming_current() -> None:
    registry = RubricRegistry.load()
    snapshot = Rubric.from_dict(reworded(registry.get(1), "旧版本条款").to_dict())
    registry.remember(snapshot)
    assert registry.by_hash(snapshot.content_hash) == snapshot
    assert registry.get(1).clause("1.1.1").text != "旧版本条款"


def test_registry_from_objects() -> None:
    custom = load_rubric(CUSTOM)
    registry = RubricRegistry([custom])
    assert registry.get() is custom
    assert RubricRegistry().rubric_ids() == []
    with pytest.raises(KeyError):
        RubricRegistry().get()
