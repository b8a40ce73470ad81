"""Scheduled work, driven by the clock: hold expiry and promotion, quarantine ends, due-soon
and overdue notices, automatic blocks. Every step may run any number of times, by several
workers at once, with one effect: rows are claimed under lock and marked in the same
transaction as the events they cause."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import RECORD_CHANGED
from db import (
    Fee,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Loan,
    OutboxEvent,
    Patron,
    Record,
    SchedulerMark,
    StandingCode,
    StandingSource,
)

from ._events import (
    DUE_SOON,
    HOLD_EXPIRED,
    HOLD_PICKUP_REMINDER,
    ITEM_STATUS_CHANGED,
    OVERDUE,
    emit,
    hold_event,
)
from ._holds import lock_copies, release_copy, serve_queue
from ._patrons import sync_standing
from ._rules import days_late, embargo_end
from ._state import Circulation, lock_record
from ._writes import unit_of_work

__all__ = ["WorkReport", "run_scheduled_work"]


@dataclass
class WorkReport:
    holds_expired: int = 0
    pickup_reminders: int = 0
    holds_served: int = 0
    quarantines_ended: int = 0
    due_soon_notices: int = 0
    overdue_notices: int = 0
    standings_checked: int = 0
    embargoes_ended: int = 0

    @property
    def anything(self) -> bool:
        return any(getattr(self, field.name) for field in fields(self))


async def _expire_holds(
    circulation: Circulation, session: AsyncSession, report: WorkReport
) -> None:
    now, today = circulation.clock.now(), circulation.today()
    due = await session.execute(
        select(Hold.id, Hold.record_id)
        .where(Hold.status == HoldStatus.READY, Hold.pickup_deadline < today)
        .order_by(Hold.id)
    )
    for hold_id, record_id in due.all():
        # Record first, then the hold (the order of every queue operation), and look again:
        # the patron may have collected it meanwhile.
        await lock_record(session, record_id)
        hold = await session.scalar(
            select(Hold)
            .where(Hold.id == hold_id, Hold.status == HoldStatus.READY)
            .with_for_update()
        )
        if hold is None:
            continue
        hold.status = HoldStatus.EXPIRED
        hold.ended_at = now
        hold_event(session, HOLD_EXPIRED, hold, now=now)
        await session.flush()
        await release_copy(circulation, session, hold, now=now)
        report.holds_expired += 1


async def _pickup_reminders(
    circulation: Circulation, session: AsyncSession, report: WorkReport
) -> None:
    now, today = circulation.clock.now(), circulation.today()
    last_day = await session.scalars(
        select(Hold)
        .where(
            Hold.status == HoldStatus.READY,
            Hold.pickup_deadline == today,
            Hold.pickup_reminder_sent.is_(False),
        )
        .with_for_update()
    )
    for hold in last_day:
        hold.pickup_reminder_sent = True
        emit(
            session,
            HOLD_PICKUP_REMINDER,
            {
                "holdId": hold.id,
                "patronId": hold.patron_id,
                "recordId": hold.record_id,
                "pickupLibraryId": hold.pickup_library_id,
                "pickupDeadline": today.isoformat(),
            },
            now=now,
        )
        report.pickup_reminders += 1


async def _serve_queues(
    circulation: Circulation, session: AsyncSession, report: WorkReport
) -> None:
    """Copies that became free by the clock (quarantine or embargo over, a paused hold
    resumed) go to the queue; quarantined copies nobody waits for go back on the shelf."""
    now, today = circulation.clock.now(), circulation.today()
    quarantine_over = (Item.status == ItemStatus.IN_QUARANTINE) & (Item.available_from <= today)
    free = quarantine_over | (Item.status == ItemStatus.AVAILABLE)
    record_ids = set(
        await session.scalars(
            select(Hold.record_id)
            .join(Item, Item.record_id == Hold.record_id)
            .where(Hold.status == HoldStatus.WAITING, free)
            .distinct()
        )
    )
    record_ids.update(
        await session.scalars(select(Item.record_id).where(quarantine_over).distinct())
    )
    for record_id in sorted(record_ids):
        # Record first, then its copies (the order of every queue operation).
        record = await lock_record(session, record_id)
        if record is None:
            continue
        copies = await lock_copies(session, record)
        report.holds_served += len(
            await serve_queue(circulation, session, record, now=now, copies=copies)
        )
        for item in copies:
            if item.status is ItemStatus.IN_QUARANTINE and item.available_from is not None:
                if item.available_from > today:
                    continue
                item.status = ItemStatus.AVAILABLE
                item.available_from = None
                emit(
                    session,
                    ITEM_STATUS_CHANGED,
                    {"itemId": item.id, "recordId": item.record_id, "status": item.status.value},
                    now=now,
                )
                report.quarantines_ended += 1


async def _due_soon(circulation: Circulation, session: AsyncSession, report: WorkReport) -> None:
    """One notice per patron and day for all the loans coming due (a digest, not one per book).

    One UPDATE marks the loans and returns them: set-based, so a million open loans take
    seconds, and a second worker's UPDATE waits for the first and then finds them marked."""
    now, today = circulation.clock.now(), circulation.today()
    horizon = today + timedelta(days=circulation.policy.notices.due_soon_days)
    marked = await session.execute(
        update(Loan)
        .where(
            Loan.returned_at.is_(None),
            Loan.due_date >= today,
            Loan.due_date <= horizon,
            (Loan.due_soon_notice_for.is_(None)) | (Loan.due_soon_notice_for != Loan.due_date),
        )
        .values(due_soon_notice_for=Loan.due_date)
        .returning(Loan.id, Loan.patron_id, Loan.due_date)
        .execution_options(synchronize_session=False)
    )
    by_patron: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for loan_id, patron_id, due in marked:
        by_patron[patron_id].append((due, loan_id))
    if not by_patron:
        return
    await session.execute(
        insert(OutboxEvent),
        [
            {
                "event_type": DUE_SOON,
                "payload": {
                    "patronId": patron_id,
                    "loans": [
                        {"loanId": loan_id, "dueDate": due.isoformat()}
                        for due, loan_id in sorted(loans)
                    ],
                },
                "occurred_at": now,
            }
            for patron_id, loans in sorted(by_patron.items())
        ],
    )
    report.due_soon_notices += len(by_patron)


