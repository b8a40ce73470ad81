"""Holds: the queue of a record, first come first served; copies set aside for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import BigInteger, bindparam, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import distance_meters
from db import (
    ACTIVE_HOLD_STATUSES,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Loan,
    Patron,
    Record,
    reading,
)

from ._events import HOLD_CANCELLED, HOLD_PLACED, HOLD_READY, ITEM_STATUS_CHANGED, emit, hold_event
from ._refusals import Refusal
from ._rules import pickup_deadline
from ._state import (
    Circulation,
    Outcome,
    lock_copy,
    lock_patron,
    lock_record,
    on_postgresql,
    standing_query,
)
from ._writes import unit_of_work

__all__ = [
    "GeoPoint",
    "cancel_hold",
    "change_hold_pickup",
    "lock_copies",
    "place_hold",
    "release_copy",
    "route_copy",
    "serve_queue",
    "suspend_hold",
]

_ENDED_STATUS = {
    HoldStatus.EXPIRED: ("è scaduta", "it has expired"),
    HoldStatus.CANCELLED: ("è stata annullata", "it was cancelled"),
    HoldStatus.FULFILLED: ("è già stata ritirata", "it has been collected"),
    HoldStatus.READY: ("è pronta per il ritiro", "it is ready for pickup"),
    HoldStatus.IN_TRANSIT: ("la copia è in viaggio", "the copy is on its way"),
}


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float


def _not_changeable(hold: Hold) -> Refusal:
    status_it, status_en = _ENDED_STATUS[hold.status]
    return Refusal("HOLD_NOT_CANCELLABLE", {"status_it": status_it, "status_en": status_en})


def _item_changed(session: AsyncSession, item: Item, *, now: datetime) -> None:
    emit(
        session,
        ITEM_STATUS_CHANGED,
        {"itemId": item.id, "recordId": item.record_id, "status": item.status.value},
        now=now,
    )


async def _set_aside(
    circulation: Circulation,
    session: AsyncSession,
    hold: Hold,
    item: Item,
    *,
    at_library: str,
    now: datetime,
) -> None:
    """Give `item`, now at `at_library`, to `hold`: READY there, or IN_TRANSIT to its pickup."""
    hold.item_id = item.id
    if at_library == hold.pickup_library_id:
        calendar = await circulation.calendar(session, hold.pickup_library_id)
        hold.status = HoldStatus.READY
        hold.ready_at = now
        hold.pickup_deadline = pickup_deadline(
            circulation.policy.holds, ready_on=circulation.today(), calendar=calendar
        )
        item.status = ItemStatus.ON_HOLD_SHELF
        item.location_library_id = hold.pickup_library_id
        emit(
            session,
            HOLD_READY,
            {
                "holdId": hold.id,
                "patronId": hold.patron_id,
                "recordId": hold.record_id,
                "pickupLibraryId": hold.pickup_library_id,
                "pickupDeadline": hold.pickup_deadline.isoformat(),
            },
            now=now,
        )
    else:
        hold.status = HoldStatus.IN_TRANSIT
        item.status = ItemStatus.IN_TRANSIT
        item.location_library_id = None
    item.available_from = None
    _item_changed(session, item, now=now)


# The WAITING holds on the record bound to "record_id" that may be served on the day bound to
# "today" (paused ones skipped).
_SERVABLE = (
    Hold.record_id == bindparam("record_id"),
    Hold.status == HoldStatus.WAITING,
    or_(Hold.suspended_until.is_(None), Hold.suspended_until < bindparam("today")),
)
_NEXT_HOLDS = select(Hold).where(*_SERVABLE).order_by(Hold.id)


async def _next_holds(
    circulation: Circulation, session: AsyncSession, record_id: str
) -> list[Hold]:
    """The holds that may be served now, first come first served."""
    return list(
        await session.scalars(_NEXT_HOLDS, {"record_id": record_id, "today": circulation.today()})
    )


async def _nearest_copy(
    circulation: Circulation, session: AsyncSession, copies: list[Item], pickup_library_id: str
) -> Item:
    """A copy at the pickup library, else the one nearest to it."""
    for copy in copies:
        if (copy.location_library_id or copy.library_id) == pickup_library_id:
            return copy
    sites = await circulation.libraries(session)
    pickup = sites.get(pickup_library_id)
    if pickup is None or pickup.point is None:
        return copies[0]
    here = pickup.point

    def distance(copy: Item) -> float:
        site = sites.get(copy.location_library_id or copy.library_id)
        if site is None or site.point is None:
            return float("inf")
        return distance_meters(*here, *site.point)

    return min(copies, key=distance)


def _free(item: Item, today: date) -> bool:
    """On the shelf: available, or out of a quarantine that has ended."""
    return item.status is ItemStatus.AVAILABLE or (
        item.status is ItemStatus.IN_QUARANTINE
        and item.available_from is not None
        and item.available_from <= today
    )


async def lock_copies(session: AsyncSession, record: Record) -> list[Item]:
    """Every copy of the record, locked against a desk lending one at the same moment."""
    return list(
        await session.scalars(
            select(Item).where(Item.record_id == record.id).order_by(Item.id).with_for_update()
        )
    )


async def serve_queue(
    circulation: Circulation,
    session: AsyncSession,
    record: Record,
    *,
    now: datetime,
    copies: list[Item] | None = None,
    queue: list[Hold] | None = None,
) -> list[Hold]:
    """Set the copies of `record` now on the shelf aside for the next holds in its queue
    (`copies`: the record's copies, when the caller has them locked already; `queue`: the
    holds that may be served, when the caller knows them)."""
    if circulation.embargoed_until(record) is not None:
        return []
    today = circulation.today()
    if copies is None:
        copies = await lock_copies(session, record)
    copies = [
        copy
        for copy in copies
        if _free(copy, today) and circulation.not_loanable(copy, record) is None
    ]
    if not copies:
        return []
    holds = queue if queue is not None else await _next_holds(circulation, session, record.id)
    served: list[Hold] = []
    for hold in holds:
        if not copies:
            break
        copy = await _nearest_copy(circulation, session, copies, hold.pickup_library_id)
        copies.remove(copy)
        await _set_aside(
            circulation,
            session,
            hold,
            copy,
            at_library=copy.location_library_id or copy.library_id,
            now=now,
        )
        served.append(hold)
    return served


async def route_copy(
    circulation: Circulation,
    session: AsyncSession,
    item: Item,
    record: Record,
    *,
    at_library: str,
    now: datetime,
) -> Hold | None:
    """A copy back on a desk at `at_library`: to the next hold, into quarantine, or on the
    shelf. Returns the hold it was set aside for."""
    quarantine = circulation.policy.quarantine_days
    if quarantine:
        item.status = ItemStatus.IN_QUARANTINE
        item.location_library_id = item.library_id
        item.available_from = date.fromordinal(circulation.today().toordinal() + quarantine)
        _item_changed(session, item, now=now)
        return None
    if circulation.embargoed_until(record) is None:
        holds = await _next_holds(circulation, session, record.id)
        if holds and circulation.not_loanable(item, record) is None:
            await _set_aside(circulation, session, holds[0], item, at_library=at_library, now=now)
            return holds[0]
    item.status = ItemStatus.AVAILABLE
    # Copies returned elsewhere travel home with the courier; the model takes them as home.
    item.location_library_id = item.library_id
    item.available_from = None
    _item_changed(session, item, now=now)
    return None


async def release_copy(
    circulation: Circulation, session: AsyncSession, hold: Hold, *, now: datetime
) -> None:
    """The copy set aside for a hold that ended goes to the next hold or back on the shelf."""
    if hold.item_id is None:
        return
    item = await session.get(Item, hold.item_id, with_for_update=True)
    record = await session.get(Record, hold.record_id)
    assert item is not None
    assert record is not None
    at_library = item.location_library_id or item.library_id
    await session.flush()
    await route_copy(circulation, session, item, record, at_library=at_library, now=now)


async def _default_pickup(
    circulation: Circulation, session: AsyncSession, patron: Patron, near: GeoPoint | None
) -> str:
    """The patron's preferred pickup library, else the nearest to `near`, else the home one."""
    if patron.preferred_pickup_library_id is not None:
        return patron.preferred_pickup_library_id
    if near is not None:
        located = [
            (distance_meters(near.lat, near.lon, *site.point), library_id)
            for library_id, site in (await circulation.libraries(session)).items()
            if site.point is not None
        ]
        if located:
            return min(located)[1]
    return patron.home_library_id


