"""What the public record detail shows (the contract's RecordDetail fragment), as the database
holds it, and the rule by which the gateway's cache of it follows the outbox.

The cache drops a record on an event whose payload has its "recordId", ignores the events of
`circulation.NOTICE_EVENTS`, and clears everything on any other event. Circulation keeps to the
stricter rule these helpers check: a transaction that changes what a record's detail shows
emits an event naming that record.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from circulation import NOTICE_EVENTS
from db import Hold, HoldStatus, Item, ItemStatus, Loan, OutboxEvent, Record


@dataclass(frozen=True)
class CopyShown:
    """A copy as the detail shows it (the status shown is derived from these and the date)."""

    item_id: int
    status: ItemStatus
    location_library_id: str | None
    available_from: date | None
    due_date: date | None


@dataclass(frozen=True)
class Detail:
    hold_queue_length: int
    copies: tuple[CopyShown, ...]


def details(
    record_ids: Iterable[str], holds: Iterable[Hold], items: Iterable[Item], loans: Iterable[Loan]
) -> dict[str, Detail]:
    """Each record's detail, from rows read back."""
    waiting = Counter(hold.record_id for hold in holds if hold.status is HoldStatus.WAITING)
    due = {loan.item_id: loan.due_date for loan in loans if loan.returned_at is None}
    copies: dict[str, list[CopyShown]] = defaultdict(list)
    for item in sorted(items, key=lambda item: item.id):
        copies[item.record_id].append(
            CopyShown(
                item.id,
                item.status,
                item.location_library_id,
                item.available_from,
                due.get(item.id),
            )
        )
    return {
        record_id: Detail(waiting[record_id], tuple(copies[record_id])) for record_id in record_ids
    }


def records_named(events: Iterable[tuple[str, dict[str, Any]]]) -> set[str]:
    """The records that `events` (type, payload) invalidate in the cache."""
    return {
        str(payload["recordId"])
        for event_type, payload in events
        if event_type not in NOTICE_EVENTS and "recordId" in payload
    }


def unannounced(
    before: dict[str, Detail],
    after: dict[str, Detail],
    events: Iterable[tuple[str, dict[str, Any]]],
) -> dict[str, tuple[Detail | None, Detail | None]]:
    """The records whose detail changed with no event naming them: (before, after) by id."""
    named = records_named(events)
    return {
        record_id: (before.get(record_id), after.get(record_id))
        for record_id in sorted(before.keys() | after.keys())
        if before.get(record_id) != after.get(record_id) and record_id not in named
    }


@dataclass(frozen=True)
class Snapshot:
    details: dict[str, Detail]
    # The outbox's highest id when read: the events after it are the ones to look at.
    last_event_id: int


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> Snapshot:
    async with sessions() as session:
        record_ids = list(await session.scalars(select(Record.id)))
        holds = list(await session.scalars(select(Hold)))
        items = list(await session.scalars(select(Item)))
        loans = list(await session.scalars(select(Loan)))
        last = await session.scalar(select(func.max(OutboxEvent.id)))
    return Snapshot(details(record_ids, holds, items, loans), last or 0)


async def events_after(
    sessions: async_sessionmaker[AsyncSession], event_id: int
) -> list[tuple[str, dict[str, Any]]]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxEvent.event_type, OutboxEvent.payload)
            .where(OutboxEvent.id > event_id)
            .order_by(OutboxEvent.id)
        )
        return [(event_type, payload) for event_type, payload in rows]
