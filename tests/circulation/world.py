"""A small library network in a real database, driven by a manual clock, for scenario tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import parse_published
from circulation import (
    LIBRARY_TIME_ZONE,
    CheckinResult,
    Circulation,
    FeeSummary,
    HoldView,
    LoanView,
    ManualClock,
    Outcome,
    PaymentResult,
    Refusal,
    Standing,
    checkin,
    checkout,
    fee_summary,
    hold_views,
    load_policy,
    loan_views,
    pay_fees,
    place_hold,
    renew_loan,
    run_scheduled_work,
)
from db import (
    Hold,
    Item,
    Library,
    LibraryClosure,
    LibraryHours,
    Loan,
    LoanType,
    MaterialType,
    OutboxEvent,
    Patron,
    Record,
    Role,
    Section,
    transaction,
)
from tests.factories import PIN_HASH

# Monday 2 March 2026, 10:00 in Pavia: a plain working day, far from holidays.
START = datetime(2026, 3, 2, 10, 0, tzinfo=LIBRARY_TIME_ZONE)
WEEKDAYS_MON_SAT = range(6)


def at(day: date, hour: int = 10) -> datetime:
    """A moment of `day` in the libraries' time zone."""
    return datetime.combine(day, time(hour), tzinfo=LIBRARY_TIME_ZONE)


@dataclass
class World:
    circulation: Circulation
    clock: ManualClock
    sessions: async_sessionmaker[AsyncSession]
    _serial: int = field(default=0)

    @property
    def today(self) -> date:
        return self.circulation.today()

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    async def library(
        self,
        library_id: str,
        *,
        open_weekdays: Any = WEEKDAYS_MON_SAT,
        closures: tuple[date, ...] = (),
        lat: float = 45.186,
        lon: float = 9.155,
    ) -> str:
        async with transaction(self.sessions) as session:
            session.add(
                Library(
                    id=library_id,
                    name=f"Biblioteca {library_id}",
                    lat=lat,
                    lon=lon,
                    hours=[
                        LibraryHours(weekday=d, opens=time(9), closes=time(18))
                        for d in open_weekdays
                    ],
                    closures=[LibraryClosure(day=day) for day in closures],
                )
            )
        return library_id

    async def record(
        self,
        *,
        material: MaterialType = MaterialType.BOOK,
        published: str | None = "2010",
        section: Section = Section.ADULT,
        latest_issue: bool = False,
        series: str | None = None,
    ) -> str:
        record_id = f"rec{self._next()}"
        published_on, precision = parse_published(published) if published else (None, None)
        async with transaction(self.sessions) as session:
            session.add(
                Record(
                    id=record_id,
                    title=f"Title {record_id}",
                    material_type=material,
                    published_on=published_on,
                    published_precision=precision,
                    section=section,
                    latest_issue=latest_issue,
                    series=series,
                )
            )
        return record_id

    async def item(
        self,
        record_id: str,
        library_id: str,
        *,
        loanable: bool = True,
        loan_type: LoanType = LoanType.ORDINARY,
    ) -> str:
        barcode = f"B{self._next():05d}"
        async with transaction(self.sessions) as session:
            session.add(
                Item(
                    barcode=barcode,
                    record_id=record_id,
                    library_id=library_id,
                    location_library_id=library_id,
                    loanable=loanable,
                    loan_type=loan_type,
                )
            )
        return barcode

    async def titles(
        self, library_id: str, count: int, *, material: MaterialType = MaterialType.BOOK
    ) -> list[str]:
        """`count` records with one copy each at the library; their barcodes."""
        return [
            await self.item(await self.record(material=material), library_id) for _ in range(count)
        ]

    async def patron(
        self,
        home_library_id: str,
        *,
        card: str | None = None,
        category: str = "ADULT",
        birth_date: date | None = date(1990, 1, 1),
        preferred_pickup: str | None = None,
        registration_expires: date | None = None,
        staff: bool = False,
    ) -> Patron:
        async with transaction(self.sessions) as session:
            patron = Patron(
                card_number=card or f"C{self._next():05d}",
                pin_hash=PIN_HASH,
                name="Patron",
                birth_date=birth_date,
                category=category,
                home_library_id=home_library_id,
                preferred_pickup_library_id=preferred_pickup,
                registration_expires=registration_expires,
                role=Role.STAFF if staff else Role.PATRON,
            )
            session.add(patron)
        return patron

    async def advance(self, *, days: int = 0, hours: int = 0) -> None:
        """Move the clock forward and do the work due by then, as the worker would."""
        self.clock.set(self.clock.now() + timedelta(days=days, hours=hours))
        await run_scheduled_work(self.circulation)

    async def advance_to(self, day: date, hour: int = 10) -> None:
        self.clock.set(at(day, hour))
        await run_scheduled_work(self.circulation)

    async def get(self, model: type[Any], key: Any) -> Any:
        async with self.sessions() as session:
            return await session.get(model, key)

    async def reload(self, patron: Patron) -> Patron:
        async with self.sessions() as session:
            refreshed = await session.get(Patron, patron.id)
        assert refreshed is not None
        return refreshed

    async def loans_seen_by(self, patron: Patron) -> list[LoanView]:
        async with self.sessions() as session:
            return await loan_views(self.circulation, session, await self.reload(patron))

    async def holds_seen_by(self, patron: Patron) -> list[HoldView]:
        async with self.sessions() as session:
            return await hold_views(self.circulation, session, await self.reload(patron))

    async def open_loans(self, patron: Patron) -> list[Loan]:
        async with self.sessions() as session:
            return list(
                await session.scalars(
                    select(Loan)
                    .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
                    .order_by(Loan.id)
                )
            )

    async def holds_of(self, record_id: str) -> list[Hold]:
        async with self.sessions() as session:
            return list(
                await session.scalars(
                    select(Hold).where(Hold.record_id == record_id).order_by(Hold.id)
                )
            )

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            return list(
                await session.scalars(
                    select(OutboxEvent.payload)
                    .where(OutboxEvent.event_type == event_type)
                    .order_by(OutboxEvent.id)
                )
            )

    async def count(self, model: type[Any]) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def ok(outcome: Outcome[Any]) -> Any:
    """The value of an outcome that must have succeeded."""
    assert outcome.refusal is None, outcome.refusal.message("en")
    return outcome.value


