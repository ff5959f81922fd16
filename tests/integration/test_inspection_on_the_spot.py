"""当场整改 in review and the repeat-finding deduction (issue #15 §1 and §8), through the real
Application and the strict Bot API stand-in: a finding marked fixed on the spot (reason, "after"
photo) still becomes an action, closed at submit with its event and proof, told to nobody and counted
closed on time; a mark survives a restart and can be undone; every bad move is refused. With
``[actions] repeat_deduction`` on, a repeat finding takes points off the stored score, shown as its
own line on the result, the report and the export; off, nothing changes."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook

from bot.clock import ManualClock
from bot.flows.access import Caller, Role
from bot.flows.reports.actions import figures
from bot.scheduler import tick_now
from config.settings import ActionSettings, ReportSettings
from rubric.scoring import percent_of, score_inspection
from storage.action_figures import ActionFigureRepository
from storage.reports import Scope
from tests.conftest import BotUnderTest, make_settings, running_bot
from tests.harness.botapi import FakeBotAPI
from tests.harness.media import make_png
from tests.integration.test_actions import INSPECTOR, MANAGER, STAFF, a_draft_with_two_findings, submit
from tests.integration.test_reports_commands import document_of
from tests.seeding import seed_inspection

PARTIAL, FAIL = "1.1.2", "2.1.4"  # 一(一)2 基本符合 and 二(一)4 不符合 in a_draft_with_two_findings


@asynccontextmanager
async def bot_with(
    botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock, **actions: object
) -> AsyncIterator[BotUnderTest]:
    """The bot with ``[actions]`` settings of the test's own (PDF off: the HTML report alone)."""
    settings = replace(
        make_settings(botapi, tmp_path / "data"),
        actions=ActionSettings(**actions),  # type: ignore[arg-type]
        reports=ReportSettings(pdf=False),
    )
    async with running_bot(botapi, settings, clock) as under_test:
        yield under_test


async def open_review(bot: BotUnderTest):
    inspector = bot.api.person(INSPECTOR, "王督导")
    await inspector.send_command("resume")
    return inspector, await inspector.wait_text("复核")


