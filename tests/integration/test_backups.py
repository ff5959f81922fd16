"""Backups that restore: a backup taken mid-walk by the running bot, restored, finds every answer and
photo given before it; restore refuses while a bot runs; a failed backup tells the admins once."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

import bot.backups
from bot.backups import backup_now
from bot.cli import main
from bot.clock import ManualClock
from config.settings import BackupSettings
from rubric.model import Answer
from storage.backup import FILES, backup_name, backups_in
from tests.conftest import ADMIN_ID, BotUnderTest, make_settings, running_bot
from tests.harness.botapi import FakeBotAPI
from tests.harness.media import make_png
from tests.integration.test_inspection_walk import (
    LABELS,
    answer_data,
    current_card,
    draft_id,
    inspector,
    showing,
    start_walk,
)
from tests.integration.test_process import bot_env, run_cli, start_bot, stop_bot

PATTERN = [Answer.OK, Answer.FAIL, Answer.OK, Answer.PARTIAL, Answer.NA, Answer.OK]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`python -m bot` in this process on the test bot's data folder (tmp_path/data), no machine BOT_*."""
    for name in [n for n in os.environ if n.startswith("BOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest_asyncio.fixture
async def backing_bot(botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotUnderTest]:
    """The bot with scheduled backups on (the first one minutes away: the tests call backup_now)."""
    settings = make_settings(botapi, tmp_path / "data", backup=BackupSettings(every_hours=1, keep=5))
    async with running_bot(botapi, settings, clock) as under_test:
        yield under_test


async def answer(bot: BotUnderTest, person, n: int) -> tuple[str, Answer]:
    """Answer the n-th clause (0-based) of the walk; evidence for a below-full answer, a photo when odd."""
    card = current_card(person)
    assert f"总 {n + 1}/65" in card.text
    given = PATTERN[n % len(PATTERN)]
    clause_id = answer_data(card, given).split(":")[2]
    await person.press(LABELS[given], card.message_id)
    if given in (Answer.PARTIAL, Answer.FAIL):
        await person.wait_until(lambda messages: "需要证据" in current_card(person).text, 5)
        if n % 2:
            await person.send_photo(make_png(seed=n), caption="破损照片")
            await person.wait_text("保存照片（共 1 张）")
        else:
            await person.send_text("缺少台帐")
            await person.wait_text("保存备注")
    await person.wait_until(lambda messages: showing(person, f"总 {n + 2}/65"), 5)
    return clause_id, given


def set_aside(data: Path) -> list[Path]:
    return sorted(data.glob("bot.sqlite3.before-restore-*"))


def stored_answers(database: Path, inspection_id: int) -> dict[str, str]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT clause_id, answer FROM answers WHERE inspection_id = ?", (inspection_id,))
        return dict(rows.fetchall())


def stored_photos(database: Path, inspection_id: int) -> list[str]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT sha256 FROM photos WHERE inspection_id = ?", (inspection_id,))
        return [row[0] for row in rows]


async def test_a_backup_taken_mid_walk_restores_every_answer_and_photo(
    backing_bot: BotUnderTest, cli_env: Path, capsys: pytest.CaptureFixture[str]
):
    bot = backing_bot
    assert bot.app is not None and bot.app.job_queue is not None
    assert [job.name for job in bot.app.job_queue.get_jobs_by_name("backup")] == ["backup"]
    person, _ = await inspector(bot, "阳光花园")
    await start_walk(person, "阳光花园")
    inspection_id = await draft_id(bot)
    before = dict([await answer(bot, person, n) for n in range(8)])

    report = await backup_now(bot.app)
    assert report is not None and report.path.parent == cli_env / "backups"
    assert report.files_copied == len(stored_photos(bot.settings.database_path, inspection_id)) == 3

    # While the bot runs, restore refuses and changes nothing.
    assert main(["restore", str(report.path)]) == 3
    err = capsys.readouterr().err
    assert "stop the bot first" in err and str(cli_env / "bot.lock") in err and f"process {os.getpid()}" in err
    assert set_aside(cli_env) == []

    after = dict([await answer(bot, person, n) for n in range(8, 12)])
    await bot.stop()
    photos_before = stored_photos(report.path, inspection_id)
    shutil.rmtree(cli_env / FILES)  # the evidence lost with the server

    assert main(["restore", str(cli_env / "backups")]) == 0  # a folder: its newest copy
    out = capsys.readouterr().out
    assert f"restored: {report.path}" in out and "3 copied back" in out
    restored = cli_env / "bot.sqlite3"
    assert stored_answers(restored, inspection_id) == {k: v.value for k, v in before.items()}
    for sha256 in photos_before:
        assert (cli_env / FILES / sha256[:2] / sha256).is_file()
    (aside,) = set_aside(cli_env)
    assert stored_answers(aside, inspection_id) == {k: v.value for k, v in {**before, **after}.items()}

    # The restored bot picks the walk up where the backup left it.
    await bot.start()
    await person.send_command("resume")
    await person.wait_until(lambda messages: showing(person, f"总 {len(before) + 1}/65"), 5)


async def test_the_scheduled_job_writes_a_backup(
    botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(bot.backups, "START_DELAY_SECONDS", 0.05)
    settings = make_settings(botapi, tmp_path / "data", backup=BackupSettings(every_hours=1, keep=5))
    under_test = BotUnderTest(botapi, settings, clock)
    await under_test.start()
    try:
        await botapi.wait_for(lambda: backups_in(settings.backup_dir), timeout=10, describe="the first backup")
    finally:
        await under_test.stop()
    botapi.assert_well_formed()


async def test_a_failed_backup_tells_the_admins_once_per_streak(
    botapi: FakeBotAPI, tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
):
    blocker = tmp_path / "backups-file"
    blocker.write_text("a file where the backup folder should be", encoding="utf-8")
    backup = BackupSettings(dir=blocker)
    settings = replace(make_settings(botapi, tmp_path / "data"), backup=backup)
    under_test = BotUnderTest(botapi, settings, clock)
    await under_test.start()
    try:
        admin = botapi.person(ADMIN_ID, "老板", started=True)
        assert await backup_now(under_test.app) is None
        notice = await admin.wait_text("数据库备份失败")
        assert str(blocker) in notice.text and "not a folder" in notice.text
        assert "backup into" in caplog.text and "failed" in caplog.text
        assert await backup_now(under_test.app) is None  # the same streak: logged, not told again
        await admin.assert_no_reply(0.3)

        blocker.unlink()  # fixed: the next one works and says so
        assert await backup_now(under_test.app) is not None
        assert str(blocker) in (await admin.wait_text("数据库备份已恢复正常")).text

        clock.advance(timedelta(hours=1))
        (blocker / backup_name(clock.now())).mkdir()  # in the way of the next copy: a new streak, told again
        assert await backup_now(under_test.app) is None
        await admin.wait_text("数据库备份失败")
    finally:
        await under_test.stop()
    botapi.assert_well_formed()


# -- the real process ------------------------------------------------------------------------------


async def test_restore_and_a_second_bot_refuse_while_the_bot_process_runs(botapi: FakeBotAPI, tmp_path: Path):
    env = bot_env(botapi, tmp_path)
    process = await start_bot(env)
    try:
        person = botapi.person(7001, "管理员")
        await person.send_command("start")
        await person.wait_reply(timeout=20)
        code, out, err = await run_cli("backup", str(tmp_path / "backups" / "manual.sqlite3"), "--force", env=env)
        assert code == 0 and "MB in" in out, err
        code, _, err = await run_cli("restore", str(tmp_path / "backups"), env=env)
        assert code == 3 and f"process {process.pid}" in err and "stop the bot first" in err, err
        code, _, err = await run_cli("run", env=env)
        assert code == 3 and "another bot is running" in err, err
    finally:
        code, log = await stop_bot(process)
    assert code == 0, log
    code, out, err = await run_cli("restore", str(tmp_path / "backups" / "manual.sqlite3"), env=env)
    assert code == 0 and "restored" in out, err
