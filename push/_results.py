"""What one attempt to send came to, as every channel reports it."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

__all__ = ["Outcome", "SendResult", "retry_after_seconds"]

# A Retry-After further ahead than this is read as this (a day is a long wait for a reminder).
_LONGEST_WAIT = 24 * 3600.0


class Outcome(StrEnum):
    SENT = "sent"
    # Not now (429, 5xx, the network): again later, the same message with the same key.
    RETRY = "retry"
    # The push service no longer knows the subscription (404, 410): forget it.
    GONE = "gone"
    # Will never work as it is (refused, a malformed target).
    FAILED = "failed"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    error: str | None = None
    # Seconds the receiver asked us to wait (Retry-After), when it said.
    retry_after: float | None = None

    @classmethod
    def sent(cls) -> SendResult:
        return cls(Outcome.SENT)

    @classmethod
    def retry(cls, error: str, *, after: float | None = None) -> SendResult:
        return cls(Outcome.RETRY, error, after)

    @classmethod
    def gone(cls, error: str) -> SendResult:
        return cls(Outcome.GONE, error)

    @classmethod
    def failed(cls, error: str) -> SendResult:
        return cls(Outcome.FAILED, error)


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """Retry-After as seconds from `now` (epoch seconds): delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - now
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), _LONGEST_WAIT)