_ACTIVE = Hold.status.in_(ACTIVE_HOLD_STATUSES)
# Read under the patron's and the record's locks: the patron's standing and active holds,
# whether they hold or borrow the record already, whether holds wait in its queue.
_HOLD_FACTS_READ = (
    select(func.count()).where(Hold.patron_id == bindparam("patron_id"), _ACTIVE).scalar_subquery(),
    select(func.count())
    .where(
        Hold.patron_id == bindparam("patron_id"),
        Hold.record_id == bindparam("record_id"),
        _ACTIVE,
    )
    .scalar_subquery(),
    select(func.count())
    .select_from(Loan)
    .join(Item, Item.id == Loan.item_id)
    .where(
        Loan.patron_id == bindparam("patron_id"),
        Loan.returned_at.is_(None),
        Item.record_id == bindparam("record_id"),
    )
    .scalar_subquery(),
    exists().where(*_SERVABLE),
)
_HOLD_FACTS = standing_query(*_HOLD_FACTS_READ)
# On PostgreSQL, the same and the new hold's id, drawn from the table's sequence in the same
# round trip: known before anything is written, the id goes into the hold's events, and the
# hold, its copy and its events are written in one statement at the end (_writes.py). Drawn
# under the record's lock, ids keep the queue's order of arrival; a refused hold leaves a gap
# in the ids, as a rolled-back insert does.
_HOLD_FACTS_NUMBERED = standing_query(
    *_HOLD_FACTS_READ,
    func.nextval(func.pg_get_serial_sequence(Hold.__tablename__, Hold.id.key), type_=BigInteger),
)


