"""The example Fluxus policy (circulation/policies/example_fluxus.toml): the Fluxus parameters
the three presets leave out. Each test is named after the rule it checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from circulation import (
    ACCOUNT_SUSPENDED,
    DUE_SOON,
    HOLD_READY,
    OVERDUE,
    Outcome,
    checkin,
    checkout,
    place_hold,
    renew_loan,
    run_scheduled_work,
)
from db import HoldStatus, ItemStatus, Loan, LoanType, MaterialType, Patron, StandingCode
from tests.circulation.world import World, copy_of, give_back, ok, refused, standing_of

WorldOf = Callable[[str], Awaitable[World]]
NETWORK = "example_fluxus"
LIBRARY = "PV1"


async def lend(world: World, patron: Patron, barcode: str) -> Outcome[Loan]:
    return await checkout(
        world.circulation, card_number=patron.card_number, barcode=barcode, library_id=LIBRARY
    )


async def lent(world: World, patron: Patron, barcode: str) -> Loan:
    loan: Loan = ok(await lend(world, patron, barcode))
    return loan


async def a_world(world_of: WorldOf) -> World:
    world = await world_of(NETWORK)
    await world.library(LIBRARY)  # open Monday to Saturday
    return world


async def book_lent_on_start(world: World) -> tuple[Patron, str, Loan]:
    """An ordinary book lent on Monday 2 March: 21 days, due Monday 23 March."""
    [barcode] = await world.titles(LIBRARY, 1)
    patron = await world.patron(LIBRARY)
    loan = await lent(world, patron, barcode)
    assert loan.due_date == date(2026, 3, 23)
    return patron, barcode, loan


async def days_with(
    world: World, event_type: str, first: date, last: date
) -> dict[date, list[dict[str, Any]]]:
    """The events of that type each day from `first` to `last`, the work run twice a day."""
    seen: dict[date, list[dict[str, Any]]] = {}
    day = first
    while day <= last:
        before = len(await world.events(event_type))
        await world.advance_to(day)
        await run_scheduled_work(world.circulation)
        new = (await world.events(event_type))[before:]
        if new:
            seen[day] = new
        day += timedelta(days=1)
    return seen


# Loan types and what circulates


async def test_example_short_loan_lends_for_3_days_and_is_not_renewable(
    world_of: WorldOf,
) -> None:
    world = await a_world(world_of)
    record = await world.record()
    barcode = await world.item(record, LIBRARY, loan_type=LoanType.SHORT)
    patron = await world.patron(LIBRARY)

    loan = await lent(world, patron, barcode)

    assert loan.due_date == date(2026, 3, 5)
    assert (
        refused(await renew_loan(world.circulation, loan_id=loan.id, patron_id=patron.id))
        == "NOT_RENEWABLE"
    )


async def test_example_consultation_item_is_not_loanable(world_of: WorldOf) -> None:
    world = await a_world(world_of)
    record = await world.record()
    barcode = await world.item(record, LIBRARY, loan_type=LoanType.CONSULTATION)

    assert refused(await lend(world, await world.patron(LIBRARY), barcode)) == "NOT_LOANABLE"


async def test_example_item_flagged_not_loanable_is_not_loanable(world_of: WorldOf) -> None:
    world = await a_world(world_of)
    record = await world.record()
    barcode = await world.item(record, LIBRARY, loanable=False)

    assert refused(await lend(world, await world.patron(LIBRARY), barcode)) == "NOT_LOANABLE"


async def test_example_excluded_series_reference_and_consultazione_are_not_loanable(
    world_of: WorldOf,
) -> None:
    world = await a_world(world_of)
    patron = await world.patron(LIBRARY)
    for series in ("Reference", "Consultazione"):
        barcode = await world.item(await world.record(series=series), LIBRARY)
        assert refused(await lend(world, patron, barcode)) == "NOT_LOANABLE"
    barcode = await world.item(await world.record(series="Oscar"), LIBRARY)
    await lent(world, patron, barcode)


async def test_example_excluded_material_type_kit_is_not_loanable(world_of: WorldOf) -> None:
    world = await a_world(world_of)
    [kit] = await world.titles(LIBRARY, 1, material=MaterialType.KIT)

    assert refused(await lend(world, await world.patron(LIBRARY), kit)) == "NOT_LOANABLE"


# Loan rules by patron category


async def test_example_staff_uni_borrows_books_for_2_calendar_months(world_of: WorldOf) -> None:
    world = await a_world(world_of)
    first_book, second_book = await world.titles(LIBRARY, 2)
    [dvd] = await world.titles(LIBRARY, 1, material=MaterialType.AUDIOVISUAL)
    staff = await world.patron(LIBRARY, category="STAFF_UNI")
    adult = await world.patron(LIBRARY)

    assert (await lent(world, staff, first_book)).due_date == date(2026, 5, 2)  # not 60 days
    assert (await lent(world, staff, dvd)).due_date == date(2026, 3, 23)  # books only
    assert (await lent(world, adult, second_book)).due_date == date(2026, 3, 23)


# Quarantine of returned material


async def test_example_returned_copy_in_quarantine_3_days_then_back_on_the_shelf(
    world_of: WorldOf,
) -> None:
    world = await a_world(world_of)
    _, barcode, _ = await book_lent_on_start(world)
    other = await world.patron(LIBRARY)

    await world.advance_to(date(2026, 3, 5))  # R
    await give_back(world, barcode, LIBRARY)
    copy = await copy_of(world, barcode)
    assert (copy.status, copy.available_from) == (ItemStatus.IN_QUARANTINE, date(2026, 3, 8))

    for day in (date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 7)):
        await world.advance_to(day, hour=17)
        assert refused(await lend(world, other, barcode)) == "ITEM_NOT_AVAILABLE"
        assert (await copy_of(world, barcode)).status is ItemStatus.IN_QUARANTINE

    await world.advance_to(date(2026, 3, 8))  # R+3
    copy = await copy_of(world, barcode)
    assert (copy.status, copy.available_from) == (ItemStatus.AVAILABLE, None)
    await lent(world, other, barcode)


async def test_example_quarantine_end_serves_the_next_hold(world_of: WorldOf) -> None:
    world = await a_world(world_of)
    record = await world.record()
    barcode = await world.item(record, LIBRARY)
    await lent(world, await world.patron(LIBRARY), barcode)
    waiting = await world.patron(LIBRARY)
    hold = ok(await place_hold(world.circulation, patron_id=waiting.id, record_id=record))
    assert hold.status is HoldStatus.WAITING

    await world.advance_to(date(2026, 3, 5))  # R
    result = ok(await checkin(world.circulation, barcode=barcode, library_id=LIBRARY))
    assert result.trapped_hold is None
    assert (await copy_of(world, barcode)).status is ItemStatus.IN_QUARANTINE

    await world.advance_to(date(2026, 3, 7))
    assert [h.status for h in await world.holds_of(record)] == [HoldStatus.WAITING]
    assert await world.events(HOLD_READY) == []

    await world.advance_to(date(2026, 3, 8))  # R+3, a Sunday
    [ready] = await world.holds_of(record)
    # 4 open days of the pickup library after Sunday 8 March: Monday to Thursday.
    assert (ready.status, ready.pickup_deadline) == (HoldStatus.READY, date(2026, 3, 12))
    assert (await copy_of(world, barcode)).status is ItemStatus.ON_HOLD_SHELF
    assert [event["holdId"] for event in await world.events(HOLD_READY)] == [hold.id]
    await lent(world, waiting, barcode)


# Blocks


async def test_example_late_return_beyond_tolerance_blocks_for_10_days(
    world_of: WorldOf,
) -> None:
    world = await a_world(world_of)
    patron, barcode, _ = await book_lent_on_start(world)
    [other_book] = await world.titles(LIBRARY, 1)

    await world.advance_to(date(2026, 3, 26))  # R, 3 days late, beyond the 2 of tolerance
    await give_back(world, barcode, LIBRARY)
    standing = await standing_of(world, patron)
    assert (standing.code, standing.until) == (StandingCode.SUSPENDED, date(2026, 4, 5))
    assert await world.events(ACCOUNT_SUSPENDED) == [
        {
            "patronId": patron.id,
            "standing": "SUSPENDED",
            "until": "2026-04-05",
            "reason": "LATE_RETURN",
        }
    ]

    await world.advance_to(date(2026, 4, 5))  # R+10
    assert refused(await lend(world, patron, other_book)) == "PATRON_BLOCKED"

    await world.advance_to(date(2026, 4, 6))  # R+11
    assert (await standing_of(world, patron)).code is StandingCode.OK
    assert (await world.reload(patron)).standing is StandingCode.OK
    await lent(world, patron, other_book)


async def test_example_late_return_within_tolerance_no_block(world_of: WorldOf) -> None:
    world = await a_world(world_of)
    patron, barcode, _ = await book_lent_on_start(world)

    await world.advance_to(date(2026, 3, 25))  # 2 days late: the tolerance
    await give_back(world, barcode, LIBRARY)

    assert (await standing_of(world, patron)).code is StandingCode.OK
    assert await world.events(ACCOUNT_SUSPENDED) == []


async def test_example_more_than_15_days_late_blocked_until_the_return(
    world_of: WorldOf,
) -> None:
    world = await a_world(world_of)
    patron, barcode, _ = await book_lent_on_start(world)
    [other_book] = await world.titles(LIBRARY, 1)

    await world.advance_to(date(2026, 4, 7))  # 15 days late
    assert (await standing_of(world, patron)).code is StandingCode.OK

    await world.advance_to(date(2026, 4, 8))  # 16 days late
    standing = await standing_of(world, patron)
    assert (standing.code, standing.until) == (StandingCode.SUSPENDED, None)
    assert refused(await lend(world, patron, other_book)) == "PATRON_BLOCKED"

    await world.advance_to(date(2026, 4, 9))  # returned 17 days late: then 10 days more
    await give_back(world, barcode, LIBRARY)
    standing = await standing_of(world, patron)
    assert (standing.code, standing.until) == (StandingCode.SUSPENDED, date(2026, 4, 19))

    await world.advance_to(date(2026, 4, 20))
    assert (await standing_of(world, patron)).code is StandingCode.OK
    await lent(world, patron, other_book)


# Notices


async def test_example_overdue_reminders_every_5_days_on_days_1_6_11_16_never_repeated(
    world_of: WorldOf,
) -> None:
    world = await a_world(world_of)
    patron, _, loan = await book_lent_on_start(world)

    seen = await days_with(world, OVERDUE, date(2026, 3, 23), date(2026, 4, 15))

    def reminder(overdue_days: int, number: int) -> list[dict[str, Any]]:
        return [
            {
                "patronId": patron.id,
                "loans": [
                    {
                        "loanId": loan.id,
                        "dueDate": "2026-03-23",
                        "overdueDays": overdue_days,
                        "reminder": number,
                    }
                ],
            }
        ]

    assert seen == {
        date(2026, 3, 24): reminder(1, 1),
        date(2026, 3, 29): reminder(6, 2),
        date(2026, 4, 3): reminder(11, 3),
        date(2026, 4, 8): reminder(16, 4),
    }


async def test_example_due_soon_notice_2_days_before(world_of: WorldOf) -> None:
    world = await a_world(world_of)
    patron, _, loan = await book_lent_on_start(world)

    seen = await days_with(world, DUE_SOON, date(2026, 3, 18), date(2026, 3, 24))

    assert seen == {
        date(2026, 3, 21): [
            {"patronId": patron.id, "loans": [{"loanId": loan.id, "dueDate": "2026-03-23"}]}
        ]
    }
