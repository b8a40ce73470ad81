"""The statements each frequent operation sends to PostgreSQL (besides BEGIN and COMMIT): on a
server a round trip costs more client time than anything else an operation does, so a new one
should be a decision (bench/circulation_throughput.py measures what they cost)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from circulation import cancel_hold, checkin, checkout, place_hold, receive_transit, renew_loan
from db import Hold, HoldStatus, Item, transaction
from tests.circulation.world import make_world, ok

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


@asynccontextmanager
async def _statements(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    sent: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split())[:120])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _count(engine: AsyncEngine, operation: Awaitable[Any]) -> list[str]:
    async with _statements(engine) as sent:
        ok(await operation)
    return sent


async def test_place_hold_renew_and_checkin_send_few_statements(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await make_world(sessions, "cubi")
    here, there = await world.library("PV1"), await world.library("PV2")
    patron = await world.patron(here)
    record = await world.record()
    await world.item(record, there)
    [lent] = await world.titles(here, 1)
    async with world.sessions() as session:
        await world.circulation.libraries(session)  # read once, then kept

    hold = await _count(
        engine, place_hold(world.circulation, patron_id=patron.id, record_id=record)
    )
    # The patron, record and copies locked; the standing, the counts and the new hold's id;
    # the hold, the copy set aside (in transit to PV1) and the events, in one statement.
    assert len(hold) == 3, hold

    loan = ok(
        await checkout(
            world.circulation, card_number=patron.card_number, barcode=lent, library_id=here
        )
    )
    world.clock.set(world.clock.now() + timedelta(days=25))
    renew = await _count(
        engine, renew_loan(world.circulation, loan_id=loan.id, patron_id=patron.id)
    )
    # The patron and loan locked; the standing and the queue; the loan and the event.
    assert len(renew) == 3, renew

    returned = await _count(engine, checkin(world.circulation, barcode=lent, library_id=here))
    # The parties locked; the loan returned; the standing; the queue; the copy and the event.
    assert len(returned) == 5, returned


async def test_a_hold_that_waits_and_its_cancellation_send_few_statements(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await make_world(sessions, "cubi")
    here = await world.library("PV1")
    reader, patron = await world.patron(here), await world.patron(here)
    [lent] = await world.titles(here, 1)
    loan = ok(
        await checkout(
            world.circulation, card_number=reader.card_number, barcode=lent, library_id=here
        )
    )
    async with world.sessions() as session:
        await world.circulation.libraries(session)
        record = await session.scalar(select(Item.record_id).where(Item.id == loan.item_id))
    assert record is not None

    async with _statements(engine) as sent:
        hold = ok(await place_hold(world.circulation, patron_id=patron.id, record_id=record))
    # The patron, record and copy locked; the standing, the counts and the hold's id; the hold
    # and its event (HOLD_PLACED: the queue is one longer) in one statement.
    assert len(sent) == 3, sent
    assert hold.status is HoldStatus.WAITING

    cancelled = await _count(
        engine, cancel_hold(world.circulation, hold_id=hold.id, patron_id=None)
    )
    # The hold's record; the record and the hold locked; the hold and its event.
    assert len(cancelled) == 4, cancelled


async def test_what_an_operation_returns_has_no_change_left_to_write(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessions, "cubi")
    here, there = await world.library("PV1"), await world.library("PV2")
    patron = await world.patron(here)
    record = await world.record()
    barcode = await world.item(record, there)
    placed = ok(await place_hold(world.circulation, patron_id=patron.id, record_id=record))
    assert placed.status is HoldStatus.IN_TRANSIT

    ready = ok(await receive_transit(world.circulation, barcode=barcode, library_id=here))

    # Written in one statement, as the ORM would have: added to a session later, the hold
    # writes nothing back (an object left "modified" would put its old values back).
    assert ready.status is HoldStatus.READY
    assert not inspect(ready).modified
    async with transaction(world.sessions) as session:
        session.add(ready)
    async with world.sessions() as session:
        stored = await session.get(Hold, ready.id)
        assert stored is not None
        assert stored.status is HoldStatus.READY
