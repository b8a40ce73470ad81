"""Loans at the desk and in the app: checkout, checkin, renewals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Row, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import (
    ACTIVE_HOLD_STATUSES,
    Fee,
    FeeKind,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Library,
    Loan,
    MaterialType,
    Patron,
    Record,
    StandingCode,
    StandingSource,
)

from ._events import ACCOUNT_SUSPENDED, ITEM_STATUS_CHANGED, LOAN_RENEWED, emit
from ._holds import route_copy
from ._patrons import sync_standing
from ._refusals import Refusal
from ._rules import age_on, days_late, due_date, late_fee_cents, renewal_check
from ._state import Circulation, Outcome, lock_copy, lock_patron, standing_query
from ._writes import unit_of_work

__all__ = ["CheckinResult", "checkin", "checkout", "renew_all", "renew_loan"]

_UNAVAILABLE = {
    ItemStatus.ON_LOAN: ("è in prestito", "it is on loan"),
    ItemStatus.IN_TRANSIT: ("è in viaggio tra biblioteche", "it is travelling between libraries"),
    ItemStatus.ON_HOLD_SHELF: (
        "è riservata a un'altra prenotazione",
        "it is kept for another hold",
    ),
    ItemStatus.IN_QUARANTINE: ("è in quarantena", "it is in quarantine"),
    ItemStatus.LOST: ("risulta smarrita", "it is recorded as lost"),
}


def _unavailable(status: ItemStatus) -> Refusal:
    status_it, status_en = _UNAVAILABLE[status]
    return Refusal("ITEM_NOT_AVAILABLE", {"status_it": status_it, "status_en": status_en})


async def _limit_refusal(
    circulation: Circulation, session: AsyncSession, patron: Patron, record: Record
) -> Refusal | None:
    """A group limit first (the more specific refusal), then the limit on all loans."""
    in_hand = await session.execute(
        select(Record.material_type, func.count())
        .select_from(Loan)
        .join(Item, Item.id == Loan.item_id)
        .join(Record, Record.id == Item.record_id)
        .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
        .group_by(Record.material_type)
    )
    counts: dict[MaterialType, int] = {}
    for material, count in in_hand:
        counts[material] = count
    limits = circulation.policy.limits
    for group in limits.groups:
        if record.material_type in group.material_types:
            in_group = sum(counts.get(material, 0) for material in group.material_types)
            if in_group >= group.max:
                return Refusal("MATERIAL_LIMIT_REACHED", {"limit": group.max, "group": group.name})
    if sum(counts.values()) >= limits.loans:
        return Refusal("LOAN_LIMIT_REACHED", {"limit": limits.loans})
    return None


async def checkout(
    circulation: Circulation, *, card_number: str, barcode: str, library_id: str
) -> Outcome[Loan]:
    """Lend a copy at a library desk; a hold of the patron on it is fulfilled."""
    async with unit_of_work(circulation.sessions) as session:
        patron_id = await session.scalar(select(Patron.id).where(Patron.card_number == card_number))
        patron = await lock_patron(session, patron_id) if patron_id is not None else None
        item = await lock_copy(session, barcode)
        library = await session.get(Library, library_id)
        if patron is None or item is None or library is None:
            return Outcome(refusal=Refusal("NOT_FOUND"))
        record = await session.get(Record, item.record_id)
        assert record is not None
        standing = await circulation.standing(session, patron)
        if standing.blocked:
            return Outcome(refusal=standing.refusal())
        not_loanable = circulation.not_loanable(item, record)
        if not_loanable is not None:
            return Outcome(refusal=not_loanable)
        embargo = circulation.embargoed_until(record)
        if embargo is not None:
            return Outcome(refusal=Refusal("EMBARGOED", days={"from_day": embargo}))
        today = circulation.today()
        held_for = await session.scalar(
            select(Hold)
            .where(
                Hold.item_id == item.id, Hold.status.in_([HoldStatus.READY, HoldStatus.IN_TRANSIT])
            )
            .with_for_update()
        )
        in_quarantine = item.status is ItemStatus.IN_QUARANTINE and (
            item.available_from is None or item.available_from > today
        )
        if (
            item.status in (ItemStatus.ON_LOAN, ItemStatus.LOST, ItemStatus.IN_TRANSIT)
            or in_quarantine
        ):
            return Outcome(refusal=_unavailable(item.status))
        if held_for is not None and held_for.patron_id != patron.id:
            return Outcome(refusal=_unavailable(ItemStatus.ON_HOLD_SHELF))
        refusal = await _limit_refusal(circulation, session, patron, record)
        if refusal is not None:
            return Outcome(refusal=refusal)

        now = circulation.clock.now()
        rule = circulation.loan_rule(record, patron, item)
        calendar = await circulation.calendar(session, library.id)
        loan = Loan(
            item_id=item.id,
            patron_id=patron.id,
            library_id=library.id,
            loaned_at=now,
            due_date=due_date(circulation.policy, rule, loaned_on=today, calendar=calendar),
        )
        session.add(loan)
        item.status = ItemStatus.ON_LOAN
        item.location_library_id = None
        item.available_from = None
        await _fulfil_hold(circulation, session, patron, record, item, now=now)
        await session.flush()
        emit(
            session,
            ITEM_STATUS_CHANGED,
            {"itemId": item.id, "recordId": record.id, "status": item.status.value},
            now=now,
        )
        return Outcome(loan)


async def _fulfil_hold(
    circulation: Circulation,
    session: AsyncSession,
    patron: Patron,
    record: Record,
    taken: Item,
    *,
    now: datetime,
) -> None:
    """The patron's hold on the title is fulfilled, whichever copy they take; a different
    copy set aside for it goes on to the next patron."""
    hold = await session.scalar(
        select(Hold)
        .where(
            Hold.patron_id == patron.id,
            Hold.record_id == record.id,
            Hold.status.in_(ACTIVE_HOLD_STATUSES),
        )
        .with_for_update()
    )
    if hold is None:
        return
    set_aside = hold.item_id if hold.item_id != taken.id else None
    hold.status = HoldStatus.FULFILLED
    hold.ended_at = now
    hold.item_id = taken.id
    if set_aside is None:
        return
    await session.flush()
    other = await session.get(Item, set_aside, with_for_update=True)
    assert other is not None
    at_library = other.location_library_id or other.library_id
    await route_copy(circulation, session, other, record, at_library=at_library, now=now)


@dataclass(frozen=True)
class CheckinResult:
    loan: Loan
    fee_cents: int
    trapped_hold: Hold | None


async def _late_return_block(
    circulation: Circulation,
    session: AsyncSession,
    patron: Patron,
    *,
    late: int,
    tolerance: int,
    returned_on: date,
    now: datetime,
) -> None:
    """Blocks that a late return starts: a revocation for a loan that came back too late (the
    worker may not have seen it overdue), else a suspension for the days beyond the tolerance,
    or for N days."""
    if patron.standing_source is StandingSource.STAFF or patron.standing is StandingCode.REVOKED:
        return
    revoked = any(
        block.kind == "revoke" and late > block.after_days_late
        for block in circulation.policy.blocks
    )
    until: date | None = None
    for block in circulation.policy.blocks:
        if block.kind == "days_late_beyond_tolerance" and late > block.tolerance_days:
            candidate = returned_on + timedelta(days=late - block.tolerance_days)
        elif block.kind == "days_after_return" and late > tolerance and block.days:
            candidate = returned_on + timedelta(days=block.days)
        else:
            continue
        until = candidate if until is None else max(until, candidate)
    if not revoked and until is None:
        return
    if patron.standing is StandingCode.SUSPENDED and patron.standing_until is not None and until:
        until = max(until, patron.standing_until)
    was_blocked = patron.standing is not StandingCode.OK
    patron.standing = StandingCode.REVOKED if revoked else StandingCode.SUSPENDED
    patron.standing_source = StandingSource.AUTOMATIC
    patron.standing_until = None if revoked else until
    if not was_blocked:
        emit(
            session,
            ACCOUNT_SUSPENDED,
            {
                "patronId": patron.id,
                "standing": patron.standing.value,
                "until": patron.standing_until.isoformat() if patron.standing_until else None,
                "reason": "OVERDUE_REVOKED" if revoked else "LATE_RETURN",
            },
            now=now,
        )


# The borrower, the record, the copy and its open loan, locked in the order every operation
# takes (PostgreSQL locks the rows behind each result row in the order of the FROM list): one
# statement instead of a lookup and four locks.
_LOCK_LOAN_PARTIES = (
    select(Patron, Record, Item, Loan)
    .where(
        Item.barcode == bindparam("barcode"),
        Record.id == Item.record_id,
        Loan.item_id == Item.id,
        Loan.returned_at.is_(None),
        Patron.id == Loan.patron_id,
    )
    .with_for_update()
)


async def _lock_loan_parties(
    session: AsyncSession, barcode: str
) -> Row[Patron, Record, Item, Loan] | None:
    """The copy's open loan and its parties, locked; None when the copy is not on loan (a loan
    returned by another desk while this waited for its lock drops out). Not read again: the
    locks a dropped row took stay held, and a second read could lock a new borrower after the
    copy, against the order every operation takes."""
    return (await session.execute(_LOCK_LOAN_PARTIES, {"barcode": barcode})).first()


async def checkin(
    circulation: Circulation, *, barcode: str, library_id: str
) -> Outcome[CheckinResult]:
    """Take a copy back: settle the late fee, apply blocks, and route the copy onward."""
    async with unit_of_work(circulation.sessions) as session:
        # Libraries are never deleted: the cached list answers without a round trip.
        if await circulation.site(session, library_id) is None:
            return Outcome(refusal=Refusal("NOT_FOUND"))
        locked = await _lock_loan_parties(session, barcode)
        if locked is None:
            item_id = await session.scalar(select(Item.id).where(Item.barcode == barcode))
            return Outcome(refusal=Refusal("NOT_FOUND" if item_id is None else "NOT_ON_LOAN"))
        patron, record, item, loan = locked
        now = circulation.clock.now()
        today = circulation.today()
        loan.returned_at = now
        loan.return_library_id = library_id

        late = days_late(loan.due_date, today)
        rule = circulation.loan_rule(record, patron, item)
        fee_cents = 0
        fees = circulation.policy.fees
        if fees is not None and late:
            fee_cents = late_fee_cents(
                fees,
                rule,
                late_days=late,
                material_type=record.material_type,
                section=record.section,
                patron_age=age_on(patron.birth_date, loan.due_date),
                patron_category=patron.category,
            )
        if fee_cents:
            session.add(
                Fee(
                    patron_id=patron.id,
                    loan_id=loan.id,
                    kind=FeeKind.LATE,
                    amount_cents=fee_cents,
                    description=f"{record.title[:200]} ({late} days late)",
                    accrued_at=now,
                    days_late=late,
                )
            )
        await _late_return_block(
            circulation,
            session,
            patron,
            late=late,
            tolerance=rule.tolerance_days,
            returned_on=today,
            now=now,
        )
        await session.flush()
        await sync_standing(circulation, session, patron, now=now)
        trapped = await route_copy(
            circulation, session, item, record, at_library=library_id, now=now
        )
        return Outcome(CheckinResult(loan, fee_cents, trapped))


# The patron's standing, and whether others wait for the record.
_RENEWAL_FACTS = standing_query(
    exists().where(
        Hold.record_id == bindparam("record_id"),
        Hold.patron_id != bindparam("patron_id"),
        Hold.status == HoldStatus.WAITING,
    )
)


async def _renew(
    circulation: Circulation,
    session: AsyncSession,
    patron: Patron,
    loan: Loan,
    item: Item,
    record: Record,
) -> Outcome[Loan]:
    standing, (others_waiting,) = await circulation.standing_with(
        session, patron, _RENEWAL_FACTS, record_id=record.id
    )
    if standing.blocked:
        return Outcome(refusal=standing.refusal())
    check = renewal_check(
        circulation.policy,
        circulation.loan_rule(record, patron, item),
        current_due=loan.due_date,
        renewals_used=loan.renewals_used,
        today=circulation.today(),
        others_waiting=others_waiting,
        calendar=await circulation.calendar(session, loan.library_id),
    )
    if check.refusal is not None:
        days: dict[str, date] = {"due": loan.due_date}
        if check.renewable_from is not None:
            days["from_day"] = check.renewable_from
        return Outcome(refusal=Refusal(check.refusal, {"renewals": check.renewals_allowed}, days))
    assert check.new_due_date is not None
    now = circulation.clock.now()
    previous_due = loan.due_date
    loan.due_date = check.new_due_date
    loan.renewals_used += 1
    loan.overdue_reminders_sent = 0
    emit(
        session,
        LOAN_RENEWED,
        {
            "loanId": loan.id,
            "patronId": patron.id,
            # The record's detail shows the copy's due date.
            "recordId": record.id,
            "previousDueDate": previous_due.isoformat(),
            "dueDate": loan.due_date.isoformat(),
        },
        now=now,
    )
    return Outcome(loan)


# The patron, then the loan, locked in one statement (PostgreSQL locks the rows behind each
# result row in the order of the FROM list); the copy and the record are only read.
_LOCK_RENEWAL = (
    select(Patron, Loan, Item, Record)
    .where(
        Patron.id == bindparam("patron_id"),
        Loan.id == bindparam("loan_id"),
        Loan.patron_id == Patron.id,
        Item.id == Loan.item_id,
        Record.id == Item.record_id,
    )
    .with_for_update(of=(Patron, Loan))
)


async def renew_loan(circulation: Circulation, *, loan_id: int, patron_id: int) -> Outcome[Loan]:
    """Renew one of the patron's loans, if the rules allow it today."""
    async with unit_of_work(circulation.sessions) as session:
        row = (
            await session.execute(_LOCK_RENEWAL, {"patron_id": patron_id, "loan_id": loan_id})
        ).first()
        if row is None or row[1].returned_at:
            return Outcome(refusal=Refusal("NOT_FOUND"))
        return await _renew(circulation, session, *row)


async def renew_all(
    circulation: Circulation, *, patron_id: int
) -> list[tuple[Loan, Outcome[Loan]]]:
    """Renew every loan that may be renewed; one outcome per loan, soonest due first."""
    async with unit_of_work(circulation.sessions) as session:
        patron = await lock_patron(session, patron_id)
        if patron is None:
            return []
        loans = await session.execute(
            select(Loan, Item, Record)
            .join(Item, Item.id == Loan.item_id)
            .join(Record, Record.id == Item.record_id)
            .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
            .order_by(Loan.due_date, Loan.id)
            .with_for_update(of=Loan)
        )
        return [
            (loan, await _renew(circulation, session, patron, loan, item, record))
            for loan, item, record in loans
        ]
