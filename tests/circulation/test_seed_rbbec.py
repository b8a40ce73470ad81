"""Patron standing (seed 001, RBBeC) as policies.md reads it: one scenario per rule.

The world starts on Monday 2 March 2026; a book lent that day is due on Wednesday 1 April.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest

from circulation import (
    ACCOUNT_SUSPENDED,
    Outcome,
    Refusal,
    Standing,
    checkout,
    set_patron_standing,
)
from db import HoldStatus, Loan, Patron, StandingCode, StandingSource
from tests.circulation.world import (
    World,
    fees_of,
    give_back,
    hold,
    ok,
    pay,
    refusal,
    renew,
    standing_of,
)

WorldOf = Callable[[str], Awaitable[World]]

HERE = "BS1"
BOOK_DUE = date(2026, 4, 1)  # a book lent on the first day
NOTE = "Diritti revocati in seguito a libro non restituito (CHIARI CH-3456)"

BLOCKED_MESSAGES = {
    StandingCode.SUSPENDED: (
        "La tessera è sospesa dalla biblioteca. Rivolgiti al banco prestiti per riattivarla.",
        "Your card has been suspended by the library. Ask at the loans desk to re-enable it.",
    ),
    StandingCode.REVOKED: (
        "I diritti di prestito sono stati revocati. Solo il personale della biblioteca può"
        " riabilitarti: rivolgiti al banco prestiti.",
        "Your borrowing rights have been revoked. Only library staff can re-enable them:"
        " please ask at the loans desk.",
    ),
    # Staff end the registration on 25 March: it ran until the day before.
    StandingCode.EXPIRED: (
        "L'iscrizione è scaduta il 24/03/2026. Rinnovala in biblioteca per continuare a usare i"
        " servizi.",
        "Your registration expired on 24 Mar 2026. Renew it at the library to keep using the"
        " services.",
    ),
}
BLOCKS = [StandingCode.SUSPENDED, StandingCode.REVOKED, StandingCode.EXPIRED]


@pytest.fixture
async def world(world_of: WorldOf) -> World:
    world = await world_of("cubi")
    await world.library(HERE)
    return world


async def lend(world: World, patron: Patron, barcode: str) -> Outcome[Loan]:
    return await checkout(
        world.circulation, card_number=patron.card_number, barcode=barcode, library_id=HERE
    )


async def lent(world: World, patron: Patron) -> tuple[str, Loan]:
    """A new book with one copy here, lent to the patron today: the barcode and the loan."""
    [barcode] = await world.titles(HERE, 1)
    return barcode, ok(await lend(world, patron, barcode))


async def set_standing(
    world: World, patron: Patron, code: StandingCode, note: str | None = NOTE
) -> Standing:
    """What staff do at the desk."""
    standing: Standing = ok(
        await set_patron_standing(
            world.circulation, card_number=patron.card_number, code=code, note=note
        )
    )
    return standing


async def everything_refused(world: World, patron: Patron, loan: Loan) -> list[Refusal]:
    """Borrowing, placing a hold and renewing `loan`, each tried once."""
    [barcode] = await world.titles(HERE, 1)
    wanted = await world.record()
    await world.item(wanted, HERE)
    return [
        refusal(await lend(world, patron, barcode)),
        refusal(await hold(world, patron, wanted)),
        refusal(await renew(world, patron, loan)),
    ]


def messages(found: Refusal | Standing) -> tuple[str, str]:
    return found.message("it"), found.message("en")


async def test_rbbec_standing_ok(world: World) -> None:
    patron = await world.patron(HERE)

    standing = await standing_of(world, patron)

    assert (standing.code, standing.until, standing.blocked) == (StandingCode.OK, None, False)
    assert messages(standing) == ("Tessera in regola.", "Your card is in good standing.")
    await lent(world, patron)


async def test_rbbec_suspended_automatically_with_blocked_until(world_of: WorldOf) -> None:
    world = await world_of("biblioinrete")  # suspended for the days late beyond 7
    await world.library(HERE)
    patron = await world.patron(HERE)
    barcode, _ = await lent(world, patron)

    await world.advance_to(date(2026, 4, 11))  # 10 days late
    await give_back(world, barcode, HERE)

    standing = await standing_of(world, patron)
    assert (standing.code, standing.until) == (StandingCode.SUSPENDED, date(2026, 4, 14))
    assert messages(standing) == (
        "La tessera è sospesa fino al 14/04/2026 per una restituzione in ritardo.",
        "Your card is suspended until 14 Apr 2026 because of a late return.",
    )
    stored = await world.reload(patron)
    assert (stored.standing_source, stored.standing_until) == (
        StandingSource.AUTOMATIC,
        date(2026, 4, 14),
    )
    await world.advance_to(date(2026, 4, 14))
    assert (await standing_of(world, patron)).code is StandingCode.SUSPENDED

    await world.advance_to(date(2026, 4, 15))  # the rules lift it by themselves
    assert (await world.reload(patron)).standing is StandingCode.OK
    assert (await standing_of(world, patron)).code is StandingCode.OK


async def test_rbbec_suspended_automatically_until_return_and_payment(world: World) -> None:
    patron = await world.patron(HERE)
    _, loan = await lent(world, patron)

    await world.advance_to(date(2026, 4, 30))  # more than 28 days late (CUBI)

    standing = await standing_of(world, patron)
    assert (standing.code, standing.until, standing.automatic) == (
        StandingCode.SUSPENDED,
        None,
        True,
    )
    assert messages(standing) == (
        "La tessera è sospesa per un ritardo di oltre 28 giorni. Sarà riattivata dopo la"
        " restituzione e il pagamento della tariffa.",
        "Your card is suspended for a delay of more than 28 days. It will be re-enabled once"
        " the items are returned and the fee is paid.",
    )
    refusals = await everything_refused(world, patron, loan)
    assert {(found.code, messages(found)) for found in refusals} == {
        ("PATRON_BLOCKED", messages(standing))
    }


async def test_rbbec_revoked_by_staff_with_a_note(world: World) -> None:
    patron = await world.patron(HERE)

    standing = await set_standing(world, patron, StandingCode.REVOKED)

    assert (standing.code, standing.until) == (StandingCode.REVOKED, None)
    stored = await world.reload(patron)
    assert (stored.standing, stored.standing_source, stored.standing_note) == (
        StandingCode.REVOKED,
        StandingSource.STAFF,
        NOTE,
    )
    assert await world.events(ACCOUNT_SUSPENDED) == [
        {"patronId": patron.id, "standing": "REVOKED", "until": None, "reason": "STAFF"}
    ]


async def test_rbbec_only_staff_re_enable_a_revoked_card(world: World) -> None:
    patron = await world.patron(HERE)
    barcode, _ = await lent(world, patron)
    await set_standing(world, patron, StandingCode.REVOKED)

    await world.advance_to(BOOK_DUE + timedelta(days=40))
    assert (await give_back(world, barcode, HERE)).fee_cents == 180
    ok(await pay(world, patron, 200))
    await world.advance(days=30)  # returned, paid, and the scheduler ran all along

    assert (await world.reload(patron)).standing is StandingCode.REVOKED
    assert (await standing_of(world, patron)).code is StandingCode.REVOKED

    assert (await set_standing(world, patron, StandingCode.OK, None)).code is StandingCode.OK
    assert (await world.reload(patron)).standing is StandingCode.OK
    await lent(world, patron)


async def test_rbbec_expired_when_the_registration_has_ended(world: World) -> None:
    patron = await world.patron(HERE, registration_expires=date(2026, 3, 5))
    ended_by_staff = await world.patron(HERE)

    await world.advance_to(date(2026, 3, 5))  # its last day
    assert (await standing_of(world, patron)).code is StandingCode.OK
    await world.advance_to(date(2026, 3, 6))

    standing = await standing_of(world, patron)
    assert (standing.code, standing.until) == (StandingCode.EXPIRED, date(2026, 3, 5))
    assert messages(standing) == (
        "L'iscrizione è scaduta il 05/03/2026. Rinnovala in biblioteca per continuare a usare i"
        " servizi.",
        "Your registration expired on 5 Mar 2026. Renew it at the library to keep using the"
        " services.",
    )
    [barcode] = await world.titles(HERE, 1)
    assert refusal(await lend(world, patron, barcode)).code == "PATRON_BLOCKED"
    ended = await set_standing(world, ended_by_staff, StandingCode.EXPIRED, None)
    assert (ended.code, ended.until) == (StandingCode.EXPIRED, date(2026, 3, 5))


@pytest.mark.parametrize("code", BLOCKS)
async def test_rbbec_a_blocked_patron_still_sees_loans_holds_and_fees_and_returns_items(
    world: World, code: StandingCode
) -> None:
    patron, other = await world.patron(HERE), await world.patron(HERE)
    kept, loan = await lent(world, patron)
    returned, _ = await lent(world, patron)
    wanted = await world.record()
    ok(await lend(world, other, await world.item(wanted, HERE)))
    waiting = ok(await hold(world, patron, wanted))
    await world.advance_to(BOOK_DUE + timedelta(days=21))
    assert (await give_back(world, returned, HERE)).fee_cents == 90

    await set_standing(world, patron, code)

    [loan_view] = await world.loans_seen_by(patron)
    assert (loan_view.loan.id, loan_view.renew_blocked_by, loan_view.renewable_from) == (
        loan.id,
        "PATRON_BLOCKED",
        None,
    )
    [hold_view] = await world.holds_seen_by(patron)
    assert (hold_view.hold.id, hold_view.hold.status, hold_view.position) == (
        waiting.id,
        HoldStatus.WAITING,
        1,
    )
    summary = await fees_of(world, patron)
    assert [(line.unpaid_cents, line.accruing) for line in summary.lines] == [
        (90, False),
        (90, True),
    ]
    assert summary.payable_cents == 100
    assert (await give_back(world, kept, HERE)).fee_cents == 90
    assert await world.open_loans(patron) == []
    assert ok(await pay(world, patron, 200)).remaining_cents == 0


@pytest.mark.parametrize("code", BLOCKS)
async def test_rbbec_a_blocked_patron_cannot_borrow_hold_or_renew_and_is_told_why(
    world: World, code: StandingCode
) -> None:
    patron = await world.patron(HERE)
    _, loan = await lent(world, patron)
    await world.advance_to(date(2026, 3, 25))  # the loan could be renewed today

    await set_standing(world, patron, code)
    refusals = await everything_refused(world, patron, loan)

    assert {(found.code, messages(found)) for found in refusals} == {
        ("PATRON_BLOCKED", BLOCKED_MESSAGES[code])
    }
    assert [(seen.id, seen.due_date) for seen in await world.open_loans(patron)] == [
        (loan.id, BOOK_DUE)
    ]


@pytest.mark.parametrize("code", [StandingCode.SUSPENDED, StandingCode.REVOKED])
async def test_rbbec_the_staff_note_is_never_shown_to_the_patron(
    world: World, code: StandingCode
) -> None:
    patron = await world.patron(HERE)
    _, loan = await lent(world, patron)

    await set_standing(world, patron, code)

    found: list[Refusal | Standing] = [await standing_of(world, patron)]
    found += await everything_refused(world, patron, loan)
    shown = [text for told in found for text in messages(told)]
    assert len(shown) == 8
    for text in shown:
        assert "CHIARI" not in text
        assert "CH-3456" not in text
