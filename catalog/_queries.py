"""Reading the catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import Library

__all__ = ["list_libraries"]


async def list_libraries(session: AsyncSession) -> Sequence[Library]:
    """Every library of the network, by name."""
    return (await session.scalars(select(Library).order_by(Library.name, Library.id))).all()
