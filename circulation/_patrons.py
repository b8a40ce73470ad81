"""A patron's standing and fees: what staff set, what rules set, what the patron pays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import Fee, Item, Loan, Patron, Payment, Record, StandingCode, StandingSource

from ._events import ACCOUNT_SUSPENDED, emit
from ._refusals import Refusal
from ._rules import age_on, days_late, late_fee_cents, payable_cents
from ._standing import Standing
from ._state import Circulation, Outcome, lock_patron
from ._writes import unit_of_work

__all__ = [
    "FeeLine",
    "FeeSummary",
    "PaymentResult",
    "fee_summary",
    "pay_fees",
    "set_patron_standing",
    "sync_standing",
]


async def sync_standing(
    circulation: Circulation, session: AsyncSession, patron: Patron, *, now: datetime
) -> Standing:
    """Store the standing the rules give today (a staff block stays as staff set it), and
    announce a patron newly blocked."""
    standing = await circulation.standing(session, patron)
    if patron.standing_source is StandingSource.STAFF:
        return standing
    was_blocked = patron.standing is not StandingCode.OK
    if standing.code in (StandingCode.SUSPENDED, StandingCode.REVOKED):
        patron.standing = standing.code
        patron.standing_source = StandingSource.AUTOMATIC
        patron.standing_until = standing.until
    else:
        patron.standing = StandingCode.OK
        patron.standing_source = None
        patron.standing_until = None
    if patron.standing is not StandingCode.OK and not was_blocked:
        emit(
            session,
            ACCOUNT_SUSPENDED,
            {
                "patronId": patron.id,
                "standing": patron.standing.value,
                "until": patron.standing_until.isoformat() if patron.standing_until else None,
                "reason": standing.reason,
            },
            now=now,
        )
    return standing


async def set_patron_standing(
    circulation: Circulation, *, card_number: str, code: StandingCode, note: str | None
) -> Outcome[Standing]:
    """Staff suspend or revoke a card (with a note the patron never sees), or re-enable it.
    EXPIRED ends the registration today."""
    async with unit_of_work(circulation.sessions) as session:
        patron_id = await session.scalar(select(Patron.id).where(Patron.card_number == card_number))
        patron = await lock_patron(session, patron_id) if patron_id is not None else None
        if patron is None:
            return Outcome(refusal=Refusal("NOT_FOUND"))
        now = circulation.clock.now()
        if code is StandingCode.EXPIRED:
            patron.registration_expires = circulation.today() - timedelta(days=1)
        elif code is StandingCode.OK:
            patron.standing = StandingCode.OK
            patron.standing_source = None
            patron.standing_until = None
            patron.standing_note = note
        else:
            was_blocked = patron.standing is not StandingCode.OK
            patron.standing = code
            patron.standing_source = StandingSource.STAFF
            patron.standing_until = None
            patron.standing_note = note
            if not was_blocked:
                emit(
                    session,
                    ACCOUNT_SUSPENDED,
                    {
                        "patronId": patron.id,
                        "standing": code.value,
                        "until": None,
                        "reason": "STAFF",
                    },
                    now=now,
                )
        await session.flush()
        return Outcome(await sync_standing(circulation, session, patron, now=now))


@dataclass(frozen=True)
class FeeLine:
    loan_id: int | None
    unpaid_cents: int
    description: str
    # A fee still growing on a loan not yet returned (paid at the return, with the rest).
    accruing: bool


@dataclass(frozen=True)
class FeeSummary:
    lines: list[FeeLine]
    payable_cents: int


async def _unpaid_fees(session: AsyncSession, patron_id: int) -> list[Fee]:
    return list(
        await session.scalars(
            select(Fee)
            .where(Fee.patron_id == patron_id, Fee.paid_cents < Fee.amount_cents)
            .order_by(Fee.accrued_at, Fee.id)
        )
    )


async def fee_summary(
    circulation: Circulation, session: AsyncSession, patron: Patron
) -> FeeSummary:
    """The fees as accrued (returned loans, then those still growing) and what is payable now."""
    fees = circulation.policy.fees
    unpaid = await _unpaid_fees(session, patron.id)
    lines = [
        FeeLine(fee.loan_id, fee.amount_cents - fee.paid_cents, fee.description, False)
        for fee in unpaid
    ]
    if fees is not None:
        today = circulation.today()
        open_loans = await session.execute(
            select(Loan, Item, Record)
            .join(Item, Item.id == Loan.item_id)
            .join(Record, Record.id == Item.record_id)
            .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None), Loan.due_date < today)
            .order_by(Loan.due_date, Loan.id)
        )
        for loan, item, record in open_loans:
            late = days_late(loan.due_date, today)
            amount = late_fee_cents(
                fees,
                circulation.loan_rule(record, patron, item),
                late_days=late,
                material_type=record.material_type,
                section=record.section,
                patron_age=age_on(patron.birth_date, loan.due_date),
                patron_category=patron.category,
            )
            if amount:
                lines.append(
                    FeeLine(loan.id, amount, f"{record.title[:200]} ({late} days late)", True)
                )
    return FeeSummary(
        lines, payable_cents(fees, (fee.amount_cents - fee.paid_cents for fee in unpaid))
    )


def _euro(cents: int, *, decimal_comma: bool = False) -> str:
    return f"{cents // 100}{',' if decimal_comma else '.'}{cents % 100:02d}"


@dataclass(frozen=True)
class PaymentResult:
    charged_cents: int
    remaining_cents: int


async def pay_fees(
    circulation: Circulation, *, card_number: str, amount_cents: int
) -> Outcome[PaymentResult]:
    """Record a payment of at most the payable total; it settles the oldest fees first. Paying
    the whole rounded total settles every fee it covers."""
    async with unit_of_work(circulation.sessions) as session:
        patron_id = await session.scalar(select(Patron.id).where(Patron.card_number == card_number))
        patron = await lock_patron(session, patron_id) if patron_id is not None else None
        if patron is None:
            return Outcome(refusal=Refusal("NOT_FOUND"))
        fees_policy = circulation.policy.fees
        unpaid = await _unpaid_fees(session, patron.id)
        owed = [fee.amount_cents - fee.paid_cents for fee in unpaid]
        payable = payable_cents(fees_policy, owed)
        step = fees_policy.rounding_cents if fees_policy is not None else 1
        minimum = max(fees_policy.minimum_payment_cents if fees_policy is not None else 1, 1)
        # The payable total is always accepted; a part of it follows the rounding and minimum.
        part_allowed = amount_cents >= minimum and amount_cents % step == 0
        if not 0 < amount_cents <= payable or (amount_cents != payable and not part_allowed):
            return Outcome(
                refusal=Refusal(
                    "INVALID_AMOUNT",
                    {
                        f"{name}_{language}": _euro(cents, decimal_comma=language == "it")
                        for name, cents in (
                            ("payable", payable),
                            ("step", step),
                            ("minimum", minimum),
                        )
                        for language in ("it", "en")
                    },
                )
            )
        capped = (
            fees_policy is not None
            and fees_policy.payment_cap_cents is not None
            and payable == fees_policy.payment_cap_cents
            and sum(owed) > payable
        )
        # The rounded total settles everything (rounding may be up or down); anything less, or
        # a payment stopped by the per-payment cap, settles cent by cent, oldest first.
        to_settle = sum(owed) if amount_cents == payable and not capped else amount_cents
        for fee in unpaid:
            share = min(to_settle, fee.amount_cents - fee.paid_cents)
            fee.paid_cents += share
            to_settle -= share
        now = circulation.clock.now()
        session.add(Payment(patron_id=patron.id, amount_cents=amount_cents, paid_at=now))
        await session.flush()
        remaining = payable_cents(
            fees_policy, (fee.amount_cents - fee.paid_cents for fee in unpaid)
        )
        await sync_standing(circulation, session, patron, now=now)
        return Outcome(PaymentResult(amount_cents, remaining))
