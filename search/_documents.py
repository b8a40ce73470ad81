"""Index documents built from the database: the catalogue text and the copies' availability."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from circulation import Circulation
from db import Item, ItemStatus, Record

from ._types import CatalogDocument

__all__ = ["build_documents", "on_the_shelf"]


def on_the_shelf(circulation: Circulation, item: Item, record: Record) -> bool:
    """A copy a patron could take home today: on the shelf, lent, and not under embargo."""
    today = circulation.today()
    free = item.status is ItemStatus.AVAILABLE or (
        item.status is ItemStatus.IN_QUARANTINE
        and item.available_from is not None
        and item.available_from <= today
    )
    return (
        free
        and circulation.not_loanable(item, record) is None
        and circulation.embargoed_until(record) is None
    )


async def build_documents(
    session: AsyncSession, circulation: Circulation, record_ids: Collection[str]
) -> tuple[list[CatalogDocument], list[str]]:
    """The documents of these records, and the ids that no longer exist (to delete)."""
    records = {
        record.id: record
        for record in await session.scalars(
            select(Record).where(Record.id.in_(record_ids)).options(selectinload(Record.isbns))
        )
    }
    copies: dict[str, list[Item]] = defaultdict(list)
    for item in await session.scalars(
        select(Item).where(Item.record_id.in_(records), Item.status != ItemStatus.LOST)
    ):
        copies[item.record_id].append(item)
    documents = []
    for record in records.values():
        held = copies[record.id]
        shelved = [item for item in held if on_the_shelf(circulation, item, record)]
        documents.append(
            CatalogDocument(
                record_id=record.id,
                title=record.title,
                authors=tuple(record.authors),
                subjects=tuple(record.subjects),
                series=record.series,
                isbns=tuple(isbn.isbn13 for isbn in record.isbns),
                material_type=record.material_type.value,
                language=record.language,
                year=record.published_on.year if record.published_on else None,
                libraries=tuple(sorted({item.library_id for item in held})),
                available_libraries=tuple(
                    sorted({item.location_library_id or item.library_id for item in shelved})
                ),
                copies=len(held),
                available=len(shelved),
            )
        )
    missing = sorted(set(record_ids) - set(records))
    return documents, missing