@dataclass(frozen=True)
class _HoldFacts:
    refusal: Refusal | None
    # Holds wait in the record's queue that may be served now.
    queued: bool
    # The new hold's id (None on SQLite, which numbers it as it writes it).
    hold_id: int | None


async def _refuse_hold(
    circulation: Circulation,
    session: AsyncSession,
    patron: Patron,
    record: Record,
    copies: list[Item],
    pickup_library_id: str,
) -> _HoldFacts:
    """Why the patron may not hold the record (or None), and what placing it needs to know."""
    numbered = on_postgresql(session)
    standing, (holds, holding, on_loan, queued, *hold_id) = await circulation.standing_with(
        session,
        patron,
        _HOLD_FACTS_NUMBERED if numbered else _HOLD_FACTS,
        record_id=record.id,
        today=circulation.today(),
    )

    def refused(refusal: Refusal) -> _HoldFacts:
        return _HoldFacts(refusal, queued, None)

    if standing.blocked:
        return refused(standing.refusal())
    refusal = circulation.not_holdable(record, copies)
    if refusal is not None:
        return refused(refusal)
    if await circulation.site(session, pickup_library_id) is None:
        return refused(Refusal("INVALID_PICKUP_LIBRARY"))
    if holding:
        return refused(Refusal("ALREADY_HOLDING"))
    if on_loan:
        return refused(Refusal("ALREADY_ON_LOAN"))
    limit = circulation.policy.limits.holds
    if holds >= limit:
        return refused(Refusal("HOLD_LIMIT_REACHED", {"limit": limit}))
    return _HoldFacts(None, queued, hold_id[0] if hold_id else None)


# The patron, the record and its copies, locked in the order every operation takes: PostgreSQL
# locks the rows behind each result row in the order of the FROM list, the result rows in the
# order of ORDER BY. One statement instead of three.
_LOCK_HOLD_PARTIES = (
    select(Patron, Record, Item)
    .select_from(Patron)
    .join(Record, Record.id == bindparam("record_id"))
    .join(Item, Item.record_id == Record.id)
    .where(Patron.id == bindparam("patron_id"))
    .order_by(Item.id)
    .with_for_update()
)


async def _lock_hold_parties(
    session: AsyncSession, patron_id: int, record_id: str
) -> tuple[Patron | None, Record | None, list[Item]]:
    """The patron, the record and its copies, locked; None for a patron or record not found."""
    rows = (
        await session.execute(_LOCK_HOLD_PARTIES, {"patron_id": patron_id, "record_id": record_id})
    ).all()
    if rows:
        return rows[0][0], rows[0][1], [row[2] for row in rows]
    # No such patron or record, or a record without copies: which one, row by row.
    patron = await lock_patron(session, patron_id)
    record = await lock_record(session, record_id) if patron is not None else None
    return patron, record, await lock_copies(session, record) if record is not None else []


