"""The end of a multimedia embargo reaches the outbox, once, so the search index follows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from catalog import RECORD_CHANGED
from circulation import run_scheduled_work
from db import MaterialType
from tests.circulation.world import World

WorldOf = Callable[[str], Awaitable[World]]


async def _embargo_events(world: World) -> list[str]:
    return [event["recordId"] for event in await world.events(RECORD_CHANGED)]


async def test_an_embargo_ending_is_announced_once_on_its_day(world_of: WorldOf) -> None:
    world = await world_of("biblioinrete")
    library = await world.library("VI1")
    film = await world.record(material=MaterialType.AUDIOVISUAL, published="2025-03")
    await world.item(film, library)
    book = await world.record(material=MaterialType.BOOK, published="2025-03")
    await world.item(book, library)

    await world.advance_to(date(2026, 8, 31))
    assert await _embargo_events(world) == []

    await world.advance_to(date(2026, 9, 1))  # 2025-03 + 18 months
    await run_scheduled_work(world.circulation)
    assert await _embargo_events(world) == [film]


async def test_days_without_work_are_caught_up(world_of: WorldOf) -> None:
    world = await world_of("biblioinrete")
    library = await world.library("VI1")
    year_only = await world.record(material=MaterialType.AUDIOBOOK, published="2025")
    await world.item(year_only, library)

    await world.advance_to(date(2027, 6, 28))
    await world.advance_to(date(2027, 7, 3))  # the worker was down over 1 July 2027
    await world.advance_to(date(2027, 7, 4))

    assert await _embargo_events(world) == [year_only]