async def test_a_finding_fixed_on_the_spot_becomes_a_closed_action_with_its_reason_and_photo(
    bot: BotUnderTest,
) -> None:
    inspection_id, _ = await a_draft_with_two_findings(bot)
    inspector, review = await open_review(bot)
    assert "当场整改" in review.text
    await inspector.press("🛠 当场整改", review.message_id)
    listing = await inspector.wait_text("点选已经当场整改的问题项")
    await inspector.press("一(一)2", listing.message_id)
    await inspector.wait_text("请发送简短原因")
    await inspector.send_text("已当场补齐台账")
    await inspector.wait_text("已标记为当场整改（原因：已当场补齐台账）")
    photo = make_png(seed=11)
    await inspector.send_photo(photo)
    await inspector.wait_text("已保存 一(一)2 的整改后照片")
    review = await inspector.wait_text("复核")
    assert "一(一)2 基本符合 · 📷 0 · 📝 1 · ✅ 当场整改" in review.text
    assert "二(一)4 不符合 · 📷 0 · 📝 1\n" in review.text  # not marked

    # 二(一)4 picked, the bot restarts before the reason comes: the question is still open after it.
    await inspector.press("🛠 当场整改", review.message_id)
    listing = await inspector.wait_text("点选已经当场整改的问题项")
    await inspector.press("二(一)4", listing.message_id)
    await inspector.wait_text("请发送简短原因")
    await bot.restart()
    await inspector.send_text("现场已处理")
    prompt = await inspector.wait_text("二(一)4 已标记为当场整改")
    await bot.restart()  # the mark is stored: nothing lost
    await inspector.press("⏭ 不附照片", prompt.message_id)
    review = await inspector.wait_text("复核")
    assert review.text.count("✅ 当场整改") == 2
    # ... and undone (撤销) before submit; a second tap finds nothing to undo and changes nothing.
    await inspector.press("🛠 当场整改", review.message_id)
    listing = await inspector.wait_text("点选已经当场整改的问题项")
    query = await inspector.press("撤销 二(一)4", listing.message_id)
    assert "已撤销" in (await inspector.wait_callback_answer(query)).text
    await inspector.press_data(f"iqu:{inspection_id}:{FAIL}", listing.message_id)
    marks = await bot.services.db.fetchall(
        "SELECT clause_id FROM on_the_spot WHERE inspection_id = ?", (inspection_id,)
    )
    assert [row["clause_id"] for row in marks] == [PARTIAL]

    await inspector.send_command("resume")
    await inspector.wait_text("复核")
    await inspector.press("✅ 提交")
    result = await inspector.wait_text("总分")
    assert "其中 1 项已当场整改，整改直接关闭。" in result.text

    db = bot.services.db
    submitted_at = await db.fetchval("SELECT submitted_at FROM inspections WHERE id = ?", (inspection_id,))
    rows = await db.fetchall(
        "SELECT id, clause_id, status, closed_at FROM actions WHERE inspection_id = ? ORDER BY clause_id",
        (inspection_id,),
    )
    assert [(r["clause_id"], r["status"], r["closed_at"]) for r in rows] == [
        (PARTIAL, "closed", submitted_at),
        (FAIL, "open", None),
    ]
    fixed, still_open = rows[0]["id"], rows[1]["id"]
    events = await db.fetchall(
        "SELECT event, actor_id, detail FROM action_events WHERE action_id = ? ORDER BY id", (fixed,)
    )
    assert [tuple(e) for e in events] == [("created", INSPECTOR, None), ("on_the_spot", INSPECTOR, "已当场补齐台账")]
    proof = await db.fetchall("SELECT round, kind, sha256 FROM action_evidence WHERE action_id = ?", (fixed,))
    assert [(p["round"], p["kind"]) for p in proof] == [(1, "photo")]
    assert bot.services.files.get(proof[0]["sha256"]) == photo  # the same content-addressed store
    # The 整改通知单 lists the open one only: no notice is planned for the closed one.
    alerts = await db.fetchall("SELECT action_id, kind FROM action_alerts ORDER BY action_id")
    assert [tuple(a) for a in alerts] == [(still_open, "notice")]
    staff = bot.api.person(STAFF, "前台小张", started=True)
    await tick_now(bot.app)  # ... and says the other was fixed on the spot
    notice = await staff.wait_text("整改通知单")
    assert "二(一)4" in notice.text and "一(一)2" not in notice.text and "另有 1 项已当场整改。" in notice.text

    # Closed on time in the managers' figures: due later than the day it was closed.
    due = await db.fetchval("SELECT due_date FROM actions WHERE id = ?", (fixed,))
    period = await ActionFigureRepository(db).period(Scope(all_sites=True), due, "9999-12-31", "", "9999")
    counted = figures(period.due, period.closed, period.repeats, 0, 0, bot.services.settings.tz)
    assert (counted.due, counted.closed, counted.on_time) == (1, 1, 1)

    # The action's card tells the story.
    manager = bot.api.person(MANAGER, "李经理")
    await manager.send_command("actions")
    listed = await manager.wait_text("未关闭的整改")
    await manager.press_data(f"ao:{fixed}", listed.message_id)
    card = await manager.wait_text("当场整改，整改关闭：已当场补齐台账")
    assert "已关闭" in card.text

    # The printable 整改通知单 lists the open one and counts the one fixed on the spot.
    await manager.press_data(f"an:{inspection_id}", card.message_id)
    _, html = document_of(bot.api, await manager.wait_reply(10, lambda m: m.kind == "document"))
    page = html.decode("utf-8")
    assert "二(一)4" in page and "一(一)2" not in page and "另有 1 项已当场整改。" in page


async def test_a_reopen_keeps_the_closed_action_and_a_new_mark_closes_an_open_one(bot: BotUnderTest) -> None:
    inspection_id, _ = await a_draft_with_two_findings(bot)
    inspector, review = await open_review(bot)
    await inspector.press("🛠 当场整改", review.message_id)
    await inspector.press("一(一)2", (await inspector.wait_text("点选已经当场整改的问题项")).message_id)
    prompt = await inspector.wait_text("请发送简短原因")
    await inspector.press("✅ 当场整改", prompt.message_id)  # the preset reason, one tap
    await inspector.press("⏭ 不附照片", (await inspector.wait_text("已标记为当场整改")).message_id)
    await inspector.wait_text("复核")
    await inspector.press("✅ 提交")
    await inspector.wait_text("总分")

    manager = bot.api.person(MANAGER, "李经理")
    await manager.send_command("reopen", f"{inspection_id} 补充")
    await manager.wait_text("已重新打开")
    inspector, review = await open_review(bot)
    assert "一(一)2 基本符合 · 📷 0 · 📝 1 · ✅ 当场整改" in review.text  # the mark stands
    await inspector.press_data(f"iqm:{inspection_id}:{FAIL}", review.message_id)
    await inspector.send_text("当场更换")
    await inspector.press("⏭ 不附照片", (await inspector.wait_text("二(一)4 已标记为当场整改")).message_id)
    await inspector.wait_text("复核")
    await inspector.press("✅ 提交")
    await inspector.wait_text("总分")

    rows = await bot.services.db.fetchall(
        """SELECT a.clause_id, a.status, COUNT(e.id) AS spot FROM actions a
           LEFT JOIN action_events e ON e.action_id = a.id AND e.event = 'on_the_spot'
           WHERE a.inspection_id = ? GROUP BY a.id ORDER BY a.clause_id""",
        (inspection_id,),
    )
    assert [tuple(r) for r in rows] == [(PARTIAL, "closed", 1), (FAIL, "closed", 1)]
    reason = await bot.services.db.fetchval(
        "SELECT detail FROM action_events WHERE event = 'on_the_spot' ORDER BY id LIMIT 1"
    )
    assert reason == "当场整改"


