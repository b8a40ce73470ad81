"""Events written to the outbox in the transaction of the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db import OutboxEvent

__all__ = [
    "ACCOUNT_SUSPENDED",
    "DUE_SOON",
    "HOLD_EXPIRED",
    "HOLD_PICKUP_REMINDER",
    "HOLD_READY",
    "ITEM_STATUS_CHANGED",
    "LOAN_RENEWED",
    "NOTIFICATION_EVENTS",
    "OVERDUE",
    "emit",
]

# For patrons (the notifier follows these).
HOLD_READY = "HOLD_READY"
HOLD_PICKUP_REMINDER = "HOLD_PICKUP_REMINDER"
HOLD_EXPIRED = "HOLD_EXPIRED"
DUE_SOON = "DUE_SOON"
OVERDUE = "OVERDUE"
LOAN_RENEWED = "LOAN_RENEWED"
ACCOUNT_SUSPENDED = "ACCOUNT_SUSPENDED"
NOTIFICATION_EVENTS = frozenset(
    {
        HOLD_READY,
        HOLD_PICKUP_REMINDER,
        HOLD_EXPIRED,
        DUE_SOON,
        OVERDUE,
        LOAN_RENEWED,
        ACCOUNT_SUSPENDED,
    }
)
# For the search index: a copy's availability changed.
ITEM_STATUS_CHANGED = "ITEM_STATUS_CHANGED"


def emit(session: AsyncSession, event_type: str, payload: dict[str, Any], *, now: datetime) -> None:
    session.add(OutboxEvent(event_type=event_type, payload=payload, occurred_at=now))
