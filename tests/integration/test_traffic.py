"""A tap never waits behind a broadcast: the shipped rate limits, through the real Application."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.rate_limits import TrafficRateLimiter, broadcasting, is_broadcast
from tests.conftest import BotUnderTest

BROADCAST = 300


async def test_a_tap_is_answered_while_a_broadcast_of_hundreds_is_queued(bot: BotUnderTest) -> None:
    assert bot.settings.max_messages_per_second == 30 and bot.settings.broadcast_percent == 80  # as shipped
    people = [bot.api.person(8000 + n, f"客服{n}", started=True) for n in range(BROADCAST)]
    svc = bot.services
    assert bot.app is not None
    fanout = asyncio.create_task(
        asyncio.wait(
            [asyncio.create_task(svc.send_safely(bot.app.bot, p.user_id, f"提醒 {n}")) for n, p in enumerate(people)]
        )
    )
    await bot.add_person(7001, "inspector", "王督导")
    someone = bot.api.person(7001, "王督导")
    await asyncio.sleep(0.3)  # the broadcast is under way, hundreds still queued at 24/s
    started = time.monotonic()
    query = await someone.press_data("lang:en", None)
    await someone.wait_callback_answer(query, timeout=2)
    await someone.wait_text("English", timeout=2)  # the reply to the tap, a message in their chat
    answered_after = time.monotonic() - started
    delivered = len(bot.api.calls("sendMessage"))
    assert answered_after < 1.0, f"the tap waited {answered_after:.2f} s"
    assert delivered < BROADCAST - 100, f"the broadcast was nearly done ({delivered}): nothing was queued"
    fanout.cancel()


async def test_broadcasting_marks_calls_made_inside_and_in_tasks_started_inside() -> None:
    seen: list[bool] = []

    async def call() -> None:
        seen.append(is_broadcast())

    await call()
    with broadcasting():
        await call()
        await asyncio.create_task(call())
    await call()
    assert seen == [False, True, True, False]


async def test_a_429_pauses_broadcasts_or_one_chat_not_everything() -> None:
    from telegram.error import RetryAfter

    limiter = TrafficRateLimiter(30, 0.8)
    failures = {"bcast": 1, "chat1": 1}
    done: dict[str, float] = {}
    start = time.monotonic()

    async def send(name: str) -> bool:
        if failures.get(name):
            failures[name] -= 1
            raise RetryAfter(0.3)
        done[name] = time.monotonic() - start
        return True

    async def request(name: str, chat_id: int, broadcast: bool) -> None:
        if broadcast:
            with broadcasting():
                await limiter.process_request(send, (name,), {}, "sendMessage", {"chat_id": chat_id}, None)
        else:
            await limiter.process_request(send, (name,), {}, "sendMessage", {"chat_id": chat_id}, None)

    first = asyncio.gather(request("bcast", 1, True), request("chat1", 2, False))
    await asyncio.sleep(0.05)
    # While the broadcast and chat 2 are held, another chat's tap goes straight out.
    await request("other", 3, False)
    assert done["other"] < 0.2
    await first
    assert done["bcast"] >= 0.3 and done["chat1"] >= 0.3


async def test_a_persons_reply_outlasts_a_burst_of_429s_and_broadcasts_yield(monkeypatch) -> None:
    """A crowd arriving at once spends the budget: replies wait their turn instead of failing, and
    broadcasts hold back meanwhile."""
    from telegram.error import RetryAfter

    from bot import rate_limits

    limiter = TrafficRateLimiter(30, 0.8)
    refusals = {"reply": 5}  # more than a broadcast's retries
    done: dict[str, float] = {}
    start = time.monotonic()

    async def send(name: str) -> bool:
        if refusals.get(name):
            refusals[name] -= 1
            raise RetryAfter(0.1)
        done[name] = time.monotonic() - start
        return True

    async def broadcast() -> None:
        with broadcasting():
            await limiter.process_request(send, ("broadcast",), {}, "sendMessage", {"chat_id": 9}, None)

    reply = asyncio.create_task(limiter.process_request(send, ("reply",), {}, "sendMessage", {"chat_id": 2}, None))
    await asyncio.sleep(0.05)
    await broadcast()
    await reply
    assert done["broadcast"] >= 0.1  # held while the reply was paused
    assert done["reply"] >= 0.5  # five waits of 0.1 s, and then it went out

    monkeypatch.setattr(rate_limits, "INTERACTIVE_PATIENCE", 0.25)
    refusals["late"] = 10
    with pytest.raises(RetryAfter):
        await limiter.process_request(send, ("late",), {}, "sendMessage", {"chat_id": 3}, None)
