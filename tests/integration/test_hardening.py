"""Defects found by the strict stand-in and the fuzzer, each played the way it was found."""

from __future__ import annotations

import sqlite3

import pytest

from bot.clock import iso
from rubric.model import Answer
from storage.inspections import InspectionRepository
from storage.people import AuditEntry
from tests.conftest import BotUnderTest
from tests.harness.driver import Person
from tests.integration.test_inspection_walk import answer_data, current_card, draft_id, inspector, start_walk
from tests.seeding import Seeded, answers_by_pattern, seed_inspection

MANAGER = 3101
GENERIC = "抱歉，处理时出了问题"


async def press_and_answer(person: Person, data: str, message_id: int | None = None):
    query_id = await person.press_data(data, message_id)
    answer = await person.wait_callback_answer(query_id)
    await person.api.idle()
    return answer


def answers_to(bot: BotUnderTest, query_id: str) -> int:
    return sum(1 for a in bot.api.callback_answers if a.query_id == query_id)


@pytest.mark.parametrize(
    "data",
    [
        "i:" + "9" * 40 + ":1.1.1:ok",
        "ic:" + "1" * 20,
        "pc:" + "1" * 20,
        "pl:-:" + "1" * 20 + ":0",
        "pi:" + "1" * 20,
        "pz:" + "1" * 20,
        "sp:" + "9" * 19,
        "rv:" + "9" * 19,
    ],
)
async def test_huge_ids_in_buttons_are_refused_cleanly(bot: BotUnderTest, data: str) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await bot.add_person(person.user_id, "manager", "王督导")
    await person.send_command("start")
    await person.wait_reply()
    answer = await press_and_answer(person, data)
    assert answer.show_alert and "已失效" in (answer.text or "")


@pytest.mark.parametrize("argument", ["99999999999999999999", "1" * 40])
async def test_huge_ids_in_commands_are_refused_cleanly(bot: BotUnderTest, argument: str) -> None:
    await bot.add_site("阳光花园")
    await bot.add_person(MANAGER, "manager", "李经理")
    manager = bot.api.person(MANAGER, "李经理")
    for command in ("role", "reopen", "report"):
        await manager.send_command(command, argument)
        reply = await manager.wait_reply()
        assert GENERIC not in reply.text and "Traceback" not in reply.text


async def test_an_unknown_edition_is_refused_and_changes_nothing(bot: BotUnderTest) -> None:
    person, (site_id,) = await inspector(bot, "阳光花园")
    await person.send_command("start")
    await person.wait_reply()
    answer = await press_and_answer(person, f"sg:{site_id}:99")
    assert answer.show_alert and "没有这个版本" in (answer.text or "")
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM inspections") == 0


