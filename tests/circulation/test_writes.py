"""A unit of work writes everything it changed and every event it emitted, in the order they
were emitted, whether its rows go in one statement with the events (PostgreSQL, a few plain
rows) or are left to the ORM (SQLite; many rows; a deletion)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from circulation._events import emit
from circulation._writes import unit_of_work
from db import Item, ItemStatus, LibraryClosure, OutboxEvent
from tests.circulation.world import make_world

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def _lost_in_one_unit(
    sessions: async_sessionmaker[AsyncSession], barcodes: list[str], *, delete: bool = False
) -> list[int]:
    """Every copy marked lost, an event each (last copy first); the ids in emitted order."""
    emitted = []
    async with unit_of_work(sessions) as session:
        items = list(await session.scalars(select(Item).where(Item.barcode.in_(barcodes))))
        for item in sorted(items, key=lambda item: item.id, reverse=True):
            item.status = ItemStatus.LOST
            emit(session, "ITEM_STATUS_CHANGED", {"itemId": item.id}, now=AT)
            emitted.append(item.id)
        if delete:
            closure = await session.scalar(select(LibraryClosure))
            assert closure is not None
            await session.delete(closure)
    return emitted


async def _written(
    sessions: async_sessionmaker[AsyncSession], barcodes: list[str], emitted: list[int]
) -> None:
    async with sessions() as session:
        items = list(await session.scalars(select(Item).where(Item.barcode.in_(barcodes))))
        events = list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    assert {item.status for item in items} == {ItemStatus.LOST}
    assert [event.payload["itemId"] for event in events[-len(emitted) :]] == emitted


@pytest.mark.parametrize("copies", [2, 7], ids=["one statement", "more rows than one takes"])
async def test_every_change_and_event_is_written_in_order(
    sessions: async_sessionmaker[AsyncSession], copies: int
) -> None:
    world = await make_world(sessions, "cubi")
    library = await world.library("PV1")
    barcodes = sorted(await world.titles(library, copies))

    emitted = await _lost_in_one_unit(sessions, barcodes)

    await _written(sessions, barcodes, emitted)


async def test_a_unit_that_deletes_is_written_whole(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(sessions, "cubi")
    library = await world.library("PV1")
    barcodes = sorted(await world.titles(library, 2))
    async with sessions() as session, session.begin():
        session.add(LibraryClosure(library_id=library, day=AT.date()))

    emitted = await _lost_in_one_unit(sessions, barcodes, delete=True)

    await _written(sessions, barcodes, emitted)
    async with sessions() as session:
        assert await session.scalar(select(LibraryClosure)) is None
