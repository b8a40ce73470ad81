"""db.reading: sessions that only read, with no transaction around their statements."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import Library, create_engine, create_session_factory, reading, transaction
from tests.factories import add_library

Sessions = async_sessionmaker[AsyncSession]


async def _libraries(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Library)) or 0)


async def test_each_read_sees_what_was_committed_before_it(sessions: Sessions) -> None:
    async with reading(sessions) as session:
        assert await _libraries(session) == 0
        async with transaction(sessions) as writing:
            await add_library(writing, library_id="LIB1")
        # A transaction around the reads would still see the snapshot of the first one.
        assert await _libraries(session) == 1


async def test_a_read_does_not_wait_for_a_writer_and_sees_only_committed_rows(
    sessions: Sessions,
) -> None:
    async with transaction(sessions) as setup:
        await add_library(setup, library_id="LIB1")
    async with transaction(sessions) as writing:
        await add_library(writing, library_id="LIB2")
        # The writer holds the write lock (SQLite) and an uncommitted row.
        async with asyncio.timeout(2), reading(sessions) as session:
            assert await _libraries(session) == 1
    async with reading(sessions) as session:
        assert await _libraries(session) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_reading_session_on_sqlite_refuses_to_write(sessions: Sessions) -> None:
    with pytest.raises(OperationalError, match="readonly"):
        async with reading(sessions) as session:
            await add_library(session, library_id="LIB1")
    async with reading(sessions) as session:
        assert await _libraries(session) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_reading_on_sqlite_keeps_as_many_connections_as_the_engine(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=12)
    sessions = create_session_factory(engine)
    async with reading(sessions) as session:
        reader = session.get_bind()
    opened: list[object] = []
    event.listen(reader, "connect", lambda connection, _record: opened.append(connection))
    everyone_reading = asyncio.Barrier(12)

    async def read() -> None:
        async with reading(sessions) as session:
            await session.execute(select(1))
            await everyone_reading.wait()

    try:
        for _ in range(3):
            await asyncio.gather(*(read() for _ in range(12)))
    finally:
        await engine.dispose()
    # A smaller pool would close the connections beyond it after each round and open them anew.
    assert len(opened) <= 12