async def test_a_stale_continue_after_submit_is_answered_once_with_the_reason(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    inspection_id = await draft_id(bot)
    drafts = await bot.services.db.fetchval("SELECT COUNT(*) FROM inspections")
    await bot.services.db.execute(
        "UPDATE inspections SET status = 'submitted', submitted_at = started_at WHERE id = ?", (inspection_id,)
    )
    query_id = await person.press_data(f"ic:{inspection_id}", None)
    answer = await person.wait_callback_answer(query_id)
    await bot.api.idle()
    assert answers_to(bot, query_id) == 1
    assert answer.show_alert and "已提交" in (answer.text or "")
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM inspections") == drafts


async def test_alerts_labels_and_toasts_are_plain_text(bot: BotUnderTest) -> None:
    stranger = bot.api.person(3999, "陌生人")
    answer = await press_and_answer(stranger, "ic:1")
    assert "<code>" not in (answer.text or "") and "3999" in (answer.text or "")
    person, _ = await inspector(bot, "King's Park & Lake")
    await person.send_command("inspect")
    await person.wait_text("请选择要督导的项目")
    assert "King's Park & Lake" in person.buttons()
    await start_walk_on_button(person, "King's Park & Lake")
    card = current_card(person)
    answer = await press_and_answer(person, answer_data(card, Answer.OK), card.message_id)
    assert "&" not in (answer.text or "") and "<" not in (answer.text or "")
    assert bot.api.plain_text_violations() == []


async def start_walk_on_button(person: Person, label: str) -> None:
    await person.press(label)
    await person.wait_text("总 1/65")


async def test_a_report_button_is_answered_at_once_and_shows_progress(bot: BotUnderTest) -> None:
    site_id = await bot.add_site("阳光花园")
    await bot.add_person(MANAGER, "manager", "李经理")
    rubric = bot.services.rubrics.get(2)
    seeded = await seed_inspection(
        bot.services.db, rubric, site_id, MANAGER, bot.clock.now(), answers_by_pattern(rubric, [Answer.OK])
    )
    manager = bot.api.person(MANAGER, "李经理")
    await manager.send_command("start")
    await manager.wait_reply()
    query_id = await manager.press_data(f"rp:{seeded.inspection_id}", None)
    await manager.wait_callback_answer(query_id)
    await manager.wait_until(lambda: any(m.document for m in manager.messages), timeout=30)
    log = [r.method for r in bot.api.request_log]
    assert log.index("answerCallbackQuery") < log.index("sendDocument")
    assert "upload_document" in [action for chat, action in bot.api.chat_actions if chat == MANAGER]


async def test_a_note_too_long_is_refused_and_nothing_is_saved(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    await person.send_text("很" * 1500)
    reply = await person.wait_text("太长了")
    assert "1500" in reply.text and "1024" in reply.text
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM notes") == 0
    await person.send_text("前台整洁")
    await person.wait_text("已为")
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM notes") == 1


async def submitted_inspection(bot: BotUnderTest) -> Seeded:
    """A submitted inspection of 阳光花园 by inspector 3001, with MANAGER as its manager."""
    site_id = await bot.add_site("阳光花园")
    await bot.add_person(3001, "inspector", "王督导")
    await bot.add_person(MANAGER, "manager", "李经理")
    rubric = bot.services.rubrics.get(2)
    return await seed_inspection(
        bot.services.db, rubric, site_id, 3001, bot.clock.now(), answers_by_pattern(rubric, [Answer.OK])
    )


async def test_reopen_is_audited_in_the_same_transaction(bot: BotUnderTest) -> None:
    seeded = await submitted_inspection(bot)
    repo = InspectionRepository(bot.services.db)
    # An audit log that cannot be written: the reopen must not happen without its entry.
    await bot.services.db.execute(
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit down'); END"
    )
    entry = AuditEntry(MANAGER, "reopen", f"inspection:{seeded.inspection_id}", {"reason": "补照片"})
    with pytest.raises(sqlite3.IntegrityError):
        await repo.reopen(seeded.inspection_id, MANAGER, "补照片", iso(bot.clock.now()), entry)
    status = "SELECT status FROM inspections WHERE id = ?"
    assert await bot.services.db.fetchval(status, (seeded.inspection_id,)) == "submitted"
    await bot.services.db.execute("DROP TRIGGER no_audit")
    assert await repo.reopen(seeded.inspection_id, MANAGER, "补照片", iso(bot.clock.now()), entry)
    assert await bot.services.db.fetchval(status, (seeded.inspection_id,)) == "draft"
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'reopen'") == 1


async def test_a_reopen_reason_too_long_is_refused(bot: BotUnderTest) -> None:
    seeded = await submitted_inspection(bot)
    manager = bot.api.person(MANAGER, "李经理")
    await manager.send_command("reopen", f"{seeded.inspection_id} " + "理" * 3900)
    reply = await manager.wait_text("太长了")
    assert "500" in reply.text
    status = "SELECT status FROM inspections WHERE id = ?"
    assert await bot.services.db.fetchval(status, (seeded.inspection_id,)) == "submitted"
