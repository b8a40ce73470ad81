"""The circulation core: one rules engine, a policy file per network."""

from ._clock import LIBRARY_TIME_ZONE, Clock, ManualClock, SystemClock, library_date

__all__ = ["LIBRARY_TIME_ZONE", "Clock", "ManualClock", "SystemClock", "library_date"]
