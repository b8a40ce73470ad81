"""Open and closed days of a library: weekly hours, its closures, and Italian public holidays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import holidays

__all__ = ["LibraryCalendar", "is_public_holiday"]

# A library open on no day at all would make "the next open day" endless; a year is the bound.
_SEARCH_LIMIT = 366


@cache
def _italian_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("IT")


def is_public_holiday(day: date) -> bool:
    return day in _italian_holidays()


@dataclass(frozen=True)
class LibraryCalendar:
    """`open_weekdays` (Monday 0) from the weekly hours; empty when the hours are not known,
    in which case only closures and holidays close the library."""

    open_weekdays: frozenset[int] = frozenset()
    closures: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, weekdays_with_hours: Iterable[int], closures: Iterable[date]) -> LibraryCalendar:
        return cls(frozenset(weekdays_with_hours), frozenset(closures))

    def is_open(self, day: date) -> bool:
        if day in self.closures or is_public_holiday(day):
            return False
        return not self.open_weekdays or day.weekday() in self.open_weekdays

    def next_open_day(self, day: date) -> date:
        """`day` itself when open, else the first open day after it."""
        for offset in range(_SEARCH_LIMIT):
            candidate = day + timedelta(days=offset)
            if self.is_open(candidate):
                return candidate
        return day

    def open_days_after(self, day: date, count: int) -> date:
        """The `count`-th open day after `day` (not counting `day` itself)."""
        found = 0
        candidate = day
        for _ in range(_SEARCH_LIMIT):
            candidate += timedelta(days=1)
            if self.is_open(candidate):
                found += 1
                if found == count:
                    return candidate
        return day + timedelta(days=count)
