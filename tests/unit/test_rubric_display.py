from __future__ import annotations

from pathlib import Path

import pytest

from rubric.display import (
    clause_heading,
    diff_text,
    format_number,
    format_percent,
    format_score,
    mark_changes,
    outline_text,
    report_text,
    scoring_text,
)
from rubric.loader import load_rubric
from rubric.model import Answer, Rubric, ScoringMode
from rubric.registry import RubricRegistry
from rubric.scoring import Score, score_inspection

CUSTOM = Path(__file__).parent / "fixtures" / "rubric_custom.yaml"


@pytest.fixture(scope="module")
def custom() -> Rubric:
    return load_rubric(CUSTOM)


@pytest.mark.parametrize(
    ("value", "text"), [(1, "1"), (1.0, "1"), (0.5, "0.5"), (2.345, "2.35"), (65, "65"), (10.5, "10.5")]
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


def test_format_percent_and_score() -> None:
    assert format_percent(None) == "—"
    assert format_percent(100.0) == "100%"
    assert format_percent(83.3333) == "83.3%"
    assert format_score(Score(12.5, 15)) == "12.5/15 (83.3%)"
    assert format_score(Score(0, 0)) == "—"


@pytest.mark.parametrize(
    ("old", "new", "marked_old", "marked_new"),
    [
        ("相同的文字", "相同的文字", "相同的文字", "相同的文字"),
        ("有完善的制度", "制定完善的制度", "[-有-]完善的制度", "{+制定+}完善的制度"),
        ("归档及时，流程规范", "归档流程规范", "归档[-及时，-]流程规范", "归档流程规范"),
        ("便于查阅", "便于查阅和分析", "便于查阅", "便于查阅{+和分析+}"),
        # The lone shared 的 is absorbed into the change instead of splitting it in two.
        ("甲乙的丙丁戊己", "子丑的寅卯戊己", "[-甲乙的丙丁-]戊己", "{+子丑的寅卯+}戊己"),
    ],
)
def test_mark_changes(old: str, new: str, marked_old: str, marked_new: str) -> None:
    assert mark_changes(old, new) == (marked_old, marked_new)


def test_mark_changes_keeps_every_character() -> None:
    old, new = "定期作好季度信息统计分析，总结需求规律", "每个季度对受理的信息进行统计分析，总结问题和经验"
    marked_old, marked_new = mark_changes(old, new)
    strip = str.maketrans("", "", "[]{}+-")
    assert marked_old.translate(strip) == old
    assert marked_new.translate(strip) == new


def test_clause_heading() -> None:
    rubric = RubricRegistry.load().get(1)
    assert clause_heading(rubric, "2.3.3") == "二(三)3 钥匙管理 3/4"


def test_scoring_text(custom: Rubric) -> None:
    text = scoring_text(custom.scoring)
    assert text.startswith("计分：百分制；符合 1，基本符合 0.6，不符合 0，不适用 不计")
    assert "等级：A≥85 B≥60 C；不强制证据" in text


def test_outline_brief(custom: Rubric) -> None:
    text = outline_text(custom, clauses=False)
    assert "安全巡查评分表 第3版（safety-walk，7条，10.5分" in text
    assert "消防通道" not in text


def test_report_text_with_veto(custom: Rubric) -> None:
    answers = {c.id: Answer.OK for c in custom.clauses} | {"1.1.1": Answer.FAIL, "2.1.2": Answer.NA}
    text = report_text(custom, score_inspection(custom, answers))
    lines = text.splitlines()
    assert lines[0] == "总分：5.5/9.5 (57.9%)  等级：C"
    assert lines[1] == "否决项不符合：一(一)1"
    assert "  (一)消防设施：3/7 (42.9%)" in lines
    assert "  一(一)1 不符合：消防通道畅通无堵塞" in lines


def test_report_text_partial_walk(custom: Rubric) -> None:
    text = report_text(custom, score_inspection(custom, {"1.1.3": Answer.OK}))
    assert "  (三)消防演练：—" in text.splitlines()
    assert text.endswith("未作答：6条")


def test_diff_reports_scoring_changes(custom: Rubric) -> None:
    import dataclasses

    deduction = dataclasses.replace(custom, scoring=dataclasses.replace(custom.scoring, mode=ScoringMode.DEDUCTION))
    text = diff_text(custom, deduction)
    assert "计分设置" in text and "扣分制" in text
    assert "改动0条，相同7条" in text
