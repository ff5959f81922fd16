"""Mixed load: a 3,000-reminder fan-out while 100 inspectors walk (targets: tap p99 < 150 ms end to
end during the fan-out; the fan-out at ≥ 80% of its configured share; nothing lost or doubled).

The bot runs as a process with its shipped configuration (rate limits included; only the quarterly
complaint-report rule is on, so the fan-out is one reminder per staff member). The Bot API stand-in
enforces Telegram's 30 messages/s overall and 1/s per chat. Inspectors (tasks in this process) tap
about once every ``--think`` seconds with a photo every few clauses, as in ``bench crowd``; after
``--delay`` seconds the bot's clock moves to the quarter's first working day (SIGUSR1) and the duty
engine sends the reminders. A tap's latency runs from the press queued at the stand-in to the edited
card arriving back; the table shows the taps made while the reminders were going out apart from the
rest. The fan-out rate is reminders delivered over the time from the first to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
from datetime import timedelta
from pathlib import Path

from bench.common import bot_process, load_generator_without_pauses, machine, percentile, table, wait_ready
from bench.crowd import Tap, inspect_fully
from bench.fanout import BEFORE
from bench.update_cost import seed as seed_inspectors
from bot.clock import iso
from config.duties import DutySettings
from config.settings import Settings
from tests.harness.botapi import FakeBotAPI

STAFF_PER_SITE = 10
FIRST_STAFF = 100_000
FIRST_INSPECTOR = 20_001


def prepare(data_dir: Path, inspectors: range, staff_sites: int) -> list[int]:
    """The inspectors' site, and staff sites in place before the quarter, as an import leaves them."""
    seed_inspectors(data_dir, inspectors)
    now = iso(BEFORE - timedelta(days=1))  # the engine reminds sites that existed when the period began
    staff = []
    with sqlite3.connect(data_dir / "bot.sqlite3") as conn:
        for n in range(staff_sites):
            site_id = conn.execute(
                "INSERT INTO sites (name, created_at) VALUES (?, ?)", (f"项目{n:04d}", now)
            ).lastrowid
            for k in range(STAFF_PER_SITE):
                user_id = FIRST_STAFF + n * STAFF_PER_SITE + k
                conn.execute(
                    "INSERT INTO users (id, first_name, created_at, updated_at) VALUES (?, '客服', ?, ?)",
                    (user_id, now, now),
                )
                conn.execute(
                    "INSERT INTO user_roles (user_id, role, site_id, granted_at) VALUES (?, 'staff', ?, ?)",
                    (user_id, site_id, now),
                )
                staff.append(user_id)
    rules = "\n".join(
        f'[[duties.rules]]\nid = "{rule.id}"\nenabled = {"true" if rule.id == "complaint_report" else "false"}\n'
        for rule in DutySettings().rules
    )
    (data_dir / "bench.toml").write_text(rules, encoding="utf-8")
    return staff


async def mixed(inspectors: int, sends: int, clauses: int, think: float, delay: float) -> int:
    people = range(FIRST_INSPECTOR, FIRST_INSPECTOR + inspectors)
    staff_sites = max(1, sends // STAFF_PER_SITE)
    staff: list[int] = []

    def prepared(data_dir: Path) -> None:
        staff.extend(prepare(data_dir, people, staff_sites))

    with load_generator_without_pauses():
        async with FakeBotAPI() as api, bot_process(api, ("bench.mixed_bot",), prepare=prepared) as bot:
            for user_id in staff:
                api.person(user_id, "客服", started=True)
            api.set_rate_limit(global_per_s=Settings().max_messages_per_second, per_chat_per_s=1)
            await wait_ready(api)
            presses: list[Tap] = []
            walks = asyncio.gather(*(inspect_fully(api.person(p, "督导员"), clauses, think, presses) for p in people))
            await asyncio.sleep(delay)
            bot.process.send_signal(signal.SIGUSR1)
            results = await walks
            staff_chats = set(staff)

            def reminders() -> list[float]:
                return [
                    r.time
                    for r in api.request_log
                    if r.method == "sendMessage" and r.status == 200 and r.params.get("chat_id") in staff_chats
                ]

            await api.wait_for(lambda: len(reminders()) >= len(staff) or None, 600, "every reminder")
            await asyncio.sleep(2)  # anything sent twice would arrive now
            sent = sorted(reminders())
            counts = {user_id: sum(1 for m in api.sent_messages(user_id) if "投诉" in m.text) for user_id in staff}
            with bot.db() as conn:
                answers = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
                stored_photos = conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        lag = bot.loop_lag
    first, last = sent[0], sent[-1]
    during = [tap.latency for tap in presses if first <= tap.pressed <= last]
    outside = [tap.latency for tap in presses if not first <= tap.pressed <= last]
    share = Settings().max_messages_per_second * Settings().broadcast_percent / 100
    rate = (len(sent) - 1) / (last - first) if last > first else float("nan")
    lost = sum(1 for n in counts.values() if n == 0)
    doubled = sum(1 for n in counts.values() if n > 1)
    photos = sum(p for _, p in results)
    ms = lambda values, share_: f"{1000 * percentile(values, share_):.1f}"  # noqa: E731
    rows = [
        ("taps", "count", "p50 ms", "p95 ms", "p99 ms"),
        ("during the fan-out", len(during), ms(during, 0.5), ms(during, 0.95), ms(during, 0.99)),
        ("before and after", len(outside), ms(outside, 0.5), ms(outside, 0.95), ms(outside, 0.99)),
    ]
    print(table(rows))
    print()
    fan = [
        ("reminders", "seconds", "msg/s", f"of the share ({share:g}/s)", "429s", "lost", "doubled"),
        (
            len(sent),
            f"{last - first:.1f}",
            f"{rate:.1f}",
            f"{100 * rate / share:.0f}%",
            api.rate_limit_hits,
            lost,
            doubled,
        ),
    ]
    print(table(fan))
    kept = answers == inspectors * clauses and stored_photos == photos
    p99 = 1000 * percentile(during, 0.99)
    print(
        f"bot event-loop lag p99 {ms(lag, 0.99)} ms; answers {answers}/{inspectors * clauses}, photos "
        f"{stored_photos}/{photos}"
    )
    print(f"targets: tap p99 < 150 ms during the fan-out, ≥ 80% of the share, nothing lost — {machine()}")
    met = p99 < 150 and rate >= 0.8 * share and lost == 0 and doubled == 0 and kept
    return 0 if met else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mixed")
    parser.add_argument("--inspectors", type=int, default=100)
    parser.add_argument("--sends", type=int, default=3000)
    parser.add_argument("--clauses", type=int, default=65)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds between an inspector's taps")
    parser.add_argument("--delay", type=float, default=10.0, help="seconds of walking before the fan-out")
    args, _ = parser.parse_known_args(argv)
    print(
        f"{args.inspectors} inspectors walking {args.clauses} clauses (~{args.think:g} s between taps) "
        f"while {args.sends} reminders go out"
    )
    return asyncio.run(mixed(args.inspectors, args.sends, args.clauses, args.think, args.delay))
