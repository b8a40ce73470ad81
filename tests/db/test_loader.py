"""Loading a dataset: all of it or nothing, and the same file twice changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from auth import verify_pin
from catalog import RECORD_CHANGED, InvalidDataset, load_dataset, parse_dataset, read_dataset
from db import (
    Base,
    DatePrecision,
    Item,
    Library,
    MaterialType,
    OutboxEvent,
    Patron,
    Record,
    Role,
    Section,
    transaction,
)
from tests.factories import NOW, dataset_document

Sessions = async_sessionmaker[AsyncSession]


async def _load(sessions: Sessions, document: dict[str, Any]) -> Any:
    async with transaction(sessions) as session:
        return await load_dataset(session, parse_dataset(document), now=NOW)


async def _snapshot(sessions: Sessions) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare a database before and after."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return snapshot


async def test_a_good_dataset_loads_every_entry(sessions: Sessions) -> None:
    report = await _load(sessions, dataset_document())

    assert (report.libraries.created, report.records.created) == (2, 2)
    assert (report.items.created, report.patrons.created) == (3, 3)
    async with sessions() as session:
        library = await session.scalar(
            select(Library)
            .where(Library.id == "PAV01")
            .options(selectinload(Library.hours), selectinload(Library.closures))
        )
        assert library is not None
        assert [(h.weekday, h.opens, h.closes) for h in library.hours] == [
            (0, time(9), time(18)),
            (5, time(9), time(12, 30)),
        ]
        assert [closure.day for closure in library.closures] == [
            date(2026, 8, 10),
            date(2026, 8, 11),
        ]

        record = await session.scalar(
            select(Record).where(Record.id == "r2").options(selectinload(Record.isbns))
        )
        assert record is not None
        assert record.material_type is MaterialType.AUDIOVISUAL
        assert record.section is Section.CHILDREN
        assert (record.published_on, record.published_precision) == (
            date(2025, 3, 1),
            DatePrecision.MONTH,
        )
        assert [isbn.isbn13 for isbn in record.isbns] == ["9788807818738"]

        item = await session.scalar(select(Item).where(Item.barcode == "PAV02-000002"))
        assert item is not None
        assert (item.loanable, item.location_library_id) == (False, "PAV02")

        staff = await session.scalar(select(Patron).where(Patron.card_number == "STAFF01"))
        assert staff is not None
        assert staff.role is Role.STAFF
        assert verify_pin(staff.pin_hash, "9876")
        assert not verify_pin(staff.pin_hash, "9875")

        events = (await session.scalars(select(OutboxEvent))).all()
        assert sorted(
            e.payload.get("recordId", "") for e in events if e.event_type == RECORD_CHANGED
        ) == [
            "r1",
            "r2",
        ]


async def test_loading_the_same_file_twice_changes_nothing(sessions: Sessions) -> None:
    await _load(sessions, dataset_document())
    before = await _snapshot(sessions)

    report = await _load(sessions, dataset_document())

    assert not report.changed
    assert report.items.unchanged == 3
    assert await _snapshot(sessions) == before


async def test_a_changed_file_updates_only_what_changed(sessions: Sessions) -> None:
    await _load(sessions, dataset_document())
    document = dataset_document()
    document["records"][0]["title"] = "Il barone rampante (nuova edizione)"
    document["items"][2]["libraryId"] = "PAV01"
    document["patrons"][0]["pin"] = "4321"

    report = await _load(sessions, document)

    assert (report.records.updated, report.records.unchanged) == (1, 1)
    assert (report.items.updated, report.items.unchanged) == (1, 2)
    async with sessions() as session:
        maria = await session.scalar(select(Patron).where(Patron.card_number == "C0001"))
        assert maria is not None
        # The dataset's PIN is the first PIN only: the patron's own PIN is kept.
        assert verify_pin(maria.pin_hash, "1234")
        moved = await session.scalar(select(Item).where(Item.barcode == "PAV02-000002"))
        assert moved is not None
        assert (moved.library_id, moved.location_library_id) == ("PAV01", "PAV01")
        changed = await session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.id > 4).order_by(OutboxEvent.id)
        )
        assert [payload["recordId"] for payload in changed] == ["r1", "r2"]


async def test_a_bad_file_loads_nothing(sessions: Sessions, tmp_path: Path) -> None:
    document = dataset_document()
    document["items"][1]["libraryId"] = "NOWHERE"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(InvalidDataset):
        read_dataset(path)

    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            assert await session.scalar(select(func.count()).select_from(table)) == 0


def test_the_load_command_refuses_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    document = dataset_document()
    document["records"][0]["isbns"] = ["9788804667690"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    database = tmp_path / "tessera.db"

    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "load", str(path)],
        env={
            "TESSERA_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "TESSERA_VAR_DIR": str(tmp_path / "var"),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "records[0] (id 'r1'): isbns: invalid ISBN '9788804667690'" in result.stderr
    assert not database.exists()
