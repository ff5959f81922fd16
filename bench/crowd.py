"""200 inspectors completing full 65-clause inspections at once, with photos (target: p99 < 50 ms).

The bot runs as a process; the inspectors are tasks in this process talking to the Bot API
stand-in. Bot-side handling time is measured by the bot's update processor: from the moment an
update's turn comes to the end of its handler, less the time spent waiting for Bot API answers
(the stand-in shares this machine's two cores with the bot; its latency is printed separately). Telegram's
own send limit is lifted for this run (BOT_MAX_MESSAGES_PER_SECOND) so the numbers are the bot's,
not the limiter's. At the end every answer and photo is checked in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time

from bench.common import bot_process, machine, percentile, table, wait_ready
from bench.update_cost import PHOTO_EVERY, seed
from tests.harness.botapi import FakeBotAPI
from tests.harness.driver import Person
from tests.harness.media import make_png


async def inspect_fully(person: Person, clauses: int, think: float) -> tuple[int, int]:
    """One inspector's whole walk; returns (updates sent, photos sent).

    ``think`` is the mean pause between taps (reading a clause, looking around): people on site do
    not tap as fast as the bot answers, and a closed loop with no pause would only measure a queue.
    """
    rng = random.Random(person.user_id)

    async def pause() -> None:
        if think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)

    # "At once" on a site visit means within a few seconds, not the same millisecond.
    await asyncio.sleep(rng.uniform(0, think))
    await person.send_command("inspect")
    picker = await person.wait_text("请选择要督导的项目", timeout=120)
    await person.press("阳光花园", picker.message_id)
    editions = await person.wait_text("版本", timeout=120)
    await person.press("第 2 版", editions.message_id)
    card = await person.wait_text("总 1/65", timeout=120)
    updates, photos = 3, 0
    for n in range(clauses):
        await pause()
        await person.press_data(card.reply_markup["inline_keyboard"][0][0]["callback_data"], card.message_id)
        updates += 1
        card = await person.wait_text(f"总 {n + 2}/65" if n < 64 else "复核", timeout=120)
        if n % PHOTO_EVERY == 0 and n < 64:
            await pause()
            await person.send_photo(make_png(seed=person.user_id * 100 + n))
            updates += 1
            photos += 1
            await person.wait_text("张照片", timeout=120)
    return updates, photos


async def crowd(inspectors: int, clauses: int, think: float) -> int:
    people = range(20001, 20001 + inspectors)
    async with FakeBotAPI() as api:
        async with bot_process(api, env={"BOT_MAX_MESSAGES_PER_SECOND": "100000"}) as bot:
            seed(bot.data_dir, people)
            await wait_ready(api)
            started = time.perf_counter()
            results = await asyncio.gather(*(inspect_fully(api.person(p, "督导员"), clauses, think) for p in people))
            elapsed = time.perf_counter() - started
            with sqlite3.connect(bot.data_dir / "bot.sqlite3") as conn:
                answers = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
                stored_photos = conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        timings, handling = bot.bot_side, bot.handling
    updates = sum(u for u, _ in results)
    photos = sum(p for _, p in results)
    rows = [
        ("inspectors", "updates", "updates/s", "p50 ms", "p95 ms", "p99 ms", "p99 incl. Bot API", "answers", "photos"),
        (
            inspectors,
            updates,
            f"{updates / elapsed:.0f}",
            f"{1000 * percentile(timings, 0.50):.1f}",
            f"{1000 * percentile(timings, 0.95):.1f}",
            f"{1000 * percentile(timings, 0.99):.1f}",
            f"{1000 * percentile(handling, 0.99):.1f}",
            f"{answers}/{inspectors * clauses}",
            f"{stored_photos}/{photos}",
        ),
    ]
    print(table(rows))
    ok = answers == inspectors * clauses and stored_photos == photos
    p99 = 1000 * percentile(timings, 0.99)
    print(f"p99 {p99:.1f} ms (target < 50 ms); nothing lost: {'yes' if ok else 'NO'} — {machine()}")
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench crowd")
    parser.add_argument("--inspectors", type=int, default=200)
    parser.add_argument("--clauses", type=int, default=65)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds between an inspector's taps")
    args, _ = parser.parse_known_args(argv)
    print(f"{args.inspectors} inspectors, {args.clauses} clauses each, ~{args.think:g} s between taps")
    return asyncio.run(crowd(args.inspectors, args.clauses, args.think))
