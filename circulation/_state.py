"""What the operations share: the service, its outcomes, and reads done under the right locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import (
    Fee,
    Item,
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

__all__ = ["Circulation", "Outcome"]

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What an operation did (`value`) or why it did nothing (`refusal`)."""

    value: T | None = None
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


@dataclass
class Circulation:
    """The circulation service of one network: its policy, its clock, its database."""

    policy: Policy
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    _calendars: dict[str, LibraryCalendar] = field(default_factory=dict, repr=False)

    def today(self) -> date:
        return library_date(self.clock.now())

    def loan_rule(self, record: Record, patron: Patron, item: Item) -> LoanRule:
        return self.policy.loan_rule(record.material_type, patron.category, item.loan_type)

    async def calendar(self, session: AsyncSession, library_id: str) -> LibraryCalendar:
        """The library's open days (hours and closures change rarely: read once per service)."""
        calendar = self._calendars.get(library_id)
        if calendar is None:
            weekdays = await session.scalars(
                select(LibraryHours.weekday).where(LibraryHours.library_id == library_id)
            )
            closures = await session.scalars(
                select(LibraryClosure.day).where(LibraryClosure.library_id == library_id)
            )
            calendar = LibraryCalendar.of(weekdays_with_hours=weekdays, closures=closures)
            self._calendars[library_id] = calendar
        return calendar

    def forget_calendars(self) -> None:
        """Drop the cached calendars (after a dataset changed hours or closures)."""
        self._calendars.clear()

    async def standing(self, session: AsyncSession, patron: Patron) -> Standing:
        open_due_dates = await session.scalars(
            select(Loan.due_date).where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
        )
        unpaid_days_late = await session.scalars(
            select(Fee.days_late).where(
                Fee.patron_id == patron.id,
                Fee.paid_cents < Fee.amount_cents,
                Fee.days_late.is_not(None),
            )
        )
        return evaluate_standing(
            self.policy,
            patron=patron,
            open_due_dates=open_due_dates,
            unpaid_fee_days_late=[days for days in unpaid_days_late if days is not None],
            today=self.today(),
        )

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

    def embargoed_until(self, record: Record) -> date | None:
        """The first day this record's copies may circulate, while that day is still ahead."""
        end = embargo_end(
            self.policy,
            material_type=record.material_type,
            published_on=record.published_on,
            precision=record.published_precision,
        )
        return end if end is not None and end > self.today() else None


async def lock_patron(session: AsyncSession, patron_id: int) -> Patron | None:
    """The patron row, locked: limits are counted under it, so concurrent requests queue."""
    return await session.scalar(select(Patron).where(Patron.id == patron_id).with_for_update())


async def lock_item(session: AsyncSession, barcode: str) -> Item | None:
    return await session.scalar(select(Item).where(Item.barcode == barcode).with_for_update())


async def lock_record(session: AsyncSession, record_id: str) -> Record | None:
    """The record row, locked: its hold queue changes one transaction at a time."""
    return await session.scalar(select(Record).where(Record.id == record_id).with_for_update())
