from __future__ import annotations

import re

import pytest

from rubric.cleaning import strip_closing, strip_pinyin, tidy
from rubric.errors import RubricError, RubricParseError
from rubric.importer import ImportResult, import_text
from rubric.registry import RubricRegistry
from rubric.script import to_simplified, to_traditional
from tests.shared_files import seed_document

SMALL = """物業(yè)評分細則
一、內(nèi)部管理
（一） 會議 (培訓)
1、按時召開會議(培訓),記錄項目(部門)情況 ;
2. 在 2025 年 2 月底前完成 “三公開” 公示欄；
二、其他業(yè)務(wù)
"""


@pytest.fixture(scope="module")
def seed_import() -> ImportResult:
    return import_text(seed_document().read_text(encoding="utf-8"))


def test_seed_has_two_editions_of_65_clauses(seed_import: ImportResult) -> None:
    assert [r.edition for r in seed_import.rubrics] == [1, 2]
    for rubric in seed_import.rubrics:
        assert rubric.id == "cs-supervision"
        assert rubric.title == "物业客户服务督导评分细则"
        assert len(rubric.clauses) == 65
        assert [s.label for s in rubric.sections] == ["一、内部管理", "二、现场管理", "三、其他业务"]
        one, two, three = rubric.sections
        assert [len(c.clauses) for c in one.categories] == [4, 5, 4, 4, 4, 4, 5, 3]
        assert [len(c.clauses) for c in two.categories] == [4, 3, 4, 3, 4, 3, 4, 3, 4]
        assert three.categories == ()
        assert {c.points for c in rubric.clauses} == {1}
        assert not any(c.veto or c.evidence_required is not None for c in rubric.clauses)
    assert seed_import.warnings == ()


def test_seed_texts_are_clean_simplified(seed_import: ImportResult) -> None:
    for rubric in seed_import.rubrics:
        texts = [rubric.title]
        texts += [s.title for s in rubric.sections] + [c.title for c in rubric.categories]
        texts += [c.text for c in rubric.clauses]
        for text in texts:
            assert not re.search("[A-Za-z]", text), text
            assert to_simplified(text) == text, text
            assert not re.search(r"\s", text), text
            assert not re.search(r"[;；,，。.、]$", text), text
            assert "（" not in text and "）" not in text, text


def test_seed_spot_checks(seed_import: ImportResult) -> None:
    first, second = seed_import.rubrics
    assert first.clause("1.1.4").text == "各类制度统一纳入项目(部门)档案/资料管理，实现系统化管理"
    assert first.clause("2.5.1").text == "建立空置房清册(2025年2月底完成)，全面掌握空置房信息"
    assert first.clause("2.8.1").text == "在街区建立“三公开”公示栏，打造信息公开平台"
    assert first.clause("2.2.3").text == "形成总结分析报告(结论)，为服务改进提供数据支持"
    assert second.category("1.4").label == "(四)会议(培训)"
    assert second.clause("2.5.1").text == "在2025年2月底前完成空置房清册的建立"
    assert second.clause("1.1.1").text.endswith("便于客户及员工查看知晓")


def test_bundled_editions_match_the_seed(seed_import: ImportResult) -> None:
    registry = RubricRegistry.load()
    assert registry.editions() == [1, 2]
    for rubric in seed_import.rubrics:
        bundled = registry.get(rubric.edition)
        assert bundled == rubric
        assert bundled.content_hash == rubric.content_hash


def test_small_document() -> None:
    result = import_text(SMALL, rubric_id="demo")
    (rubric,) = result.rubrics
    assert rubric.title == "物业评分细则"
    assert rubric.category("1.1").title == "会议(培训)"
    assert rubric.clause("1.1.1").text == "按时召开会议(培训)，记录项目(部门)情况"
    assert rubric.clause("1.1.2").text == "在2025年2月底前完成“三公开”公示栏"
    assert rubric.sections[1].label == "二、其他业务"
    assert rubric.sections[1].categories == ()
    assert result.annotations_removed == 4
    assert "1 edition(s) found" in result.summary()
    assert "二、其他业务: empty" in result.summary()


def test_keep_script_only_removes_noise() -> None:
    (rubric,) = import_text(SMALL, keep_script=True).rubrics
    assert rubric.title == "物業評分細則"
    assert rubric.clause("1.1.1").text == "按時召開會議(培訓)，記錄項目(部門)情況"


