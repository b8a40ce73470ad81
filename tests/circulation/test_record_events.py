"""Every transaction that changes what a record's public detail shows (its queue length, its
copies' status, place, due date and first day available) emits an outbox event naming the
record, so that a cache of the detail can follow the outbox (see record_detail.py).

Each operation below runs under `Watch`, which reads every record's detail before and after
it and fails when one changed with no new event naming it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from catalog import RECORD_CHANGED
from circulation import (
    HOLD_CANCELLED,
    HOLD_PLACED,
    HOLD_READY,
    ITEM_STATUS_CHANGED,
    LOAN_RENEWED,
    cancel_hold,
    change_hold_pickup,
    checkin,
    checkout,
    place_hold,
    receive_transit,
    renew_all,
    renew_loan,
    set_patron_standing,
    suspend_hold,
)
from db import Hold, HoldStatus, ItemStatus, Loan, MaterialType, StandingCode
from tests.circulation.record_detail import events_after, snapshot, unannounced
from tests.circulation.world import World, copy_of, ok

WorldOf = Callable[[str], Awaitable[World]]
T = TypeVar("T")


@dataclass
class Watch:
    """Runs operations, checking that each announces the details it changes."""

    world: World
    # Every record whose detail some operation changed: what the scenario exercised.
    changed: set[str] = field(default_factory=set)
    # The events of the last operation: (type, payload).
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def __call__(self, operation: Awaitable[T]) -> T:
        before = await snapshot(self.world.sessions)
        result = await operation
        after = await snapshot(self.world.sessions)
        self.events = await events_after(self.world.sessions, before.last_event_id)
        missing = unannounced(before.details, after.details, self.events)
        assert not missing, f"detail changed, no event named the record: {missing}"
        self.changed |= {
            record_id
            for record_id, detail in after.details.items()
            if before.details.get(record_id) != detail
        }
        return result

    def payloads(self, event_type: str) -> list[dict[str, Any]]:
        return [payload for kind, payload in self.events if kind == event_type]


async def _lend(world: World, card: str, barcode: str, library: str) -> Loan:
    loan: Loan = ok(
        await checkout(world.circulation, card_number=card, barcode=barcode, library_id=library)
    )
    return loan


async def test_a_waiting_hold_placed_or_cancelled_names_its_record(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    watch = Watch(world)
    library = await world.library("PV1")
    record = await world.record()
    barcode = await world.item(record, library)
    reader, first, second = [await world.patron(library) for _ in range(3)]
    await watch(_lend(world, reader.card_number, barcode, library))

    waiting = ok(await watch(place_hold(world.circulation, patron_id=first.id, record_id=record)))
    assert waiting.status is HoldStatus.WAITING
    assert watch.payloads(HOLD_PLACED) == [
        {"holdId": waiting.id, "patronId": first.id, "recordId": record}
    ]
    behind = ok(await watch(place_hold(world.circulation, patron_id=second.id, record_id=record)))

    ok(await watch(cancel_hold(world.circulation, hold_id=waiting.id, patron_id=first.id)))
    assert watch.payloads(HOLD_CANCELLED) == [
        {"holdId": waiting.id, "patronId": first.id, "recordId": record}
    ]
    # A pause, a resumption and a new pickup library change nothing the detail shows.
    until = world.today + timedelta(days=3)
    ok(await watch(suspend_hold(world.circulation, hold_id=behind.id, patron_id=None, until=until)))
    ok(await watch(suspend_hold(world.circulation, hold_id=behind.id, patron_id=None, until=None)))
    other = await world.library("PV2")
    ok(
        await watch(
            change_hold_pickup(
                world.circulation, hold_id=behind.id, patron_id=None, library_id=other
            )
        )
    )

    # Returned: the copy travels to the hold's pickup library, is received there, collected.
    ok(await watch(checkin(world.circulation, barcode=barcode, library_id=library)))
    assert (await copy_of(world, barcode)).status is ItemStatus.IN_TRANSIT
    ok(await watch(receive_transit(world.circulation, barcode=barcode, library_id=other)))
    await watch(_lend(world, second.card_number, barcode, other))
    assert record in watch.changed


async def test_renewals_name_their_record(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    watch = Watch(world)
    library = await world.library("PV1")
    patron = await world.patron(library)
    first, second = await world.titles(library, 2)
    loan = await watch(_lend(world, patron.card_number, first, library))
    await watch(_lend(world, patron.card_number, second, library))
    await watch(world.advance(days=25))

    ok(await watch(renew_loan(world.circulation, loan_id=loan.id, patron_id=patron.id)))
    [renewed] = watch.payloads(LOAN_RENEWED)
    assert renewed["recordId"] == (await copy_of(world, first)).record_id
    assert renewed["loanId"] == loan.id

    results = await watch(renew_all(world.circulation, patron_id=patron.id))
    assert [outcome.ok for _, outcome in results] == [True, False]  # the first: once only
    [renewed] = watch.payloads(LOAN_RENEWED)
    assert renewed["recordId"] == (await copy_of(world, second)).record_id


async def test_the_work_of_the_clock_names_its_records(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    watch = Watch(world)
    here, there = await world.library("PV1"), await world.library("PV2")
    record = await world.record()
    barcode = await world.item(record, here)
    reader, waiting, late = [await world.patron(here) for _ in range(3)]
    await watch(_lend(world, reader.card_number, barcode, here))
    hold = ok(await watch(place_hold(world.circulation, patron_id=waiting.id, record_id=record)))
    later = ok(await watch(place_hold(world.circulation, patron_id=late.id, record_id=record)))
    # The first in line pauses: the copy returned goes to the second, who never collects it.
    until = world.today + timedelta(days=60)
    ok(await watch(suspend_hold(world.circulation, hold_id=hold.id, patron_id=None, until=until)))
    ok(await watch(checkin(world.circulation, barcode=barcode, library_id=here)))
    ok(
        await watch(
            change_hold_pickup(
                world.circulation, hold_id=later.id, patron_id=None, library_id=there
            )
        )
    )
    ok(await watch(receive_transit(world.circulation, barcode=barcode, library_id=there)))
    # Reminders, expiry (the copy goes back on the shelf: the first is still paused), notices.
    for _ in range(10):
        await watch(world.advance(days=1))
    assert (await world.get(Hold, later.id)).status is HoldStatus.EXPIRED
    assert (await copy_of(world, barcode)).status is ItemStatus.AVAILABLE
    # The pause ends: the worker sets the copy aside for the first.
    await watch(world.advance(days=60))
    assert (await world.get(Hold, hold.id)).status is HoldStatus.READY
    ok(await watch(cancel_hold(world.circulation, hold_id=hold.id, patron_id=None)))
    # Overdue notices and a block: nothing the detail shows.
    await watch(_lend(world, reader.card_number, barcode, here))
    await watch(world.advance(days=40))
    ok(
        await watch(
            set_patron_standing(
                world.circulation,
                card_number=reader.card_number,
                code=StandingCode.SUSPENDED,
                note=None,
            )
        )
    )
    ok(await watch(checkin(world.circulation, barcode=barcode, library_id=there)))
    assert record in watch.changed


async def test_quarantine_ends_name_their_record(world_of: WorldOf) -> None:
    world = await world_of("example_fluxus")
    watch = Watch(world)
    library = await world.library("PV1")
    record = await world.record()
    barcode = await world.item(record, library)
    patron, waiting = await world.patron(library), await world.patron(library)
    await watch(_lend(world, patron.card_number, barcode, library))
    ok(await watch(checkin(world.circulation, barcode=barcode, library_id=library)))
    assert (await copy_of(world, barcode)).status is ItemStatus.IN_QUARANTINE
    ok(await watch(place_hold(world.circulation, patron_id=waiting.id, record_id=record)))
    await watch(world.advance(days=4))  # out of quarantine, to the hold
    assert (await copy_of(world, barcode)).status is ItemStatus.ON_HOLD_SHELF

    other = await world.record()
    spare = await world.item(other, library)
    await watch(_lend(world, patron.card_number, spare, library))
    ok(await watch(checkin(world.circulation, barcode=spare, library_id=library)))
    await watch(world.advance(days=4))  # out of quarantine, back on the shelf
    assert (await copy_of(world, spare)).status is ItemStatus.AVAILABLE


async def test_embargo_ends_name_their_record(world_of: WorldOf) -> None:
    world = await world_of("biblioinrete")
    watch = Watch(world)
    library = await world.library("VI1")
    film = await world.record(material=MaterialType.AUDIOVISUAL, published="2025-03")
    barcode = await world.item(film, library)
    patron = await world.patron(library)
    ok(await watch(place_hold(world.circulation, patron_id=patron.id, record_id=film)))
    await watch(world.advance_to(date(2026, 9, 1)))  # 2025-03 + 18 months: to the hold
    assert film in {payload["recordId"] for payload in watch.payloads(RECORD_CHANGED)}
    assert (await copy_of(world, barcode)).status is ItemStatus.ON_HOLD_SHELF


async def test_the_events_of_an_operation_keep_their_order(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    watch = Watch(world)
    library = await world.library("PV1")
    record = await world.record()
    barcode = await world.item(record, library)
    patron = await world.patron(library)

    hold = ok(await watch(place_hold(world.circulation, patron_id=patron.id, record_id=record)))

    # Written in the order they were emitted, the hold and the copy as the events say.
    assert [kind for kind, _ in watch.events] == [HOLD_PLACED, HOLD_READY, ITEM_STATUS_CHANGED]
    assert {payload.get("holdId") for _, payload in watch.events} == {hold.id, None}
    stored = await world.get(Hold, hold.id)
    assert (stored.status, stored.item_id, stored.pickup_deadline) == (
        hold.status,
        hold.item_id,
        hold.pickup_deadline,
    )
    assert hold.status is HoldStatus.READY
    assert (await copy_of(world, barcode)).status is ItemStatus.ON_HOLD_SHELF