async def place_hold(
    circulation: Circulation,
    *,
    patron_id: int,
    record_id: str,
    pickup_library_id: str | None = None,
    near: GeoPoint | None = None,
    client_mutation_id: str | None = None,
) -> Outcome[Hold]:
    """Join the record's queue; a copy on the shelf is set aside at once. Sent again with the
    same `client_mutation_id`, returns the first result and creates nothing."""
    try:
        async with unit_of_work(circulation.sessions) as session:
            return await _place_hold(
                circulation,
                session,
                patron_id=patron_id,
                record_id=record_id,
                pickup_library_id=pickup_library_id,
                near=near,
                client_mutation_id=client_mutation_id,
            )
    except IntegrityError:
        # Only a concurrent twin with the same client mutation id gets here: answer as it did.
        if client_mutation_id is None:
            raise
        async with reading(circulation.sessions) as session:
            hold = await session.scalar(
                select(Hold).where(
                    Hold.patron_id == patron_id, Hold.client_mutation_id == client_mutation_id
                )
            )
        if hold is None:
            raise
        return Outcome(hold)


async def _place_hold(
    circulation: Circulation,
    session: AsyncSession,
    *,
    patron_id: int,
    record_id: str,
    pickup_library_id: str | None,
    near: GeoPoint | None,
    client_mutation_id: str | None,
) -> Outcome[Hold]:
    patron, record, copies = await _lock_hold_parties(session, patron_id, record_id)
    if patron is None:
        return Outcome(refusal=Refusal("NOT_FOUND"))
    if client_mutation_id is not None:
        earlier = await session.scalar(
            select(Hold).where(
                Hold.patron_id == patron.id, Hold.client_mutation_id == client_mutation_id
            )
        )
        if earlier is not None:
            return Outcome(earlier)
    if record is None:
        return Outcome(refusal=Refusal("NOT_FOUND"))
    pickup = pickup_library_id or await _default_pickup(circulation, session, patron, near)
    facts = await _refuse_hold(circulation, session, patron, record, copies, pickup)
    if facts.refusal is not None:
        return Outcome(refusal=facts.refusal)
    now = circulation.clock.now()
    # Every column set: on PostgreSQL the hold is then written with its copy and events in one
    # statement (_writes.py), with no default or id to read back.
    hold = Hold(
        id=facts.hold_id,
        patron_id=patron.id,
        record_id=record.id,
        pickup_library_id=pickup,
        status=HoldStatus.WAITING,
        placed_at=now,
        suspended_until=None,
        item_id=None,
        ready_at=None,
        pickup_deadline=None,
        ended_at=None,
        client_mutation_id=client_mutation_id,
        pickup_reminder_sent=False,
    )
    session.add(hold)
    if hold.id is None or facts.queued:
        # SQLite numbers the hold as it writes it (the events name it); a queue is read back
        # with the new hold in it.
        await session.flush()
    # The record's detail shows its queue's length (and, when the hold is served at once, the
    # copy set aside: that has an event of its own).
    hold_event(session, HOLD_PLACED, hold, now=now)
    if facts.queued:
        await serve_queue(circulation, session, record, now=now, copies=copies)
    else:
        # Alone in the queue: no need to read it back.
        await serve_queue(circulation, session, record, now=now, copies=copies, queue=[hold])
    return Outcome(hold)


async def _own_hold(
    session: AsyncSession, hold_id: int, patron_id: int | None
) -> tuple[Hold, Record] | None:
    """The hold and its record, locked record first (the order every operation on a queue
    takes, so that none can deadlock another); someone else's hold is as good as missing
    (`patron_id` None: staff)."""
    record_id = await session.scalar(select(Hold.record_id).where(Hold.id == hold_id))
    if record_id is None:
        return None
    record = await lock_record(session, record_id)
    hold = await session.scalar(select(Hold).where(Hold.id == hold_id).with_for_update())
    if record is None or hold is None or (patron_id is not None and hold.patron_id != patron_id):
        return None
    return hold, record


