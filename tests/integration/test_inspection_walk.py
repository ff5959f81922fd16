"""The inspection walk through the real Application and the Bot API stand-in."""

from __future__ import annotations

import pytest

from rubric.model import Answer
from rubric.scoring import score_inspection
from tests.conftest import BotUnderTest
from tests.harness.driver import Person
from tests.harness.media import make_png

INSPECTOR = 3001
LABELS = {Answer.OK: "✅ 符合", Answer.PARTIAL: "🟡 基本符合", Answer.FAIL: "❌ 不符合", Answer.NA: "➖ 不适用"}


async def inspector(bot: BotUnderTest, *sites: str) -> tuple[Person, list[int]]:
    ids = [await bot.add_site(name) for name in sites]
    for site_id in ids:
        await bot.add_person(INSPECTOR, "inspector", "王督导", site_id=site_id)
    return bot.api.person(INSPECTOR, "王督导"), ids


async def start_walk(person: Person, site: str) -> None:
    """/inspect and a site: the walk starts on the default edition, no question asked."""
    await person.send_command("inspect")
    await person.wait_text("请选择要督导的项目")
    await person.press(site)
    await person.wait_text("点类别可跳转")
    await person.wait_text("总 1/65")


def answer_data(card, answer: Answer) -> str:
    """The callback data of an answer button on a card (wherever the row sits)."""
    return next(
        b["callback_data"]
        for row in card.reply_markup["inline_keyboard"]
        for b in row
        if b.get("callback_data", "").endswith(":" + answer.value)
    )


def current_card(person: Person):
    """The newest clause card that still has its buttons (confirmations may arrive after it)."""
    return next((m for m in reversed(person.messages) if "总 " in m.text and m.buttons), None)


def showing(person: Person, fragment: str) -> bool:
    card = current_card(person)
    return card is not None and fragment in card.text


async def draft_id(bot: BotUnderTest) -> int:
    return await bot.services.db.fetchval("SELECT MAX(id) FROM inspections")


async def answers_in_db(bot: BotUnderTest, inspection_id: int) -> dict[str, str]:
    rows = await bot.services.db.fetchall(
        "SELECT clause_id, answer FROM answers WHERE inspection_id = ?", (inspection_id,)
    )
    return {row["clause_id"]: row["answer"] for row in rows}


async def test_full_inspection_with_photos_notes_album_and_the_engines_score(bot: BotUnderTest):
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    inspection_id = await draft_id(bot)
    pattern = [Answer.OK, Answer.OK, Answer.OK, Answer.PARTIAL, Answer.NA, Answer.FAIL]
    given: dict[str, Answer] = {}
    for n in range(65):
        card = current_card(person)
        assert f"总 {n + 1}/65" in card.text
        answer = pattern[n % len(pattern)]
        clause_id = answer_data(card, answer).split(":")[2]
        if n == 2:
            await person.send_text("现场检查记录：前台整洁")
            await person.wait_text("已为")
        await person.press(LABELS[answer], card.message_id)
        given[clause_id] = answer
        if answer in (Answer.PARTIAL, Answer.FAIL):
            # The card itself says it waits for evidence: no extra message.
            await person.wait_until(lambda messages: "需要证据" in current_card(person).text, 5)
            if n == 5:
                await person.send_album([make_png(seed=n), make_png(seed=100 + n), make_png(seed=200 + n)], "三处破损")
                await person.wait_until(lambda messages: "（共 3 张）" in current_card(person).text, 8)
            elif n % 2:
                await person.send_photo(make_png(seed=n), caption="破损照片")
                await person.wait_text("保存照片（共 1 张）")
            else:
                await person.send_text("缺少台帐")
                await person.wait_text("保存备注")
        if n < 64:
            await person.wait_until(lambda messages, n=n: showing(person, f"总 {n + 2}/65"), 5)
    await person.wait_text("复核")
    await person.press("✅ 提交")
    result = await person.wait_text("总分")
    stored = await answers_in_db(bot, inspection_id)
    assert stored == {k: v.value for k, v in given.items()}
    rubric = bot.services.rubrics.get(2)
    expected = score_inspection(rubric, given)
    assert f"{expected.percent:.1f}%" in result.text and expected.grade in result.text
    photos = await bot.services.db.fetchall(
        "SELECT clause_id, sha256 FROM photos WHERE inspection_id = ?", (inspection_id,)
    )
    album_clause = list(given)[5]
    assert sum(1 for p in photos if p["clause_id"] == album_clause) == 3
    for photo in photos:
        assert bot.services.files.path_of(photo["sha256"]).is_file()
    row = await bot.services.db.fetchone(
        "SELECT status, percent, grade FROM inspections WHERE id = ?", (inspection_id,)
    )
    assert row["status"] == "submitted" and row["grade"] == expected.grade


