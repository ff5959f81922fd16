"""Calendar quarters and digest weeks in the configured time zone, as UTC ranges for queries.

Timestamps are stored as UTC ISO strings (``bot.clock.iso``), so a period becomes a half-open
range ``[start, end)`` of such strings and every query is an index range scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import iso

_QUARTER = re.compile(r"^\s*(\d{4})\s*[-_/ ]?\s*[Qq]\s*([1-4])\s*$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def parse(cls, text: str) -> Quarter | None:
        """``2026-Q2`` (also ``2026Q2``, ``2026 q2``); None when it is not a quarter."""
        match = _QUARTER.match(text)
        if not match:
            return None
        year = int(match.group(1))
        return cls(year, int(match.group(2))) if 2000 <= year <= 2999 else None

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> Quarter:
        local = moment.astimezone(tz)
        return cls(local.year, (local.month - 1) // 3 + 1)

    @property
    def code(self) -> str:
        """Compact form for callback data and file names: ``2026Q2``."""
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    def previous(self, count: int = 1) -> Quarter:
        index = self.year * 4 + self.number - 1 - count
        return Quarter(index // 4, index % 4 + 1)

    def next(self) -> Quarter:
        return self.previous(-1)

    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    def bounds(self, tz: ZoneInfo) -> tuple[str, str]:
        """``[start, end)`` in stored UTC form: local midnight of the first day to that of the next quarter."""
        return _local_midnight(self.first_day(), tz), _local_midnight(self.next().first_day(), tz)


def _local_midnight(day: date, tz: ZoneInfo) -> str:
    return iso(datetime.combine(day, time(0), tzinfo=tz))


@dataclass(frozen=True)
class DigestWeek:
    """The week a digest covers: the seven whole local days before the day of its scheduled moment.

    Whole days, so the window is exactly what the header names (``first_day`` to ``last_day``). A
    window ending at the moment itself (Monday 09:00) took in the digest day's early hours while the
    header ended the day before, and left out the same hours a week earlier. An inspection submitted
    on the digest day before the moment is in the next week's digest; none is in two or in none.
    """

    moment: datetime  # aware, in the configured zone
    key: str  # ISO week of the moment, e.g. 2026-W19: one digest per manager and key

    @property
    def first_day(self) -> date:
        return self.moment.date() - timedelta(days=7)

    @property
    def last_day(self) -> date:
        return self.moment.date() - timedelta(days=1)

    @property
    def start(self) -> str:
        return _local_midnight(self.first_day, self._zone)

    @property
    def end(self) -> str:
        return _local_midnight(self.moment.date(), self._zone)

    @property
    def _zone(self) -> ZoneInfo:
        zone = self.moment.tzinfo
        assert isinstance(zone, ZoneInfo), "a digest moment is made in the configured zone"
        return zone


def latest_digest_week(now: datetime, tz: ZoneInfo, weekday: int, at: time) -> DigestWeek:
    """The most recent scheduled moment at or before ``now`` (``weekday`` 0 = Monday)."""
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    moment = datetime.combine(day, at, tzinfo=tz)
    if moment > local:
        moment -= timedelta(days=7)
    year, week, _ = moment.isocalendar()
    return DigestWeek(moment, f"{year}-W{week:02d}")