async def _overdue(circulation: Circulation, session: AsyncSession, report: WorkReport) -> None:
    """The policy's reminders; after a pause in the work, one reminder catches up, not many."""
    now, today = circulation.clock.now(), circulation.today()
    schedule = circulation.policy.notices.overdue_schedule()
    if not schedule:
        return
    loans = await session.scalars(
        select(Loan)
        .where(
            Loan.returned_at.is_(None),
            Loan.due_date <= today - timedelta(days=schedule[0]),
            Loan.overdue_reminders_sent < len(schedule),
        )
        .order_by(Loan.patron_id, Loan.due_date, Loan.id)
        .with_for_update()
    )
    by_patron: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for loan in loans:
        late = days_late(loan.due_date, today)
        reached = sum(1 for day in schedule if day <= late)
        if reached <= loan.overdue_reminders_sent:
            continue
        loan.overdue_reminders_sent = reached
        by_patron[loan.patron_id].append(
            {
                "loanId": loan.id,
                "dueDate": loan.due_date.isoformat(),
                "overdueDays": late,
                "reminder": reached,
            }
        )
    for patron_id, late_loans in by_patron.items():
        emit(session, OVERDUE, {"patronId": patron_id, "loans": late_loans}, now=now)
        report.overdue_notices += 1


async def _standings(circulation: Circulation, session: AsyncSession, report: WorkReport) -> None:
    """Blocks begin and end by the clock: check the patrons a block could concern."""
    now, today = circulation.clock.now(), circulation.today()
    thresholds = [
        block.after_days_late
        for block in circulation.policy.blocks
        if block.kind in ("while_overdue", "revoke")
    ]
    candidates = set(
        await session.scalars(
            select(Patron.id).where(
                Patron.standing != StandingCode.OK,
                Patron.standing_source == StandingSource.AUTOMATIC,
            )
        )
    )
    if thresholds:
        late_since = today - timedelta(days=min(thresholds))
        candidates.update(
            await session.scalars(
                select(Loan.patron_id)
                .where(Loan.returned_at.is_(None), Loan.due_date < late_since)
                .distinct()
            )
        )
        candidates.update(
            await session.scalars(
                select(Fee.patron_id)
                .where(Fee.paid_cents < Fee.amount_cents, Fee.days_late > min(thresholds))
                .distinct()
            )
        )
    for patron_id in sorted(candidates):
        patron = await session.scalar(
            select(Patron).where(Patron.id == patron_id).with_for_update()
        )
        if patron is not None:
            await sync_standing(circulation, session, patron, now=now)
            report.standings_checked += 1


EMBARGO_SWEEP = "embargo-ends"


async def _embargoes_ending(
    circulation: Circulation, session: AsyncSession, report: WorkReport
) -> None:
    """Records whose embargo ended since the last sweep go to the outbox, so that the search
    index shows their copies on the shelf (waiting holds are served by _serve_queues)."""
    embargo = circulation.policy.embargo
    if embargo is None:
        return
    now, today = circulation.clock.now(), circulation.today()
    mark = await session.get(SchedulerMark, EMBARGO_SWEEP, with_for_update=True)
    since = mark.day if mark is not None else today - timedelta(days=1)
    if since >= today:
        return
    # A year-only date counts from the next 1 January: look a year further back.
    oldest = since - relativedelta(months=embargo.months, years=1)
    candidates = await session.scalars(
        select(Record).where(
            Record.material_type.in_(embargo.material_types),
            Record.published_on > oldest,
            Record.published_on <= today,
        )
    )
    for record in candidates:
        ends = embargo_end(
            circulation.policy,
            material_type=record.material_type,
            published_on=record.published_on,
            precision=record.published_precision,
        )
        if ends is not None and since < ends <= today:
            emit(session, RECORD_CHANGED, {"recordId": record.id}, now=now)
            report.embargoes_ended += 1
    if mark is None:
        session.add(SchedulerMark(name=EMBARGO_SWEEP, day=today))
    else:
        mark.day = today


async def run_scheduled_work(circulation: Circulation) -> WorkReport:
    """Do the work due up to the clock's now; each step in a transaction of its own."""
    report = WorkReport()
    steps = (
        _expire_holds,
        _pickup_reminders,
        _serve_queues,
        _embargoes_ending,
        _due_soon,
        _overdue,
        _standings,
    )
    for step in steps:
        async with unit_of_work(circulation.sessions) as session:
            await step(circulation, session, report)
    return report
