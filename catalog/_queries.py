"""Reading the catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import Library, Record, RecordIsbn

__all__ = ["list_libraries", "record_with_isbn"]


async def list_libraries(session: AsyncSession) -> Sequence[Library]:
    """Every library of the network, by name."""
    return (await session.scalars(select(Library).order_by(Library.name, Library.id))).all()


async def record_with_isbn(session: AsyncSession, isbn13: str) -> Record | None:
    """The record carrying an ISBN-13; of several (an edition catalogued twice), the first by id."""
    return await session.scalar(
        select(Record)
        .join(RecordIsbn, RecordIsbn.record_id == Record.id)
        .where(RecordIsbn.isbn13 == isbn13)
        .order_by(Record.id)
        .limit(1)
    )
