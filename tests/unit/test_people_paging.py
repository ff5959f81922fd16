"""Pages cut by rendered length: as many entries as fit in one message, none lost, none too long."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.flows.paging import Paged, paginate, shorten, take, utf16_len


def under(limit: int) -> Callable[[Sequence[str]], bool]:
    """A stand-in for "the rendered page fits": one line per item."""
    return lambda chunk: sum(len(item) + 1 for item in chunk) <= limit


def every_page(items: Sequence[str], limit: int, most: int, shrink=None) -> list[Paged[str]]:
    pages = [paginate(items, 0, under(limit), most, shrink)]
    while pages[-1].index < pages[-1].count - 1:
        pages.append(paginate(items, pages[-1].index + 1, under(limit), most, shrink))
    return pages


def test_take_keeps_as_many_as_fit_at_most_most_and_at_least_one():
    items = ["a" * 10, "b" * 10, "c" * 10, "d" * 50]
    assert take(items, under(25), most=10) == 2
    assert take(items, under(1000), most=3) == 3
    assert take(items[3:], under(10), most=5) == 1  # too long alone: still one, for the caller to shorten
    assert take([], under(10), most=5) == 0


def test_every_item_is_on_exactly_one_page_in_order():
    items = [str(n % 10) * (n % 7 + 1) for n in range(60)]
    pages = every_page(items, 20, 4)
    assert [item for page in pages for item in page.items] == items
    assert all(under(20)(page.items) and 1 <= len(page.items) <= 4 for page in pages)
    assert [page.start for page in pages] == [sum(len(p.items) for p in pages[:n]) for n in range(len(pages))]
    assert {page.count for page in pages} == {len(pages)}
    last = paginate(items, 999, under(20), 4)  # a stale page number: the last page
    assert last == pages[-1]
    assert paginate([], 3, under(20), 4) == Paged((), 0, 1, 0)


def test_an_item_too_long_alone_is_shortened_until_it_fits():
    items = ["short", "x" * 500, "tail"]
    pages = every_page(items, 100, 10, shrink=shorten)
    assert [len(page.items) for page in pages] == [1, 1, 1]
    assert pages[1].items[0].endswith("…") and under(100)(pages[1].items)
    assert pages[2].items == ("tail",)


def test_shorten_cuts_with_an_ellipsis():
    assert shorten("abcdef", 4) == "abc…"
    assert shorten("abc", 4) == "abc"
    assert shorten("a b c d", 5) == "a b…"  # no dangling space before the ellipsis
    assert utf16_len("督导📜") == 4  # what Telegram counts
