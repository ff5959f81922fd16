"""``python -m bot``: run, check, backup, restore, demo, rubric."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from config.settings import ConfigError, Settings, load_settings
from storage import migrate
from storage.backup import FILES, backups_in, copy_database, copy_new_files
from storage.lock import DataLock, LockedError

NO_TOKEN_HELP = """\
没有配置机器人令牌 (bot token)。/ No bot token is configured.

1. 在 Telegram 里打开 @BotFather，发送 /newbot，按提示取名，复制它给出的令牌。
   Open @BotFather in Telegram, send /newbot, follow the steps and copy the token it gives you.
2. 把令牌放进环境变量 BOT_TOKEN，或者复制 config/example.toml 为 config/local.toml 并填写 [bot] token。
   Put it in the BOT_TOKEN environment variable, or copy config/example.toml to config/local.toml
   and fill in [bot] token.
3. 再次运行 make run。 / Run `make run` again.

想先试试、不需要令牌和网络？运行 make demo。 / To try the bot with no token and no network: make demo."""

# One line, and never the token itself: it may be a real one pasted in the wrong place.
TOKEN_REFUSED = (
    "Telegram 拒绝了机器人令牌 (bot token)：请在 Telegram 的 @BotFather 里发送 /mybots 选择机器人、"
    "点 API Token 复制正确的令牌，放进 BOT_TOKEN 或 config/local.toml。 / Telegram refused the bot token: "
    "in @BotFather send /mybots, pick the bot, tap API Token, and put that token in BOT_TOKEN or config/local.toml."
)

RUN_DESCRIPTION = """\
运行机器人。/ Serve the bot: long polling, or a webhook when [webhook] enabled = true. Settings come
from config/local.toml (or the file BOT_CONFIG names) and BOT_* environment variables; pending
database migrations are applied first. While the Bot API is unreachable it retries with backoff,
logging a warning each time. SIGTERM or Ctrl-C stop it cleanly. It holds <data_dir>/bot.lock while
it runs: a second bot on the same data folder refuses to start. Scheduled backups follow [backup].
Exit codes: 0 stopped, 2 a configuration or token problem, 3 a database problem or another bot
already running on the data folder."""

CHECK_DESCRIPTION = """\
检查配置。/ Validate the configuration and the rubric files, check that the data folder and the
database are writable, and that the database is sound and not from a newer version. Changes
nothing, and touches no network unless --live: then it also asks the configured Bot API (api_base_url,
through HTTPS_PROXY / HTTP_PROXY when set) who the bot is (getMe) and prints its @username.
Exit codes: 0 all good; 1 problems found offline (each listed); with --live and no offline problem,
4 the Bot API refused the token, 5 the Bot API could not be reached (network, proxy, DNS, timeout)
or answered something unexpected."""

BACKUP_DESCRIPTION = """\
备份数据库。/ Write a consistent copy of the SQLite database to PATH, safe while the bot runs: written
under a temporary name, checked with PRAGMA integrity_check, then renamed. The evidence files (photos)
the folder of PATH lacks are copied into its files/ subfolder, as the bot's scheduled backups do, so
`restore PATH` brings both back. An existing PATH is not overwritten, nor a missing folder created,
without --force. Exit codes: 0 written, 1 not written (the reason on one line)."""

RESTORE_DESCRIPTION = """\
恢复备份。/ Put a backup back in place of the database. BACKUP is a copy written by `backup` or by the
bot's scheduled backups (bot-YYYYMMDD-HHMMSS.sqlite3), or a backup folder, meaning its newest copy.
Refuses while a bot runs on the same data folder (it holds <data_dir>/bot.lock): stop the bot first.
The backup is copied and checked (integrity, a schema not newer than this bot) before anything
changes; then the current database is moved aside to bot.sqlite3.before-restore-YYYYMMDD-HHMMSS
(never deleted), the backup takes its place, and the evidence files the data folder lacks are copied
back from the backup folder's files/. Migrations run at the next start. Exit codes: 0 restored,
1 the backup cannot be used (nothing changed), 3 a bot is running on the data folder (nothing
changed), 4 the restore failed while moving files (the current database is left in place), or the
database was restored but some evidence files could not be copied back (run it again when fixed)."""

DEMO_DESCRIPTION = """\
试用。/ Try the bot in the terminal against a local Bot API stand-in: no token, no network. Its data
goes to a demo folder inside the data folder."""


def package_version() -> str:
    try:
        return version("dudao-bot")
    except PackageNotFoundError:
        return "0+unknown"


def entry(argv: list[str]) -> int:
    """``main`` for ``python -m bot``: a reader that went away (``… | head``) ends it quietly."""
    try:
        try:
            return main(argv)
        finally:
            sys.stdout.flush()  # here, where a closed pipe can still be caught
    except BrokenPipeError:
        # Nobody reads any more: point stdout at devnull so the interpreter's flush at exit keeps quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a command ended by SIGPIPE


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="督导助手 Telegram bot")
    parser.add_argument("--version", action="version", version=f"督导助手 {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="serve (long polling, or webhook when configured)", description=RUN_DESCRIPTION)
    check = commands.add_parser(
        "check",
        help="validate config, rubric files and database (--live: and the token)",
        description=CHECK_DESCRIPTION,
    )
    check.add_argument("--live", action="store_true", help="also ask the Bot API who the bot is (getMe)")
    backup = commands.add_parser("backup", help="online backup of the database", description=BACKUP_DESCRIPTION)
    backup.add_argument("path", type=Path, metavar="PATH", help="the file to write, e.g. backups/bot.sqlite3")
    backup.add_argument(
        "--force", action="store_true", help="overwrite PATH if it exists, and create its folder if it is missing"
    )
    backup.add_argument("--no-files", action="store_true", help="copy the database only, not the evidence files")
    restore = commands.add_parser(
        "restore", help="put a backup back (the bot stopped)", description=RESTORE_DESCRIPTION
    )
    restore.add_argument("backup", type=Path, metavar="BACKUP", help="a backup file, or a backup folder (its newest)")
    commands.add_parser(
        "demo", help="try the bot in the terminal against a local Bot API stand-in", description=DEMO_DESCRIPTION
    )
    commands.add_parser("rubric", help="rubric tools: show, diff, import, check", add_help=False)

    if argv[:1] == ["rubric"]:
        from rubric.cli import main as rubric_main

        return rubric_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"配置错误 / config error: {exc}", file=sys.stderr)
        return 2
    handlers = {"run": _run, "check": _check, "backup": _backup, "restore": _restore, "demo": _demo}
    return handlers[args.command](settings, args)


def _run(settings: Settings, _args: argparse.Namespace) -> int:
    if not settings.token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    from bot.logging_setup import setup_logging

    setup_logging(settings.log_level, secrets=(settings.token,), fmt=settings.log_format)
    problem = _database_write_problem(settings.database_path)
    lock = DataLock(settings.lock_path)
    try:
        if not problem:
            lock.acquire()  # before migrating: never change a database another bot is serving from
            problem = _prepare_database(settings.database_path)
    except LockedError as exc:
        problem = f"已有机器人在使用这个数据目录 / another bot is running: {exc}"
    except OSError as exc:
        problem = f"cannot take {settings.lock_path}: {exc.strerror or exc}"
    try:
        if problem:
            print(f"数据库错误 / database error: {problem}", file=sys.stderr)
            return 3
        from bot.app import ListenError, TokenRejectedError, run

        logging.getLogger(__name__).info("starting 督导助手 %s", package_version())
        try:
            run(settings, data_lock=lock)
        except TokenRejectedError:
            print(TOKEN_REFUSED, file=sys.stderr)
            return 2
        except ListenError as exc:
            print(f"网络设置错误 / cannot listen: {exc}", file=sys.stderr)
            return 2
        return 0
    finally:
        lock.release()


def _database_write_problem(path: Path) -> str | None:
    problem = migrate.write_problem(path)
    return f"cannot write the database: {problem}" if problem else None


def _prepare_database(path: Path) -> str | None:
    """Apply pending migrations; on failure one line naming the file and why (SQLite alone names neither)."""
    try:
        migrate.migrate(path)
    except migrate.SchemaTooNewError as exc:
        return str(exc)
    except (sqlite3.Error, OSError) as exc:
        return f"{path}: {exc}"
    return None


CHECK_PROBLEMS = 1  # --live adds 4 and 5, see bot/live_check.py


def _check(settings: Settings, args: argparse.Namespace) -> int:
    problems: list[str] = []
    print(f"config: {settings.config_path or '(defaults and environment)'} ok")
    if not settings.token:
        problems.append("BOT_TOKEN: not set (the bot cannot run without it)")
    problems += _check_rubrics(settings)
    problems += _check_writable(settings) or _check_database(settings.database_path)
    problems += _check_backups(settings)
    live = 0
    if args.live and settings.token:
        from bot.live_check import check_bot_api

        live, line = check_bot_api(settings)
        if live:
            problems.append(line)
        else:
            print(line)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    print("check: ok" if not problems else f"check: {len(problems)} problem(s)")
    if not problems:
        return 0
    return live if live and len(problems) == 1 else CHECK_PROBLEMS


def _check_rubrics(settings: Settings) -> list[str]:
    try:
        from rubric.registry import RubricRegistry
    except ImportError:
        return []
    try:
        registry = RubricRegistry.load(extra_dirs=settings.rubric_dirs)
    except Exception as exc:
        return [f"rubric: {exc}"]
    editions = registry.editions()
    print(f"rubric: editions {', '.join(str(e) for e in editions)} ok")
    if settings.default_edition not in editions:
        return [f"[rubric] default_edition: edition {settings.default_edition} is not among {editions}"]
    return []


def _check_writable(settings: Settings) -> list[str]:
    # `run` creates and writes there: a folder it cannot write must fail here, not at the first start.
    problem = migrate.write_problem(settings.database_path)
    if problem:
        return [f"data_dir: the bot cannot write its database: {problem}"]
    print(f"data_dir: {settings.data_dir} writable")
    return []


def _check_database(path: Path) -> list[str]:
    if not path.exists():
        print(f"database: {path} does not exist yet (created at first run)")
        return []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            known = migrate.latest_version()
            row = (
                conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
                if _has_table(conn, "schema_migrations")
                else (0,)
            )
            current = row[0] or 0
            integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [f"database {path}: {exc}"]
    if current > known:
        return [f"database {path}: schema version {current} is newer than this bot ({known})"]
    if integrity != "ok":
        return [f"database {path}: integrity check failed: {integrity}"]
    pending = known - current
    print(f"database: {path} schema {current}" + (f", {pending} migration(s) to apply at start" if pending else " ok"))
    return []


def _check_backups(settings: Settings) -> list[str]:
    conf, folder = settings.backup, settings.backup_dir
    if not conf.enabled:
        print("backups: off ([backup] enabled = false)")
        return []
    if folder.exists() and not folder.is_dir():
        return [f"[backup] dir: {folder} is not a folder (scheduled backups would fail)"]
    copies = backups_in(folder)
    newest = "none yet" if not copies else f"newest {copies[-1].name}"
    print(f"backups: every {conf.every_hours} h into {folder}, keeping {conf.keep}; {newest}")
    return []


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    target: Path = args.path
    refusal = None if args.force else _backup_refusal(target)
    if refusal:
        print(f"备份未写入 / backup not written: {refusal}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        size = copy_database(settings.database_path, target)  # the scheduled backups' own copy
        copied, copied_bytes = (
            (0, 0) if args.no_files else copy_new_files(settings.data_dir / FILES, target.parent / FILES)
        )
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        print(f"备份失败 / backup failed: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(f"backup written to {target}: {size / 1e6:.1f} MB in {seconds:.2f} s")
    if not args.no_files:
        print(f"evidence files: {copied} new, {copied_bytes / 1e6:.1f} MB, in {target.parent / FILES}")
    return 0


def _backup_refusal(target: Path) -> str | None:
    """A mistyped path must not overwrite last week's backup, nor quietly land in a new folder."""
    if target.exists():
        return f"{target} already exists (add --force to overwrite it)"
    if not target.parent.is_dir():
        return f"folder {target.parent} does not exist (add --force to create it)"
    return None


