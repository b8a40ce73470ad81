"""The database itself keeps the data honest, whatever the code above it does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import (
    Base,
    Fee,
    FeeKind,
    Hold,
    HoldStatus,
    Item,
    Library,
    Loan,
    Patron,
    Record,
    StandingCode,
    StandingSource,
    transaction,
)
from tests.factories import NOW, add_item, add_library, add_loan, add_patron, add_record

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Scene:
    library: Library
    record: Record
    item: Item
    patron: Patron


@pytest.fixture
async def scene(sessions: Sessions) -> Scene:
    async with transaction(sessions) as session:
        library = await add_library(session)
        record = await add_record(session)
        item = await add_item(session, record=record, library=library)
        patron = await add_patron(session, library=library)
    return Scene(library, record, item, patron)


def _hold(scene: Scene, status: HoldStatus, **values: object) -> Hold:
    return Hold(
        patron_id=scene.patron.id,
        record_id=scene.record.id,
        pickup_library_id=scene.library.id,
        status=status,
        placed_at=NOW,
        **values,
    )


async def _add(sessions: Sessions, *rows: object) -> None:
    async with transaction(sessions) as session:
        session.add_all(rows)


async def test_an_item_has_at_most_one_open_loan(sessions: Sessions, scene: Scene) -> None:
    async with transaction(sessions) as session:
        first = await add_loan(session, item=scene.item, patron=scene.patron)
        other = await add_patron(session, library=scene.library, card_number="C2")

    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            await add_loan(session, item=scene.item, patron=other)

    async with transaction(sessions) as session:
        loan = await session.get(Loan, first.id)
        assert loan is not None
        loan.returned_at = NOW
        loan.return_library_id = scene.library.id
    async with transaction(sessions) as session:
        await add_loan(session, item=scene.item, patron=other)


async def test_one_active_hold_per_patron_and_record(sessions: Sessions, scene: Scene) -> None:
    await _add(sessions, _hold(scene, HoldStatus.CANCELLED), _hold(scene, HoldStatus.EXPIRED))
    await _add(sessions, _hold(scene, HoldStatus.WAITING))

    for status in (HoldStatus.WAITING, HoldStatus.READY):
        extra = {"item_id": scene.item.id, "pickup_deadline": date(2026, 12, 1)}
        with pytest.raises(IntegrityError):
            await _add(sessions, _hold(scene, status, **extra))


async def test_a_copy_is_set_aside_for_one_hold_only(sessions: Sessions, scene: Scene) -> None:
    async with transaction(sessions) as session:
        other = await add_patron(session, library=scene.library, card_number="C2")
    ready = _hold(scene, HoldStatus.READY, item_id=scene.item.id, pickup_deadline=date(2026, 12, 1))
    await _add(sessions, ready)

    second = _hold(scene, HoldStatus.IN_TRANSIT, item_id=scene.item.id)
    second.patron_id = other.id
    with pytest.raises(IntegrityError):
        await _add(sessions, second)


@pytest.mark.parametrize(
    ("status", "with_copy", "with_deadline"),
    [
        (HoldStatus.READY, False, True),
        (HoldStatus.IN_TRANSIT, False, False),
        (HoldStatus.READY, True, False),
    ],
)
async def test_a_hold_set_aside_names_its_copy_and_deadline(
    sessions: Sessions, scene: Scene, status: HoldStatus, with_copy: bool, with_deadline: bool
) -> None:
    values: dict[str, object] = {}
    if with_copy:
        values["item_id"] = scene.item.id
    if with_deadline:
        values["pickup_deadline"] = date(2026, 12, 1)
    with pytest.raises(IntegrityError):
        await _add(sessions, _hold(scene, status, **values))


async def test_the_same_client_mutation_id_makes_one_hold(sessions: Sessions, scene: Scene) -> None:
    await _add(sessions, _hold(scene, HoldStatus.CANCELLED, client_mutation_id="tap-1"))
    with pytest.raises(IntegrityError):
        await _add(sessions, _hold(scene, HoldStatus.WAITING, client_mutation_id="tap-1"))


async def test_barcodes_and_card_numbers_are_unique(sessions: Sessions, scene: Scene) -> None:
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            await add_item(session, record=scene.record, library=scene.library, barcode="B1")
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            await add_patron(session, library=scene.library, card_number="C1")


async def test_fees_are_positive_and_never_overpaid(sessions: Sessions, scene: Scene) -> None:
    def fee(amount: int, paid: int) -> Fee:
        return Fee(
            patron_id=scene.patron.id,
            kind=FeeKind.LATE,
            amount_cents=amount,
            paid_cents=paid,
            description="late",
            accrued_at=NOW,
        )

    await _add(sessions, fee(120, 120))
    for amount, paid in ((0, 0), (-50, 0), (100, 101), (100, -1)):
        with pytest.raises(IntegrityError):
            await _add(sessions, fee(amount, paid))


async def test_foreign_keys_are_enforced(sessions: Sessions, scene: Scene) -> None:
    with pytest.raises(IntegrityError):
        await _add(
            sessions,
            Item(barcode="B9", record_id="no-such-record", library_id=scene.library.id),
        )


@pytest.mark.parametrize(
    ("standing", "source", "accepted"),
    [
        (StandingCode.SUSPENDED, StandingSource.AUTOMATIC, True),
        (StandingCode.REVOKED, StandingSource.STAFF, True),
        (StandingCode.SUSPENDED, None, False),  # a block must say who set it
        (StandingCode.OK, StandingSource.STAFF, False),
        (StandingCode.EXPIRED, StandingSource.AUTOMATIC, False),  # derived, never stored
    ],
)
async def test_a_stored_standing_is_whole(
    sessions: Sessions,
    scene: Scene,
    standing: StandingCode,
    source: StandingSource | None,
    accepted: bool,
) -> None:
    async def block() -> None:
        async with transaction(sessions) as session:
            patron = await session.get(Patron, scene.patron.id)
            assert patron is not None
            patron.standing = standing
            patron.standing_source = source

    if accepted:
        await block()
    else:
        with pytest.raises(IntegrityError):
            await block()


async def test_isbn_lookups_and_open_loans_are_indexed(engine: AsyncEngine) -> None:
    def indexes(connection: Connection) -> dict[str, set[tuple[str | None, ...]]]:
        inspector = inspect(connection)
        return {
            table: {tuple(index["column_names"]) for index in inspector.get_indexes(table)}
            for table in ("record_isbns", "loans", "holds", "items")
        }

    async with engine.connect() as connection:
        found = await connection.run_sync(indexes)

    assert ("isbn13",) in found["record_isbns"]
    assert ("item_id",) in found["loans"]
    assert ("record_id", "status", "id") in found["holds"]
    assert ("record_id",) in found["items"]


async def test_the_migrations_create_exactly_the_model(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