async def cancel_hold(
    circulation: Circulation, *, hold_id: int, patron_id: int | None
) -> Outcome[Hold]:
    """Leave the queue; a copy set aside goes to the next patron."""
    async with unit_of_work(circulation.sessions) as session:
        found = await _own_hold(session, hold_id, patron_id)
        if found is None:
            return Outcome(refusal=Refusal("NOT_FOUND"))
        hold, _ = found
        if hold.status not in ACTIVE_HOLD_STATUSES:
            return Outcome(refusal=_not_changeable(hold))
        now = circulation.clock.now()
        hold.status = HoldStatus.CANCELLED
        hold.ended_at = now
        # The record's queue may be one shorter: its detail shows the length.
        hold_event(session, HOLD_CANCELLED, hold, now=now)
        # No flush here: release_copy writes the hold before it reads the queue for a copy set
        # aside; a WAITING hold is written with its event as the unit of work ends.
        await release_copy(circulation, session, hold, now=now)
        return Outcome(hold)


async def suspend_hold(
    circulation: Circulation, *, hold_id: int, patron_id: int | None, until: date | None
) -> Outcome[Hold]:
    """Pause a WAITING hold to `until` (inclusive; it keeps its place), or resume it (None)."""
    async with unit_of_work(circulation.sessions) as session:
        found = await _own_hold(session, hold_id, patron_id)
        if found is None:
            return Outcome(refusal=Refusal("NOT_FOUND"))
        hold, record = found
        if hold.status is not HoldStatus.WAITING:
            return Outcome(refusal=_not_changeable(hold))
        today = circulation.today()
        if until is not None and until < today:
            return Outcome(
                refusal=Refusal(
                    "INVALID_TIME",
                    {
                        "detail_it": "La data di fine pausa è già passata.",
                        "detail_en": "The end of the pause is already past.",
                    },
                )
            )
        hold.suspended_until = until
        await session.flush()
        if until is None:
            await serve_queue(circulation, session, record, now=circulation.clock.now())
        return Outcome(hold)


async def change_hold_pickup(
    circulation: Circulation, *, hold_id: int, patron_id: int | None, library_id: str
) -> Outcome[Hold]:
    """Collect at another library; a copy already on a hold shelf travels there."""
    async with unit_of_work(circulation.sessions) as session:
        found = await _own_hold(session, hold_id, patron_id)
        if found is None:
            return Outcome(refusal=Refusal("NOT_FOUND"))
        hold, _ = found
        if hold.status not in ACTIVE_HOLD_STATUSES:
            return Outcome(refusal=_not_changeable(hold))
        if await circulation.site(session, library_id) is None:
            return Outcome(refusal=Refusal("INVALID_PICKUP_LIBRARY"))
        if hold.pickup_library_id == library_id:
            return Outcome(hold)
        hold.pickup_library_id = library_id
        if hold.status is HoldStatus.READY and hold.item_id is not None:
            item = await session.get(Item, hold.item_id, with_for_update=True)
            assert item is not None
            hold.status = HoldStatus.IN_TRANSIT
            hold.ready_at = None
            hold.pickup_deadline = None
            item.status = ItemStatus.IN_TRANSIT
            item.location_library_id = None
            _item_changed(session, item, now=circulation.clock.now())
        return Outcome(hold)


async def receive_transit(
    circulation: Circulation, *, barcode: str, library_id: str
) -> Outcome[Hold]:
    """A copy in transit arrived at its hold's pickup library: the hold is READY."""
    async with unit_of_work(circulation.sessions) as session:
        item = await lock_copy(session, barcode)
        if item is None:
            return Outcome(refusal=Refusal("NOT_FOUND"))
        hold = await session.scalar(
            select(Hold)
            .where(Hold.item_id == item.id, Hold.status == HoldStatus.IN_TRANSIT)
            .with_for_update()
        )
        if hold is None or item.status is not ItemStatus.IN_TRANSIT:
            return Outcome(
                refusal=Refusal(
                    "ITEM_NOT_AVAILABLE",
                    {
                        "status_it": "non è in viaggio verso una prenotazione",
                        "status_en": "it is not in transit to a hold",
                    },
                )
            )
        if hold.pickup_library_id != library_id:
            return Outcome(refusal=Refusal("INVALID_PICKUP_LIBRARY"))
        await _set_aside(
            circulation, session, hold, item, at_library=library_id, now=circulation.clock.now()
        )
        return Outcome(hold)
