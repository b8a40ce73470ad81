"""Circulation time: every rule reads "now" from an injected clock, never from the wall."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["LIBRARY_TIME_ZONE", "Clock", "ManualClock", "SystemClock", "library_date"]

# Due dates, deadlines and closed days are calendar days where the libraries are.
LIBRARY_TIME_ZONE = ZoneInfo("Europe/Rome")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until moved; only forward, as circulation time never rewinds."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        if moment < self._now:
            raise ValueError(f"{moment.isoformat()} is before {self._now.isoformat()}")
        self._now = moment


def library_date(moment: datetime) -> date:
    """The calendar day of `moment` in the libraries' time zone."""
    return moment.astimezone(LIBRARY_TIME_ZONE).date()
