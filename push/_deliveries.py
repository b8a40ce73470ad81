"""The deliveries table: which messages an event makes, claiming the due ones, and recording
what became of them. Every write here is one short transaction (no network call inside)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db import Delivery, OutboxEvent, Patron, PushSubscription

__all__ = [
    "EMAIL",
    "OPEN",
    "PUSH",
    "SMS",
    "Channels",
    "ResultRow",
    "delivery_rows",
    "insert_deliveries",
    "lock_due",
    "record_results",
    "retry_delay",
    "store_messages",
    "subscriptions_of",
]

PUSH, SMS, EMAIL = "push", "sms", "email"
# Due when next_attempt_at has passed: a 'sending' one then is a worker's lease run out.
OPEN = ("pending", "deferred", "sending")


@dataclass(frozen=True)
class Channels:
    """The channels this notifier can send on (each needs its configuration)."""

    push: bool
    sms: bool
    email: bool


def email_wanted(patron: Patron) -> bool:
    """The contract's default: e-mail when the patron has an address, unless turned off."""
    return bool(patron.email) and patron.notify_email is not False


def delivery_rows(
    *,
    events: Iterable[OutboxEvent],
    patrons: Mapping[int, Patron],
    subscriptions: Mapping[int, Sequence[int]],
    channels: Channels,
    now: datetime,
) -> list[dict[str, Any]]:
    """The deliveries each event makes: one per push subscription (every device), one SMS, and
    an e-mail only for patrons reached by neither. Sorted by key, so that two workers inserting
    the same rows take the key locks in one order and cannot deadlock."""
    rows: list[dict[str, Any]] = []
    for event in events:
        patron = patrons.get(int(event.payload.get("patronId", 0)))
        if patron is None:
            continue
        targets: list[tuple[str, str, int | None]] = []
        if channels.push and patron.notify_push:
            targets += [(PUSH, str(sub_id), sub_id) for sub_id in subscriptions.get(patron.id, ())]
        if channels.sms and patron.notify_sms and patron.phone:
            targets.append((SMS, str(patron.id), None))
        if channels.email and not targets and email_wanted(patron):
            targets.append((EMAIL, str(patron.id), None))
        rows += [
            {
                "key": f"{event.id}:{channel}:{target}",
                "event_id": event.id,
                "event_type": event.event_type,
                "payload": event.payload,
                "patron_id": patron.id,
                "channel": channel,
                "subscription_id": subscription_id,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for channel, target, subscription_id in targets
        ]
    rows.sort(key=lambda row: str(row["key"]))
    return rows


async def subscriptions_of(
    session: AsyncSession, patron_ids: Iterable[int]
) -> dict[int, list[int]]:
    """The patrons' push subscription ids."""
    found: dict[int, list[int]] = defaultdict(list)
    wanted = set(patron_ids)
    if wanted:
        rows = await session.execute(
            select(PushSubscription.patron_id, PushSubscription.id)
            .where(PushSubscription.patron_id.in_(wanted))
            .order_by(PushSubscription.id)
        )
        for patron_id, sub_id in rows:
            found[patron_id].append(sub_id)
    return found


async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose key is new (an event read twice makes nothing twice)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(Delivery).on_conflict_do_nothing(index_elements=["key"]), rows)


async def lock_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Delivery]:
    """Up to `limit` due deliveries, locked. On PostgreSQL another worker's locked rows are
    skipped, so concurrent workers take disjoint batches; SQLite has one writer at a time
    (transactions begin IMMEDIATE), which serialises the claims instead."""
    return list(
        await session.scalars(
            select(Delivery)
            .where(Delivery.status.in_(OPEN), Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


@dataclass(frozen=True)
class ResultRow:
    delivery_id: int
    # The attempt number the worker claimed: its fencing token (see record_results).
    attempts: int
    status: str
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


_table = Delivery.__table__
assert isinstance(_table, Table)
_RECORD = (
    update(_table)
    .where(
        _table.c.id == bindparam("b_id"),
        _table.c.attempts == bindparam("b_attempts"),
        _table.c.status == "sending",
    )
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        sent_at=bindparam("b_sent"),
        last_error=bindparam("b_error"),
    )
)


_STORE = (
    update(_table)
    .where(
        _table.c.id == bindparam("b_id"),
        _table.c.attempts == bindparam("b_attempts"),
        _table.c.status == "sending",
    )
    .values(message=bindparam("b_message"))
)


async def store_messages(
    session: AsyncSession, messages: Sequence[tuple[int, int, dict[str, Any]]]
) -> None:
    """Keep each delivery's text as first built (id, claimed attempt, text), under the claim."""
    if messages:
        await session.execute(
            _STORE,
            [{"b_id": i, "b_attempts": a, "b_message": text} for i, a, text in messages],
        )


async def record_results(
    session: AsyncSession, results: Sequence[ResultRow], *, gone_subscriptions: Iterable[int]
) -> None:
    """Store what each attempt came to. Only the worker holding the claim may: a row whose lease
    ran out and was claimed again has another attempt number, and is left to its new owner."""
    if results:
        await session.execute(
            _RECORD,
            [
                {
                    "b_id": row.delivery_id,
                    "b_attempts": row.attempts,
                    "b_status": row.status,
                    "b_next": row.next_attempt_at,
                    "b_sent": row.sent_at,
                    "b_error": row.last_error[:500] if row.last_error else None,
                }
                for row in results
            ],
        )
    gone = set(gone_subscriptions)
    if gone:
        # Its other deliveries lose their device (SET NULL) and are skipped when due.
        await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))


def retry_delay(attempts: int, retry_after: float | None, *, base: float, cap: float) -> timedelta:
    """The wait before the next attempt: what the receiver asked for, else doubling from `base`
    up to `cap`."""
    if retry_after is not None:
        return timedelta(seconds=max(1.0, retry_after))
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))
