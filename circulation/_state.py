"""What the operations share: the service, its outcomes, and reads done under the right locks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from time import monotonic
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import (
    Fee,
    Item,
    ItemStatus,
    Library,
    LibraryClosure,
    LibraryHours,
    Loan,
    LoanType,
    Patron,
    Record,
)

from ._calendar import LibraryCalendar
from ._clock import Clock, library_date
from ._policy import LoanRule, Policy
from ._refusals import Refusal
from ._rules import embargo_end
from ._standing import Standing, evaluate_standing

__all__ = [
    "Circulation",
    "LibrarySite",
    "Outcome",
    "lock_copy",
    "lock_patron",
    "lock_record",
    "on_postgresql",
    "standing_query",
]

T = TypeVar("T", covariant=True)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What an operation did (`value`) or why it did nothing (`refusal`)."""

    value: T | None = None
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


_SITES_TTL_SECONDS = 300


@dataclass(frozen=True)
class LibrarySite:
    point: tuple[float, float] | None
    calendar: LibraryCalendar


@dataclass
class Circulation:
    """The circulation service of one network: its policy, its clock, its database."""

    policy: Policy
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    _sites: dict[str, LibrarySite] = field(default_factory=dict, repr=False)
    _sites_loaded_at: float = field(default=0.0, repr=False)

    def today(self) -> date:
        return library_date(self.clock.now())

    def loan_rule(self, record: Record, patron: Patron, item: Item) -> LoanRule:
        return self.policy.loan_rule(record.material_type, patron.category, item.loan_type)

    async def libraries(self, session: AsyncSession) -> dict[str, LibrarySite]:
        """Where each library is and when it opens. They change rarely, so they are read once
        and again after a few minutes (or at once when an unknown library is asked for)."""
        if monotonic() - self._sites_loaded_at > _SITES_TTL_SECONDS:
            self._sites = {}
        if not self._sites:
            weekdays: dict[str, set[int]] = defaultdict(set)
            closures: dict[str, set[date]] = defaultdict(set)
            for library_id, weekday in await session.execute(
                select(LibraryHours.library_id, LibraryHours.weekday)
            ):
                weekdays[library_id].add(weekday)
            for library_id, day in await session.execute(
                select(LibraryClosure.library_id, LibraryClosure.day)
            ):
                closures[library_id].add(day)
            self._sites = {
                library_id: LibrarySite(
                    point=None if lat is None or lon is None else (lat, lon),
                    calendar=LibraryCalendar.of(
                        weekdays_with_hours=weekdays[library_id], closures=closures[library_id]
                    ),
                )
                for library_id, lat, lon in await session.execute(
                    select(Library.id, Library.lat, Library.lon)
                )
            }
            self._sites_loaded_at = monotonic()
        return self._sites

    def forget_libraries(self) -> None:
        """Read the libraries again at the next need (after a dataset changed them)."""
        self._sites = {}

    async def site(self, session: AsyncSession, library_id: str) -> LibrarySite | None:
        """One library's site, or None when there is no such library."""
        sites = await self.libraries(session)
        if library_id not in sites:
            self._sites = {}
            sites = await self.libraries(session)
        return sites.get(library_id)

    async def calendar(self, session: AsyncSession, library_id: str) -> LibraryCalendar:
        site = await self.site(session, library_id)
        return site.calendar if site is not None else LibraryCalendar()

    async def standing(self, session: AsyncSession, patron: Patron) -> Standing:
        """The patron's standing today, from their stored blocks, loans and fees."""
        standing, _ = await self.standing_with(session, patron, _STANDING)
        return standing

    async def standing_with(
        self, session: AsyncSession, patron: Patron, statement: Select[Any], **values: Any
    ) -> tuple[Standing, Sequence[Any]]:
        """The standing, read by a statement of `standing_query`, and the values it reads after
        the standing's (`values`: its parameters besides the patron)."""
        earliest_due, latest_unpaid, *also = (
            await session.execute(statement, {"patron_id": patron.id, **values})
        ).one()
        standing = evaluate_standing(
            self.policy,
            patron=patron,
            open_due_dates=[] if earliest_due is None else [earliest_due],
            unpaid_fee_days_late=[] if latest_unpaid is None else [latest_unpaid],
            today=self.today(),
        )
        return standing, also

    def not_loanable(self, item: Item, record: Record) -> Refusal | None:
        """Why this copy never lends under the policy (NOT_LOANABLE), or None."""
        circulating = self.policy.circulating
        reasons: tuple[str, str] | None = None
        if not item.loanable or item.loan_type is LoanType.CONSULTATION:
            reasons = ("si consulta solo in sede", "it is for reading in the library only")
        elif record.latest_issue and not circulating.latest_issue_loanable:
            reasons = (
                "è l'ultimo numero del periodico, da leggere in sede",
                "it is the latest issue of the periodical, for reading in the library",
            )
        elif (
            record.material_type in circulating.excluded_material_types
            or record.section in circulating.excluded_sections
            or (record.series is not None and record.series in circulating.excluded_series)
        ):
            reasons = ("questo materiale è escluso dal prestito", "this material is not lent")
        if reasons is None:
            return None
        return Refusal("NOT_LOANABLE", {"reason_it": reasons[0], "reason_en": reasons[1]})

    def not_holdable(self, record: Record, copies: Iterable[Item]) -> Refusal | None:
        """Why nobody may place a hold on this record (NOT_HOLDABLE), or None."""
        if record.latest_issue and not self.policy.circulating.latest_issue_holdable:
            return Refusal(
                "NOT_HOLDABLE",
                {
                    "reason_it": "è l'ultimo numero del periodico, da leggere in sede",
                    "reason_en": "it is the latest issue of the periodical, for reading in the"
                    " library",
                },
            )
        if not any(
            self.not_loanable(copy, record) is None and copy.status is not ItemStatus.LOST
            for copy in copies
        ):
            return Refusal(
                "NOT_HOLDABLE",
                {
                    "reason_it": "la rete non ne ha copie che si prestano",
                    "reason_en": "the network has no copy that is lent",
                },
            )
        return None

    def embargoed_until(self, record: Record) -> date | None:
        """The first day this record's copies may circulate, while that day is still ahead."""
        end = embargo_end(
            self.policy,
            material_type=record.material_type,
            published_on=record.published_on,
            precision=record.published_precision,
        )
        return end if end is not None and end > self.today() else None