async def test_every_bad_move_is_refused_and_a_mark_on_a_changed_answer_is_dropped(bot: BotUnderTest) -> None:
    inspection_id, _ = await a_draft_with_two_findings(bot)
    inspector, review = await open_review(bot)
    await inspector.press_data(f"iqm:{inspection_id}:{PARTIAL}", review.message_id)
    await inspector.send_text("已处理")
    await inspector.wait_text("已标记为当场整改")

    # Another inspector's forged button.
    await bot.add_person(3002, "inspector", "赵督导")
    other = bot.api.person(3002, "赵督导")
    query = await other.press_data(f"iqm:{inspection_id}:{FAIL}", None)
    assert "不是您的督导" in (await other.wait_callback_answer(query)).text
    # A clause that is no finding (一(一)1 is 符合), and a reason that is empty.
    query = await inspector.press_data(f"iqm:{inspection_id}:1.1.1", review.message_id)
    assert "已不是问题项" in (await inspector.wait_callback_answer(query)).text
    await inspector.press_data(f"iqm:{inspection_id}:{FAIL}", review.message_id)
    await inspector.wait_text("请发送简短原因")
    await inspector.send_text("x" * 501)
    await inspector.wait_text("太长")
    await inspector.press("✖ 取消")
    await inspector.wait_text("复核")

    # 一(一)2 answered 符合 after all: its mark is refused on tap and dropped at submit.
    await inspector.press_data(f"i:{inspection_id}:{PARTIAL}:ok", review.message_id)
    await inspector.wait_text("复核")
    query = await inspector.press_data(f"iqr:{inspection_id}:{PARTIAL}", review.message_id)
    assert "已不是问题项" in (await inspector.wait_callback_answer(query)).text
    await submit(bot)
    rows = await bot.services.db.fetchall(
        "SELECT clause_id, status FROM actions WHERE inspection_id = ?", (inspection_id,)
    )
    assert [tuple(r) for r in rows] == [(FAIL, "open")]
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM on_the_spot") == 0

    # A submitted inspection.
    query = await inspector.press_data(f"iqm:{inspection_id}:{FAIL}", review.message_id)
    assert "已提交" in (await inspector.wait_callback_answer(query)).text


async def test_turned_off_there_is_no_button_and_a_forged_one_is_refused(
    botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock
) -> None:
    async with bot_with(botapi, tmp_path, clock, on_the_spot=False) as bot:
        inspection_id, _ = await a_draft_with_two_findings(bot)
        inspector, review = await open_review(bot)
        assert "当场整改" not in review.text
        assert not any("当场整改" in label for label in inspector.buttons(review))
        for data in (f"iq:{inspection_id}", f"iqm:{inspection_id}:{PARTIAL}", f"iqr:{inspection_id}:{PARTIAL}"):
            query = await inspector.press_data(data, review.message_id)
            assert "当场整改功能未开启" in (await inspector.wait_callback_answer(query)).text
        assert await bot.services.db.fetchval("SELECT COUNT(*) FROM on_the_spot") == 0


async def second_visit(bot: BotUnderTest) -> tuple[int, int]:
    """The first inspection submitted, a day later the next one at the same site finds both again."""
    first, answers = await a_draft_with_two_findings(bot)
    await submit(bot)
    bot.clock.advance(timedelta(days=1))
    site_id = await bot.services.db.fetchval("SELECT site_id FROM inspections WHERE id = ?", (first,))
    rubric = bot.services.rubrics.get(2)
    seeded = await seed_inspection(
        bot.services.db, rubric, site_id, INSPECTOR, bot.clock.now(), answers, status="draft"
    )
    return first, seeded.inspection_id


