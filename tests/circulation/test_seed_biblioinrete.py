"""Biblioinrete (seed 003, as policies.md reads it): each test is named after the rule it checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from stdnum.it import codicefiscale

from circulation import (
    ACCOUNT_SUSPENDED,
    HOLD_EXPIRED,
    HOLD_PICKUP_REMINDER,
    HOLD_READY,
    checkin,
    checkout,
    place_hold,
    receive_transit,
)
from db import Hold, HoldStatus, ItemStatus, MaterialType, Patron, StandingCode
from tests.circulation.world import (
    World,
    copy_of,
    embargo_case,
    lend,
    lent,
    ok,
    refusal,
    refused,
    renew,
    standing_of,
)

WorldOf = Callable[[str], Awaitable[World]]
NETWORK = "biblioinrete"
# A valid codice fiscale, check character included.
CODICE_FISCALE = "RSSMRA85T10A562S"


async def hold(world: World, patron: Patron, record: str, pickup: str | None = None) -> Hold:
    placed: Hold = ok(
        await place_hold(
            world.circulation, patron_id=patron.id, record_id=record, pickup_library_id=pickup
        )
    )
    return placed


async def on_loan_elsewhere(world: World, record: str, library: str) -> str:
    """A copy of the record at the library, lent to another patron (so that holds wait)."""
    barcode = await world.item(record, library)
    await lent(world, await world.patron(library), barcode, library)
    return barcode


# Identification


async def test_biblioinrete_codice_fiscale_is_the_patron_identifier_at_checkout(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    [barcode] = await world.titles(library, 1)
    patron = await world.patron(library, card=CODICE_FISCALE)
    assert codicefiscale.is_valid(CODICE_FISCALE)

    loan = ok(
        await checkout(
            world.circulation, card_number=CODICE_FISCALE, barcode=barcode, library_id=library
        )
    )

    assert loan.patron_id == patron.id
    assert [view.loan.id for view in await world.loans_seen_by(patron)] == [loan.id]


# Limits


async def test_biblioinrete_40_loans_in_all_the_group_limit_refuses_first(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    patron = await world.patron(library)
    for barcode in await world.titles(library, 30) + await world.titles(
        library, 10, material=MaterialType.AUDIOVISUAL
    ):
        await lent(world, patron, barcode, library)
    assert len(await world.open_loans(patron)) == 40

    [book] = await world.titles(library, 1)
    [dvd] = await world.titles(library, 1, material=MaterialType.AUDIOVISUAL)

    # All 40 are taken, and so is each group: the group's refusal is the more specific one.
    assert refused(await lend(world, patron, book, library)) == "MATERIAL_LIMIT_REACHED"
    assert refused(await lend(world, patron, dvd, library)) == "MATERIAL_LIMIT_REACHED"
    assert len(await world.open_loans(patron)) == 40


async def test_biblioinrete_at_most_10_multimedia_audiovisual_and_audiobook_together(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    patron = await world.patron(library)
    for barcode in await world.titles(
        library, 5, material=MaterialType.AUDIOVISUAL
    ) + await world.titles(library, 5, material=MaterialType.AUDIOBOOK):
        await lent(world, patron, barcode, library)

    [dvd] = await world.titles(library, 1, material=MaterialType.AUDIOVISUAL)
    [audiobook] = await world.titles(library, 1, material=MaterialType.AUDIOBOOK)
    [book] = await world.titles(library, 1)

    too_many = refusal(await lend(world, patron, dvd, library))
    assert (too_many.code, too_many.values["limit"]) == ("MATERIAL_LIMIT_REACHED", 10)
    assert refused(await lend(world, patron, audiobook, library)) == "MATERIAL_LIMIT_REACHED"
    await lent(world, patron, book, library)  # the other types are counted apart


async def test_biblioinrete_at_most_30_of_the_other_types(world_of: WorldOf) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    patron = await world.patron(library)
    others = (
        await world.titles(library, 20)
        + await world.titles(library, 5, material=MaterialType.PERIODICAL)
        + await world.titles(library, 5, material=MaterialType.KIT)
    )
    for barcode in others:
        await lent(world, patron, barcode, library)

    [book] = await world.titles(library, 1)
    [kit] = await world.titles(library, 1, material=MaterialType.KIT)
    [dvd] = await world.titles(library, 1, material=MaterialType.AUDIOVISUAL)

    too_many = refusal(await lend(world, patron, book, library))
    assert (too_many.code, too_many.values["limit"]) == ("MATERIAL_LIMIT_REACHED", 30)
    assert refused(await lend(world, patron, kit, library)) == "MATERIAL_LIMIT_REACHED"
    await lent(world, patron, dvd, library)  # multimedia is counted apart


async def test_biblioinrete_10_holds(world_of: WorldOf) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    patron = await world.patron(library)
    records = [await world.record() for _ in range(11)]
    for record in records:
        await on_loan_elsewhere(world, record, library)
    for record in records[:10]:
        await hold(world, patron, record)

    eleventh = refusal(
        await place_hold(world.circulation, patron_id=patron.id, record_id=records[10])
    )

    assert (eleventh.code, eleventh.values["limit"]) == ("HOLD_LIMIT_REACHED", 10)


# Loan periods


@pytest.mark.parametrize("material", [MaterialType.BOOK, MaterialType.AUDIOBOOK, MaterialType.KIT])
async def test_biblioinrete_book_audiobook_and_kit_lend_for_30_days(
    world_of: WorldOf, material: MaterialType
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    [barcode] = await world.titles(library, 1, material=material)
    patron = await world.patron(library)

    loan = await lent(world, patron, barcode, library)

    assert loan.due_date == date(2026, 4, 1)  # lent on Monday 2 March


@pytest.mark.parametrize("material", [MaterialType.PERIODICAL, MaterialType.AUDIOVISUAL])
async def test_biblioinrete_periodical_and_audiovisual_lend_for_7_days(
    world_of: WorldOf, material: MaterialType
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    [barcode] = await world.titles(library, 1, material=material)
    patron = await world.patron(library)

    loan = await lent(world, patron, barcode, library)

    assert loan.due_date == date(2026, 3, 9)


# Renewals


@pytest.mark.parametrize("material", [MaterialType.BOOK, MaterialType.AUDIOBOOK, MaterialType.KIT])
async def test_biblioinrete_30_day_loans_renewed_twice_by_30_days_from_the_current_due_date(
    world_of: WorldOf, material: MaterialType
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    [barcode] = await world.titles(library, 1, material=material)
    patron = await world.patron(library)
    loan = await lent(world, patron, barcode, library)

    await world.advance_to(date(2026, 3, 10))
    first = ok(await renew(world, patron, loan))
    assert first.due_date == date(2026, 5, 1)  # 1 April + 30, not 10 March + 30

    await world.advance_to(date(2026, 4, 20))
    second = ok(await renew(world, patron, loan))
    assert second.due_date == date(2026, 5, 31)

    await world.advance_to(date(2026, 5, 20))
    third = refusal(await renew(world, patron, loan))
    assert (third.code, third.values["renewals"]) == ("RENEWAL_LIMIT_REACHED", 2)


@pytest.mark.parametrize("material", [MaterialType.PERIODICAL, MaterialType.AUDIOVISUAL])
async def test_biblioinrete_7_day_loans_renewed_twice_by_7_days_from_the_current_due_date(
    world_of: WorldOf, material: MaterialType
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    [barcode] = await world.titles(library, 1, material=material)
    patron = await world.patron(library)
    loan = await lent(world, patron, barcode, library)  # due 9 March

    await world.advance_to(date(2026, 3, 4))
    assert ok(await renew(world, patron, loan)).due_date == date(2026, 3, 16)
    await world.advance_to(date(2026, 3, 15))
    assert ok(await renew(world, patron, loan)).due_date == date(2026, 3, 23)
    assert refused(await renew(world, patron, loan)) == "RENEWAL_LIMIT_REACHED"


async def test_biblioinrete_renewal_only_strictly_before_the_due_date(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    first_book, second_book = await world.titles(library, 2)
    patron = await world.patron(library)
    early = await lent(world, patron, first_book, library)
    on_time = await lent(world, patron, second_book, library)  # both due 1 April

    await world.advance_to(date(2026, 3, 31))
    assert ok(await renew(world, patron, early)).due_date == date(2026, 5, 1)

    await world.advance_to(date(2026, 4, 1))
    [view] = [view for view in await world.loans_seen_by(patron) if view.loan.id == on_time.id]
    assert (view.renewable, view.renew_blocked_by) == (False, "TOO_LATE")
    assert refused(await renew(world, patron, on_time)) == "TOO_LATE"


async def test_biblioinrete_no_renewal_with_a_hold_queue(world_of: WorldOf) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    record = await world.record()
    barcode = await world.item(record, library)
    patron = await world.patron(library)
    loan = await lent(world, patron, barcode, library)
    await hold(world, await world.patron(library), record)

    [view] = await world.loans_seen_by(patron)
    assert view.renew_blocked_by == "RESERVED_BY_OTHERS"
    assert refused(await renew(world, patron, loan)) == "RESERVED_BY_OTHERS"


# The 18-month rule for multimedia


@pytest.mark.parametrize("material", [MaterialType.AUDIOVISUAL, MaterialType.AUDIOBOOK])
async def test_biblioinrete_published_2024_10_15_circulates_from_2026_04_15(
    world_of: WorldOf, material: MaterialType
) -> None:
    await embargo_case(await world_of(NETWORK), "VI1", material, "2024-10-15", date(2026, 4, 15))


@pytest.mark.parametrize("material", [MaterialType.AUDIOVISUAL, MaterialType.AUDIOBOOK])
async def test_biblioinrete_published_2025_03_circulates_from_2026_09_01(
    world_of: WorldOf, material: MaterialType
) -> None:
    await embargo_case(await world_of(NETWORK), "VI1", material, "2025-03", date(2026, 9, 1))


@pytest.mark.parametrize("material", [MaterialType.AUDIOVISUAL, MaterialType.AUDIOBOOK])
async def test_biblioinrete_published_2025_circulates_from_2027_07_01(
    world_of: WorldOf, material: MaterialType
) -> None:
    await embargo_case(await world_of(NETWORK), "VI1", material, "2025", date(2027, 7, 1))


@pytest.mark.parametrize("material", [MaterialType.BOOK, MaterialType.PERIODICAL, MaterialType.KIT])
async def test_biblioinrete_18_month_rule_is_for_multimedia_only(
    world_of: WorldOf, material: MaterialType
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    record = await world.record(material=material, published="2026-02")
    barcode = await world.item(record, library)

    await lent(world, await world.patron(library), barcode, library)


async def test_biblioinrete_hold_on_an_embargoed_record_waits_and_is_served_when_it_ends(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    record = await world.record(material=MaterialType.AUDIOVISUAL, published="2025-03")
    barcode = await world.item(record, library)
    patron = await world.patron(library)

    placed = await hold(world, patron, record)
    assert placed.status is HoldStatus.WAITING
    [view] = await world.holds_seen_by(patron)
    assert view.estimated_ready_date == date(2026, 9, 1)

    await world.advance_to(date(2026, 8, 31))
    assert (await world.get(Hold, placed.id)).status is HoldStatus.WAITING
    assert (await copy_of(world, barcode)).status is ItemStatus.AVAILABLE

    await world.advance_to(date(2026, 9, 1))
    served = await world.get(Hold, placed.id)
    assert (served.status, served.pickup_deadline) == (HoldStatus.READY, date(2026, 9, 6))
    assert (await copy_of(world, barcode)).status is ItemStatus.ON_HOLD_SHELF
    assert await world.events(HOLD_READY) == [
        {
            "holdId": placed.id,
            "patronId": patron.id,
            "recordId": record,
            "pickupLibraryId": library,
            "pickupDeadline": "2026-09-06",
        }
    ]
    await lent(world, patron, barcode, library)


# Every library is a pickup and a return point; the courier


async def test_biblioinrete_a_copy_may_be_returned_at_another_library(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    lender = await world.library("VI1")
    elsewhere = await world.library("VI2")
    [barcode] = await world.titles(lender, 1)
    patron = await world.patron(lender)
    await lent(world, patron, barcode, lender)

    result = ok(await checkin(world.circulation, barcode=barcode, library_id=elsewhere))

    assert (result.loan.return_library_id, result.fee_cents, result.trapped_hold) == (
        elsewhere,
        0,
        None,
    )
    assert (await copy_of(world, barcode)).status is ItemStatus.AVAILABLE
    assert await world.open_loans(patron) == []
    assert (await standing_of(world, patron)).code is StandingCode.OK


async def test_biblioinrete_a_hold_is_trapped_at_the_return_library_when_it_is_the_pickup(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    home = await world.library("VI1")
    pickup = await world.library("VI2")
    record = await world.record()
    barcode = await on_loan_elsewhere(world, record, home)
    patron = await world.patron(home)
    placed = await hold(world, patron, record, pickup)
    assert placed.status is HoldStatus.WAITING

    result = ok(await checkin(world.circulation, barcode=barcode, library_id=pickup))

    trapped = result.trapped_hold
    assert trapped is not None
    assert (trapped.id, trapped.status, trapped.pickup_deadline) == (
        placed.id,
        HoldStatus.READY,
        date(2026, 3, 7),
    )
    copy = await copy_of(world, barcode)
    assert (copy.status, copy.location_library_id) == (ItemStatus.ON_HOLD_SHELF, pickup)
    await lent(world, patron, barcode, pickup)


async def test_biblioinrete_any_library_is_a_pickup_point_the_copy_travels_there(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    home = await world.library("VI1")
    owner = await world.library("VI2")
    pickup = await world.library("VI3")
    record = await world.record()
    barcode = await world.item(record, owner)
    patron = await world.patron(home)

    placed = await hold(world, patron, record, pickup)
    assert placed.status is HoldStatus.IN_TRANSIT

    await world.advance_to(date(2026, 3, 3))  # Tuesday, a courier day
    received = ok(await receive_transit(world.circulation, barcode=barcode, library_id=pickup))
    assert (received.status, received.pickup_deadline) == (HoldStatus.READY, date(2026, 3, 8))
    await lent(world, patron, barcode, pickup)


async def test_biblioinrete_courier_on_tuesday_and_friday_in_the_estimated_ready_date(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    owner = await world.library("VI1")
    pickup = await world.library("VI2")
    due_monday, due_tuesday, due_wednesday, at_the_pickup = (
        await world.record(material=MaterialType.AUDIOVISUAL),
        await world.record(material=MaterialType.AUDIOVISUAL),
        await world.record(),
        await world.record(material=MaterialType.AUDIOVISUAL),
    )
    await on_loan_elsewhere(world, due_monday, owner)  # due Monday 9 March
    await on_loan_elsewhere(world, due_wednesday, owner)  # due Wednesday 1 April
    await on_loan_elsewhere(world, at_the_pickup, pickup)  # due Monday 9 March, no travel
    await world.advance_to(date(2026, 3, 3))
    await on_loan_elsewhere(world, due_tuesday, owner)  # due Tuesday 10 March
    patron = await world.patron(pickup)
    for record in (due_monday, due_tuesday, due_wednesday, at_the_pickup):
        await hold(world, patron, record, pickup)

    estimates = {
        view.record.id: view.estimated_ready_date for view in await world.holds_seen_by(patron)
    }

    assert estimates == {
        due_monday: date(2026, 3, 10),  # the Tuesday courier
        due_tuesday: date(2026, 3, 13),  # back on Tuesday, the next courier is Friday
        due_wednesday: date(2026, 4, 3),  # the Friday courier
        at_the_pickup: date(2026, 3, 9),
    }


# Pickup deadline of a READY hold


async def test_biblioinrete_ready_on_d_last_day_d_plus_5_expired_on_d_plus_6_next_served(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    record = await world.record()
    barcode = await on_loan_elsewhere(world, record, library)
    first, second = await world.patron(library), await world.patron(library)
    first_hold = await hold(world, first, record)
    second_hold = await hold(world, second, record)

    ok(await checkin(world.circulation, barcode=barcode, library_id=library))  # D = 2 March
    ready = await world.get(Hold, first_hold.id)
    assert (ready.status, ready.pickup_deadline) == (HoldStatus.READY, date(2026, 3, 7))

    await world.advance_to(date(2026, 3, 7))
    assert (await world.get(Hold, first_hold.id)).status is HoldStatus.READY
    assert [event["holdId"] for event in await world.events(HOLD_PICKUP_REMINDER)] == [
        first_hold.id
    ]

    await world.advance_to(date(2026, 3, 8))
    assert (await world.get(Hold, first_hold.id)).status is HoldStatus.EXPIRED
    assert await world.events(HOLD_EXPIRED) == [
        {"holdId": first_hold.id, "patronId": first.id, "recordId": record}
    ]
    served = await world.get(Hold, second_hold.id)
    assert (served.status, served.pickup_deadline) == (HoldStatus.READY, date(2026, 3, 13))
    assert (await world.events(HOLD_READY))[-1] == {
        "holdId": second_hold.id,
        "patronId": second.id,
        "recordId": record,
        "pickupLibraryId": library,
        "pickupDeadline": "2026-03-13",
    }
    assert refused(await lend(world, first, barcode, library)) == "ITEM_NOT_AVAILABLE"


async def test_biblioinrete_ready_hold_collected_on_its_last_day_d_plus_5(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    record = await world.record()
    barcode = await world.item(record, library)
    patron = await world.patron(library)
    placed = await hold(world, patron, record)
    assert placed.pickup_deadline == date(2026, 3, 7)

    await world.advance_to(date(2026, 3, 7), hour=17)
    await lent(world, patron, barcode, library)

    assert (await world.get(Hold, placed.id)).status is HoldStatus.FULFILLED


# Late returns


async def test_biblioinrete_more_than_7_days_overdue_suspends_the_patron_with_no_end_date(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    [dvd] = await world.titles(library, 1, material=MaterialType.AUDIOVISUAL)
    first_book, second_book = await world.titles(library, 2)
    record = await world.record()
    await world.item(record, library)
    patron = await world.patron(library)
    await lent(world, patron, dvd, library)  # due 9 March

    await world.advance_to(date(2026, 3, 16))  # 7 days late
    assert (await standing_of(world, patron)).code is StandingCode.OK
    await lent(world, patron, first_book, library)

    await world.advance_to(date(2026, 3, 17))  # 8 days late
    standing = await standing_of(world, patron)
    assert (standing.code, standing.until) == (StandingCode.SUSPENDED, None)
    stored = await world.reload(patron)
    assert (stored.standing, stored.standing_until) == (StandingCode.SUSPENDED, None)
    assert await world.events(ACCOUNT_SUSPENDED) == [
        {"patronId": patron.id, "standing": "SUSPENDED", "until": None, "reason": "OVERDUE"}
    ]
    assert refused(await lend(world, patron, second_book, library)) == "PATRON_BLOCKED"
    assert {view.renew_blocked_by for view in await world.loans_seen_by(patron)} == {
        "PATRON_BLOCKED"
    }
    assert (
        refused(await place_hold(world.circulation, patron_id=patron.id, record_id=record))
        == "PATRON_BLOCKED"
    )

    await world.advance_to(date(2026, 5, 1))  # no end date while the loan is out
    assert (await standing_of(world, patron)).code is StandingCode.SUSPENDED


async def test_biblioinrete_returned_10_days_late_suspended_until_r_plus_3_ok_on_r_plus_4(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    [dvd] = await world.titles(library, 1, material=MaterialType.AUDIOVISUAL)
    [book] = await world.titles(library, 1)
    patron = await world.patron(library)
    await lent(world, patron, dvd, library)  # due 9 March

    await world.advance_to(date(2026, 3, 19))  # R, 10 days late
    ok(await checkin(world.circulation, barcode=dvd, library_id=library))
    standing = await standing_of(world, patron)
    assert (standing.code, standing.until) == (StandingCode.SUSPENDED, date(2026, 3, 22))
    stored = await world.reload(patron)
    assert (stored.standing, stored.standing_until) == (StandingCode.SUSPENDED, date(2026, 3, 22))

    await world.advance_to(date(2026, 3, 22))  # R+3: still suspended
    assert (await standing_of(world, patron)).code is StandingCode.SUSPENDED
    assert refused(await lend(world, patron, book, library)) == "PATRON_BLOCKED"

    await world.advance_to(date(2026, 3, 23))  # R+4: OK again
    assert (await standing_of(world, patron)).code is StandingCode.OK
    assert (await world.reload(patron)).standing is StandingCode.OK
    await lent(world, patron, book, library)


async def test_biblioinrete_returned_within_the_7_days_of_tolerance_no_suspension(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("VI1")
    [dvd] = await world.titles(library, 1, material=MaterialType.AUDIOVISUAL)
    [book] = await world.titles(library, 1)
    patron = await world.patron(library)
    await lent(world, patron, dvd, library)  # due 9 March

    await world.advance_to(date(2026, 3, 16))  # 7 days late
    ok(await checkin(world.circulation, barcode=dvd, library_id=library))

    assert (await standing_of(world, patron)).code is StandingCode.OK
    assert await world.events(ACCOUNT_SUSPENDED) == []
    await lent(world, patron, book, library)
