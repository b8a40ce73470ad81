"""Small typed builders for test data: dataset documents and database rows."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth import hash_pin
from db import Item, Library, Loan, MaterialType, Patron, Record

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

_DATASET: dict[str, Any] = {
    "libraries": [
        {
            "id": "PAV01",
            "name": "Biblioteca delle Scienze",
            "address": "Via Ferrata 1, 27100 Pavia",
            "lat": 45.1987,
            "lon": 9.1396,
            "phone": "+39 0382 985000",
            "email": "scienze@example.org",
            "hours": {"mon": [["09:00", "18:00"]], "sat": [["09:00", "12:30"]]},
            "closures": ["2026-08-10", "2026-08-11"],
        },
        {
            "id": "PAV02",
            "name": "Biblioteca civica Bonetta",
            "address": "Corso Garibaldi 1, 27100 Pavia",
            "lat": 45.1870,
            "lon": 9.1610,
            "hours": {
                "tue": [["09:00", "12:30"], ["14:30", "18:30"]],
                "wed": [["09:00", "12:30"]],
            },
        },
    ],
    "records": [
        {
            "id": "r1",
            "title": "Il barone rampante",
            "authors": ["Italo Calvino"],
            "isbns": ["978-88-04-66769-8"],
            "materialType": "BOOK",
            "language": "ita",
            "published": "2016",
            "section": "ADULT",
            "subjects": ["Narrativa"],
            "series": None,
            "latestIssue": False,
        },
        {
            "id": "r2",
            "title": "La freccia azzurra",
            "authors": ["Gianni Rodari"],
            "isbns": ["8807818736"],
            "materialType": "AUDIOVISUAL",
            "published": "2025-03",
            "section": "CHILDREN",
        },
    ],
    "items": [
        {
            "barcode": "PAV01-000001",
            "recordId": "r1",
            "libraryId": "PAV01",
            "callNumber": "853 CAL",
        },
        {"barcode": "PAV02-000001", "recordId": "r1", "libraryId": "PAV02", "loanable": True},
        {"barcode": "PAV02-000002", "recordId": "r2", "libraryId": "PAV02", "loanable": False},
    ],
    "patrons": [
        {
            "cardNumber": "C0001",
            "pin": "1234",
            "name": "Maria Rossi",
            "birthDate": "1990-04-02",
            "homeLibraryId": "PAV01",
            "category": "ADULT",
            "email": "maria@example.org",
            "phone": "+393331234567",
            "preferredPickupLibraryId": None,
            "registrationExpires": None,
            "role": "patron",
        },
        {
            "cardNumber": "RSSMRA85T10A562S",
            "pin": "2580",
            "name": "Mario Rossi",
            "homeLibraryId": "PAV02",
            "preferredPickupLibraryId": "PAV01",
        },
        {
            "cardNumber": "STAFF01",
            "pin": "9876",
            "name": "Desk",
            "homeLibraryId": "PAV01",
            "role": "staff",
        },
    ],
}


def dataset_document() -> dict[str, Any]:
    """A small valid dataset in the contract's format (a fresh copy to change at will)."""
    return copy.deepcopy(_DATASET)


async def add_library(session: AsyncSession, *, library_id: str = "LIB1") -> Library:
    library = Library(id=library_id, name=f"Biblioteca {library_id}", lat=45.18, lon=9.15)
    session.add(library)
    await session.flush()
    return library


async def add_record(
    session: AsyncSession,
    *,
    record_id: str = "rec1",
    material_type: MaterialType = MaterialType.BOOK,
) -> Record:
    record = Record(id=record_id, title=f"Title {record_id}", material_type=material_type)
    session.add(record)
    await session.flush()
    return record


async def add_item(
    session: AsyncSession, *, record: Record, library: Library, barcode: str = "B1"
) -> Item:
    item = Item(
        barcode=barcode, record_id=record.id, library_id=library.id, location_library_id=library.id
    )
    session.add(item)
    await session.flush()
    return item


PIN_HASH = hash_pin("2468")


async def add_patron(session: AsyncSession, *, library: Library, card_number: str = "C1") -> Patron:
    patron = Patron(
        card_number=card_number, pin_hash=PIN_HASH, name="Patron", home_library_id=library.id
    )
    session.add(patron)
    await session.flush()
    return patron


async def add_loan(
    session: AsyncSession, *, item: Item, patron: Patron, due_date: date = date(2026, 12, 23)
) -> Loan:
    loan = Loan(
        item_id=item.id,
        patron_id=patron.id,
        library_id=item.library_id,
        loaned_at=NOW,
        due_date=due_date,
    )
    session.add(loan)
    await session.flush()
    return loan