async def test_draft_resumes_after_a_restart_at_the_first_unanswered_clause(bot: BotUnderTest):
    person, _ = await inspector(bot, "翠湖天地")
    await start_walk(person, "翠湖天地")
    for n in range(3):
        await person.press(LABELS[Answer.OK], person.last_message.message_id)
        await person.wait_text(f"总 {n + 2}/65")
    await bot.restart()
    await person.send_command("resume")
    card = await person.wait_text("总 4/65")
    assert "一(一)4" in card.text
    assert len(await answers_in_db(bot, await draft_id(bot))) == 3


async def test_back_changes_an_answer_and_the_outline_jumps(bot: BotUnderTest):
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    await person.press(LABELS[Answer.OK], person.last_message.message_id)
    await person.wait_text("总 2/65")
    await person.press("↩ 上一条")
    back = await person.wait_text("总 1/65")
    assert "已答：符合" in back.text and "✓ ✅ 符合" in back.buttons
    await person.press(LABELS[Answer.NA], back.message_id)
    await person.wait_text("➖ 一(一)1 不适用")
    assert (await answers_in_db(bot, await draft_id(bot)))["1.1.1"] == "na"
    await person.press("☰ 目录")
    outline = await person.wait_text("点类别可跳转")
    # Progress per section in the text, the categories once, as buttons.
    assert "一、内部管理 1/33\n二、现场管理 0/32" in outline.text and "钥匙管理" not in outline.text
    await person.press("二(三) 钥匙管理 0/4")
    card = await person.wait_text("(三)钥匙管理 · 1/4 · 总 41/65")
    assert "二(三)1" in card.text
    # Cards are edited in place as HTML, without link previews, as every message the bot sends.
    edits = bot.api.calls("editMessageText")
    assert len(edits) >= 2
    assert all(e["parse_mode"] == "HTML" and e["link_preview_options"] == {"is_disabled": True} for e in edits)


async def test_double_tap_and_stale_button_after_submit(bot: BotUnderTest):
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    first = person.last_message
    await person.press(LABELS[Answer.OK], first.message_id)
    await person.wait_text("总 2/65")
    # The same tap again (the old card's button data): nothing changes, no extra card is sent.
    query = await person.press_data(answer_data(first, Answer.OK), first.message_id)
    assert "已记录为 符合" in (await person.wait_callback_answer(query)).text
    await bot.api.idle()
    assert sum("总 2/65" in m.text for m in person.messages) == 1
    inspection_id = await draft_id(bot)
    await person.press("☰ 目录")
    await person.wait_text("点类别可跳转")
    await person.press("📋 复核并提交")
    await person.wait_text("未答 64 条")
    await person.press("➖ 未答条款记为不适用并提交")
    confirm = await person.wait_text("确认把它们记为“不适用”并提交吗")
    assert "64 条未答" in confirm.text and "1 条适用条款" in confirm.text
    await person.press("✅ 确认：未答记为不适用并提交")
    result = await person.wait_text("总分")
    assert "适用 1 · 不适用 64（其中 64 条未答，提交时记为不适用） / 共 65 条" in result.text
    query = await person.press_data(f"i:{inspection_id}:1.1.2:fail", first.message_id)
    assert "已提交，不能再修改" in (await person.wait_callback_answer(query)).text
    assert (await answers_in_db(bot, inspection_id))["1.1.2"] == "na"


