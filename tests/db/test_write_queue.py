"""On SQLite, the units of work of one process queue for the write lock, first come first
served, instead of polling in SQLite's busy handler."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import AsyncExitStack

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import transaction
from tests.factories import add_library

Sessions = async_sessionmaker[AsyncSession]

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_units_of_work_write_in_the_order_they_began(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    # Connections opened beforehand (as many as the pool keeps): a unit still connecting would
    # join the queue late.
    units = engine.pool.size()  # type: ignore[attr-defined]
    async with AsyncExitStack() as stack:
        for _ in range(units):
            await stack.enter_async_context(engine.connect())
    began: list[int] = []
    wrote: list[int] = []
    first_in = asyncio.Event()

    async def unit(number: int) -> None:
        began.append(number)
        async with transaction(sessions) as session:
            wrote.append(number)
            first_in.set()
            # Hold the lock a while, giving up the loop, so that the others pile up behind it.
            await asyncio.sleep(0.05)
            await add_library(session, library_id=f"LIB{number}")

    first = asyncio.create_task(unit(0))
    await first_in.wait()
    others = [asyncio.create_task(unit(number)) for number in range(1, units)]
    await asyncio.gather(first, *others)
    assert units > 2
    assert wrote == began == list(range(units))


async def test_a_unit_that_fails_gives_its_turn_back(sessions: Sessions) -> None:
    async def give_up() -> None:
        async with transaction(sessions) as session:
            await add_library(session, library_id="LIB1")
            raise RuntimeError("the desk gave up")

    with pytest.raises(RuntimeError, match="desk"):
        await give_up()
    async with asyncio.timeout(2), transaction(sessions) as session:
        await add_library(session, library_id="LIB1")


async def test_waiting_for_another_process_s_write_lock_keeps_the_loop_running(
    database_url: str, sessions: Sessions
) -> None:
    # Another process's writer, as SQLite sees it: a connection of its own holding the lock.
    other = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def unit() -> None:
        async with transaction(sessions) as session:
            await add_library(session, library_id="LIB1")

    ticking = asyncio.create_task(tick())
    waiting = asyncio.create_task(unit())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    # A wait in SQLite's busy handler would have stopped the loop: no ticks meanwhile.
    assert ticks >= 10
    other.execute("COMMIT")
    async with asyncio.timeout(2):
        await waiting
    ticking.cancel()
    other.close()