async def test_the_repeat_deduction_is_stored_net_and_shown_as_its_own_line(
    botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock
) -> None:
    async with bot_with(botapi, tmp_path, clock, repeat_deduction=1.0) as bot:
        first, second = await second_visit(bot)
        manager = bot.api.person(MANAGER, "李经理", started=True)  # told of the submit
        rubric = bot.services.rubrics.get(2)
        inspector, review = await open_review(bot)
        assert "重复问题扣分 −2.0（2 项 × 1）" in review.text
        await inspector.press("✅ 提交", review.message_id)
        result = await inspector.wait_text("总分")
        assert "重复问题扣分 −2.0（2 项 × 1）" in result.text

        answers = await bot.services.inspections.repo.answers(second)
        gross = score_inspection(rubric, {k: a.answer for k, a in answers.items()}).overall
        stored = await bot.services.db.fetchone(
            "SELECT earned, possible, percent, repeat_deduction, repeat_count FROM inspections WHERE id = ?", (second,)
        )
        assert (stored["repeat_deduction"], stored["repeat_count"]) == (2.0, 2)
        assert stored["earned"] == gross.earned - 2.0 and stored["possible"] == gross.possible
        net_percent = percent_of(gross.earned - 2.0, gross.possible)
        assert stored["percent"] == net_percent
        assert f"总分 {net_percent:.1f}%" in result.text
        first_row = await bot.services.db.fetchone(
            "SELECT repeat_count, earned FROM inspections WHERE id = ?", (first,)
        )
        assert first_row["repeat_count"] == 0 and first_row["earned"] == gross.earned  # no repeat the first time

        # The first visit's notice may reach the manager as late as this one: wait for the second's.
        manager_notice = await manager.wait_text("重复问题扣分")
        assert f"{net_percent:.1f}%" in manager_notice.text and "重复问题扣分 −2.0" in manager_notice.text

        # The report recomputes the rubric's score from the answers, shows the line, and its net is the stored one.
        await manager.send_command("report", str(second))
        _, html = document_of(bot.api, await manager.wait_reply(10, lambda m: m.kind == "document"))
        page = html.decode("utf-8")
        assert f"{gross.percent:.1f}%" in page and "重复问题扣分" in page and "−2.0" in page
        assert f'<span class="score">{net_percent:.1f}%</span>' in page
        report = await bot.services.reports.inspection_report(manager_caller(), second)
        assert report.deduction is not None and report.deduction.net.earned == stored["earned"]
        assert report.deduction.net.percent == stored["percent"]

        # The export's inspections sheet has the column.
        await manager.send_command("export", "all")
        _, data = document_of(bot.api, await manager.wait_reply(20, lambda m: m.kind == "document"))
        header, *rows = list(load_workbook(io.BytesIO(data))["督导"].iter_rows(values_only=True))
        assert header[-1] == "重复问题扣分"
        by_id = {row[0]: row for row in rows}
        assert by_id[second][-1] == 2.0 and by_id[first][-1] is None
        assert by_id[second][7] == stored["earned"]


async def test_the_deduction_never_takes_the_score_below_zero(
    botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock
) -> None:
    async with bot_with(botapi, tmp_path, clock, repeat_deduction=100.0) as bot:
        _, second = await second_visit(bot)
        inspector, review = await open_review(bot)
        await inspector.press("✅ 提交", review.message_id)
        await inspector.wait_text("总分")
        stored = await bot.services.db.fetchone(
            "SELECT earned, percent, repeat_deduction FROM inspections WHERE id = ?", (second,)
        )
        assert stored["earned"] == 0.0 and stored["percent"] == 0.0 and stored["repeat_deduction"] > 0


async def test_off_by_default_nothing_changes(bot: BotUnderTest) -> None:
    _, second = await second_visit(bot)
    inspector, review = await open_review(bot)
    assert "重复问题扣分" not in review.text
    await inspector.press("✅ 提交", review.message_id)
    result = await inspector.wait_text("总分")
    assert "重复问题扣分" not in result.text and "评分细则得分" not in result.text
    answers = await bot.services.inspections.repo.answers(second)
    gross = score_inspection(bot.services.rubrics.get(2), {k: a.answer for k, a in answers.items()}).overall
    stored = await bot.services.db.fetchone(
        "SELECT earned, percent, repeat_deduction FROM inspections WHERE id = ?", (second,)
    )
    assert (stored["earned"], stored["percent"], stored["repeat_deduction"]) == (gross.earned, gross.percent, 0.0)
    repeats = await bot.services.db.fetchval(
        "SELECT COUNT(*) FROM actions WHERE inspection_id = ? AND repeat_of IS NOT NULL", (second,)
    )
    assert repeats == 2  # repeat findings all the same, only no deduction


def manager_caller() -> Caller:
    return Caller(MANAGER, "李经理", "zh-hans", frozenset({Role.MANAGER}))
