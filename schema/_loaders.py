"""DataLoaders: each relation is read once per request for all the objects that need it."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db import Library, Record

from ._context import Context

__all__ = ["libraries_by_id", "loader", "records_by_id"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def loader(
    context: Context,
    name: str,
    load: Callable[[async_sessionmaker[AsyncSession], Sequence[K]], Any],
) -> DataLoader[K, V]:
    """The request's DataLoader called `name`, made on first use."""
    existing = context.cache.get(name)
    if existing is None:
        sessions = context.services.sessions

        async def batch(keys: Sequence[K]) -> list[V]:
            result: list[V] = await load(sessions, keys)
            return result

        existing = context.cache[name] = DataLoader(load_fn=batch)
    return existing


async def _libraries(
    sessions: async_sessionmaker[AsyncSession], ids: Sequence[str]
) -> list[Library | None]:
    async with sessions() as session:
        found = {
            row.id: row for row in await session.scalars(select(Library).where(Library.id.in_(ids)))
        }
    return [found.get(library_id) for library_id in ids]


async def _records(
    sessions: async_sessionmaker[AsyncSession], ids: Sequence[str]
) -> list[Record | None]:
    async with sessions() as session:
        found = {
            row.id: row for row in await session.scalars(select(Record).where(Record.id.in_(ids)))
        }
    return [found.get(record_id) for record_id in ids]


def libraries_by_id(context: Context) -> DataLoader[str, Library | None]:
    return loader(context, "libraries_by_id", _libraries)


def records_by_id(context: Context) -> DataLoader[str, Record | None]:
    return loader(context, "records_by_id", _records)