RESTORED, BACKUP_UNUSABLE, BOT_RUNNING, RESTORE_FAILED = 0, 1, 3, 4


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from storage.restore import BackupUnusableError, restore

    try:
        lock = DataLock(settings.lock_path).acquire()
    except LockedError as exc:
        print(f"没有恢复：请先停止机器人 / not restored, stop the bot first: {exc}", file=sys.stderr)
        return BOT_RUNNING
    except OSError as exc:
        print(f"恢复失败 / restore failed: cannot take {settings.lock_path}: {exc.strerror or exc}", file=sys.stderr)
        return RESTORE_FAILED
    try:
        report = restore(
            args.backup, settings.database_path, settings.data_dir / FILES, migrate.latest_version(), datetime.now(UTC)
        )
    except BackupUnusableError as exc:
        print(f"没有恢复：备份不可用 / not restored, the backup cannot be used: {exc}", file=sys.stderr)
        return BACKUP_UNUSABLE
    except (OSError, sqlite3.Error) as exc:
        print(f"恢复失败 / restore failed: {exc} (the current database is left in place)", file=sys.stderr)
        return RESTORE_FAILED
    finally:
        lock.release()
    print(f"已恢复 / restored: {report.backup} -> {settings.database_path} (schema {report.schema})")
    if report.set_aside is not None:
        print(f"原数据库已移到 / the database that was in place is kept as: {report.set_aside}")
    if report.files_problem:
        print(
            f"证据文件没有全部复制回来 / evidence files not all copied back: {report.files_problem} "
            "(run restore again once it is fixed: files already back are skipped)",
            file=sys.stderr,
        )
        return RESTORE_FAILED
    print(f"证据文件 / evidence files: {report.files_copied} copied back, {report.files_bytes / 1e6:.1f} MB")
    pending = migrate.latest_version() - report.schema
    if pending:
        print(f"下次启动时会执行 {pending} 个迁移 / {pending} migration(s) will be applied at the next start")
    return RESTORED


def _demo(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(settings)
