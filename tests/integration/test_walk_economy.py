"""What a full walk costs the person: messages the bot sends and taps, played as on site.

A 65-clause walk with 10 findings, each answered 基本符合 and then shown with one photo (the natural
move: tap the answer, take the photo), the rest 符合, then submit. Printed for the record and bounded
so a change that makes the walk chattier fails here.
"""

from __future__ import annotations

from tests.conftest import BotUnderTest
from tests.harness.driver import Person
from tests.harness.media import make_png
from tests.integration.test_inspection_walk import inspector

FINDINGS = {3, 9, 15, 21, 27, 33, 39, 45, 51, 57}  # every sixth clause from the fourth


def live_card(person: Person):
    """The newest message with answer buttons: the card the thumb is on."""
    return next((m for m in reversed(person.messages) if any("符合" in b for b in m.buttons)), None)


async def walk_with_findings(bot: BotUnderTest, person: Person) -> tuple[int, int]:
    """(messages the bot sent, taps) for /inspect to the submitted result."""
    sent_before = len(bot.api.calls("sendMessage")) + len(bot.api.calls("sendPhoto"))
    taps = 0
    await person.send_command("inspect")
    await person.wait_text("项目")
    await person.press("阳光花园")
    taps += 1
    await bot.api.idle()
    if any("第 2 版" in b for b in person.buttons()):  # an edition question, where there is one
        await person.press("第 2 版")
        taps += 1
    for n in range(65):
        await person.wait_until(lambda messages, n=n: f"总 {n + 1}/65" in getattr(live_card(person), "text", ""), 5)
        card = live_card(person)
        if n in FINDINGS:
            await person.press("🟡 基本符合", card.message_id)
            taps += 1
            await bot.api.idle()
            await person.send_photo(make_png(seed=n), caption="破损")
        else:
            await person.press("✅ 符合", card.message_id)
            taps += 1
        await bot.api.idle()
        live = [m for m in person.messages if any("符合" in b for b in m.buttons)]
        assert len(live) <= 1, f"{len(live)} cards with answer buttons after clause {n + 1}"
    await person.wait_text("复核")
    await person.press("✅ 提交")
    taps += 1
    await person.wait_text("总分")
    await bot.api.idle()
    sent = len(bot.api.calls("sendMessage")) + len(bot.api.calls("sendPhoto")) - sent_before
    return sent, taps


async def test_a_walk_with_ten_findings_costs_few_messages(bot: BotUnderTest) -> None:
    person, _ = await inspector(bot, "阳光花园")
    sent, taps = await walk_with_findings(bot, person)
    print(f"\nwalk economy: 65 clauses, 10 findings with a photo each: {sent} messages from the bot, {taps} taps")
    photos = await bot.services.db.fetchval("SELECT COUNT(*) FROM photos")
    assert photos == 10
    # Before issue #13: 36 messages and 68 taps (an edition question; per finding an evidence prompt,
    # a photo confirmation and a moved card). Now a finding costs the photo plus one card.
    assert sent <= 16 and taps <= 67
