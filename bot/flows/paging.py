"""Lists cut into pages by what fits in one Telegram message, not by a fixed count.

Telegram refuses a message longer than 4096 characters (UTF-16 code units, after entity parsing). A
list page that takes a fixed number of entries breaks as soon as one entry is long (a reopen reason of
a few thousand characters), and then every later page is out of reach. Here a page takes entries while
the caller's ``fits`` check (usually: the rendered page is within :data:`MESSAGE_BUDGET`) holds, at most
``most`` of them for readability, and always at least one; an entry too long even alone is shortened
(its raw values cut before rendering, so no HTML tag or entity is ever cut).

Pages are cut greedily from the first entry, so page *n* is the same page every time the list is the
same: page numbers in buttons keep working, and stepping through the pages reaches every entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Fits = Callable[[Sequence[T]], bool]
Shrink = Callable[[T, int], T]

# Raw rendered HTML is never shorter than what Telegram counts (tags and entities only add), so a
# budget on it is safe; the margin under 4096 covers page headers measured with provisional numbers.
MESSAGE_BUDGET = 3800
# Button labels of one page of a picker: far below what Telegram accepts for a keyboard.
KEYBOARD_BUDGET = 1500
ELLIPSIS = "…"
_FIRST_CUT = 2000  # an entry too long alone is first cut to this many characters per value, then halved


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else cut to ``limit`` ending with "…"."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def take(items: Sequence[T], fits: Fits[T], most: int) -> int:
    """How many of ``items``, from the first, go on one page: as many as ``fits`` allows, at most
    ``most``, and at least one (an item too long alone is the caller's to shorten)."""
    most = min(most, len(items))
    if most <= 1 or fits(items[:most]):
        return most
    # Longer prefixes never fit better than shorter ones: search for the longest that fits.
    low, high = 1, most - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(items[:middle]):
            low = middle
        else:
            high = middle - 1
    return low


def shrink_to_fit(item: T, fits: Fits[T], shrink: Shrink[T]) -> T:
    """``item`` if it fits alone; else ``shrink(item, limit)`` with a smaller limit until it does."""
    if fits([item]):
        return item
    limit = _FIRST_CUT
    shorter = shrink(item, limit)
    while limit > 8 and not fits([shorter]):
        limit //= 2
        shorter = shrink(item, limit)
    return shorter


def first_page(items: Sequence[T], fits: Fits[T], most: int, shrink: Shrink[T] | None = None) -> tuple[T, ...]:
    """The page that starts with ``items[0]`` (for lists paged by a cursor, such as the audit log)."""
    page = list(items[: take(items, fits, most)])
    if len(page) == 1 and shrink is not None:
        page[0] = shrink_to_fit(page[0], fits, shrink)
    return tuple(page)


@dataclass(frozen=True)
class Paged(Generic[T]):
    items: tuple[T, ...]
    index: int  # 0-based; a page number past the end gives the last page
    count: int  # pages in all (at least 1)
    start: int  # position of items[0] in the whole list


def paginate(items: Sequence[T], index: int, fits: Fits[T], most: int, shrink: Shrink[T] | None = None) -> Paged[T]:
    """Page ``index`` of ``items`` cut greedily from the first (see the module's docstring)."""
    starts = []
    start = 0
    while start < len(items):
        starts.append(start)
        start += take(items[start:], fits, most)
    if not starts:
        return Paged((), 0, 1, 0)
    index = min(max(index, 0), len(starts) - 1)
    end = starts[index + 1] if index + 1 < len(starts) else len(items)
    page = list(items[starts[index] : end])
    if len(page) == 1 and shrink is not None:
        page[0] = shrink_to_fit(page[0], fits, shrink)
    return Paged(tuple(page), index, len(starts), starts[index])