async def test_evidence_is_enforced_and_partial_submit_refused(bot: BotUnderTest):
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    card = person.last_message
    await person.press(LABELS[Answer.FAIL], card.message_id)
    # The card says what it waits for, and offers to go on without evidence: no extra message.
    prompt = await person.wait_text("需要证据")
    assert prompt.message_id == card.message_id and "➡ 不附证据，继续下一条" in prompt.buttons
    # The walk waits on this clause: moving on without evidence is an explicit choice.
    await person.press("➡ 不附证据，继续下一条")
    await person.wait_text("总 2/65")
    inspection_id = await draft_id(bot)
    query = await person.press_data(f"is:{inspection_id}", person.last_message.message_id)
    assert "还有 64 条未答" in (await person.wait_callback_answer(query)).text
    row = await bot.services.db.fetchone("SELECT status FROM inspections WHERE id = ?", (inspection_id,))
    assert row["status"] == "draft"


async def test_two_drafts_on_two_sites(bot: BotUnderTest):
    person, _ = await inspector(bot, "阳光花园", "翠湖天地")
    await start_walk(person, "阳光花园")
    await person.press(LABELS[Answer.OK], person.last_message.message_id)
    await person.wait_text("总 2/65")
    await start_walk(person, "翠湖天地")
    await person.send_command("resume")
    reply = await person.wait_text("未完成的督导")
    assert any("阳光花园（1/65）" in b for b in reply.buttons)
    assert any("翠湖天地（0/65）" in b for b in reply.buttons)
    await person.press("继续：阳光花园")
    assert "一(一)2" in (await person.wait_text("总 2/65")).text


async def test_bad_inputs_during_a_walk(bot: BotUnderTest):
    person, _ = await inspector(bot, "阳光花园")
    await person.send_text("随便说点什么")
    assert "没有进行中的操作" in (await person.wait_reply()).text
    await person.send_photo(make_png())
    assert "没有进行中的督导" in (await person.wait_reply()).text
    await start_walk(person, "阳光花园")
    inspection_id = await draft_id(bot)
    await person.send_sticker()
    assert "贴纸" in (await person.wait_reply()).text
    await person.send_contact("+8613800000000", "张三")
    assert "没有保存" in (await person.wait_reply()).text
    await person.send_command("nonsense")
    assert "不认识这个命令" in (await person.wait_reply()).text
    await person.send_document(b"%PDF-1.4", "report.pdf", "application/pdf")
    assert "只接受照片或图片" in (await person.wait_reply()).text
    big = 11 * 1024 * 1024
    await person.send_document(make_png(), "big.png", "image/png", file_size=big)
    assert "文件太大" in (await person.wait_reply()).text
    png = make_png(seed=7)
    await person.send_photo(png)
    await person.wait_text("保存照片（共 1 张）")
    await person.send_photo(png)
    assert "没有重复保存" in (await person.wait_reply()).text
    await person.send_document(make_png(seed=8), "site.png", "image/png")
    await person.wait_text("共 2 张")
    count = await bot.services.db.fetchval("SELECT COUNT(*) FROM photos WHERE inspection_id = ?", (inspection_id,))
    assert count == 2
    assert await answers_in_db(bot, inspection_id) == {}


@pytest.mark.parametrize(("code", "marker"), [("zh-TW", "總 1/65"), ("en", "total 1/65")])
async def test_clause_cards_in_other_languages(bot: BotUnderTest, code: str, marker: str):
    await bot.add_site("阳光花园")
    await bot.add_person(INSPECTOR, "inspector", "Wang")
    person = bot.api.person(INSPECTOR, "Wang", language_code=code)
    await person.send_command("inspect")
    await person.press("阳光花园", (await person.wait_reply()).message_id)
    card = await person.wait_text(marker)
    if code == "zh-TW":
        assert "制度建設" in card.text and "內部管理" in card.text
    else:
        assert "Compliant" in " ".join(card.buttons)


