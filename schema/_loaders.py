"""DataLoaders: each relation is read once per request for all the objects that need it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db import (
    Hold,
    HoldStatus,
    Item,
    Library,
    LibraryClosure,
    LibraryHours,
    Loan,
    Record,
    RecordIsbn,
    reading,
)

from ._context import Context

__all__ = [
    "closures_by_library",
    "due_dates_by_item",
    "hold_queue_lengths",
    "hours_by_library",
    "isbns_by_record",
    "items_by_record",
    "libraries_by_id",
    "loader",
    "records_by_id",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def loader(
    context: Context,
    name: str,
    load: Callable[[AsyncSession, Sequence[K]], Any],
) -> DataLoader[K, V]:
    """The request's DataLoader called `name`, made on first use; each batch reads in a
    session of its own (db.reading), so that batches run at once on several connections."""
    existing = context.cache.get(name)
    if existing is None:
        sessions = context.services.sessions

        async def batch(keys: Sequence[K]) -> list[V]:
            async with reading(sessions) as session:
                result: list[V] = await load(session, keys)
            return result

        existing = context.cache[name] = DataLoader(load_fn=batch)
    return existing


async def _libraries(session: AsyncSession, ids: Sequence[str]) -> list[Library | None]:
    found = {
        row.id: row for row in await session.scalars(select(Library).where(Library.id.in_(ids)))
    }
    return [found.get(library_id) for library_id in ids]


async def _records(session: AsyncSession, ids: Sequence[str]) -> list[Record | None]:
    found = {row.id: row for row in await session.scalars(select(Record).where(Record.id.in_(ids)))}
    return [found.get(record_id) for record_id in ids]


def libraries_by_id(context: Context) -> DataLoader[str, Library | None]:
    return loader(context, "libraries_by_id", _libraries)


def records_by_id(context: Context) -> DataLoader[str, Record | None]:
    return loader(context, "records_by_id", _records)


async def _isbns(session: AsyncSession, ids: Sequence[str]) -> list[list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for record_id, isbn13 in await session.execute(
        select(RecordIsbn.record_id, RecordIsbn.isbn13)
        .where(RecordIsbn.record_id.in_(ids))
        .order_by(RecordIsbn.record_id, RecordIsbn.position, RecordIsbn.isbn13)
    ):
        found[record_id].append(isbn13)
    return [found[record_id] for record_id in ids]


async def _items(session: AsyncSession, ids: Sequence[str]) -> list[list[Item]]:
    found: dict[str, list[Item]] = defaultdict(list)
    for item in await session.scalars(
        select(Item).where(Item.record_id.in_(ids)).order_by(Item.id)
    ):
        found[item.record_id].append(item)
    return [found[record_id] for record_id in ids]


async def _due_dates(session: AsyncSession, ids: Sequence[int]) -> list[date | None]:
    loans = await session.execute(
        select(Loan.item_id, Loan.due_date).where(Loan.item_id.in_(ids), Loan.returned_at.is_(None))
    )
    found = dict(loans.all())
    return [found.get(item_id) for item_id in ids]


async def _queue_lengths(session: AsyncSession, ids: Sequence[str]) -> list[int]:
    queues = await session.execute(
        select(Hold.record_id, func.count())
        .where(Hold.record_id.in_(ids), Hold.status == HoldStatus.WAITING)
        .group_by(Hold.record_id)
    )
    found = dict(queues.all())
    return [found.get(record_id, 0) for record_id in ids]


async def _hours(session: AsyncSession, ids: Sequence[str]) -> list[list[LibraryHours]]:
    found: dict[str, list[LibraryHours]] = defaultdict(list)
    for hours in await session.scalars(
        select(LibraryHours)
        .where(LibraryHours.library_id.in_(ids))
        .order_by(LibraryHours.weekday, LibraryHours.opens)
    ):
        found[hours.library_id].append(hours)
    return [found[library_id] for library_id in ids]


async def _closures(session: AsyncSession, ids: Sequence[str]) -> list[list[date]]:
    found: dict[str, list[date]] = defaultdict(list)
    for library_id, day in await session.execute(
        select(LibraryClosure.library_id, LibraryClosure.day)
        .where(LibraryClosure.library_id.in_(ids))
        .order_by(LibraryClosure.day)
    ):
        found[library_id].append(day)
    return [found[library_id] for library_id in ids]


def isbns_by_record(context: Context) -> DataLoader[str, list[str]]:
    """A record's ISBN-13s, in catalogue order."""
    return loader(context, "isbns_by_record", _isbns)


def items_by_record(context: Context) -> DataLoader[str, list[Item]]:
    """A record's copies (lost ones too), by id."""
    return loader(context, "items_by_record", _items)


def due_dates_by_item(context: Context) -> DataLoader[int, date | None]:
    """The due date of a copy's open loan, None when it is not lent."""
    return loader(context, "due_dates_by_item", _due_dates)


def hold_queue_lengths(context: Context) -> DataLoader[str, int]:
    """How many holds on a record wait for a copy (a new hold joins behind them)."""
    return loader(context, "hold_queue_lengths", _queue_lengths)


def hours_by_library(context: Context) -> DataLoader[str, list[LibraryHours]]:
    """A library's weekly opening periods, Monday first."""
    return loader(context, "hours_by_library", _hours)


def closures_by_library(context: Context) -> DataLoader[str, list[date]]:
    """The days a library is closed besides its weekly hours and the public holidays."""
    return loader(context, "closures_by_library", _closures)
