from __future__ import annotations

import json
from pathlib import Path

import pytest

from rubric.errors import RubricValidationError
from rubric.loader import load_rubric
from rubric.model import Answer, Category, Clause, Rubric, ScoringSettings, Section
from rubric.numerals import from_chinese, to_chinese
from rubric.registry import RubricRegistry

CUSTOM = Path(__file__).parent / "fixtures" / "rubric_custom.yaml"


@pytest.fixture(scope="module")
def bundled() -> Rubric:
    return RubricRegistry.load().get(1)


def test_answer_codes_and_labels() -> None:
    assert [a.value for a in Answer] == ["ok", "partial", "fail", "na"]
    assert [a.label for a in Answer] == ["符合", "基本符合", "不符合", "不适用"]
    assert Answer("partial") is Answer.PARTIAL
    assert Answer.parse("基本符合") is Answer.PARTIAL
    assert Answer.parse(" FAIL ") is Answer.FAIL
    assert Answer.parse("不適用") is Answer.NA
    assert Answer.PARTIAL.is_finding and Answer.FAIL.is_finding
    assert not Answer.OK.is_finding and not Answer.NA.is_finding
    with pytest.raises(ValueError):
        Answer.parse("maybe")


@pytest.mark.parametrize(
    ("number", "numeral"),
    [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (20, "二十"), (35, "三十五"), (99, "九十九")],
)
def test_chinese_numerals_round_trip(number: int, numeral: str) -> None:
    assert to_chinese(number) == numeral
    assert from_chinese(numeral) == number


@pytest.mark.parametrize("bad", ["", "零", "十十", "一二", "三百", "a"])
def test_bad_chinese_numerals(bad: str) -> None:
    with pytest.raises(ValueError):
        from_chinese(bad)


def test_ids_codes_and_labels(bundled: Rubric) -> None:
    clause = bundled.clause("2.3.4")
    assert clause.code == "二(三)4"
    assert clause.text == "实施专人管理，严格控制钥匙借出，不得随意借出"
    category = bundled.category_of("2.3.4")
    assert (category.id, category.code, category.label) == ("2.3", "二(三)", "(三)钥匙管理")
    section = bundled.section_of("2.3.4")
    assert (section.id, section.label) == ("2", "二、现场管理")
    assert bundled.sections[2].label == "三、其他业务"


def test_lookups(bundled: Rubric) -> None:
    assert len(bundled.clauses) == 65
    assert bundled.clauses[0].id == "1.1.1"
    assert bundled.clauses[-1].code == "二(九)4"
    assert bundled.clause_by_code("二（三） 4").id == "2.3.4"
    assert bundled.find_clause("2.3.4") == bundled.find_clause("二(三)4")
    assert bundled.find_clause("九(九)9") is None
    assert bundled.index_of("1.1.1") == 0
    assert bundled.index_of("2.1.1") == 33
    assert bundled.position_in_category("2.3.3") == (3, 4)
    assert bundled.next_clause("1.1.4").id == "1.2.1"
    assert bundled.next_clause("2.9.4") is None
    assert bundled.previous_clause("1.1.1") is None
    assert bundled.previous_clause("2.1.1").id == "1.8.3"
    assert bundled.total_points == 65
    with pytest.raises(KeyError):
        bundled.clause("9.9.9")
    with pytest.raises(KeyError):
        bundled.clause_by_code("二(三)9")


def test_dict_round_trip_keeps_equality_and_hash(bundled: Rubric) -> None:
    data = json.loads(json.dumps(bundled.to_dict(), ensure_ascii=False))  # as stored in a database
    again = Rubric.from_dict(data, expected_hash=bundled.content_hash)
    assert again == bundled
    assert again.content_hash == bundled.content_hash
    assert len(bundled.content_hash) == 16


def test_from_dict_refuses_a_snapshot_with_another_hash(bundled: Rubric) -> None:
    data = bundled.to_dict()
    data["sections"][0]["categories"][0]["clauses"][0] = "改过的条款"
    with pytest.raises(RubricValidationError, match="content hash"):
        Rubric.from_dict(data, expected_hash=bundled.content_hash)


def test_hash_changes_with_any_content(bundled: Rubric) -> None:
    data = bundled.to_dict()
    data["sections"][1]["categories"][2]["clauses"][3] = {"text": bundled.clause("2.3.4").text, "points": 2}
    assert Rubric.from_dict(data).content_hash != bundled.content_hash
    data = bundled.to_dict()
    data["scoring"]["answers"]["partial"] = 0.4
    assert Rubric.from_dict(data).content_hash != bundled.content_hash


def test_integral_points_hash_alike() -> None:
    def rubric(points: float) -> Rubric:
        clause = Clause(1, 1, 1, "条款", points)
        return Rubric("x", 1, "t", (Section(1, "s", (Category(1, 1, "c", (clause,)),)),))

    assert rubric(2).content_hash == rubric(2.0).content_hash
    assert rubric(2).content_hash != rubric(2.5).content_hash


def test_custom_rubric_round_trips_with_flags_numbers_and_budget() -> None:
    custom = load_rubric(CUSTOM)
    assert [c.id for c in custom.clauses] == ["1.1.1", "1.1.2", "1.1.3", "1.3.1", "1.3.2", "2.1.1", "2.1.2"]
    assert custom.clause("1.3.2").code == "一(三)2"
    assert custom.clause("1.1.1").veto
    assert custom.category("1.3").budget == 5
    data = custom.to_dict()
    assert data["sections"][0]["categories"][1]["number"] == 3
    assert data["sections"][0]["categories"][0]["clauses"][2] == "消防栓标识清晰"
    assert Rubric.from_dict(data) == custom


def test_evidence_default_and_override() -> None:
    custom = load_rubric(CUSTOM)
    assert custom.scoring.evidence_required is False
    assert custom.evidence_required_for(custom.clause("1.1.2")) is True
    assert custom.evidence_required_for(custom.clause("1.1.3")) is False


def test_structure_must_agree_with_numbers() -> None:
    misfiled = Clause(1, 2, 1, "条款")
    with pytest.raises(ValueError, match="filed under"):
        Rubric("x", 1, "t", (Section(1, "s", (Category(1, 1, "c", (misfiled,)),)),))
    twice = (Clause(1, 1, 1, "a"), Clause(1, 1, 1, "b"))
    with pytest.raises(ValueError, match="increase"):
        Rubric("x", 1, "t", (Section(1, "s", (Category(1, 1, "c", twice),)),))


def test_scoring_fractions() -> None:
    settings = ScoringSettings()
    assert [settings.fraction(a) for a in Answer] == [1.0, 0.5, 0.0, None]
    assert settings.failing_grade == "不合格"