def refusal(outcome: Outcome[Any]) -> Refusal:
    """The refusal of an outcome that must have been refused."""
    assert outcome.refusal is not None, f"expected a refusal, got {outcome.value!r}"
    return outcome.refusal


def refused(outcome: Outcome[Any]) -> str:
    """The code of an outcome that must have been refused."""
    assert outcome.refusal is not None, f"expected a refusal, got {outcome.value!r}"
    return outcome.refusal.code


async def make_world(sessions: async_sessionmaker[AsyncSession], network: str) -> World:
    clock = ManualClock(START)
    return World(Circulation(load_policy(network), clock, sessions), clock, sessions)


async def lend(world: World, patron: Patron, barcode: str, library: str) -> Outcome[Loan]:
    return await checkout(
        world.circulation, card_number=patron.card_number, barcode=barcode, library_id=library
    )


async def lent(world: World, patron: Patron, barcode: str, library: str) -> Loan:
    loan: Loan = ok(await lend(world, patron, barcode, library))
    return loan


async def give_back(world: World, barcode: str, library: str) -> CheckinResult:
    result: CheckinResult = ok(
        await checkin(world.circulation, barcode=barcode, library_id=library)
    )
    return result


async def renew(world: World, patron: Patron, loan: Loan) -> Outcome[Loan]:
    return await renew_loan(world.circulation, loan_id=loan.id, patron_id=patron.id)


async def hold(world: World, patron: Patron, record_id: str) -> Outcome[Hold]:
    return await place_hold(world.circulation, patron_id=patron.id, record_id=record_id)


async def pay(world: World, patron: Patron, cents: int) -> Outcome[PaymentResult]:
    return await pay_fees(world.circulation, card_number=patron.card_number, amount_cents=cents)


async def standing_of(world: World, patron: Patron) -> Standing:
    """The patron's standing as circulation sees it now."""
    async with world.sessions() as session:
        return await world.circulation.standing(session, await world.reload(patron))


async def copy_of(world: World, barcode: str) -> Item:
    """The copy with this barcode, as the database has it now."""
    async with world.sessions() as session:
        found = await session.scalar(select(Item).where(Item.barcode == barcode))
        assert found is not None
        return found


async def fees_of(world: World, patron: Patron) -> FeeSummary:
    """The patron's fees as circulation sees them now."""
    async with world.sessions() as session:
        return await fee_summary(world.circulation, session, await world.reload(patron))


async def embargo_case(
    world: World, library_id: str, material: MaterialType, published: str, first_day: date
) -> None:
    """Refused EMBARGOED (from `first_day`) the day before it, lent on it."""
    library = await world.library(library_id)
    record = await world.record(material=material, published=published)
    barcode = await world.item(record, library)
    patron = await world.patron(library)

    await world.advance_to(date.fromordinal(first_day.toordinal() - 1))
    embargoed = refusal(await lend(world, patron, barcode, library))
    assert (embargoed.code, embargoed.days["from_day"]) == ("EMBARGOED", first_day)

    await world.advance_to(first_day)
    await lent(world, patron, barcode, library)
