"""Events written to the outbox in the transaction of the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db import Hold, OutboxEvent

__all__ = [
    "ACCOUNT_SUSPENDED",
    "DUE_SOON",
    "HOLD_CANCELLED",
    "HOLD_EXPIRED",
    "HOLD_PICKUP_REMINDER",
    "HOLD_PLACED",
    "HOLD_READY",
    "ITEM_STATUS_CHANGED",
    "LOAN_RENEWED",
    "NOTICE_EVENTS",
    "NOTIFICATION_EVENTS",
    "OVERDUE",
    "PENDING_EVENTS",
    "emit",
    "hold_event",
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
# Notices that change nothing a record's detail shows (any other event that does not name a
# record may have changed every record's: a cache of the detail follows this rule).
NOTICE_EVENTS = frozenset({DUE_SOON, OVERDUE, ACCOUNT_SUSPENDED, HOLD_PICKUP_REMINDER})
# For the search index: a copy's availability changed.
ITEM_STATUS_CHANGED = "ITEM_STATUS_CHANGED"
# A record's queue grew or shrank ({"holdId", "patronId", "recordId"}): the record's detail shows
# its length. Every other change that detail shows (a copy's status, place or due date) is in an
# event naming the record as well, so that a cache of it can follow the outbox.
HOLD_PLACED = "HOLD_PLACED"
HOLD_CANCELLED = "HOLD_CANCELLED"


def hold_event(session: AsyncSession, event_type: str, hold: Hold, *, now: datetime) -> None:
    """An event about a hold: {"holdId", "patronId", "recordId"}."""
    emit(
        session,
        event_type,
        {"holdId": hold.id, "patronId": hold.patron_id, "recordId": hold.record_id},
        now=now,
    )


# The session.info key of a unit of work's events still to write (_writes.unit_of_work).
PENDING_EVENTS = "tessera.circulation.pending_events"


def emit(session: AsyncSession, event_type: str, payload: dict[str, Any], *, now: datetime) -> None:
    """Write an event in the session's transaction: in a circulation unit of work, with its
    last changes as it ends (no ORM object, no id read back); in any other session, at its
    next flush."""
    row = {"event_type": event_type, "payload": payload, "occurred_at": now}
    pending: list[dict[str, Any]] | None = session.info.get(PENDING_EVENTS)
    if pending is None:
        session.add(OutboxEvent(**row))
    else:
        pending.append(row)
