from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from rubric.errors import RubricLoadError, RubricValidationError
from rubric.loader import dump_yaml, load_rubric, load_rubric_text
from rubric.model import Rubric
from rubric.validator import validate_document

CUSTOM = Path(__file__).parent / "fixtures" / "rubric_custom.yaml"

MINIMAL: dict[str, Any] = {
    "id": "demo",
    "edition": 1,
    "title": "演示",
    "sections": [
        {
            "title": "内部管理",
            "categories": [{"title": "制度建设", "clauses": ["第一条", "第二条", {"text": "第三条", "points": 2}]}],
        }
    ],
}


def issues_of(document: Any) -> list[str]:
    return [str(issue) for issue in validate_document(document, "demo.yaml")]


def changed(**path_values: Any) -> dict[str, Any]:
    """MINIMAL with keys replaced: clause_N (0-based, first category), scoring_KEY, or a top key."""
    doc = copy.deepcopy(MINIMAL)
    for path, value in path_values.items():
        if path.startswith("clause_"):
            doc["sections"][0]["categories"][0]["clauses"][int(path[7:])] = value
        elif path.startswith("scoring_"):
            doc.setdefault("scoring", {})[path[8:]] = value
        else:
            doc[path] = value
    return doc


def test_minimal_document_is_valid() -> None:
    assert issues_of(MINIMAL) == []


def test_error_names_file_clause_and_problem() -> None:
    (issue,) = issues_of(changed(clause_1=""))
    assert issue == "demo.yaml: clause 一(一)2: clause text is empty"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (changed(clause_2={"text": "第三条", "points": -1}), "clause 一(一)3: points must be a number from 0 up"),
        (changed(clause_2={"text": "第三条", "points": "two"}), "points must be a number"),
        (changed(clause_2={"text": "第三条", "points": True}), "points must be a number"),
        (changed(clause_2={"text": "第三条", "pionts": 2}), "unknown key 'pionts' (did you mean 'points'?)"),
        (changed(clause_2={"text": "第三条", "veto": "yes please"}), "veto must be true or false"),
        (
            changed(clause_2={"text": "第三条", "veto": True, "evidence_required": False}),
            "a veto clause must keep evidence",
        ),
        (changed(clause_1="第一条"), "clause 一(一)2: same text as clause 一(一)1"),
        (changed(clause_2={"number": 2, "text": "第三条"}), "duplicate clause number 2"),
        (changed(clause_2={"number": 1, "text": "第三条"}), "clause number 1 comes after 2"),
        (changed(clause_2=42), "clause 3: expected a mapping"),
        (changed(id="has space"), "id: must be letters, digits"),
        (changed(edition=0), "edition: must be a whole number from 1 up"),
        (changed(title=""), "title: title is empty"),
        (changed(colour="blue"), "unknown key 'colour'"),
        (changed(sections=[]), "the rubric has no sections"),
        (changed(sections=[{"title": "空", "categories": []}]), "the rubric has no clauses"),
        (changed(scoring_mode="average"), "scoring.mode: must be one of percentage, deduction"),
        (changed(scoring_answers={"ok": 0.9}), "符合 always earns the full points"),
        (changed(scoring_answers={"na": 0}), "不适用 is left out of the score"),
        (changed(scoring_answers={"partial": 1.5}), "scoring.answers.partial: must be a number from 0 to 1"),
        (changed(scoring_answers={"partial": 0.2, "fail": 0.3}), "may not earn more than 基本符合"),
        (changed(scoring_evidence_required="often"), "must be true or false"),
        (changed(scoring_category_budget=0), "budget must be a number above 0"),
        (changed(scoring_grades=[]), "at least one grade band"),
        (
            changed(scoring_grades=[{"label": "好", "min": 80}, {"label": "差", "min": 90}]),
            "min 90 must be below the band before it",
        ),
        (changed(scoring_grades=[{"label": "好", "min": 80}, {"label": "差", "min": 10}]), "last band must have min 0"),
        (changed(scoring_grades=[{"label": "好", "min": 80}, {"label": "好", "min": 0}]), "used twice"),
        (changed(scoring_grades=[{"label": "好", "min": 180}, {"label": "差", "min": 0}]), "from 0 to 100"),
    ],
)
def test_problems_are_reported(document: dict[str, Any], expected: str) -> None:
    issues = issues_of(document)
    assert any(expected in issue for issue in issues), issues
    assert all(issue.startswith("demo.yaml") for issue in issues)


def test_every_problem_is_reported_at_once() -> None:
    doc = changed(clause_0="", clause_2={"text": "x", "points": -2}, edition="one")
    assert len(issues_of(doc)) == 3


def test_missing_keys() -> None:
    issues = issues_of({"id": "demo"})
    assert {"demo.yaml: missing key 'edition'", "demo.yaml: missing key 'title'"} <= set(issues)


def test_not_a_mapping() -> None:
    (issue,) = issues_of(["a", "list"])
    assert "expected a mapping" in issue


def test_duplicate_yaml_keys_are_refused() -> None:
    text = "id: demo\nedition: 1\nedition: 2\ntitle: t\nsections: []\n"
    with pytest.raises(RubricValidationError, match=r"x\.yaml: line 3: .*duplicate key 'edition'"):
        load_rubric_text(text, "x.yaml")


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(RubricValidationError, match=r"x\.yaml: line 2: not valid YAML"):
        load_rubric_text("id: demo\n  edition: [1\n", "x.yaml")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RubricLoadError, match="cannot read"):
        load_rubric(tmp_path / "absent.yaml")


def test_loading_reports_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "id: demo\nedition: 1\ntitle: t\nsections:\n  - title: s\n    categories:\n"
        "      - title: c\n        clauses: ['']\n",
        encoding="utf-8",
    )
    with pytest.raises(RubricValidationError) as caught:
        load_rubric(path)
    assert str(caught.value) == f"{path}: clause 一(一)1: clause text is empty"


def test_dump_and_load_round_trip() -> None:
    custom = load_rubric(CUSTOM)
    text = dump_yaml(custom, "generated\nby a test")
    assert text.startswith("# generated\n# by a test\nid: safety-walk\n")
    assert load_rubric_text(text) == custom


def test_dump_keeps_clauses_on_one_line() -> None:
    long_text = "很长的条款" * 60
    doc = changed(clause_0=long_text)
    rubric = Rubric.from_dict(doc)
    assert f"- {long_text}\n" in dump_yaml(rubric)


def test_defaults_are_filled_in() -> None:
    rubric = Rubric.from_dict(MINIMAL)
    assert rubric.scoring.partial_fraction == 0.5
    assert [band.label for band in rubric.scoring.grades] == ["优秀", "良好", "合格", "不合格"]
    assert rubric.clause("1.1.3").points == 2
    assert rubric.clause("1.1.1").points == 1
