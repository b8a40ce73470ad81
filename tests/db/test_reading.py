"""db.reading: sessions that only read, with no transaction around their statements."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import Library, reading, transaction
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
