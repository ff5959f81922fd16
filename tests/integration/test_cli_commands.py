"""`python -m bot` check, backup, run's database errors, --help, and output into a closed pipe."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from storage.migrate import latest_version, migrate

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


# --- help -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("run", ["long polling", "webhook", "SIGTERM"]),
        ("check", ["database", "writable", "network"]),
        ("backup", ["PATH", "--force", "overwrite"]),
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
