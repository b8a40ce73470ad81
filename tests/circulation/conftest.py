from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.circulation.world import World, make_world


@pytest.fixture
def world_of(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[str], Awaitable[World]]:
    """A network under the named policy preset, with its clock at START."""

    async def build(network: str) -> World:
        return await make_world(sessions, network)

    return build
