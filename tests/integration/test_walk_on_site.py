"""The walk as an inspector on site really uses it (issue #13): the natural move, not the expected one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from rubric.model import Answer
from tests.conftest import BotUnderTest, make_settings, running_bot
from tests.harness.botapi import FakeBotAPI
from tests.harness.driver import Person
from tests.harness.media import make_png
from tests.integration.test_inspection_walk import INSPECTOR, LABELS, answers_in_db, draft_id, inspector, start_walk

BUNDLED_V2 = Path(__file__).parents[2] / "rubric" / "editions" / "cs-supervision.v2.yaml"


def live_cards(person: Person) -> list:
    """Messages that still carry answer buttons: there must be one per inspection."""
    return [m for m in person.messages if any(b.endswith("符合") or b.endswith("不适用") for b in m.buttons)]


async def photos_of(bot: BotUnderTest, clause_id: str) -> int:
    return await bot.services.db.fetchval("SELECT COUNT(*) FROM photos WHERE clause_id = ?", (clause_id,))


async def test_the_photo_button_then_a_photo_moves_the_walk_on(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    first = live_cards(person)[-1]
    await person.press(LABELS[Answer.PARTIAL], first.message_id)
    await person.wait_text("需要证据")
    query = await person.press("📷 照片", first.message_id)
    assert "请发送 一(一)1 的照片" in (await person.wait_callback_answer(query)).text
    await person.send_photo(make_png(seed=1))
    card = await person.wait_text("总 2/65")
    assert "📷 已为 一(一)1 保存照片（共 1 张） · 基本符合" in card.text
    await bot.api.idle()
    old = bot.api.message(INSPECTOR, first.message_id)
    assert old.text.startswith("🟡 一(一)1 基本符合 · 📷 1") and not old.buttons
    assert len(live_cards(person)) == 1


async def test_the_note_button_then_a_note_moves_the_walk_on(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    first = live_cards(person)[-1]
    await person.press(LABELS[Answer.FAIL], first.message_id)
    await person.wait_text("需要证据")
    await person.press("📝 备注", first.message_id)
    await person.send_text("制度没有公示")
    card = await person.wait_text("总 2/65")
    assert "📝 已为 一(一)1 保存备注（共 1 条） · 不符合" in card.text
    await bot.api.idle()
    assert len(live_cards(person)) == 1


async def test_more_photos_join_the_finding_until_the_next_tap(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    await person.press(LABELS[Answer.PARTIAL], live_cards(person)[-1].message_id)
    await person.wait_text("需要证据")
    await person.send_photo(make_png(seed=1))
    card = await person.wait_text("总 2/65")
    sent = len(bot.api.calls("sendMessage"))
    await person.send_photo(make_png(seed=2))  # a second picture of the same defect
    edited = await person.wait_text("共 2 张")
    assert edited.message_id == card.message_id and len(bot.api.calls("sendMessage")) == sent
    assert await photos_of(bot, "1.1.1") == 2
    await person.press(LABELS[Answer.OK], card.message_id)  # the next tap ends that burst
    await person.wait_text("总 3/65")
    await person.send_photo(make_png(seed=3))
    await person.wait_text("已为 一(一)3 保存照片")
    assert await photos_of(bot, "1.1.3") == 1 and await photos_of(bot, "1.1.1") == 2


async def test_an_album_is_confirmed_on_the_card_that_comes_last(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    await person.press(LABELS[Answer.FAIL], live_cards(person)[-1].message_id)
    await person.wait_text("需要证据")
    await person.send_album([make_png(seed=4), make_png(seed=5)], "两处破损")
    await person.wait_until(lambda messages: "共 2 张" in person.last_message.text, 8)
    await bot.api.idle()
    last = person.last_message
    assert "总 2/65" in last.text and "共 2 张" in last.text and last.buttons
    assert await photos_of(bot, "1.1.1") == 2
    assert len(live_cards(person)) == 1


async def test_back_and_the_outline_leave_one_live_card(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    await person.press(LABELS[Answer.OK], live_cards(person)[-1].message_id)
    await person.wait_text("总 2/65")
    await person.press("↩ 上一条")
    await person.wait_text("已答：符合")
    await person.press("☰ 目录")
    await person.press("二(三) 钥匙管理 0/4", (await person.wait_text("点类别可跳转")).message_id)
    card = await person.wait_text("总 41/65")
    await bot.api.idle()
    assert [m.message_id for m in live_cards(person)] == [card.message_id]
    # The card that stopped being live reads as the record of the clause it showed.
    assert any(m.text.startswith("✅ 一(一)1 符合") and not m.buttons for m in person.messages)


async def test_the_answers_sit_nearest_the_thumb_and_a_paused_card_keeps_continue(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    card = live_cards(person)[-1]
    rows = [[b["text"] for b in row] for row in card.reply_markup["inline_keyboard"]]
    assert rows[-2:] == [["✅ 符合", "🟡 基本符合"], ["❌ 不符合", "➖ 不适用"]]
    await person.press("⏸ 暂停", card.message_id)
    paused = await person.wait_text("已暂停")
    assert paused.buttons == ["▶ 继续"]
    await person.press("▶ 继续", paused.message_id)
    resumed = await person.wait_text("总 1/65")
    assert resumed.message_id == card.message_id and len(live_cards(person)) == 1


async def test_a_note_goes_to_the_card_last_tapped_and_names_its_site(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园", "翠湖天地")
    await start_walk(person, "阳光花园")
    garden = live_cards(person)[-1]
    await start_walk(person, "翠湖天地")
    lake = live_cards(person)[-1]
    # Taps on both cards within the same second; the note belongs to the card tapped last.
    await person.press(LABELS[Answer.OK], lake.message_id)
    await person.press(LABELS[Answer.OK], garden.message_id)
    await person.wait_text("阳光花园\n一、内部管理 › (一)制度建设 · 2/4")
    await person.send_text("前台整洁")
    noted = await person.wait_text("保存备注")
    assert "已为 阳光花园 一(一)2 保存备注" in noted.text
    garden_id = await bot.services.db.fetchval("SELECT id FROM inspections WHERE site_id = 1")
    notes = await bot.services.db.fetchall("SELECT inspection_id, clause_id FROM notes")
    assert [(n["inspection_id"], n["clause_id"]) for n in notes] == [(garden_id, "1.1.2")]


async def test_the_default_edition_starts_and_the_outline_offers_the_other(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await person.send_command("inspect")
    await person.press("阳光花园", (await person.wait_text("请选择要督导的项目")).message_id)
    outline = await person.wait_text("（第 2 版）")
    assert "🔁 改用第 1 版评分细则" in outline.buttons
    await person.press("🔁 改用第 1 版评分细则", outline.message_id)
    await person.wait_text("（第 1 版）")
    card = await person.wait_text("总 1/65")
    await bot.api.idle()
    assert await bot.services.db.fetchval("SELECT edition FROM inspections") == 1
    assert len(live_cards(person)) == 1
    await person.press(LABELS[Answer.OK], card.message_id)
    await person.wait_text("总 2/65")
    query = await person.press_data(f"ie:{await draft_id(bot)}:2", outline.message_id)
    assert "已经开始作答" in (await person.wait_callback_answer(query)).text
    assert await bot.services.db.fetchval("SELECT edition FROM inspections") == 1


async def test_review_and_result_group_scores_by_section(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    await person.press(LABELS[Answer.OK], live_cards(person)[-1].message_id)
    await person.press("☰ 目录", (await person.wait_text("总 2/65")).message_id)
    await person.press("二(一) 客户投诉管理 0/4", (await person.wait_text("点类别可跳转")).message_id)
    await person.press(LABELS[Answer.OK], (await person.wait_text("总 34/65")).message_id)
    await person.press("☰ 目录", (await person.wait_text("总 35/65")).message_id)
    await person.press("📋 复核并提交", (await person.wait_text("点类别可跳转")).message_id)
    review = await person.wait_text("复核")
    assert "<b>一、内部管理</b> 100.0%\n　(一)制度建设 100.0%" in review.raw_text
    assert "<b>二、现场管理</b> 100.0%\n　(一)客户投诉管理 100.0%" in review.raw_text


@pytest_asyncio.fixture
async def strict_rubric_bot(botapi: FakeBotAPI, tmp_path: Path, clock) -> AsyncIterator[BotUnderTest]:
    """Edition 2 as a company might configure it: 不适用 needs a reason, at least 60% coverage."""
    folder = tmp_path / "rubrics"
    folder.mkdir()
    text = BUNDLED_V2.read_text(encoding="utf-8")
    text = text.replace(
        "  evidence_required: true\n", "  evidence_required: true\n  na_reason_required: true\n  min_coverage: 60\n", 1
    )
    (folder / "cs-supervision.v2.yaml").write_text(text, encoding="utf-8")
    async with running_bot(
        botapi, make_settings(botapi, tmp_path / "data", rubric_dirs=(folder,)), clock
    ) as under_test:
        yield under_test


async def test_na_needs_a_reason_where_the_rubric_says_so(strict_rubric_bot: BotUnderTest) -> None:
    bot = strict_rubric_bot
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    card = live_cards(person)[-1]
    await person.press(LABELS[Answer.NA], card.message_id)
    assert "“不适用”需要说明原因" in (await person.wait_text("需要说明原因")).text
    await person.send_text("本项目没有公示栏")
    await person.wait_text("总 2/65")
    assert (await answers_in_db(bot, await draft_id(bot)))["1.1.1"] == "na"


async def test_a_mostly_empty_inspection_is_marked_incomplete_for_managers(strict_rubric_bot: BotUnderTest) -> None:
    bot = strict_rubric_bot
    person, _ = await inspector(bot, "阳光花园")
    await bot.add_person(6001, "manager", "品质部经理")
    manager = bot.api.person(6001, "Quality Manager", language_code="en")
    await manager.send_command("start")
    await manager.wait_reply()
    await start_walk(person, "阳光花园")
    await person.press(LABELS[Answer.OK], live_cards(person)[-1].message_id)
    await person.press("☰ 目录", (await person.wait_text("总 2/65")).message_id)
    await person.press("📋 复核并提交", (await person.wait_text("点类别可跳转")).message_id)
    await person.press("➖ 未答条款记为不适用并提交", (await person.wait_text("未答 64 条")).message_id)
    confirm = await person.wait_text("确认把它们")
    assert "低于评分细则要求的 60%" in confirm.text
    await person.press("✅ 确认：未答记为不适用并提交", confirm.message_id)
    result = await person.wait_text("总分")
    assert "100.0%" in result.text and "⚠️ 覆盖不足" in result.text
    notice = await manager.wait_text("submitted the inspection")
    assert "100.0% · Excellent" in notice.text and "1/65 applicable" in notice.text and "incomplete" in notice.text
    row = await bot.services.db.fetchone("SELECT answered_count, na_count, clause_count, incomplete FROM inspections")
    assert tuple(row) == (1, 64, 65, 1)
