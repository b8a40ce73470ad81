"""Concurrent requests: each call runs in a transaction of its own on a connection of its own,
all started at once with asyncio.gather. Whatever the interleaving, limits hold, queue places
are unique and gapless, a copy is lent once, a request sent again creates nothing, and every
call answers (an outcome, never a database error such as a deadlock).

PostgreSQL serialises them with row locks; SQLite with BEGIN IMMEDIATE (one writer at a time),
on which the limit tests run as well.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from circulation import (
    HOLD_READY,
    Outcome,
    WorkReport,
    cancel_hold,
    checkin,
    checkout,
    hold_views,
    pay_fees,
    place_hold,
    renew_loan,
    run_scheduled_work,
)
from db import (
    ACTIVE_HOLD_STATUSES,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Loan,
    MaterialType,
    Patron,
    Payment,
    create_engine,
    create_session_factory,
)
from tests.circulation.world import World, lent, make_world, ok

T = TypeVar("T")
U = TypeVar("U")

# Races that depend on the interleaving run this many times, each on fresh copies.
ROUNDS = 10


@dataclass
class Crowd:
    """An engine of its own with a connection for every concurrent call, counting the
    connections in use: the proof that the calls did overlap."""

    engine: AsyncEngine
    in_use: int = 0
    peak: int = 0

    def taken(self, *_: Any) -> None:
        self.in_use += 1
        self.peak = max(self.peak, self.in_use)

    def given_back(self, *_: Any) -> None:
        self.in_use -= 1

    async def warm_up(self, size: int) -> None:
        """Open `size` connections beforehand: a call still connecting would start late."""
        async with AsyncExitStack() as stack:
            for _ in range(size):
                await stack.enter_async_context(self.engine.connect())

    async def together(self, calls: Sequence[Awaitable[T]]) -> list[T]:
        """Run the calls at once; every one must answer, and they must have overlapped."""
        await self.warm_up(len(calls))
        self.peak = self.in_use
        results = await asyncio.gather(*calls, return_exceptions=True)
        errors = [
            f"{type(result).__name__}: {str(result)[:400]}"
            for result in results
            if isinstance(result, BaseException)
        ]
        assert not errors, f"{len(errors)} of {len(calls)} concurrent calls failed: {errors}"
        assert self.peak > 1, f"the calls ran one after the other ({self.peak} connection)"
        return [result for result in results if not isinstance(result, BaseException)]

    async def both(self, first: Awaitable[T], second: Awaitable[U]) -> tuple[T, U]:
        """Two different calls at once, as `together` runs them."""
        one, other = await self.together([_as_any(first), _as_any(second)])
        return one, other


async def _as_any(call: Awaitable[Any]) -> Any:
    return await call


@pytest.fixture
async def crowd(engine: AsyncEngine, database_url: str) -> AsyncIterator[Crowd]:
    """The crowd engine (the `engine` fixture empties the tables afterwards)."""
    crowd = Crowd(create_engine(database_url, pool_size=60, max_overflow=10))
    event.listen(crowd.engine.sync_engine, "checkout", crowd.taken)
    event.listen(crowd.engine.sync_engine, "checkin", crowd.given_back)
    yield crowd
    await crowd.engine.dispose()


@pytest.fixture
async def world(crowd: Crowd) -> World:
    """A CUBI network on the crowd engine, its clock at START."""
    return await make_world(create_session_factory(crowd.engine), "cubi")


# Races that need PostgreSQL's row locks and several connections run on PostgreSQL only.
on_postgres = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


def codes(outcomes: Sequence[Outcome[Any]]) -> Counter[str]:
    return Counter(
        "ok" if outcome.refusal is None else outcome.refusal.code for outcome in outcomes
    )


async def lend_all(world: World, library: str, barcodes: Sequence[str]) -> None:
    """Lend the copies to borrowers of their own (ten each), so that holds have to wait."""
    borrowers: list[Patron] = []
    for n, barcode in enumerate(barcodes):
        if n % 10 == 0:
            borrowers.append(await world.patron(library))
        ok(
            await checkout(
                world.circulation,
                card_number=borrowers[-1].card_number,
                barcode=barcode,
                library_id=library,
            )
        )


@dataclass
class Copy:
    status: ItemStatus
    open_loans: list[Loan]
    set_aside_for: list[Hold]


async def copy_state(world: World, barcode: str) -> Copy:
    """The copy's status, its open loans and the active holds it is set aside for; these must
    agree (ON_LOAN with one loan, ON_HOLD_SHELF or IN_TRANSIT with one hold, else neither)."""
    async with world.sessions() as session:
        item = await session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None
        loans = list(
            await session.scalars(
                select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None))
            )
        )
        holds = list(
            await session.scalars(
                select(Hold).where(Hold.item_id == item.id, Hold.status.in_(ACTIVE_HOLD_STATUSES))
            )
        )
    copy = Copy(item.status, loans, holds)
    expected_loans = 1 if item.status is ItemStatus.ON_LOAN else 0
    holding = item.status in (ItemStatus.ON_HOLD_SHELF, ItemStatus.IN_TRANSIT)
    assert (len(loans), len(holds)) == (expected_loans, 1 if holding else 0), copy
    return copy


async def open_loans_of(world: World, patron: Patron) -> int:
    async with world.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Loan)
            .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
        )
    return int(count or 0)


# ---------------------------------------------------------------------------------------------
# Limits, on both databases.


async def test_concurrent_holds_stop_at_the_hold_limit(world: World, crowd: Crowd) -> None:
    library = await world.library("PV1")
    records = [await world.record() for _ in range(20)]
    await lend_all(world, library, [await world.item(record, library) for record in records])
    patron = await world.patron(library)

    outcomes = await crowd.together(
        [
            place_hold(world.circulation, patron_id=patron.id, record_id=record)
            for record in records
        ],
    )

    assert codes(outcomes) == {"ok": 5, "HOLD_LIMIT_REACHED": 15}
    async with world.sessions() as session:
        holds = list(await session.scalars(select(Hold).where(Hold.patron_id == patron.id)))
    placed = [outcome.value.id for outcome in outcomes if outcome.value is not None]
    assert sorted(hold.id for hold in holds) == sorted(placed)
    assert {hold.status for hold in holds} == {HoldStatus.WAITING}


async def test_concurrent_checkouts_stop_at_the_loan_limit(world: World, crowd: Crowd) -> None:
    library = await world.library("PV1")
    barcodes = await world.titles(library, 20)
    patron = await world.patron(library)

    outcomes = await crowd.together(
        [
            checkout(
                world.circulation,
                card_number=patron.card_number,
                barcode=barcode,
                library_id=library,
            )
            for barcode in barcodes
        ],
    )

    assert codes(outcomes) == {"ok": 15, "LOAN_LIMIT_REACHED": 5}
    assert await open_loans_of(world, patron) == 15
    assert await world.count(Loan) == 15


async def test_concurrent_checkouts_stop_at_the_group_limit(world: World, crowd: Crowd) -> None:
    library = await world.library("PV1")
    films = await world.titles(library, 10, material=MaterialType.AUDIOVISUAL)
    patron = await world.patron(library)

    outcomes = await crowd.together(
        [
            checkout(
                world.circulation,
                card_number=patron.card_number,
                barcode=barcode,
                library_id=library,
            )
            for barcode in films
        ],
    )

    assert codes(outcomes) == {"ok": 5, "MATERIAL_LIMIT_REACHED": 5}
    assert await open_loans_of(world, patron) == 5


# ---------------------------------------------------------------------------------------------
# Queues, copies and repeated requests, on PostgreSQL.


@pytest.mark.postgres
@on_postgres
async def test_fifty_patrons_holding_at_once_get_places_one_to_fifty(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    library = await world.library("PV1")
    record = await world.record()
    await lend_all(world, library, [await world.item(record, library)])
    patrons = [await world.patron(library) for _ in range(50)]

    outcomes = await crowd.together(
        [place_hold(world.circulation, patron_id=p.id, record_id=record) for p in patrons],
    )

    assert codes(outcomes) == {"ok": 50}
    holds = await world.holds_of(record)
    assert len(holds) == 50
    assert len({hold.patron_id for hold in holds}) == 50
    places: list[tuple[int, int | None]] = []
    for patron in patrons:
        [view] = await world.holds_seen_by(patron)
        places.append((view.hold.id, view.position))
    assert [place for _, place in sorted(places)] == list(range(1, 51))


@pytest.mark.postgres
@on_postgres
async def test_two_desks_lending_the_same_copy_at_once_lend_it_once(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    here = await world.library("PV1")
    there = await world.library("PV2")
    first, second = await world.patron(here), await world.patron(there)

    for _ in range(ROUNDS):
        [barcode] = await world.titles(here, 1)
        outcomes = await crowd.together(
            [
                checkout(
                    world.circulation,
                    card_number=first.card_number,
                    barcode=barcode,
                    library_id=here,
                ),
                checkout(
                    world.circulation,
                    card_number=second.card_number,
                    barcode=barcode,
                    library_id=there,
                ),
            ],
        )

        assert codes(outcomes) == {"ok": 1, "ITEM_NOT_AVAILABLE": 1}
        copy = await copy_state(world, barcode)
        [lent] = [outcome.value for outcome in outcomes if outcome.value is not None]
        assert copy.status is ItemStatus.ON_LOAN
        assert [(loan.id, loan.patron_id) for loan in copy.open_loans] == [
            (lent.id, lent.patron_id)
        ]


@pytest.mark.postgres
@on_postgres
async def test_two_desks_returning_the_same_copy_at_once_return_it_once(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    here = await world.library("PV1")
    there = await world.library("PV2")
    patron = await world.patron(here)

    for _ in range(ROUNDS):
        [barcode] = await world.titles(here, 1)
        loan = await lent(world, patron, barcode, here)
        outcomes = await crowd.together(
            [
                checkin(world.circulation, barcode=barcode, library_id=library)
                for library in (here, there)
            ],
        )

        assert codes(outcomes) == {"ok": 1, "NOT_ON_LOAN": 1}
        [returned] = [outcome.value.loan for outcome in outcomes if outcome.value is not None]
        assert returned.id == loan.id
        assert (await copy_state(world, barcode)).status is ItemStatus.AVAILABLE
        assert await open_loans_of(world, patron) == 0


@pytest.mark.postgres
@on_postgres
async def test_a_renewal_and_a_return_of_the_same_loan_at_once_are_taken_in_turn(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    library = await world.library("PV1")
    patron = await world.patron(library)
    barcodes = await world.titles(library, ROUNDS)
    loans = [await lent(world, patron, barcode, library) for barcode in barcodes]
    world.clock.set(world.clock.now() + timedelta(days=25))  # inside the renewal window

    for barcode, loan in zip(barcodes, loans, strict=True):
        renewed, returned = await crowd.both(
            renew_loan(world.circulation, loan_id=loan.id, patron_id=patron.id),
            checkin(world.circulation, barcode=barcode, library_id=library),
        )

        # Renewed before the return, or refused as no longer on loan after it.
        assert renewed.refusal is None or renewed.refusal.code == "NOT_FOUND"
        assert ok(returned).loan.id == loan.id
        assert (await copy_state(world, barcode)).status is ItemStatus.AVAILABLE
    assert await open_loans_of(world, patron) == 0


@pytest.mark.postgres
@on_postgres
async def test_the_same_client_mutation_id_ten_times_at_once_makes_one_hold(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    library = await world.library("PV1")
    record = await world.record()
    await world.item(record, library)  # on the shelf: set aside once, for the one hold
    patron = await world.patron(library)

    outcomes = await crowd.together(
        [
            place_hold(
                world.circulation, patron_id=patron.id, record_id=record, client_mutation_id="tap"
            )
            for _ in range(10)
        ],
    )

    assert codes(outcomes) == {"ok": 10}
    [hold] = await world.holds_of(record)
    assert {outcome.value.id for outcome in outcomes if outcome.value} == {hold.id}
    assert hold.status is HoldStatus.READY
    assert len(await world.events(HOLD_READY)) == 1
    async with world.sessions() as session:
        patron_now = await session.get(Patron, patron.id)
        assert patron_now is not None
        [view] = await hold_views(world.circulation, session, patron_now)
    assert view.hold.id == hold.id


@pytest.mark.postgres
@on_postgres
async def test_a_double_tap_without_a_mutation_id_makes_one_hold(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    library = await world.library("PV1")
    record = await world.record()
    await lend_all(world, library, [await world.item(record, library)])
    patron = await world.patron(library)

    outcomes = await crowd.together(
        [place_hold(world.circulation, patron_id=patron.id, record_id=record) for _ in range(5)],
    )

    assert codes(outcomes) == {"ok": 1, "ALREADY_HOLDING": 4}
    assert len(await world.holds_of(record)) == 1


@pytest.mark.postgres
@on_postgres
async def test_two_patrons_holding_the_copy_on_the_shelf_at_once_one_gets_it(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    library = await world.library("PV1")

    for _ in range(ROUNDS):
        record = await world.record()
        barcode = await world.item(record, library)
        first, second = await world.patron(library), await world.patron(library)
        outcomes = await crowd.together(
            [
                place_hold(world.circulation, patron_id=patron.id, record_id=record)
                for patron in (first, second)
            ],
        )

        assert codes(outcomes) == {"ok": 2}
        holds = await world.holds_of(record)
        # The hold placed first (the lower id) has the copy; the other waits behind it.
        assert [hold.status for hold in holds] == [HoldStatus.READY, HoldStatus.WAITING]
        copy = await copy_state(world, barcode)
        assert copy.status is ItemStatus.ON_HOLD_SHELF
        assert [hold.id for hold in copy.set_aside_for] == [holds[0].id]


@pytest.mark.postgres
@on_postgres
async def test_a_desk_lending_the_copy_a_hold_is_placed_on_gives_it_once(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    library = await world.library("PV1")
    borrower = await world.patron(library)

    for _ in range(ROUNDS):
        record = await world.record()
        barcode = await world.item(record, library)
        holder = await world.patron(library)
        lent, held = await crowd.both(
            checkout(
                world.circulation,
                card_number=borrower.card_number,
                barcode=barcode,
                library_id=library,
            ),
            place_hold(world.circulation, patron_id=holder.id, record_id=record),
        )

        hold = ok(held)
        copy = await copy_state(world, barcode)
        [hold_now] = await world.holds_of(record)
        if lent.refusal is None:
            assert (copy.status, hold_now.status) == (ItemStatus.ON_LOAN, HoldStatus.WAITING)
        else:
            assert lent.refusal.code == "ITEM_NOT_AVAILABLE"
            assert (copy.status, hold_now.status) == (ItemStatus.ON_HOLD_SHELF, HoldStatus.READY)
            assert [h.id for h in copy.set_aside_for] == [hold.id]


@pytest.mark.postgres
@on_postgres
async def test_cancelling_a_ready_hold_while_its_copy_is_collected_answers_both(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    library = await world.library("PV1")

    for _ in range(ROUNDS):
        record = await world.record()
        barcode = await world.item(record, library)
        patron = await world.patron(library)
        hold = ok(await place_hold(world.circulation, patron_id=patron.id, record_id=record))
        assert hold.status is HoldStatus.READY

        cancelled, lent = await crowd.both(
            cancel_hold(world.circulation, hold_id=hold.id, patron_id=patron.id),
            checkout(
                world.circulation,
                card_number=patron.card_number,
                barcode=barcode,
                library_id=library,
            ),
        )

        copy = await copy_state(world, barcode)
        hold_now = await world.get(Hold, hold.id)
        if cancelled.refusal is not None:
            # Collected first: the hold is fulfilled and can no longer be cancelled.
            assert cancelled.refusal.code == "HOLD_NOT_CANCELLABLE"
            assert (lent.refusal, hold_now.status) == (None, HoldStatus.FULFILLED)
        else:
            # Cancelled first: the copy went back on the shelf, where the patron took it.
            assert (lent.refusal, hold_now.status) == (None, HoldStatus.CANCELLED)
        assert copy.status is ItemStatus.ON_LOAN


@pytest.mark.postgres
@on_postgres
async def test_a_hold_expiring_while_its_copy_is_collected_answers_both(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    library = await world.library("PV1")

    for _ in range(ROUNDS):
        record = await world.record()
        barcode = await world.item(record, library)
        patron = await world.patron(library)
        hold = ok(await place_hold(world.circulation, patron_id=patron.id, record_id=record))
        assert hold.pickup_deadline == world.today + timedelta(days=7)
        # The day after the last day to collect: the worker and the patron arrive together.
        world.clock.set(world.clock.now() + timedelta(days=8))

        report, lent = await crowd.both(
            run_scheduled_work(world.circulation),
            checkout(
                world.circulation,
                card_number=patron.card_number,
                barcode=barcode,
                library_id=library,
            ),
        )

        assert isinstance(report, WorkReport)
        copy = await copy_state(world, barcode)
        hold_now = await world.get(Hold, hold.id)
        # Either the patron collected it in time, or it expired and went back on the shelf,
        # where the patron took it: the copy is lent to them either way.
        assert lent.refusal is None
        assert hold_now.status in (HoldStatus.FULFILLED, HoldStatus.EXPIRED)
        assert copy.status is ItemStatus.ON_LOAN
        ok(await checkin(world.circulation, barcode=barcode, library_id=library))


@pytest.mark.postgres
@on_postgres
async def test_paying_the_same_fees_twice_at_once_charges_once(
    engine: AsyncEngine, world: World, crowd: Crowd
) -> None:
    library = await world.library("PV1")
    [barcode] = await world.titles(library, 1)
    patron = await world.patron(library)
    ok(
        await checkout(
            world.circulation, card_number=patron.card_number, barcode=barcode, library_id=library
        )
    )
    await world.advance(days=30 + 38)  # 38 days late: 6 started weeks at EUR 0.30
    assert (
        ok(await checkin(world.circulation, barcode=barcode, library_id=library)).fee_cents == 180
    )

    outcomes = await crowd.together(
        [
            pay_fees(world.circulation, card_number=patron.card_number, amount_cents=200)
            for _ in range(2)
        ],
    )

    assert codes(outcomes) == {"ok": 1, "INVALID_AMOUNT": 1}
    assert await world.count(Payment) == 1
