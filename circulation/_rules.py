"""The rules as pure functions of a policy and plain values: no database, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from db import DatePrecision, MaterialType, Section

from ._calendar import LibraryCalendar
from ._policy import FeePolicy, HoldPolicy, LoanRule, Policy

__all__ = [
    "RenewalCheck",
    "age_on",
    "arrival_day",
    "days_late",
    "due_date",
    "embargo_end",
    "late_fee_cents",
    "payable_cents",
    "pickup_deadline",
    "renewal_check",
]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _move_to_open_day(policy: Policy, day: date, calendar: LibraryCalendar) -> date:
    return calendar.next_open_day(day) if policy.move_due_date_to_open_day else day


def due_date(policy: Policy, rule: LoanRule, *, loaned_on: date, calendar: LibraryCalendar) -> date:
    """The due date of a loan made on `loaned_on` at the library whose calendar is given."""
    if rule.period_months is not None:
        day = loaned_on + relativedelta(months=rule.period_months)
    else:
        day = loaned_on + timedelta(days=rule.period_days or 0)
    return _move_to_open_day(policy, day, calendar)


@dataclass(frozen=True)
class RenewalCheck:
    """Why a loan cannot be renewed now (None: it can), from when it can, and to what date."""

    refusal: str | None
    renewable_from: date | None
    new_due_date: date | None
    renewals_allowed: int


def renewal_check(
    policy: Policy,
    rule: LoanRule,
    *,
    current_due: date,
    renewals_used: int,
    today: date,
    others_waiting: bool,
    calendar: LibraryCalendar,
) -> RenewalCheck:
    """Whether a loan may be renewed today; the refusal codes are the contract's."""
    if rule.renewals == 0:
        return RenewalCheck("NOT_RENEWABLE", None, None, 0)
    if renewals_used >= rule.renewals:
        return RenewalCheck("RENEWAL_LIMIT_REACHED", None, None, rule.renewals)
    if others_waiting and rule.hold_queue_blocks_renewal:
        return RenewalCheck("RESERVED_BY_OTHERS", None, None, rule.renewals)
    if rule.renew_days_after is not None and today > current_due + timedelta(
        days=rule.renew_days_after
    ):
        return RenewalCheck("TOO_LATE", None, None, rule.renewals)
    if rule.renew_days_before is not None:
        opens = current_due - timedelta(days=rule.renew_days_before)
        if today < opens:
            return RenewalCheck("TOO_EARLY", opens, None, rule.renewals)
    start = current_due if rule.renewal_from == "due_date" else today
    if rule.renewal_months is not None:
        renewed = start + relativedelta(months=rule.renewal_months)
    else:
        renewed = start + timedelta(days=rule.renewal_days or 0)
    # A renewal never brings the due date forward.
    renewed = max(_move_to_open_day(policy, renewed, calendar), current_due)
    return RenewalCheck(None, None, renewed, rule.renewals)


def days_late(due: date, day: date) -> int:
    return max(0, (day - due).days)


def age_on(birth_date: date | None, day: date) -> int | None:
    if birth_date is None:
        return None
    return relativedelta(day, birth_date).years


def late_fee_cents(
    fees: FeePolicy,
    rule: LoanRule,
    *,
    late_days: int,
    material_type: MaterialType,
    section: Section,
    patron_age: int | None,
    patron_category: str,
) -> int:
    """The fee for a loan `late_days` late: nothing within the tolerance; past it, the whole
    delay counts, by started period, less any discount, up to the item's cap."""
    if late_days <= rule.tolerance_days:
        return 0
    periods = -(-late_days // fees.per_days)
    amount = periods * fees.amount_cents
    for discount in fees.discounts:
        if discount.sections and section not in discount.sections:
            continue
        if discount.categories and patron_category not in discount.categories:
            continue
        if discount.under_age is not None and (
            patron_age is None or patron_age >= discount.under_age
        ):
            continue
        amount -= amount * discount.percent // 100
        break
    cap = fees.cap_cents_by_material.get(material_type, fees.cap_cents)
    return amount if cap is None else min(amount, cap)


def payable_cents(fees: FeePolicy | None, unpaid_cents: Iterable[int]) -> int:
    """What the patron pays now for these unpaid amounts: rounded to the policy's step
    (nearest, ties down), at least its minimum, at most its per-payment cap."""
    total = sum(unpaid_cents)
    if total <= 0 or fees is None:
        return max(total, 0)
    steps, remainder = divmod(total, fees.rounding_cents)
    rounded = (steps + (1 if remainder * 2 > fees.rounding_cents else 0)) * fees.rounding_cents
    rounded = max(rounded, fees.minimum_payment_cents)
    if fees.payment_cap_cents is not None:
        rounded = min(rounded, fees.payment_cap_cents)
    return rounded


def embargo_end(
    policy: Policy,
    *,
    material_type: MaterialType,
    published_on: date | None,
    precision: DatePrecision | None,
) -> date | None:
    """The first day new multimedia may circulate, or None when no embargo applies.

    A full date or a month counts from its (first) day; a year alone counts from 1 January of
    the next year (published 2025: from 2027-07-01 under the 18-month rule).
    """
    embargo = policy.embargo
    if embargo is None or material_type not in embargo.material_types or published_on is None:
        return None
    start = date(published_on.year + 1, 1, 1) if precision is DatePrecision.YEAR else published_on
    return start + relativedelta(months=embargo.months)


def pickup_deadline(holds: HoldPolicy, *, ready_on: date, calendar: LibraryCalendar) -> date:
    """The last day (inclusive) to collect a hold that became READY on `ready_on`."""
    if holds.pickup_days_count == "open_days":
        return calendar.open_days_after(ready_on, holds.pickup_days)
    return ready_on + timedelta(days=holds.pickup_days)


def arrival_day(holds: HoldPolicy, *, sent_on: date) -> date:
    """When a copy sent between libraries on `sent_on` arrives: the next courier day, or after
    the transit days."""
    if not holds.courier_weekdays:
        return sent_on + timedelta(days=holds.transit_days)
    courier = {_WEEKDAYS.index(weekday) for weekday in holds.courier_weekdays}
    day = sent_on + timedelta(days=1)
    while day.weekday() not in courier:
        day += timedelta(days=1)
    return day
