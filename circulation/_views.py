"""What a patron sees of their loans and holds: renewability with reasons, queue positions,
and an estimated ready date. Each list loads in a fixed number of queries."""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import (
    ACTIVE_HOLD_STATUSES,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Library,
    Loan,
    LoanType,
    Patron,
    Record,
)

from ._rules import arrival_day, days_late, renewal_check
from ._state import Circulation

__all__ = ["HoldView", "LoanView", "hold_views", "loan_views"]

# Ended holds stay visible this long, so that a patron sees what happened to them.
ENDED_HOLDS_SHOWN_DAYS = 14


@dataclass(frozen=True)
class LoanView:
    loan: Loan
    item: Item
    record: Record
    library: Library
    renewals_left: int
    overdue_days: int
    renew_blocked_by: str | None
    renewable_from: date | None

    @property
    def renewable(self) -> bool:
        return self.renew_blocked_by is None


async def loan_views(
    circulation: Circulation, session: AsyncSession, patron: Patron
) -> list[LoanView]:
    """The patron's open loans, soonest due first, each knowing if and when it renews."""
    rows = (
        await session.execute(
            select(Loan, Item, Record, Library)
            .join(Item, Item.id == Loan.item_id)
            .join(Record, Record.id == Item.record_id)
            .join(Library, Library.id == Loan.library_id)
            .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
            .order_by(Loan.due_date, Loan.id)
        )
    ).all()
    if not rows:
        return []
    record_ids = {record.id for _, _, record, _ in rows}
    awaited = set(
        await session.scalars(
            select(Hold.record_id).where(
                Hold.record_id.in_(record_ids),
                Hold.patron_id != patron.id,
                Hold.status == HoldStatus.WAITING,
            )
        )
    )
    standing = await circulation.standing(session, patron)
    today = circulation.today()
    views: list[LoanView] = []
    for loan, item, record, library in rows:
        rule = circulation.loan_rule(record, patron, item)
        check = renewal_check(
            circulation.policy,
            rule,
            current_due=loan.due_date,
            renewals_used=loan.renewals_used,
            today=today,
            others_waiting=record.id in awaited,
            calendar=await circulation.calendar(session, loan.library_id),
        )
        blocked_by = "PATRON_BLOCKED" if standing.blocked else check.refusal
        views.append(
            LoanView(
                loan=loan,
                item=item,
                record=record,
                library=library,
                renewals_left=max(0, rule.renewals - loan.renewals_used),
                overdue_days=days_late(loan.due_date, today),
                renew_blocked_by=blocked_by,
                renewable_from=check.renewable_from if blocked_by == "TOO_EARLY" else None,
            )
        )
    return views


@dataclass(frozen=True)
class HoldView:
    hold: Hold
    record: Record
    pickup_library: Library
    # Place in the queue among the WAITING holds (paused ones keep theirs); None once served.
    position: int | None
    estimated_ready_date: date | None


def _loan_length(circulation: Circulation, record: Record, patron: Patron) -> timedelta:
    rule = circulation.policy.loan_rule(record.material_type, patron.category, LoanType.ORDINARY)
    if rule.period_months is not None:
        start = circulation.today()
        return (start + relativedelta(months=rule.period_months)) - start
    return timedelta(days=rule.period_days or 0)


async def hold_views(
    circulation: Circulation, session: AsyncSession, patron: Patron
) -> list[HoldView]:
    """Active holds (by placement), then those ended in the last two weeks."""
    circulation.today()
    shown_since = circulation.clock.now() - timedelta(days=ENDED_HOLDS_SHOWN_DAYS)
    rows = (
        await session.execute(
            select(Hold, Record, Library)
            .join(Record, Record.id == Hold.record_id)
            .join(Library, Library.id == Hold.pickup_library_id)
            .where(
                Hold.patron_id == patron.id,
                Hold.status.in_(ACTIVE_HOLD_STATUSES) | (Hold.ended_at >= shown_since),
            )
            .order_by(Hold.id)
        )
    ).all()
    waiting_records = {hold.record_id for hold, _, _ in rows if hold.status is HoldStatus.WAITING}
    queues: dict[str, list[Hold]] = defaultdict(list)
    copies: dict[str, list[tuple[Item, Loan | None]]] = defaultdict(list)
    if waiting_records:
        for hold in await session.scalars(
            select(Hold)
            .where(Hold.record_id.in_(waiting_records), Hold.status.in_(ACTIVE_HOLD_STATUSES))
            .order_by(Hold.id)
        ):
            queues[hold.record_id].append(hold)
        for item, loan in await session.execute(
            select(Item, Loan)
            .outerjoin(Loan, (Loan.item_id == Item.id) & Loan.returned_at.is_(None))
            .where(Item.record_id.in_(waiting_records), Item.status != ItemStatus.LOST)
        ):
            copies[item.record_id].append((item, loan))

    active: list[HoldView] = []
    ended: list[HoldView] = []
    for hold, record, library in rows:
        position = estimate = None
        if hold.status is HoldStatus.WAITING:
            queue = queues[record.id]
            waiting = [other for other in queue if other.status is HoldStatus.WAITING]
            position = 1 + sum(1 for other in waiting if other.id < hold.id)
            estimate = _estimate_ready(
                circulation,
                hold,
                record,
                queue,
                copies[record.id],
                _loan_length(circulation, record, patron),
            )
        view = HoldView(hold, record, library, position, estimate)
        (active if hold.status in ACTIVE_HOLD_STATUSES else ended).append(view)
    return active + ended


def _estimate_ready(
    circulation: Circulation,
    hold: Hold,
    record: Record,
    queue: list[Hold],
    copies: list[tuple[Item, Loan | None]],
    loan_length: timedelta,
) -> date | None:
    """When the copies, freed one by one at their due dates, reach this hold through the queue
    ahead of it (paused holds ahead are skipped; each patron served keeps a copy a loan period)."""
    circulating = [
        (item, loan) for item, loan in copies if circulation.not_loanable(item, record) is None
    ]
    if not circulating:
        return None
    today = circulation.today()
    embargo = circulation.embargoed_until(record) or today
    # With no copy at the pickup library, the one that frees up first still has to travel.
    travels = not any(
        (item.location_library_id or item.library_id) == hold.pickup_library_id
        for item, _ in circulating
    )
    pickup_window = timedelta(days=circulation.policy.holds.pickup_days)
    set_aside = {other.item_id: other for other in queue if other.item_id is not None}
    free: list[date] = []
    for item, loan in circulating:
        if loan is not None:
            free_on = max(loan.due_date, today)
        elif item.id in set_aside:
            # Kept for someone else: free again after their loan (or when they fail to collect).
            free_on = today + pickup_window + loan_length
        elif item.status is ItemStatus.IN_QUARANTINE and item.available_from:
            free_on = max(item.available_from, today)
        else:
            free_on = today
        heapq.heappush(free, max(free_on, embargo))
    for other in queue:
        paused = other.suspended_until is not None and other.suspended_until >= today
        if other.status is not HoldStatus.WAITING or (other.id != hold.id and paused):
            continue
        ready = heapq.heappop(free)
        if other.id == hold.id:
            if hold.suspended_until is not None:
                ready = max(ready, hold.suspended_until + timedelta(days=1))
            return arrival_day(circulation.policy.holds, sent_on=ready) if travels else ready
        heapq.heappush(free, ready + loan_length)
    return None
