"""Ginestra (seed 004, as policies.md reads it): each test is named after the rule it checks.

The libraries are open Monday to Saturday unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import pytest

from circulation import (
    ACCOUNT_SUSPENDED,
    HOLD_EXPIRED,
    checkin,
    place_hold,
    set_patron_standing,
)
from db import Hold, HoldStatus, Loan, MaterialType, Patron, StandingCode
from tests.circulation.world import (
    World,
    at,
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
NETWORK = "ginestra"
CLOSED_ON_WEDNESDAY = (0, 1, 3, 4, 5)


async def lent_on(
    world: World, day: date, material: MaterialType, *, library: str = "AR1"
) -> tuple[Patron, Loan]:
    """A copy of that material lent on `day` at the library; the borrower and the loan."""
    await world.advance_to(day)
    [barcode] = await world.titles(library, 1, material=material)
    patron = await world.patron(library)
    return patron, await lent(world, patron, barcode, library)


# Limits


async def test_ginestra_40_loans_in_all(world_of: WorldOf) -> None:
    world = await world_of(NETWORK)
    library = await world.library("AR1")
    patron = await world.patron(library)
    for material, count in (
        (MaterialType.BOOK, 20),
        (MaterialType.AUDIOVISUAL, 10),
        (MaterialType.PERIODICAL, 5),
        (MaterialType.AUDIOBOOK, 5),
    ):
        for barcode in await world.titles(library, count, material=material):
            await lent(world, patron, barcode, library)
    [kit] = await world.titles(library, 1, material=MaterialType.KIT)
    [book] = await world.titles(library, 1)

    total = refusal(await lend(world, patron, kit, library))
    assert (total.code, total.values["limit"]) == ("LOAN_LIMIT_REACHED", 40)
    # Where the total and a group limit both apply, the group's is the more specific.
    assert refused(await lend(world, patron, book, library)) == "MATERIAL_LIMIT_REACHED"


@pytest.mark.parametrize(
    ("material", "limit"),
    [
        (MaterialType.BOOK, 20),
        (MaterialType.AUDIOVISUAL, 10),
        (MaterialType.PERIODICAL, 5),
        (MaterialType.AUDIOBOOK, 5),
    ],
)
async def test_ginestra_at_most_20_books_10_audiovisual_5_periodicals_5_audiobooks(
    world_of: WorldOf, material: MaterialType, limit: int
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("AR1")
    patron = await world.patron(library)
    for barcode in await world.titles(library, limit, material=material):
        await lent(world, patron, barcode, library)
    [one_more] = await world.titles(library, 1, material=material)
    [kit] = await world.titles(library, 1, material=MaterialType.KIT)

    too_many = refusal(await lend(world, patron, one_more, library))

    assert (too_many.code, too_many.values["limit"]) == ("MATERIAL_LIMIT_REACHED", limit)
    await lent(world, patron, kit, library)  # other material is still lent


async def test_ginestra_5_holds(world_of: WorldOf) -> None:
    world = await world_of(NETWORK)
    library = await world.library("AR1")
    patron = await world.patron(library)
    records = [await world.record() for _ in range(6)]
    for record in records:
        await world.item(record, library)
    for record in records[:5]:
        ok(await place_hold(world.circulation, patron_id=patron.id, record_id=record))

    sixth = refusal(await place_hold(world.circulation, patron_id=patron.id, record_id=records[5]))

    assert (sixth.code, sixth.values["limit"]) == ("HOLD_LIMIT_REACHED", 5)


# Loan periods, and due dates on closed days


@pytest.mark.parametrize(
    ("material", "due"),
    [
        (MaterialType.BOOK, date(2026, 4, 1)),
        (MaterialType.AUDIOVISUAL, date(2026, 3, 9)),
        (MaterialType.EBOOK, date(2026, 3, 16)),
    ],
)
async def test_ginestra_book_30_days_audiovisual_7_ebook_14(
    world_of: WorldOf, material: MaterialType, due: date
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1")

    _, loan = await lent_on(world, date(2026, 3, 2), material)

    assert loan.due_date == due


async def test_ginestra_due_date_on_a_weekday_without_hours_moves_to_the_next_open_day(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1", open_weekdays=CLOSED_ON_WEDNESDAY)

    _, loan = await lent_on(world, date(2026, 3, 2), MaterialType.BOOK)

    assert loan.due_date == date(2026, 4, 2)  # Wednesday 1 April is closed: Thursday


async def test_ginestra_due_date_on_a_sunday_moves_to_monday(world_of: WorldOf) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1")

    _, loan = await lent_on(world, date(2026, 3, 13), MaterialType.BOOK)

    assert loan.due_date == date(2026, 4, 13)  # Sunday 12 April: Monday


async def test_ginestra_due_date_on_a_closure_of_the_library_moves_to_its_next_open_day(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1", closures=(date(2026, 4, 1), date(2026, 4, 2)))
    await world.library("AR2")

    _, closed = await lent_on(world, date(2026, 3, 2), MaterialType.BOOK)
    _, other = await lent_on(world, date(2026, 3, 2), MaterialType.BOOK, library="AR2")

    assert closed.due_date == date(2026, 4, 3)
    assert other.due_date == date(2026, 4, 1)  # the lending library's closures only


@pytest.mark.parametrize(
    ("lent_day", "material", "due"),
    [
        # Easter Monday 6 April 2026: Tuesday.
        (date(2026, 3, 7), MaterialType.BOOK, date(2026, 4, 7)),
        # Festa della Repubblica, Tuesday 2 June 2026: Wednesday.
        (date(2026, 5, 26), MaterialType.AUDIOVISUAL, date(2026, 6, 3)),
        # Ferragosto, Saturday 15 August 2026, then Sunday: Monday 17 August.
        (date(2026, 8, 8), MaterialType.AUDIOVISUAL, date(2026, 8, 17)),
        (date(2026, 7, 16), MaterialType.BOOK, date(2026, 8, 17)),
    ],
)
async def test_ginestra_due_date_on_an_italian_public_holiday_moves_to_the_next_open_day(
    world_of: WorldOf, lent_day: date, material: MaterialType, due: date
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1")

    _, loan = await lent_on(world, lent_day, material)

    assert loan.due_date == due


# Renewals


async def test_ginestra_book_renewed_twice_by_a_calendar_month_from_the_request(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1")
    patron, loan = await lent_on(world, date(2026, 3, 2), MaterialType.BOOK)  # due 1 April

    await world.advance_to(date(2026, 3, 31))
    assert ok(await renew(world, patron, loan)).due_date == date(2026, 4, 30)

    await world.advance_to(date(2026, 4, 30))
    assert ok(await renew(world, patron, loan)).due_date == date(2026, 5, 30)

    third = refusal(await renew(world, patron, loan))
    assert (third.code, third.values["renewals"]) == ("RENEWAL_LIMIT_REACHED", 2)


async def test_ginestra_renewed_due_date_on_a_closed_day_moves_to_the_next_open_day(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1")
    patron, loan = await lent_on(world, date(2026, 4, 2), MaterialType.BOOK)  # due 2 May
    assert loan.due_date == date(2026, 5, 2)

    await world.advance_to(date(2026, 5, 2))

    # 2 May + 1 month is 2 June, Festa della Repubblica: Wednesday 3 June.
    assert ok(await renew(world, patron, loan)).due_date == date(2026, 6, 3)


async def test_ginestra_audiovisual_renewed_twice_by_7_days_from_the_request(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1")
    patron, loan = await lent_on(world, date(2026, 3, 2), MaterialType.AUDIOVISUAL)  # due 9 March

    await world.advance_to(date(2026, 3, 5))
    assert ok(await renew(world, patron, loan)).due_date == date(2026, 3, 12)

    await world.advance_to(date(2026, 3, 12))
    assert ok(await renew(world, patron, loan)).due_date == date(2026, 3, 19)

    assert refused(await renew(world, patron, loan)) == "RENEWAL_LIMIT_REACHED"


async def test_ginestra_renewal_on_the_due_date_allowed_after_it_too_late(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1")
    patron, loan = await lent_on(world, date(2026, 3, 2), MaterialType.AUDIOVISUAL)  # due 9 March

    await world.advance_to(date(2026, 3, 9))
    assert ok(await renew(world, patron, loan)).due_date == date(2026, 3, 16)

    await world.advance_to(date(2026, 3, 17))
    [view] = await world.loans_seen_by(patron)
    assert (view.renewable, view.renew_blocked_by) == (False, "TOO_LATE")
    assert refused(await renew(world, patron, loan)) == "TOO_LATE"


async def test_ginestra_no_renewal_with_a_hold_queue(world_of: WorldOf) -> None:
    world = await world_of(NETWORK)
    library = await world.library("AR1")
    record = await world.record()
    barcode = await world.item(record, library)
    patron = await world.patron(library)
    loan = await lent(world, patron, barcode, library)
    ok(
        await place_hold(
            world.circulation, patron_id=(await world.patron(library)).id, record_id=record
        )
    )

    [view] = await world.loans_seen_by(patron)
    assert view.renew_blocked_by == "RESERVED_BY_OTHERS"
    assert refused(await renew(world, patron, loan)) == "RESERVED_BY_OTHERS"


# A READY hold is kept 3 open days of the pickup library


async def ready_on(world: World, day: date) -> Hold:
    """A hold that became READY on `day` at AR1 (a copy on the shelf)."""
    await world.advance_to(day)
    record = await world.record()
    await world.item(record, "AR1")
    patron = await world.patron("AR1")
    hold: Hold = ok(await place_hold(world.circulation, patron_id=patron.id, record_id=record))
    assert hold.status is HoldStatus.READY
    return hold


async def test_ginestra_ready_on_friday_kept_saturday_monday_tuesday_expired_on_wednesday(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1")  # closed on Sunday
    hold = await ready_on(world, date(2026, 3, 6))
    assert hold.pickup_deadline == date(2026, 3, 10)

    await world.advance_to(date(2026, 3, 10), hour=18)
    assert (await world.get(Hold, hold.id)).status is HoldStatus.READY

    await world.advance_to(date(2026, 3, 11))
    assert (await world.get(Hold, hold.id)).status is HoldStatus.EXPIRED
    assert [event["holdId"] for event in await world.events(HOLD_EXPIRED)] == [hold.id]


async def test_ginestra_ready_hold_open_days_skip_easter_sunday_and_easter_monday(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1")

    hold = await ready_on(world, date(2026, 4, 2))  # Thursday

    assert hold.pickup_deadline == date(2026, 4, 7)  # Friday, Saturday, Tuesday


async def test_ginestra_ready_hold_open_days_skip_a_weekday_without_hours(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    await world.library("AR1", open_weekdays=CLOSED_ON_WEDNESDAY)

    hold = await ready_on(world, date(2026, 3, 2))  # Monday

    assert hold.pickup_deadline == date(2026, 3, 6)  # Tuesday, Thursday, Friday


# The 18-month rule for audiovisual and electronic resources


@pytest.mark.parametrize("material", [MaterialType.AUDIOVISUAL, MaterialType.EBOOK])
async def test_ginestra_published_2024_10_15_circulates_from_2026_04_15(
    world_of: WorldOf, material: MaterialType
) -> None:
    await embargo_case(await world_of(NETWORK), "AR1", material, "2024-10-15", date(2026, 4, 15))


@pytest.mark.parametrize("material", [MaterialType.AUDIOVISUAL, MaterialType.EBOOK])
async def test_ginestra_published_2025_03_circulates_from_2026_09_01(
    world_of: WorldOf, material: MaterialType
) -> None:
    await embargo_case(await world_of(NETWORK), "AR1", material, "2025-03", date(2026, 9, 1))


@pytest.mark.parametrize("material", [MaterialType.AUDIOVISUAL, MaterialType.EBOOK])
async def test_ginestra_published_2025_circulates_from_2027_07_01(
    world_of: WorldOf, material: MaterialType
) -> None:
    await embargo_case(await world_of(NETWORK), "AR1", material, "2025", date(2027, 7, 1))


async def test_ginestra_18_month_rule_is_not_for_books(world_of: WorldOf) -> None:
    world = await world_of(NETWORK)
    library = await world.library("AR1")
    record = await world.record(published="2026-02")
    barcode = await world.item(record, library)

    await lent(world, await world.patron(library), barcode, library)


# Late returns


async def test_ginestra_more_than_30_days_late_suspended_until_the_return(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("AR1")
    [dvd] = await world.titles(library, 1, material=MaterialType.AUDIOVISUAL)
    [book] = await world.titles(library, 1)
    patron = await world.patron(library)
    await lent(world, patron, dvd, library)  # due 9 March

    await world.advance_to(date(2026, 4, 8))  # 30 days late
    assert (await standing_of(world, patron)).code is StandingCode.OK

    await world.advance_to(date(2026, 4, 9))  # 31 days late
    standing = await standing_of(world, patron)
    assert (standing.code, standing.until) == (StandingCode.SUSPENDED, None)
    stored = await world.reload(patron)
    assert (stored.standing, stored.standing_until) == (StandingCode.SUSPENDED, None)
    assert await world.events(ACCOUNT_SUSPENDED) == [
        {"patronId": patron.id, "standing": "SUSPENDED", "until": None, "reason": "OVERDUE"}
    ]
    assert refused(await lend(world, patron, book, library)) == "PATRON_BLOCKED"

    await world.advance_to(date(2026, 4, 20))
    ok(await checkin(world.circulation, barcode=dvd, library_id=library))

    assert (await standing_of(world, patron)).code is StandingCode.OK
    assert (await world.reload(patron)).standing is StandingCode.OK
    await lent(world, patron, book, library)


async def test_ginestra_more_than_90_days_late_revoked_until_staff_re_enable(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("AR1")
    [dvd] = await world.titles(library, 1, material=MaterialType.AUDIOVISUAL)
    [book] = await world.titles(library, 1)
    patron = await world.patron(library)
    await lent(world, patron, dvd, library)  # due 9 March

    await world.advance_to(date(2026, 6, 7))  # 90 days late
    assert (await standing_of(world, patron)).code is StandingCode.SUSPENDED

    await world.advance_to(date(2026, 6, 8))  # 91 days late
    assert (await standing_of(world, patron)).code is StandingCode.REVOKED
    assert (await world.reload(patron)).standing is StandingCode.REVOKED

    await world.advance_to(date(2026, 6, 9))
    ok(await checkin(world.circulation, barcode=dvd, library_id=library))
    await world.advance_to(date(2026, 9, 1))

    assert (await standing_of(world, patron)).code is StandingCode.REVOKED
    assert (await world.reload(patron)).standing is StandingCode.REVOKED
    assert refused(await lend(world, patron, book, library)) == "PATRON_BLOCKED"

    enabled = ok(
        await set_patron_standing(
            world.circulation,
            card_number=patron.card_number,
            code=StandingCode.OK,
            note="Riabilitato dopo la restituzione",
        )
    )
    assert enabled.code is StandingCode.OK
    await lent(world, patron, book, library)


async def test_ginestra_returned_more_than_90_days_late_is_revoked_even_if_no_work_ran_since(
    world_of: WorldOf,
) -> None:
    world = await world_of(NETWORK)
    library = await world.library("AR1")
    [dvd] = await world.titles(library, 1, material=MaterialType.AUDIOVISUAL)
    [book] = await world.titles(library, 1)
    patron = await world.patron(library)
    await lent(world, patron, dvd, library)  # due 9 March

    await world.advance_to(date(2026, 6, 7))  # 90 days late: suspended, not revoked
    world.clock.set(at(date(2026, 6, 8), hour=9))  # 91 days late, before the worker's next run
    ok(await checkin(world.circulation, barcode=dvd, library_id=library))

    assert (await standing_of(world, patron)).code is StandingCode.REVOKED
    assert (await world.reload(patron)).standing is StandingCode.REVOKED
    assert refused(await lend(world, patron, book, library)) == "PATRON_BLOCKED"