async def test_pause_keeps_the_draft_and_text_is_not_a_note_while_paused(bot: BotUnderTest):
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    await person.press("⏸ 暂停")
    paused = await person.wait_text("草稿已保存")
    assert "已暂停" in paused.text and paused.buttons == ["▶ 继续"]
    await person.send_text("这不是备注")
    hint = await person.wait_reply()
    assert "已暂停，这条消息没有保存" in hint.text and hint.buttons == ["▶ 继续"]
    notes = await bot.services.db.fetchval("SELECT COUNT(*) FROM notes")
    assert notes == 0


async def test_a_manager_reopens_a_submitted_inspection_and_it_is_recorded(bot: BotUnderTest):
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    inspection_id = await draft_id(bot)
    await person.press("⏸ 暂停")
    await person.wait_text("草稿已保存")
    await bot.add_person(6001, "manager", "品质部经理")
    await bot.add_person(6002, "manager", "别区经理", region="北区")
    manager = bot.api.person(6001, "品质部经理")
    other = bot.api.person(6002, "别区经理")
    await manager.send_command("reopen", str(inspection_id))
    assert "还没有提交" in (await manager.wait_reply()).text
    await person.send_command("resume")
    await person.wait_text("总 1/65")
    await person.press("☰ 目录")
    await person.press("📋 复核并提交", (await person.wait_text("点类别可跳转")).message_id)
    await person.press("➖ 未答条款记为不适用并提交", (await person.wait_text("未答 65 条")).message_id)
    await person.press("✅ 确认：未答记为不适用并提交", (await person.wait_text("确认把它们")).message_id)
    await person.wait_text("总分")
    await manager.wait_text("提交了")  # the submit notice
    await other.send_command("reopen", str(inspection_id))
    assert "找不到" in (await other.wait_reply()).text  # not this manager's region
    await manager.send_command("reopen")
    assert "用法" in (await manager.wait_reply()).text
    await manager.send_command("reopen", f"{inspection_id} 补充照片")
    assert "已重新打开" in (await manager.wait_reply()).text
    assert "补充照片" in (await person.wait_text("重新打开了")).text
    row = await bot.services.db.fetchone(
        "SELECT event, actor_id, detail FROM inspection_events WHERE inspection_id = ? ORDER BY id DESC LIMIT 1",
        (inspection_id,),
    )
    assert (row["event"], row["actor_id"], row["detail"]) == ("reopened", 6001, "补充照片")
    audit = await bot.services.db.fetchone("SELECT actor_id, action, target FROM audit_log WHERE action = 'reopen'")
    assert (audit["actor_id"], audit["target"]) == (6001, f"inspection:{inspection_id}")
    await person.press_data(f"i:{inspection_id}:1.1.1:ok", current_card(person).message_id)
    await person.wait_text("✅ 一(一)1 符合")
    assert (await answers_in_db(bot, inspection_id))["1.1.1"] == "ok"
    await person.wait_text("复核")  # every clause is answered again: straight to the review
    await person.send_command("reopen", "1")
    await person.wait_text("您的角色不能使用")


async def test_many_sites_are_paged_and_searchable(bot: BotUnderTest):
    names = [f"项目{n:02d}号" for n in range(12)] + ["阳光花园"]
    ids = [await bot.add_site(name) for name in names]
    await bot.add_person(INSPECTOR, "inspector", "王督导")  # no site: every site
    person = bot.api.person(INSPECTOR, "王督导")
    await person.send_command("inspect")
    first = await person.wait_text("第 1/2 页")
    assert "输入项目名称的一部分" in first.text and "▶" in first.buttons and len(first.buttons) == 9
    await person.press("▶")
    assert "第 2/2 页" in (await person.wait_reply()).text
    await person.send_text("阳光")
    found = await person.wait_text("匹配")
    assert found.buttons == ["阳光花园"]
    await person.send_text("不存在")
    assert "没有找到" in (await person.wait_reply()).text
    await person.send_command("cancel")
    assert "已取消" in (await person.wait_reply()).text
    await person.send_text("阳光")
    assert "没有进行中的操作" in (await person.wait_reply()).text
    assert len(ids) == 13
