"""The operations, whatever the network: outcomes, state changes, events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select

from circulation import (
    HOLD_READY,
    ITEM_STATUS_CHANGED,
    LOAN_RENEWED,
    GeoPoint,
    cancel_hold,
    change_hold_pickup,
    checkin,
    checkout,
    place_hold,
    receive_transit,
    renew_all,
    renew_loan,
    run_scheduled_work,
    suspend_hold,
)
from db import Hold, HoldStatus, Item, ItemStatus, Loan, OutboxEvent
from tests.circulation.world import World, lent, ok, refusal, refused

WorldOf = Callable[[str], Awaitable[World]]


async def test_checkout_lends_and_checkin_returns(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    [barcode] = await world.titles(library, 1)
    patron = await world.patron(library)

    loan = ok(
        await checkout(
            world.circulation, card_number=patron.card_number, barcode=barcode, library_id=library
        )
    )

    assert loan.due_date == world.today + timedelta(days=30)
    item = await _item(world, barcode)
    assert item.status is ItemStatus.ON_LOAN
    assert (
        refused(
            await checkout(
                world.circulation,
                card_number=patron.card_number,
                barcode=barcode,
                library_id=library,
            )
        )
        == "ITEM_NOT_AVAILABLE"
    )

    result = ok(await checkin(world.circulation, barcode=barcode, library_id=library))

    assert (result.fee_cents, result.trapped_hold) == (0, None)
    assert (await _item(world, barcode)).status is ItemStatus.AVAILABLE
    assert (
        refused(await checkin(world.circulation, barcode=barcode, library_id=library))
        == "NOT_ON_LOAN"
    )
    assert [event["status"] for event in await world.events(ITEM_STATUS_CHANGED)] == [
        "ON_LOAN",
        "AVAILABLE",
    ]


async def test_unknown_patron_item_or_library_is_not_found(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    [barcode] = await world.titles(library, 1)
    patron = await world.patron(library)

    for card, code, where in (
        ("NOPE", barcode, library),
        (patron.card_number, "NOPE", library),
        (patron.card_number, barcode, "NOPE"),
    ):
        assert (
            refused(
                await checkout(world.circulation, card_number=card, barcode=code, library_id=where)
            )
            == "NOT_FOUND"
        )
    assert await world.count(Loan) == 0


async def test_a_hold_on_a_copy_on_the_shelf_is_ready_at_once(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    record = await world.record()
    barcode = await world.item(record, library)
    patron = await world.patron(library)

    hold = ok(await place_hold(world.circulation, patron_id=patron.id, record_id=record))

    assert hold.status is HoldStatus.READY
    assert hold.pickup_library_id == library  # the patron's home library by default
    assert hold.pickup_deadline == world.today + timedelta(days=7)
    assert (await _item(world, barcode)).status is ItemStatus.ON_HOLD_SHELF
    [ready] = await world.events(HOLD_READY)
    assert ready == {
        "holdId": hold.id,
        "patronId": patron.id,
        "recordId": record,
        "pickupLibraryId": library,
        "pickupDeadline": hold.pickup_deadline.isoformat(),
    }


async def test_a_copy_elsewhere_travels_and_is_received(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    here = await world.library("PV1")
    there = await world.library("PV2", lat=45.3, lon=9.0)
    record = await world.record()
    barcode = await world.item(record, there)
    patron = await world.patron(here)

    hold = ok(await place_hold(world.circulation, patron_id=patron.id, record_id=record))

    assert hold.status is HoldStatus.IN_TRANSIT
    assert (await _item(world, barcode)).status is ItemStatus.IN_TRANSIT
    assert (
        refused(await receive_transit(world.circulation, barcode=barcode, library_id=there))
        == "INVALID_PICKUP_LIBRARY"
    )

    await world.advance(days=2)
    received = ok(await receive_transit(world.circulation, barcode=barcode, library_id=here))

    assert received.status is HoldStatus.READY
    assert received.pickup_deadline == world.today + timedelta(days=7)
    loan = ok(
        await checkout(
            world.circulation, card_number=patron.card_number, barcode=barcode, library_id=here
        )
    )
    assert loan.item_id == (await _item(world, barcode)).id
    assert (await world.get(Hold, hold.id)).status is HoldStatus.FULFILLED


async def test_default_pickup_is_preferred_then_nearest_then_home(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    home = await world.library("HOME", lat=45.0, lon=9.0)
    near_me = await world.library("NEAR", lat=45.5, lon=9.5)
    preferred = await world.library("PREF", lat=44.0, lon=8.0)
    first, second, third = [await world.record() for _ in range(3)]
    for record in (first, second, third):
        await world.item(record, home)
        await checkout_all(world, record)
    plain = await world.patron(home)
    choosy = await world.patron(home, preferred_pickup=preferred)

    by_home = ok(await place_hold(world.circulation, patron_id=plain.id, record_id=first))
    by_near = ok(
        await place_hold(
            world.circulation, patron_id=plain.id, record_id=second, near=GeoPoint(45.49, 9.49)
        )
    )
    by_preference = ok(
        await place_hold(
            world.circulation, patron_id=choosy.id, record_id=third, near=GeoPoint(45.49, 9.49)
        )
    )

    assert (
        by_home.pickup_library_id,
        by_near.pickup_library_id,
        by_preference.pickup_library_id,
    ) == (home, near_me, preferred)


async def checkout_all(world: World, record_id: str) -> None:
    """Lend every copy of the record to a fresh patron, so that holds have to wait."""
    async with world.sessions() as session:
        items = list(await session.scalars(select(Item).where(Item.record_id == record_id)))
    for item in items:
        borrower = await world.patron(item.library_id)
        ok(
            await checkout(
                world.circulation,
                card_number=borrower.card_number,
                barcode=item.barcode,
                library_id=item.library_id,
            )
        )


async def test_checkin_traps_the_next_hold_at_its_pickup_library_or_sends_it(
    world_of: WorldOf,
) -> None:
    world = await world_of("cubi")
    here = await world.library("PV1")
    there = await world.library("PV2")
    record = await world.record()
    barcode = await world.item(record, here)
    await checkout_all(world, record)
    first = await world.patron(there)
    second = await world.patron(here)
    hold_first = ok(await place_hold(world.circulation, patron_id=first.id, record_id=record))
    hold_second = ok(await place_hold(world.circulation, patron_id=second.id, record_id=record))

    result = ok(await checkin(world.circulation, barcode=barcode, library_id=here))

    assert result.trapped_hold.id == hold_first.id
    assert result.trapped_hold.status is HoldStatus.IN_TRANSIT
    assert (await world.get(Hold, hold_second.id)).status is HoldStatus.WAITING


async def test_the_same_client_mutation_id_returns_the_first_hold(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    record = await world.record()
    await world.item(record, library)
    await checkout_all(world, record)
    patron = await world.patron(library)

    first = ok(
        await place_hold(
            world.circulation, patron_id=patron.id, record_id=record, client_mutation_id="tap-1"
        )
    )
    again = ok(
        await place_hold(
            world.circulation, patron_id=patron.id, record_id=record, client_mutation_id="tap-1"
        )
    )

    assert again.id == first.id
    assert await world.count(Hold) == 1
    assert (
        refused(
            await place_hold(
                world.circulation, patron_id=patron.id, record_id=record, client_mutation_id="tap-2"
            )
        )
        == "ALREADY_HOLDING"
    )


async def test_hold_refusals(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    record = await world.record()
    barcode = await world.item(record, library)
    patron = await world.patron(library)
    ok(
        await checkout(
            world.circulation, card_number=patron.card_number, barcode=barcode, library_id=library
        )
    )
    no_copies = await world.record()
    reference = await world.record()
    await world.item(reference, library, loanable=False)

    circulation = world.circulation
    assert (
        refused(await place_hold(circulation, patron_id=patron.id, record_id=record))
        == "ALREADY_ON_LOAN"
    )
    assert (
        refused(await place_hold(circulation, patron_id=patron.id, record_id="nope")) == "NOT_FOUND"
    )
    assert (
        refused(await place_hold(circulation, patron_id=patron.id, record_id=no_copies))
        == "NOT_HOLDABLE"
    )
    assert (
        refused(await place_hold(circulation, patron_id=patron.id, record_id=reference))
        == "NOT_HOLDABLE"
    )
    other = await world.record()
    await world.item(other, library)
    assert (
        refused(
            await place_hold(
                circulation, patron_id=patron.id, record_id=other, pickup_library_id="NOWHERE"
            )
        )
        == "INVALID_PICKUP_LIBRARY"
    )
    assert await world.count(Hold) == 0


async def test_cancelling_a_ready_hold_passes_the_copy_on(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    record = await world.record()
    barcode = await world.item(record, library)
    first, second = await world.patron(library), await world.patron(library)
    ready = ok(await place_hold(world.circulation, patron_id=first.id, record_id=record))
    waiting = ok(await place_hold(world.circulation, patron_id=second.id, record_id=record))
    assert (ready.status, waiting.status) == (HoldStatus.READY, HoldStatus.WAITING)

    assert (
        refused(await cancel_hold(world.circulation, hold_id=ready.id, patron_id=second.id))
        == "NOT_FOUND"
    )
    cancelled = ok(await cancel_hold(world.circulation, hold_id=ready.id, patron_id=first.id))

    assert cancelled.status is HoldStatus.CANCELLED
    assert (await world.get(Hold, waiting.id)).status is HoldStatus.READY
    assert (await _item(world, barcode)).status is ItemStatus.ON_HOLD_SHELF
    assert (
        refused(await cancel_hold(world.circulation, hold_id=ready.id, patron_id=first.id))
        == "HOLD_NOT_CANCELLABLE"
    )


async def test_a_paused_hold_keeps_its_place_and_is_skipped(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    record = await world.record()
    barcode = await world.item(record, library)
    await checkout_all(world, record)
    first, second, third = (
        await world.patron(library),
        await world.patron(library),
        await world.patron(library),
    )
    holds = [
        ok(await place_hold(world.circulation, patron_id=p.id, record_id=record))
        for p in (first, second, third)
    ]

    paused = ok(
        await suspend_hold(
            world.circulation,
            hold_id=holds[0].id,
            patron_id=first.id,
            until=world.today + timedelta(days=10),
        )
    )
    assert paused.suspended_until == world.today + timedelta(days=10)
    assert (
        refused(
            await suspend_hold(
                world.circulation,
                hold_id=holds[1].id,
                patron_id=second.id,
                until=world.today - timedelta(days=1),
            )
        )
        == "INVALID_TIME"
    )

    assert [view.position for view in await world.holds_seen_by(first)] == [1]
    assert [view.position for view in await world.holds_seen_by(third)] == [3]

    result = ok(await checkin(world.circulation, barcode=barcode, library_id=library))
    assert result.trapped_hold.id == holds[1].id  # the paused first hold was skipped
    resumed = ok(
        await suspend_hold(world.circulation, hold_id=holds[0].id, patron_id=first.id, until=None)
    )
    assert (resumed.suspended_until, resumed.status) == (None, HoldStatus.WAITING)


async def test_a_new_hold_gets_in_line_behind_one_the_shelf_could_serve(
    world_of: WorldOf,
) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    record = await world.record()
    barcode = await world.item(record, library)
    await checkout_all(world, record)
    first, second = await world.patron(library), await world.patron(library)
    paused = ok(await place_hold(world.circulation, patron_id=first.id, record_id=record))
    ok(
        await suspend_hold(
            world.circulation,
            hold_id=paused.id,
            patron_id=first.id,
            until=world.today + timedelta(days=2),
        )
    )
    ok(await checkin(world.circulation, barcode=barcode, library_id=library))
    assert (await _item(world, barcode)).status is ItemStatus.AVAILABLE
    # The pause ends with the copy still on the shelf: no scheduled work has served the queue.
    world.clock.set(world.clock.now() + timedelta(days=3))

    late = ok(await place_hold(world.circulation, patron_id=second.id, record_id=record))

    holds = await world.holds_of(record)
    assert [(hold.id, hold.status) for hold in holds] == [
        (paused.id, HoldStatus.READY),
        (late.id, HoldStatus.WAITING),
    ]
    assert holds[0].item_id == (await _item(world, barcode)).id


async def test_changing_the_pickup_of_a_ready_hold_sends_the_copy(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    here = await world.library("PV1")
    there = await world.library("PV2")
    record = await world.record()
    barcode = await world.item(record, here)
    patron = await world.patron(here)
    hold = ok(await place_hold(world.circulation, patron_id=patron.id, record_id=record))

    assert (
        refused(
            await change_hold_pickup(
                world.circulation, hold_id=hold.id, patron_id=patron.id, library_id="NOWHERE"
            )
        )
        == "INVALID_PICKUP_LIBRARY"
    )
    moved = ok(
        await change_hold_pickup(
            world.circulation, hold_id=hold.id, patron_id=patron.id, library_id=there
        )
    )

    assert (moved.status, moved.pickup_library_id, moved.pickup_deadline) == (
        HoldStatus.IN_TRANSIT,
        there,
        None,
    )
    assert (await _item(world, barcode)).status is ItemStatus.IN_TRANSIT


async def test_renewal_view_says_why_and_from_when(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    [barcode] = await world.titles(library, 1)
    patron = await world.patron(library)
    loan = ok(
        await checkout(
            world.circulation, card_number=patron.card_number, barcode=barcode, library_id=library
        )
    )

    [view] = await world.loans_seen_by(patron)
    renewable_from = view.renewable_from
    assert renewable_from is not None
    assert (view.renewable, view.renew_blocked_by, view.renewable_from) == (
        False,
        "TOO_EARLY",
        loan.due_date - timedelta(days=7),
    )
    assert view.renewals_left == 1

    early = refusal(await renew_loan(world.circulation, loan_id=loan.id, patron_id=patron.id))
    assert early.code == "TOO_EARLY"
    day = f"{renewable_from.day} {renewable_from:%b} {renewable_from.year}"
    assert early.message("en") == f"It is too early to renew: you can renew from {day}."
    assert (
        early.message("it")
        == f"È presto per rinnovare: potrai farlo dal {renewable_from:%d/%m/%Y}."
    )

    await world.advance_to(renewable_from)
    renewed = ok(await renew_loan(world.circulation, loan_id=loan.id, patron_id=patron.id))
    assert renewed.due_date == loan.due_date + timedelta(days=30)
    assert renewed.renewals_used == 1
    assert len(await world.events(LOAN_RENEWED)) == 1
    [(_, again)] = await renew_all(world.circulation, patron_id=patron.id)
    assert refused(again) == "RENEWAL_LIMIT_REACHED"


async def test_scheduled_work_is_idempotent(world_of: WorldOf) -> None:
    world = await world_of("cubi")
    library = await world.library("PV1")
    barcodes = await world.titles(library, 3)
    patron = await world.patron(library)
    for barcode in barcodes:
        await lent(world, patron, barcode, library)

    await world.advance(days=27)
    events = await world.count(OutboxEvent)
    await run_scheduled_work(world.circulation)
    await run_scheduled_work(world.circulation)

    assert await world.count(OutboxEvent) == events
    due_soon = await world.events("DUE_SOON")
    assert len(due_soon) == 1  # one digest for the three loans
    assert len(due_soon[0]["loans"]) == 3


async def _item(world: World, barcode: str) -> Item:
    async with world.sessions() as session:
        item = await session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None
        return item
