"""People-area lists cut by rendered length: no page is too long for Telegram, and every entry is
reachable. Names of 64 emoji are legal and count twice for Telegram (UTF-16), which makes ten people
or twenty invitations too long for one message."""

from __future__ import annotations

from bot.flows.access import Caller, Role
from bot.flows.paging import utf16_len
from storage.users import UserRepository
from tests.conftest import ADMIN_ID, BotUnderTest

DEPUTY = 5400


async def test_the_people_list_pages_by_length_and_reaches_everyone(bot: BotUnderTest):
    sites = [await bot.add_site(f"{n}" + "🏠" * 63) for n in range(3)]
    users = UserRepository(bot.services.db)
    for n in range(25):
        await bot.add_person(6000 + n, "staff", f"{n:02d}" + "🙂" * 62, site_id=sites[0])
        for site in sites[1:]:
            await users.grant(6000 + n, "staff", "2026-01-01T00:00:00+00:00", site_id=site)
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("people")
    pages = [await admin.wait_text("人员")]
    while "▶" in pages[-1].buttons:
        await admin.press("▶", pages[-1].message_id)
        pages.append(await admin.wait_reply())
    assert len(pages) > 3  # more than ten a page would need: ten of these people do not fit in one message
    shown = []
    for number, page in enumerate(pages, 1):
        assert utf16_len(page.text) < 4096 and utf16_len(page.raw_text) < 4096
        assert f"共 26 人，第 {number}/{len(pages)} 页" in page.text
        shown += [line[2:4] for line in page.text.splitlines() if line.startswith("• ") and "🙂" in line]
    assert shown == [f"{n:02d}" for n in range(25)]
    # Back again: the same pages, in reverse.
    await admin.press("◀", pages[-1].message_id)
    assert (await admin.wait_reply()).text == pages[-2].text


async def test_open_invitations_list_as_many_as_fit(bot: BotUnderTest):
    sites = [await bot.add_site(f"{n:02d}" + "🏠" * 62) for n in range(25)]
    await bot.add_person(DEPUTY, "admin", "🌟" * 64)
    deputy = Caller(DEPUTY, "🌟" * 64, "zh-hans", frozenset({Role.ADMIN}))
    for site in sites:
        await bot.services.people.invite(deputy, Role.STAFF, f"s{site}", None)
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("invites")
    listing = await admin.wait_text("仍有效的邀请链接")
    listed = len(listing.buttons)
    assert 1 < listed < 20 and f"（{listed} 个，只列出最早到期的 {listed} 个）" in listing.text
    assert utf16_len(listing.raw_text) < 4096
    await admin.press("撤销 1.", listing.message_id)
    again = await admin.wait_text("已撤销邀请")
    assert utf16_len(again.raw_text) < 4096 and len(again.buttons) >= 1
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM invitations WHERE revoked_at IS NOT NULL") == 1
