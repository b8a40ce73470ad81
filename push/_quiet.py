"""Quiet hours: a patron's nightly window (Europe/Rome) in which nothing is sent; what falls in
it waits for its end."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from circulation import LIBRARY_TIME_ZONE

__all__ = ["quiet_until"]


def quiet_until(now: datetime, *, start: time | None, end: time | None) -> datetime | None:
    """The end of the quiet hours that `now` falls in, or None when it falls outside them. A
    window may cross midnight (21:00-08:00); start equal to end, or either unset, is none."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(LIBRARY_TIME_ZONE)
    moment = local.time().replace(tzinfo=None)
    inside = start <= moment < end if start < end else (moment >= start or moment < end)
    if not inside:
        return None
    day = local.date() if moment < end else local.date() + timedelta(days=1)
    # On the night the clocks change, a wall time is resolved by zoneinfo (fold 0).
    return datetime.combine(day, end, tzinfo=LIBRARY_TIME_ZONE)