def test_editions_marker_and_repeated_title() -> None:
    text = "标题\n一、甲\n(一)乙\n1、丙\n篇2:标题\n标题\n一、甲\n(一)乙\n1、丁\n篇3：新标题\n一、甲\n(一)乙\n1、戊"
    rubrics = import_text(text).rubrics
    assert [(r.edition, r.title, r.clause("1.1.1").text) for r in rubrics] == [
        (1, "标题", "丙"),
        (2, "标题", "丁"),
        (3, "新标题", "戊"),
    ]


@pytest.mark.parametrize(
    ("text", "line_no", "message"),
    [
        ("", 1, "no rubric found"),
        ("标题\n一、甲\n1、丙", 3, "clause 1 comes before any category"),
        ("标题\n(一)乙", 2, "category (一) comes before any section"),
        ("标题\n一、甲\n(一)乙\n1、丙\n3、丁", 5, "expected clause 2, found 3"),
        ("标题\n一、甲\n三、丙", 3, "expected section 二、, found 三、"),
        ("标题\n一、甲\n(二)乙", 3, "expected category (一), found (二)"),
        ("标题\n一、甲\n(一)乙\n1、丙\n这一行不属于任何条款", 5, "expected a section"),
        ("标题\n副标题\n一、甲", 2, "unexpected text before the first section"),
        ("标题\n一、甲\n(一)乙\n1、 ;", 4, "clause 1 has no text"),
        ("标题\n一、\n(一)乙", 2, "section has no title"),
        ("标题\n一、甲\n(一)乙\n1、丙\n篇1:标题\n一、甲", 5, "edition 1 follows edition 1"),
        ("标题\n一、甲\n(一)乙\n1、丙\n篇2:标题\n一、甲", 5, "edition 2 has no clauses"),
        ("一、甲\n(一)乙\n1、丙", 1, "edition 1 has no title line"),
        ("标题\n一、甲\n(一)乙\n1、丙\n2、丙", 5, "clause 2 repeats clause 1"),
    ],
)
def test_unparseable_documents_name_the_line(text: str, line_no: int, message: str) -> None:
    with pytest.raises(RubricParseError) as caught:
        import_text(text)
    assert caught.value.line_no == line_no
    assert message in caught.value.message
    assert str(caught.value).startswith(f"line {line_no}: ")
    assert isinstance(caught.value, RubricError)
    assert not isinstance(caught.value, ImportError)


def test_leftover_latin_is_reported() -> None:
    result = import_text("标题\n一、甲\n(一)乙\n1、使用APP登记")
    assert result.warnings == ("line 4: Latin letters left in '1、使用APP登记'",)


@pytest.mark.parametrize(
    ("raw", "clean", "removed"),
    [
        ("物業(yè)服務(wù)", "物業服務", 2),
        ("項目(部門)", "項目(部門)", 0),
        ("結(jié)論", "結論", 1),
        ("報告(結(jié)論)", "報告(結論)", 1),
        ("使用(app)登记", "使用(app)登记", 0),  # no tone mark: real text
        ("(yè)開頭", "(yè)開頭", 0),  # not after a Han character
        ("創(chuàng)新", "創新", 1),
    ],
)
def test_strip_pinyin(raw: str, clean: str, removed: int) -> None:
    assert strip_pinyin(raw) == (clean, removed)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("项目 (部门) 档案 / 资料", "项目(部门)档案/资料"),
        ("项目（部门）", "项目(部门)"),
        ("在 2025 年 2 月底", "在2025年2月底"),
        ("建立 “三公开” 公示栏", "建立“三公开”公示栏"),
        ('建立 "三公开" 公示栏', "建立“三公开”公示栏"),
        ("「统一美观」", "“统一美观”"),
        ("完整,及时;规范:清楚", "完整，及时；规范：清楚"),
        ("共 1,000 元 10:30 开始", "共1,000元10:30开始"),
        ("通过 ISO 9001 认证", "通过ISO 9001认证"),
        ("１、全角数字", "1、全角数字"),
        ("好吗?", "好吗？"),
        ("  多余　空格  ", "多余空格"),
    ],
)
def test_tidy(raw: str, clean: str) -> None:
    assert tidy(raw) == clean


def test_tidy_keeps_corner_quotes_when_asked() -> None:
    assert tidy("「統一」", corner_quotes=False) == "「統一」"


@pytest.mark.parametrize(("raw", "clean"), [("查阅 ;", "查阅"), ("管理。", "管理"), ("记录；", "记录"), ("a.b", "a.b")])
def test_strip_closing(raw: str, clean: str) -> None:
    assert strip_closing(tidy(raw)) == clean


def test_script_conversion() -> None:
    assert to_traditional("物业客户服务督导评分细则") == "物業客戶服務督導評分細則"
    assert to_simplified("物業客戶服務督導評分細則") == "物业客户服务督导评分细则"
    assert to_traditional("") == ""
