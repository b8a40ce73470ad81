"""Writing a validated dataset: insert what is new, update what changed, leave the rest alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from auth import hash_pin
from db import (
    Item,
    Library,
    LibraryClosure,
    LibraryHours,
    OutboxEvent,
    Patron,
    Record,
    RecordIsbn,
    Role,
)

from ._dataset import Dataset, ItemEntry, LibraryEntry, PatronEntry, RecordEntry, parse_published

__all__ = ["LoadReport", "SectionCounts", "load_dataset"]

RECORD_CHANGED = "RECORD_CHANGED"
LIBRARY_CHANGED = "LIBRARY_CHANGED"


@dataclass
class SectionCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class LoadReport:
    libraries: SectionCounts = field(default_factory=SectionCounts)
    records: SectionCounts = field(default_factory=SectionCounts)
    items: SectionCounts = field(default_factory=SectionCounts)
    patrons: SectionCounts = field(default_factory=SectionCounts)

    @property
    def changed(self) -> bool:
        return any(
            counts.created or counts.updated
            for counts in (self.libraries, self.records, self.items, self.patrons)
        )


def _apply(row: Any, values: Mapping[str, Any]) -> bool:
    """Set the attributes that differ; whether anything did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _library_values(entry: LibraryEntry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "address": entry.address,
        "lat": entry.lat,
        "lon": entry.lon,
        "phone": entry.phone,
        "email": entry.email,
    }


def _record_values(entry: RecordEntry) -> dict[str, Any]:
    published_on, precision = parse_published(entry.published) if entry.published else (None, None)
    return {
        "title": entry.title,
        "authors": list(entry.authors),
        "material_type": entry.materialType,
        "language": entry.language,
        "published_on": published_on,
        "published_precision": precision,
        "section": entry.section,
        "subjects": list(entry.subjects),
        "series": entry.series,
        "latest_issue": entry.latestIssue,
    }


def _item_values(entry: ItemEntry) -> dict[str, Any]:
    return {
        "record_id": entry.recordId,
        "library_id": entry.libraryId,
        "call_number": entry.callNumber,
        "loanable": entry.loanable,
    }


def _patron_values(entry: PatronEntry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "birth_date": entry.birthDate,
        "category": entry.category,
        "home_library_id": entry.homeLibraryId,
        "preferred_pickup_library_id": entry.preferredPickupLibraryId,
        "email": entry.email,
        "phone": entry.phone,
        "registration_expires": entry.registrationExpires,
        "role": Role.STAFF if entry.role == "staff" else Role.PATRON,
    }


def _hours_of(library: Library) -> set[tuple[int, time, time]]:
    return {(hours.weekday, hours.opens, hours.closes) for hours in library.hours}


def _count(counts: SectionCounts, *, created: bool, changed: bool) -> None:
    if created:
        counts.created += 1
    elif changed:
        counts.updated += 1
    else:
        counts.unchanged += 1


async def _load_libraries(
    session: AsyncSession, entries: Iterable[LibraryEntry], counts: SectionCounts
) -> list[str]:
    existing = {
        library.id: library
        for library in await session.scalars(
            select(Library).options(selectinload(Library.hours), selectinload(Library.closures))
        )
    }
    changed_ids: list[str] = []
    for entry in entries:
        library = existing.get(entry.id)
        created = library is None
        if library is None:
            library = Library(id=entry.id, hours=[], closures=[])
            session.add(library)
        changed = _apply(library, _library_values(entry))
        hours = set(entry.opening_periods())
        if _hours_of(library) != hours:
            library.hours = [
                LibraryHours(weekday=weekday, opens=opens, closes=closes)
                for weekday, opens, closes in sorted(hours)
            ]
            changed = True
        closures = set(entry.closures)
        if {closure.day for closure in library.closures} != closures:
            library.closures = [LibraryClosure(day=day) for day in sorted(closures)]
            changed = True
        _count(counts, created=created, changed=changed)
        if changed:
            changed_ids.append(entry.id)
    return changed_ids


