"""`python -m bot` check, backup, run's database errors, --help, and output into a closed pipe."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from storage.files import FileStore
from storage.lock import DataLock
from storage.migrate import latest_version, migrate
from tests.harness.botapi import FakeBotAPI

REPO = Path(__file__).parents[2]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment of our own: no BOT_* from the machine, a token, the data in tmp_path/data."""
    for name in [n for n in os.environ if n.startswith("BOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no config/local.toml
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def schema_of(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]


# --- backup ---------------------------------------------------------------------------------------


def test_backup_refuses_a_missing_folder_unless_forced(cli_env: Path, capsys, tmp_path: Path):
    migrate(cli_env / "bot.sqlite3")
    target = tmp_path / "no" / "such" / "folder" / "copy.sqlite3"
    code, _, err = cli(capsys, "backup", str(target))
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and str(target.parent) in err and "--force" in err
    assert not (tmp_path / "no").exists()
    code, out, err = cli(capsys, "backup", "--force", str(target))
    assert code == 0, err
    assert schema_of(target) == latest_version() and str(target) in out


def test_backup_refuses_to_overwrite_unless_forced(cli_env: Path, capsys, tmp_path: Path):
    migrate(cli_env / "bot.sqlite3")
    target = tmp_path / "copy.sqlite3"
    target.write_text("last week's notes", encoding="utf-8")
    code, _, err = cli(capsys, "backup", str(target))
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and str(target) in err and "--force" in err
    assert target.read_text(encoding="utf-8") == "last week's notes"
    code, _, err = cli(capsys, "backup", str(target), "--force")
    assert code == 0, err
    assert schema_of(target) == latest_version()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_backup_of_a_new_file_in_an_existing_folder_needs_no_force(cli_env: Path, capsys, tmp_path: Path):
    migrate(cli_env / "bot.sqlite3")
    code, _, err = cli(capsys, "backup", str(tmp_path / "copy.sqlite3"))
    assert code == 0, err
    assert schema_of(tmp_path / "copy.sqlite3") == latest_version()


# --- check and run: a data folder the bot cannot write ----------------------------------------------
# Tests run as root, which ignores file modes: "cannot write" is made with a regular file in the way.


def test_check_fails_when_the_data_dir_is_under_a_file(cli_env: Path, capsys, tmp_path: Path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("BOT_DATA_DIR", str(blocker / "data"))
    code, out, err = cli(capsys, "check")
    assert code == 1, out
    assert "check: 1 problem(s)" in out
    assert str(blocker) in err and "not a folder" in err


def test_check_fails_when_the_data_dir_is_a_file(cli_env: Path, capsys, tmp_path: Path, monkeypatch):
    blocker = tmp_path / "data-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("BOT_DATA_DIR", str(blocker))
    code, _, err = cli(capsys, "check")
    assert code == 1 and str(blocker) in err and "not a folder" in err


def test_check_fails_when_the_database_is_a_folder(cli_env: Path, capsys):
    (cli_env / "bot.sqlite3").mkdir(parents=True)
    code, _, err = cli(capsys, "check")
    assert code == 1 and str(cli_env / "bot.sqlite3") in err and "not a file" in err


def test_check_is_ok_on_a_writable_data_dir_and_creates_nothing(cli_env: Path, capsys):
    code, out, err = cli(capsys, "check")
    assert code == 0, err
    assert "check: ok" in out
    assert not cli_env.exists()  # checking creates nothing; run does
    migrate(cli_env / "bot.sqlite3")
    code, out, err = cli(capsys, "check")
    assert code == 0 and "check: ok" in out, err


def test_run_names_the_database_and_the_reason_in_one_line(cli_env: Path, capsys):
    database = cli_env / "bot.sqlite3"
    database.mkdir(parents=True)  # what sqlite3 reports as "unable to open database file"
    code, _, err = cli(capsys, "run")
    assert code == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(database) in lines[0] and "not a file" in lines[0]


def test_check_names_the_backups_and_a_backup_folder_that_is_a_file(cli_env: Path, capsys, tmp_path, monkeypatch):
    code, out, _ = cli(capsys, "check")
    assert code == 0 and f"backups: every 24 h into {cli_env / 'backups'}, keeping 14; none yet" in out
    blocker = tmp_path / "backups-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("BOT_BACKUP_DIR", str(blocker))
    code, _, err = cli(capsys, "check")
    assert code == 1 and f"[backup] dir: {blocker} is not a folder" in err


# --- check --live: getMe against the configured Bot API -------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_check_live_names_the_bot(cli_env: Path, capsys, botapi_in_thread: FakeBotAPI, monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", botapi_in_thread.token)
    monkeypatch.setenv("BOT_API_BASE_URL", botapi_in_thread.base_url)
    code, out, err = cli(capsys, "check", "--live")
    assert code == 0, err
    assert "the bot is @dudao_test_bot" in out and "check: ok" in out
    assert botapi_in_thread.token not in out + err


def test_check_live_fails_clearly_on_a_wrong_token(cli_env: Path, capsys, botapi_in_thread: FakeBotAPI, monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", "123456:not-the-token")
    monkeypatch.setenv("BOT_API_BASE_URL", botapi_in_thread.base_url)
    code, out, err = cli(capsys, "check", "--live")
    assert code == 4, out + err
    # One line says it (an earlier test's `run` may have left INFO log lines going to stderr too).
    (line,) = [line for line in err.splitlines() if "problem:" in line]
    assert "the token was refused" in line and "BOT_TOKEN" in line and "not-the-token" not in line
    assert "check: 1 problem(s)" in out


def test_check_live_tells_an_unreachable_api_apart(cli_env: Path, capsys, monkeypatch):
    monkeypatch.setenv("BOT_API_BASE_URL", f"http://127.0.0.1:{free_port()}/bot")
    code, _, err = cli(capsys, "check", "--live")
    assert code == 5, err
    assert "unreachable" in err and "HTTPS_PROXY" in err and "abc" not in err


def test_check_live_goes_through_the_proxy_the_bot_would_use(cli_env: Path, capsys, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()  # nothing listens there: the check must fail at the proxy, not at DNS
    monkeypatch.setenv("HTTPS_PROXY", f"http://user:secret@127.0.0.1:{port}")
    monkeypatch.setenv("BOT_API_BASE_URL", "https://api.telegram.invalid/bot")
    code, _, err = cli(capsys, "check", "--live")
    assert code == 5, err
    assert f"api.telegram.invalid via proxy 127.0.0.1:{port}" in err and "unreachable" in err
    assert "secret" not in err


def test_check_live_reports_offline_problems_first(cli_env: Path, capsys, monkeypatch, tmp_path: Path):
    blocker = tmp_path / "data-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("BOT_DATA_DIR", str(blocker))
    monkeypatch.setenv("BOT_API_BASE_URL", f"http://127.0.0.1:{free_port()}/bot")
    code, out, err = cli(capsys, "check", "--live")
    assert code == 1 and "check: 2 problem(s)" in out and "not a folder" in err and "unreachable" in err


# --- run and restore: the data folder's lock ---------------------------------------------------------


def test_run_refuses_while_another_bot_holds_the_data_folder(cli_env: Path, capsys):
    with DataLock(cli_env / "bot.lock"):
        code, _, err = cli(capsys, "run")
    assert code == 3
    (line,) = err.strip().splitlines()
    assert "another bot is running" in line and str(cli_env / "bot.lock") in line
    assert not (cli_env / "bot.sqlite3").exists()  # nothing migrated under the running bot


def test_restore_names_a_backup_it_cannot_use(cli_env: Path, capsys, tmp_path: Path):
    migrate(cli_env / "bot.sqlite3")
    code, _, err = cli(capsys, "restore", str(tmp_path / "nothing-here"))
    assert code == 1 and "does not exist" in err and "nothing-here" in err
    (tmp_path / "empty").mkdir()
    code, _, err = cli(capsys, "restore", str(tmp_path / "empty"))
    assert code == 1 and "holds no backup" in err
    assert schema_of(cli_env / "bot.sqlite3") == latest_version()


def test_a_manual_backup_restores_with_its_evidence(cli_env: Path, capsys, tmp_path: Path):
    migrate(cli_env / "bot.sqlite3")
    digest = FileStore(cli_env / "files").put(b"photo")
    code, out, err = cli(capsys, "backup", str(tmp_path / "b" / "manual.sqlite3"), "--force")
    assert code == 0 and "evidence files: 1 new" in out, err
    assert (tmp_path / "b" / "files" / digest[:2] / digest).read_bytes() == b"photo"
    (cli_env / "files" / digest[:2] / digest).unlink()
    code, out, err = cli(capsys, "restore", str(tmp_path / "b" / "manual.sqlite3"))
    assert code == 0, err
    assert "1 copied back" in out and "bot.sqlite3.before-restore-" in out
    assert (cli_env / "files" / digest[:2] / digest).read_bytes() == b"photo"


# --- help -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("run", ["long polling", "webhook", "SIGTERM", "bot.lock", "another"]),
        ("check", ["database", "writable", "network", "--live", "getMe", "HTTPS_PROXY", "refused", "reached"]),
        ("backup", ["PATH", "--force", "overwrite", "files/", "codes"]),
        ("restore", ["BACKUP", "aside", "bot.lock", "codes", "running"]),
    ],
)
def test_subcommands_describe_themselves(capsys, command: str, expected: list[str]):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for text in expected:
        assert text in out, out


# --- a closed stdout ----------------------------------------------------------------------------------


def test_output_into_a_closed_pipe_ends_quietly():
    """`python -m bot rubric diff 1 2 | head`: head may stop reading before the bot stops writing."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write meets a closed pipe
    try:
        process = subprocess.run(
            [sys.executable, "-m", "bot", "rubric", "diff", "1", "2"],
            cwd=REPO,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert process.stderr.decode() == ""
    assert process.returncode == 141  # as a shell reports a command ended by SIGPIPE


def test_check_names_a_folder_that_refuses_new_files(cli_env: Path, capsys, monkeypatch):
    # What a read-only folder or mount does to a user other than root.
    def refuse(**_: object) -> None:
        raise PermissionError(13, "Permission denied", str(cli_env.parent / "tmpk3j2x"))

    monkeypatch.setattr("storage.migrate.tempfile.TemporaryFile", refuse)
    code, out, err = cli(capsys, "check")
    assert code == 1, out
    assert f"{cli_env.parent}: Permission denied" in err and "tmpk3j2x" not in err
