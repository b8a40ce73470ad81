"""On PostgreSQL, pooled connections that the server closed (a restart, an administrator ending
sessions) are replaced when checked out, without a ping and without failing a request."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import transaction

Sessions = async_sessionmaker[AsyncSession]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


async def _backend_pid(sessions: Sessions) -> int:
    async with transaction(sessions) as session:
        return int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)


async def test_connections_the_server_closed_are_replaced(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    before = set(await asyncio.gather(*(_backend_pid(sessions) for _ in range(3))))
    assert engine.pool.checkedin() == len(before)  # type: ignore[attr-defined]
    admin = await asyncpg.connect(
        engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        for pid in before:
            # As a restart does: the server ends the session and closes its socket (waiting up
            # to 5 s for the session to be gone).
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
    finally:
        await admin.close()
    after = await asyncio.gather(*(_backend_pid(sessions) for _ in range(3)))
    assert not before & set(after)