async def _load_records(
    session: AsyncSession, entries: Iterable[RecordEntry], counts: SectionCounts
) -> set[str]:
    existing = {
        record.id: record
        for record in await session.scalars(select(Record).options(selectinload(Record.isbns)))
    }
    changed_ids: set[str] = set()
    for entry in entries:
        record = existing.get(entry.id)
        created = record is None
        if record is None:
            record = Record(id=entry.id, isbns=[])
            session.add(record)
        changed = _apply(record, _record_values(entry))
        if [isbn.isbn13 for isbn in record.isbns] != entry.isbns:
            record.isbns = [
                RecordIsbn(isbn13=isbn13, position=position)
                for position, isbn13 in enumerate(entry.isbns)
            ]
            changed = True
        _count(counts, created=created, changed=changed)
        if changed:
            changed_ids.add(entry.id)
    return changed_ids


async def _load_items(
    session: AsyncSession, entries: Iterable[ItemEntry], counts: SectionCounts
) -> set[str]:
    existing = {item.barcode: item for item in await session.scalars(select(Item))}
    touched_records: set[str] = set()
    for entry in entries:
        item = existing.get(entry.barcode)
        values = _item_values(entry)
        if item is None:
            session.add(Item(barcode=entry.barcode, location_library_id=entry.libraryId, **values))
            counts.created += 1
            touched_records.add(entry.recordId)
            continue
        previous_record = item.record_id
        if item.library_id != entry.libraryId and item.location_library_id == item.library_id:
            item.location_library_id = entry.libraryId
        if _apply(item, values):
            counts.updated += 1
            touched_records.update({previous_record, entry.recordId})
        else:
            counts.unchanged += 1
    return touched_records


async def _load_patrons(
    session: AsyncSession, entries: Iterable[PatronEntry], counts: SectionCounts
) -> None:
    existing = {patron.card_number: patron for patron in await session.scalars(select(Patron))}
    new_entries: list[PatronEntry] = []
    for entry in entries:
        patron = existing.get(entry.cardNumber)
        if patron is None:
            new_entries.append(entry)
        elif _apply(patron, _patron_values(entry)):
            counts.updated += 1
        else:
            counts.unchanged += 1
    # The PIN in a dataset is the first PIN only: an existing patron's PIN is theirs to change.
    # argon2 is slow by design, so the new patrons' PINs are hashed on worker threads.
    pin_hashes = await asyncio.gather(
        *(asyncio.to_thread(hash_pin, entry.pin) for entry in new_entries)
    )
    for entry, pin_hash in zip(new_entries, pin_hashes, strict=True):
        session.add(
            Patron(card_number=entry.cardNumber, pin_hash=pin_hash, **_patron_values(entry))
        )
        counts.created += 1


async def load_dataset(session: AsyncSession, dataset: Dataset, *, now: datetime) -> LoadReport:
    """Write `dataset` in the caller's transaction; loading the same dataset again changes nothing.

    Changed records and libraries are announced in the outbox so that the search index follows.
    """
    report = LoadReport()
    changed_libraries = await _load_libraries(session, dataset.libraries, report.libraries)
    await session.flush()
    changed_records = await _load_records(session, dataset.records, report.records)
    await session.flush()
    changed_records |= await _load_items(session, dataset.items, report.items)
    await _load_patrons(session, dataset.patrons, report.patrons)
    session.add_all(
        [
            OutboxEvent(event_type=LIBRARY_CHANGED, payload={"libraryId": id_}, occurred_at=now)
            for id_ in changed_libraries
        ]
        + [
            OutboxEvent(event_type=RECORD_CHANGED, payload={"recordId": id_}, occurred_at=now)
            for id_ in sorted(changed_records)
        ]
    )
    await session.flush()
    return report
