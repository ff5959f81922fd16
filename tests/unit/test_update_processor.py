import asyncio

from telegram import Chat, Message, Update, User

from bot.update_processor import PerUserUpdateProcessor


def make_update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "u", False)
    message = Message(update_id, None, Chat(user_id, "private"), from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_person_in_order_others_concurrently():
    processor = PerUserUpdateProcessor(max_concurrent_updates=64)
    events: list[tuple[str, int]] = []
    slow_started = asyncio.Event()

    async def handle(tag: str, update_id: int, delay: float, started: asyncio.Event | None = None) -> None:
        events.append((f"start-{tag}", update_id))
        if started:
            started.set()
        await asyncio.sleep(delay)
        events.append((f"end-{tag}", update_id))

    async with processor:
        first = asyncio.create_task(processor.process_update(make_update(1, 7), handle("a", 1, 0.05, slow_started)))
        await slow_started.wait()
        second = asyncio.create_task(processor.process_update(make_update(2, 7), handle("a", 2, 0)))
        other = asyncio.create_task(processor.process_update(make_update(3, 8), handle("b", 3, 0)))
        await asyncio.gather(first, second, other)

    # Person 7's second update waits for the first; person 8 is not held up by person 7.
    assert events.index(("end-a", 1)) < events.index(("start-a", 2))
    assert events.index(("end-b", 3)) < events.index(("end-a", 1))
    assert processor._locks == {} and processor._users == {}
