"""CUBI (seed 002) as policies.md reads it: one scenario per rule, named after the rule.

The world starts on Monday 2 March 2026; a book lent that day is due on Wednesday 1 April.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest

from circulation import (
    ACCOUNT_SUSPENDED,
    HOLD_EXPIRED,
    HOLD_READY,
    Outcome,
    checkout,
    load_policy,
)
from circulation._rules import payable_cents
from db import (
    Hold,
    HoldStatus,
    Loan,
    MaterialType,
    Patron,
    Payment,
    Section,
    StandingCode,
    StandingSource,
)
from tests.circulation.world import (
    World,
    fees_of,
    give_back,
    hold,
    ok,
    pay,
    refusal,
    refused,
    renew,
    standing_of,
)

WorldOf = Callable[[str], Awaitable[World]]

BOOK = MaterialType.BOOK
AUDIOBOOK = MaterialType.AUDIOBOOK
PERIODICAL = MaterialType.PERIODICAL
AUDIOVISUAL = MaterialType.AUDIOVISUAL
KIT = MaterialType.KIT

HERE = "MI1"
ELSEWHERE = "MI2"
BOOK_DUE = date(2026, 4, 1)  # a book lent on the first day
ADULT_BORN = date(1990, 1, 1)
CHILD_BORN = date(2011, 6, 1)  # 14 on the due dates below
FIFTEEN_BORN = date(2011, 1, 1)  # 15 on the due dates below
CUBI_FEES = load_policy("cubi").fees

SUSPENDED_IT = (
    "La tessera è sospesa per un ritardo di oltre 28 giorni. Sarà riattivata dopo la"
    " restituzione e il pagamento della tariffa."
)
SUSPENDED_EN = (
    "Your card is suspended for a delay of more than 28 days. It will be re-enabled once the"
    " items are returned and the fee is paid."
)


@pytest.fixture
async def world(world_of: WorldOf) -> World:
    world = await world_of("cubi")
    await world.library(HERE)
    await world.library(ELSEWHERE)
    return world


def days_after(day: date, days: int) -> date:
    return day + timedelta(days=days)


async def lend(world: World, patron: Patron, barcode: str, library: str = HERE) -> Outcome[Loan]:
    return await checkout(
        world.circulation, card_number=patron.card_number, barcode=barcode, library_id=library
    )


async def lent(
    world: World,
    patron: Patron,
    material: MaterialType = BOOK,
    section: Section = Section.ADULT,
) -> tuple[str, Loan]:
    """A new title with one copy here, lent to the patron today: the barcode and the loan."""
    barcode = await world.item(await world.record(material=material, section=section), HERE)
    return barcode, ok(await lend(world, patron, barcode))


async def returned_late(
    world: World,
    patron: Patron,
    days: int,
    material: MaterialType = BOOK,
    section: Section = Section.ADULT,
) -> int:
    """Lend a new title today and return it `days` after its due date: the fee charged."""
    barcode, loan = await lent(world, patron, material, section)
    await world.advance_to(days_after(loan.due_date, days))
    return (await give_back(world, barcode, HERE)).fee_cents


# Limits


async def test_cubi_at_most_15_loans_in_all(world: World) -> None:
    patron = await world.patron(HERE)
    for barcode in await world.titles(HERE, 15):
        ok(await lend(world, patron, barcode))
    [sixteenth] = await world.titles(HERE, 1)

    refused_loan = refusal(await lend(world, patron, sixteenth))

    assert (refused_loan.code, refused_loan.values["limit"]) == ("LOAN_LIMIT_REACHED", 15)


@pytest.mark.parametrize("material", [AUDIOVISUAL, AUDIOBOOK, PERIODICAL])
async def test_cubi_at_most_5_audiovisuals_5_audiobooks_5_periodicals(
    world: World, material: MaterialType
) -> None:
    patron = await world.patron(HERE)
    for barcode in await world.titles(HERE, 5, material=material):
        ok(await lend(world, patron, barcode))
    [sixth] = await world.titles(HERE, 1, material=material)
    [book] = await world.titles(HERE, 1)

    refused_loan = refusal(await lend(world, patron, sixth))

    assert (refused_loan.code, refused_loan.values["limit"]) == ("MATERIAL_LIMIT_REACHED", 5)
    ok(await lend(world, patron, book))  # the other material still lends


async def test_cubi_the_group_limit_is_given_before_the_total_limit(world: World) -> None:
    patron = await world.patron(HERE)
    for material in (AUDIOVISUAL, AUDIOBOOK, PERIODICAL):  # 15 loans, each group full
        for barcode in await world.titles(HERE, 5, material=material):
            ok(await lend(world, patron, barcode))
    [audiovisual] = await world.titles(HERE, 1, material=AUDIOVISUAL)
    [book] = await world.titles(HERE, 1)

    assert refused(await lend(world, patron, audiovisual)) == "MATERIAL_LIMIT_REACHED"
    assert refused(await lend(world, patron, book)) == "LOAN_LIMIT_REACHED"


async def test_cubi_at_most_5_holds(world: World) -> None:
    patron = await world.patron(HERE)
    records = [await world.record() for _ in range(6)]
    for record in records:
        await world.item(record, HERE)
    for record in records[:5]:
        ok(await hold(world, patron, record))

    refused_hold = refusal(await hold(world, patron, records[5]))

    assert (refused_hold.code, refused_hold.values["limit"]) == ("HOLD_LIMIT_REACHED", 5)


# Holds


async def test_cubi_a_ready_hold_waits_7_calendar_days_then_the_next_patron_is_served(
    world: World,
) -> None:
    record = await world.record()
    await world.item(record, HERE)
    first, second = await world.patron(HERE), await world.patron(HERE)
    ready = ok(await hold(world, first, record))
    waiting = ok(await hold(world, second, record))
    assert (ready.status, ready.pickup_deadline) == (HoldStatus.READY, date(2026, 3, 9))

    await world.advance_to(date(2026, 3, 9))  # the last day (Sunday 8 March, closed, counts)
    assert (await world.get(Hold, ready.id)).status is HoldStatus.READY

    await world.advance_to(date(2026, 3, 10))
    expired, served = await world.get(Hold, ready.id), await world.get(Hold, waiting.id)
    assert expired.status is HoldStatus.EXPIRED
    assert (served.status, served.pickup_deadline) == (HoldStatus.READY, date(2026, 3, 17))
    assert [event["holdId"] for event in await world.events(HOLD_EXPIRED)] == [ready.id]
    assert [event["holdId"] for event in await world.events(HOLD_READY)] == [ready.id, waiting.id]


# Loan periods


@pytest.mark.parametrize(
    ("material", "due"),
    [
        (BOOK, date(2026, 4, 1)),
        (AUDIOBOOK, date(2026, 4, 1)),
        (PERIODICAL, date(2026, 3, 16)),
        (AUDIOVISUAL, date(2026, 3, 9)),
        # other types lend as books
        (KIT, date(2026, 4, 1)),
        (MaterialType.EBOOK, date(2026, 4, 1)),
        (MaterialType.OTHER, date(2026, 4, 1)),
    ],
)
async def test_cubi_loan_periods_book_30_audiobook_30_periodical_14_audiovisual_7_others_30(
    world: World, material: MaterialType, due: date
) -> None:
    _, loan = await lent(world, await world.patron(HERE), material)

    assert loan.due_date == due


# Renewals


@pytest.mark.parametrize("material", [BOOK, AUDIOBOOK, KIT])
async def test_cubi_books_and_audiobooks_renew_once_for_30_days_from_the_due_date(
    world: World, material: MaterialType
) -> None:
    patron = await world.patron(HERE)
    _, loan = await lent(world, patron, material)

    await world.advance_to(date(2026, 3, 25))
    renewed = ok(await renew(world, patron, loan))
    assert (renewed.due_date, renewed.renewals_used) == (date(2026, 5, 1), 1)

    await world.advance_to(date(2026, 4, 30))
    assert refused(await renew(world, patron, loan)) == "RENEWAL_LIMIT_REACHED"
    [view] = await world.loans_seen_by(patron)
    assert (view.renewals_left, view.renew_blocked_by) == (0, "RENEWAL_LIMIT_REACHED")


async def test_cubi_renewal_opens_7_days_before_the_due_date(world: World) -> None:
    patron = await world.patron(HERE)
    _, loan = await lent(world, patron)

    await world.advance_to(date(2026, 3, 24))
    early = refusal(await renew(world, patron, loan))
    assert (early.code, early.days["from_day"]) == ("TOO_EARLY", date(2026, 3, 25))
    [view] = await world.loans_seen_by(patron)
    assert (view.renew_blocked_by, view.renewable_from) == ("TOO_EARLY", date(2026, 3, 25))

    await world.advance_to(date(2026, 3, 25))
    assert ok(await renew(world, patron, loan)).due_date == date(2026, 5, 1)


async def test_cubi_renewal_closes_7_days_after_the_due_date(world: World) -> None:
    patron = await world.patron(HERE)
    _, in_time = await lent(world, patron)
    _, too_late = await lent(world, patron)

    await world.advance_to(date(2026, 4, 8))
    assert ok(await renew(world, patron, in_time)).due_date == date(2026, 5, 1)

    await world.advance_to(date(2026, 4, 9))
    assert refused(await renew(world, patron, too_late)) == "TOO_LATE"


@pytest.mark.parametrize("material", [BOOK, AUDIOBOOK])
async def test_cubi_no_renewal_while_another_patrons_hold_waits(
    world: World, material: MaterialType
) -> None:
    record = await world.record(material=material)
    barcode = await world.item(record, HERE)
    patron, other = await world.patron(HERE), await world.patron(HERE)
    loan = ok(await lend(world, patron, barcode))
    assert ok(await hold(world, other, record)).status is HoldStatus.WAITING

    await world.advance_to(date(2026, 3, 30))

    assert refused(await renew(world, patron, loan)) == "RESERVED_BY_OTHERS"
    [view] = await world.loans_seen_by(patron)
    assert view.renew_blocked_by == "RESERVED_BY_OTHERS"


@pytest.mark.parametrize("material", [PERIODICAL, AUDIOVISUAL])
async def test_cubi_periodicals_and_audiovisuals_are_not_renewable(
    world: World, material: MaterialType
) -> None:
    patron = await world.patron(HERE)
    _, loan = await lent(world, patron, material)

    await world.advance_to(loan.due_date)

    assert refused(await renew(world, patron, loan)) == "NOT_RENEWABLE"
    [view] = await world.loans_seen_by(patron)
    assert (view.renewals_left, view.renew_blocked_by) == (0, "NOT_RENEWABLE")


# What circulates


async def test_cubi_the_latest_periodical_issue_is_neither_loanable_nor_holdable(
    world: World,
) -> None:
    patron = await world.patron(HERE)
    latest = await world.record(material=PERIODICAL, latest_issue=True)
    latest_copy = await world.item(latest, HERE)
    earlier = await world.record(material=PERIODICAL)
    earlier_copy = await world.item(earlier, HERE)

    assert refused(await lend(world, patron, latest_copy)) == "NOT_LOANABLE"
    assert refused(await hold(world, patron, latest)) == "NOT_HOLDABLE"
    assert ok(await hold(world, patron, earlier)).status is HoldStatus.READY
    assert ok(await lend(world, patron, earlier_copy)).due_date == date(2026, 3, 16)


# Late fees


@pytest.mark.parametrize(
    ("material", "days_late"),
    [(BOOK, 7), (AUDIOBOOK, 7), (KIT, 7), (AUDIOVISUAL, 3), (PERIODICAL, 3)],
)
async def test_cubi_tolerance_7_days_books_audiobooks_3_days_audiovisuals_periodicals(
    world: World, material: MaterialType, days_late: int
) -> None:
    patron = await world.patron(HERE)

    assert await returned_late(world, patron, days_late, material) == 0
    assert (await fees_of(world, patron)).lines == []


@pytest.mark.parametrize(
    ("material", "days_late", "fee_cents"),
    [
        (BOOK, 8, 60),  # the whole delay counts: two started weeks
        (BOOK, 14, 60),
        (BOOK, 15, 90),
        (AUDIOBOOK, 8, 60),
        (KIT, 8, 60),
        (AUDIOVISUAL, 4, 30),
        (AUDIOVISUAL, 8, 60),
        (PERIODICAL, 4, 30),
        (PERIODICAL, 15, 90),
    ],
)
async def test_cubi_past_the_tolerance_eur_0_30_per_item_per_started_week_from_the_due_date(
    world: World, material: MaterialType, days_late: int, fee_cents: int
) -> None:
    patron = await world.patron(HERE)

    assert await returned_late(world, patron, days_late, material) == fee_cents
    [line] = (await fees_of(world, patron)).lines
    assert (line.unpaid_cents, line.accruing) == (fee_cents, False)


async def test_cubi_two_books_three_weeks_late_pay_eur_2(world: World) -> None:
    patron = await world.patron(HERE)
    first, _ = await lent(world, patron)
    second, _ = await lent(world, patron)

    await world.advance_to(days_after(BOOK_DUE, 21))
    fees = [(await give_back(world, barcode, HERE)).fee_cents for barcode in (first, second)]

    assert fees == [90, 90]
    summary = await fees_of(world, patron)
    assert ([line.unpaid_cents for line in summary.lines], summary.payable_cents) == ([90, 90], 200)
    paid = ok(await pay(world, patron, 200))
    assert (paid.charged_cents, paid.remaining_cents) == (200, 0)
    assert (await fees_of(world, patron)).lines == []


@pytest.mark.parametrize(
    ("material", "below_cap_days", "below_cap_cents", "cap_cents"),
    [
        (PERIODICAL, 112, 480, 500),  # EUR 5.00 per periodical issue
        (BOOK, 231, 990, 1000),  # EUR 10.00 per other item
        (AUDIOVISUAL, 231, 990, 1000),
    ],
)
async def test_cubi_fee_capped_eur_5_per_periodical_issue_eur_10_per_other_item(
    world: World, material: MaterialType, below_cap_days: int, below_cap_cents: int, cap_cents: int
) -> None:
    patron = await world.patron(HERE)
    barcode, loan = await lent(world, patron, material)

    await world.advance_to(days_after(loan.due_date, below_cap_days))
    [line] = (await fees_of(world, patron)).lines
    assert line.unpaid_cents == below_cap_cents
    await world.advance_to(days_after(loan.due_date, below_cap_days + 1))
    [line] = (await fees_of(world, patron)).lines
    assert line.unpaid_cents == cap_cents

    await world.advance_to(days_after(loan.due_date, 400))
    assert (await give_back(world, barcode, HERE)).fee_cents == cap_cents


async def test_cubi_a_payment_is_at_most_eur_25(world: World) -> None:
    patron = await world.patron(HERE)
    barcodes = [(await lent(world, patron))[0] for _ in range(3)]
    await world.advance_to(days_after(BOOK_DUE, 232))
    assert [(await give_back(world, barcode, HERE)).fee_cents for barcode in barcodes] == [1000] * 3

    assert (await fees_of(world, patron)).payable_cents == 2500
    assert refused(await pay(world, patron, 2550)) == "INVALID_AMOUNT"
    assert ok(await pay(world, patron, 2500)).remaining_cents == 500
    assert ok(await pay(world, patron, 500)).remaining_cents == 0
    assert (await standing_of(world, patron)).code is StandingCode.OK


@pytest.mark.parametrize(
    ("owed_cents", "payable"),
    [
        ([60], 50),
        ([90], 100),
        ([125], 100),  # a tie rounds down
        ([180], 200),
        ([75], 50),
        ([175], 150),
        ([90, 90], 200),
        ([1000, 1000, 1000], 2500),  # at most EUR 25.00 a payment
    ],
)
def test_cubi_a_payment_is_rounded_to_eur_0_50_nearest_ties_down(
    owed_cents: list[int], payable: int
) -> None:
    assert payable_cents(CUBI_FEES, owed_cents) == payable


@pytest.mark.parametrize(
    ("owed_cents", "payable"), [([10], 50), ([15], 50), ([25], 50), ([30], 50), ([], 0)]
)
def test_cubi_the_least_payment_is_eur_0_50(owed_cents: list[int], payable: int) -> None:
    assert payable_cents(CUBI_FEES, owed_cents) == payable


@pytest.mark.parametrize(
    ("material", "section", "born", "days_late", "fee_cents", "payable"),
    [
        (BOOK, Section.ADULT, ADULT_BORN, 8, 60, 50),
        (BOOK, Section.ADULT, ADULT_BORN, 21, 90, 100),
        (BOOK, Section.CHILDREN, CHILD_BORN, 35, 75, 50),  # a tie rounds down
        (AUDIOVISUAL, Section.CHILDREN, CHILD_BORN, 4, 15, 50),  # the least payment
    ],
)
async def test_cubi_real_fees_are_paid_rounded_to_eur_0_50(
    world: World,
    material: MaterialType,
    section: Section,
    born: date,
    days_late: int,
    fee_cents: int,
    payable: int,
) -> None:
    patron = await world.patron(HERE, birth_date=born)

    assert await returned_late(world, patron, days_late, material, section) == fee_cents
    assert (await fees_of(world, patron)).payable_cents == payable
    assert ok(await pay(world, patron, payable)).remaining_cents == 0
    assert (await fees_of(world, patron)).lines == []


@pytest.mark.parametrize(
    ("born", "section", "fee_cents"),
    [
        (CHILD_BORN, Section.CHILDREN, 45),
        (CHILD_BORN, Section.ADULT, 90),
        (FIFTEEN_BORN, Section.CHILDREN, 90),
        (ADULT_BORN, Section.CHILDREN, 90),
    ],
)
async def test_cubi_patrons_under_15_pay_half_on_childrens_material(
    world: World, born: date, section: Section, fee_cents: int
) -> None:
    patron = await world.patron(HERE, birth_date=born)

    assert await returned_late(world, patron, 21, BOOK, section) == fee_cents


# More than 4 weeks late


async def test_cubi_more_than_28_days_late_suspends_the_card_in_every_library(
    world: World,
) -> None:
    patron = await world.patron(HERE)
    _, loan = await lent(world, patron)
    wanted = await world.record()
    await world.item(wanted, ELSEWHERE)
    here, elsewhere = await world.titles(HERE, 1), await world.titles(ELSEWHERE, 1)

    await world.advance_to(date(2026, 4, 29))  # 28 days late
    assert (await standing_of(world, patron)).code is StandingCode.OK

    await world.advance_to(date(2026, 4, 30))  # 29 days late
    stored = await world.reload(patron)
    assert (stored.standing, stored.standing_source, stored.standing_until) == (
        StandingCode.SUSPENDED,
        StandingSource.AUTOMATIC,
        None,
    )
    [event] = await world.events(ACCOUNT_SUSPENDED)
    assert (event["patronId"], event["standing"]) == (patron.id, "SUSPENDED")
    refusals = [
        refusal(await lend(world, patron, here[0], HERE)),
        refusal(await lend(world, patron, elsewhere[0], ELSEWHERE)),
        refusal(await hold(world, patron, wanted)),
        refusal(await renew(world, patron, loan)),
    ]
    assert {found.code for found in refusals} == {"PATRON_BLOCKED"}
    assert {(found.message("it"), found.message("en")) for found in refusals} == {
        (SUSPENDED_IT, SUSPENDED_EN)
    }


async def test_cubi_the_fee_keeps_accruing_until_the_return_up_to_the_cap(world: World) -> None:
    patron = await world.patron(HERE)
    barcode, loan = await lent(world, patron)

    seen: dict[int, tuple[int, bool]] = {}
    for late in (29, 100, 231, 232, 300):
        await world.advance_to(days_after(BOOK_DUE, late))
        summary = await fees_of(world, patron)
        [line] = summary.lines
        assert (line.loan_id, summary.payable_cents) == (loan.id, 0)  # paid after the return
        seen[late] = (line.unpaid_cents, line.accruing)

    assert seen == {
        29: (150, True),
        100: (450, True),
        231: (990, True),
        232: (1000, True),
        300: (1000, True),
    }
    assert (await give_back(world, barcode, HERE)).fee_cents == 1000
    assert (await standing_of(world, patron)).code is StandingCode.SUSPENDED


async def test_cubi_the_card_is_re_enabled_only_after_the_return_and_the_payment(
    world: World,
) -> None:
    patron = await world.patron(HERE)
    barcode, _ = await lent(world, patron)
    [next_book] = await world.titles(HERE, 1)
    await world.advance_to(date(2026, 4, 30))  # 29 days late: suspended
    assert refused(await pay(world, patron, 150)) == "INVALID_AMOUNT"  # nothing to pay yet

    assert (await give_back(world, barcode, HERE)).fee_cents == 150
    await world.advance(days=1)
    assert (await standing_of(world, patron)).code is StandingCode.SUSPENDED
    assert refused(await lend(world, patron, next_book)) == "PATRON_BLOCKED"

    assert ok(await pay(world, patron, 150)).remaining_cents == 0
    assert (await standing_of(world, patron)).code is StandingCode.OK
    assert (await world.reload(patron)).standing is StandingCode.OK
    ok(await lend(world, patron, next_book))


# Paying


@pytest.mark.parametrize("cents", [0, -50, 150])
async def test_cubi_pay_fees_refuses_zero_negative_or_more_than_payable(
    world: World, cents: int
) -> None:
    patron = await world.patron(HERE)
    await returned_late(world, patron, 21)  # EUR 0.90, payable EUR 1.00

    refused_payment = refusal(await pay(world, patron, cents))

    assert (refused_payment.code, refused_payment.values["payable_en"]) == (
        "INVALID_AMOUNT",
        "1.00",
    )
    assert "1,00 €" in refused_payment.message("it")
    assert await world.count(Payment) == 0
    assert (await fees_of(world, patron)).payable_cents == 100


async def test_cubi_a_payment_settles_the_oldest_fees_first(world: World) -> None:
    patron = await world.patron(HERE)
    older, _ = await lent(world, patron)
    newer, newer_loan = await lent(world, patron)
    await world.advance_to(days_after(BOOK_DUE, 21))
    assert (await give_back(world, older, HERE)).fee_cents == 90
    await world.advance_to(days_after(BOOK_DUE, 22))
    assert (await give_back(world, newer, HERE)).fee_cents == 120
    assert (await fees_of(world, patron)).payable_cents == 200  # EUR 2.10

    paid = ok(await pay(world, patron, 100))

    assert (paid.charged_cents, paid.remaining_cents) == (100, 100)  # EUR 1.10 left
    summary = await fees_of(world, patron)
    assert [(line.loan_id, line.unpaid_cents) for line in summary.lines] == [(newer_loan.id, 110)]
    assert summary.payable_cents == 100


async def two_fees_of_eur_0_90(world: World) -> Patron:
    """A patron who returned two books three weeks late: EUR 1.80, payable EUR 2.00."""
    patron = await world.patron(HERE)
    for _ in range(2):
        await returned_late(world, patron, 21)
    assert (await fees_of(world, patron)).payable_cents == 200
    return patron


async def test_cubi_a_payment_of_less_than_the_least_payment_eur_0_50_is_refused(
    world: World,
) -> None:
    patron = await two_fees_of_eur_0_90(world)

    assert refused(await pay(world, patron, 20)) == "INVALID_AMOUNT"


@pytest.mark.parametrize("cents", [70, 130])
async def test_cubi_a_payment_that_is_not_a_multiple_of_eur_0_50_is_refused(
    world: World, cents: int
) -> None:
    patron = await two_fees_of_eur_0_90(world)

    assert refused(await pay(world, patron, cents)) == "INVALID_AMOUNT"
