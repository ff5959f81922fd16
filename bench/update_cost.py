"""Per-update cost of the bot against a bare python-telegram-bot echo bot (target: at most 2.0x
against an echo on the same HTTP transport; the ratio against PTB's default httpx transport is
printed too, as it was the baseline before).

Each runs as a process polling an in-process Bot API stand-in and gets the same updates, one at a
time: commands, button presses and photos from inspectors walking the rubric. The bot runs its
shipped configuration. The cost is
the process's CPU time over the run divided by the updates it handled; the handling time per update
(from the bot's own update processor) is printed beside it. The machine is shared, so the pair is
measured in several rounds and the median ratio is the result.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
from dataclasses import dataclass

from bench.common import BotProcess, bot_process, machine, ok_button, percentile, table, wait_ready
from bot.clock import SystemClock, iso
from tests.harness.botapi import FakeBotAPI
from tests.harness.driver import Person
from tests.harness.media import make_png

TARGET = 2.0  # CPU per update against an echo bot on the same HTTP transport
PHOTO_EVERY = 7  # a photo on every 7th clause, as an inspector documenting findings would


@dataclass
class Step:
    kind: str  # "command" | "press" | "photo"
    value: str


@dataclass
class Run:
    name: str
    updates: int
    cpu: float
    handling: list[float]
    bot_side: list[float]

    @property
    def cpu_per_update_ms(self) -> float:
        return 1000 * self.cpu / self.updates


def seed(data_dir, inspectors: range) -> None:
    """People and a site for the bot's run, written before it starts (as an admin would have)."""
    from storage.migrate import migrate

    path = data_dir / "bot.sqlite3"
    migrate(path)
    now = iso(SystemClock().now())
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO sites (id, name, created_at) VALUES (1, '阳光花园', ?)", (now,))
        for user_id in inspectors:
            conn.execute(
                "INSERT INTO users (id, first_name, created_at, updated_at) VALUES (?, 'i', ?, ?)", (user_id, now, now)
            )
            conn.execute(
                "INSERT INTO user_roles (user_id, role, site_id, granted_at) VALUES (?, 'inspector', 1, ?)",
                (user_id, now),
            )


async def walk_with_the_bot(person: Person, clauses: int) -> list[Step]:
    """One inspector's walk; returns the updates sent, to replay to the echo bot."""
    steps = [Step("command", "start"), Step("command", "inspect")]
    await person.send_command("start")
    await person.wait_text("督导助手")
    await person.send_command("inspect")
    await person.wait_text("请选择要督导的项目")
    markup = person.last_message.reply_markup["inline_keyboard"]
    data = next(b["callback_data"] for row in markup for b in row if "阳光花园" in b["text"])
    await person.press("阳光花园")
    steps.append(Step("press", data))
    card = await person.wait_text("总 1/65")
    for n in range(clauses):
        data = ok_button(card)
        await person.press_data(data, card.message_id)
        steps.append(Step("press", data))
        card = await person.wait_text(f"总 {n + 2}/65" if n < 64 else "复核")
        if n % PHOTO_EVERY == 0 and n < 64:
            await person.send_photo(make_png(seed=person.user_id * 100 + n))
            steps.append(Step("photo", str(n)))
            await person.wait_text("保存照片")
    return steps


async def replay_to_echo(person: Person, steps: list[Step]) -> None:
    for step in steps:
        if step.kind == "command":
            await person.send_command(step.value)
            await person.wait_reply()
        elif step.kind == "press":
            query = await person.press_data(step.value, person.last_message.message_id)
            await person.wait_callback_answer(query)
        else:
            await person.send_photo(make_png(seed=person.user_id * 100 + int(step.value)))
            await person.wait_reply()


async def measure(inspectors: int, clauses: int) -> tuple[Run, Run, Run]:
    """(the bot, the echo on the bot's transport, the echo on PTB's httpx), on the same updates."""
    people = range(5001, 5001 + inspectors)
    async with FakeBotAPI() as api:
        async with bot_process(api) as bot:  # the shipped configuration, rate limits included
            seed(bot.data_dir, people)
            await wait_ready(api)
            await warm_up(api, bot)
            cpu_before = bot.cpu_seconds()
            scripts = [await walk_with_the_bot(api.person(user_id, "督导员"), clauses) for user_id in people]
            bot_cpu = bot.cpu_seconds() - cpu_before
        updates = sum(len(s) for s in scripts)
        bot_run = Run("督导助手 bot", updates, bot_cpu, bot.handling[-updates:], bot.bot_side[-updates:])
    echoes = []
    for transport, name in (("aiohttp", "echo, same transport"), ("httpx", "echo, PTB's httpx")):
        async with FakeBotAPI() as api:
            async with bot_process(api, module=("bench.echo_bot",), env={"ECHO_TRANSPORT": transport}) as echo:
                await wait_ready(api)
                cpu_before = echo.cpu_seconds()
                for user_id, steps in zip(people, scripts, strict=True):
                    await replay_to_echo(api.person(user_id, "督导员"), steps)
                echo_cpu = echo.cpu_seconds() - cpu_before
            echoes.append(Run(name, updates, echo_cpu, echo.handling, echo.bot_side))
    return bot_run, echoes[0], echoes[1]


async def warm_up(api: FakeBotAPI, bot: BotProcess) -> None:
    """First-use costs (imports, template compilation) are not per-update costs."""
    person = api.person(4999, "warm-up")
    await person.send_command("help")
    await person.wait_reply(timeout=30)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench update_cost")
    parser.add_argument("--inspectors", type=int, default=4)
    parser.add_argument("--clauses", type=int, default=65)
    parser.add_argument("--rounds", type=int, default=5, help="bot and echo runs, alternating; the median counts")
    args, _ = parser.parse_known_args(argv)
    rounds = [asyncio.run(measure(args.inspectors, args.clauses)) for _ in range(args.rounds)]
    rows = [("round", "", "updates", "CPU ms/update", "bot-side mean ms", "handling p50 ms (incl. Bot API)")]
    for n, runs in enumerate(rounds, 1):
        for run in runs:
            rows.append(
                (
                    n,
                    run.name,
                    run.updates,
                    f"{run.cpu_per_update_ms:.2f}",
                    f"{1000 * statistics.fmean(run.bot_side):.2f}",
                    f"{1000 * percentile(run.handling, 0.5):.2f}",
                )
            )
    print(table(rows))
    same = [bot.cpu_per_update_ms / echo.cpu_per_update_ms for bot, echo, _ in rounds]
    httpx = [bot.cpu_per_update_ms / echo.cpu_per_update_ms for bot, _, echo in rounds]
    print(f"bot / echo on the same transport, per round: {', '.join(f'{r:.2f}x' for r in same)}")
    print(f"bot / echo on PTB's httpx, per round: {', '.join(f'{r:.2f}x' for r in httpx)}")
    ratio = statistics.median(same)
    print(
        f"median: {ratio:.2f}x the same-transport echo (target ≤ {TARGET:.1f}x), "
        f"{statistics.median(httpx):.2f}x the httpx echo — {machine()}"
    )
    return 0 if ratio <= TARGET else 1