def standing_query(*also: ColumnElement[Any]) -> Select[Any]:
    """A statement reading what a patron's standing follows from (the earliest due date of
    their open loans, the most days late of their unpaid fees), for the patron bound to
    "patron_id", then `also`: an operation reads what it needs in the same round trip. Build
    each once: building a statement like this takes longer than running it."""
    return select(
        select(func.min(Loan.due_date))
        .where(Loan.patron_id == bindparam("patron_id"), Loan.returned_at.is_(None))
        .scalar_subquery(),
        select(func.max(Fee.days_late))
        .where(Fee.patron_id == bindparam("patron_id"), Fee.paid_cents < Fee.amount_cents)
        .scalar_subquery(),
        *also,
    )


_STANDING = standing_query()


async def lock_patron(session: AsyncSession, patron_id: int) -> Patron | None:
    """The patron row, locked: limits are counted under it, so concurrent requests queue."""
    return await session.scalar(select(Patron).where(Patron.id == patron_id).with_for_update())


async def lock_copy(session: AsyncSession, barcode: str) -> Item | None:
    """The copy, locked after its record: the order every operation on a record's copies
    and queue takes (patron, record, copies, holds), so that none can deadlock another."""
    record_id = await session.scalar(select(Item.record_id).where(Item.barcode == barcode))
    if record_id is None or await lock_record(session, record_id) is None:
        return None
    return await session.scalar(select(Item).where(Item.barcode == barcode).with_for_update())


async def lock_record(session: AsyncSession, record_id: str) -> Record | None:
    """The record row, locked: its hold queue changes one transaction at a time."""
    return await session.scalar(select(Record).where(Record.id == record_id).with_for_update())


def on_postgresql(session: AsyncSession) -> bool:
    """Whether the session's database is PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"
