"""A network's circulation policy: data (a TOML file), validated with clear errors.

The parameters are the Fluxus ones (seed 000): loan types, per material type and patron
category periods and renewals, which items circulate, limits, holds, notices, penalties,
the multimedia embargo, quarantine, and due dates on closed days.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from db import LoanType, MaterialType, Section

__all__ = [
    "Block",
    "Discount",
    "Embargo",
    "FeePolicy",
    "GroupLimit",
    "HoldPolicy",
    "InvalidPolicy",
    "LoanRule",
    "NoticePolicy",
    "Policy",
    "load_policy",
    "preset_names",
]

PRESETS = Path(__file__).with_name("policies")
Days = Annotated[int, Field(ge=0, le=3650)]
Cents = Annotated[int, Field(ge=0, le=1_000_000)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoanRule(_Part):
    """How a loan runs, for the items and patrons it matches (empty criteria match all)."""

    material_types: tuple[MaterialType, ...] = ()
    categories: tuple[str, ...] = ()
    loan_types: tuple[LoanType, ...] = ()

    period_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    period_months: Annotated[int, Field(ge=1, le=120)] | None = None
    renewals: Annotated[int, Field(ge=0, le=100)] = 0
    renewal_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    renewal_months: Annotated[int, Field(ge=1, le=120)] | None = None
    # A renewal counts from the current due date, or from the day it is asked for.
    renewal_from: Literal["due_date", "request_date"] = "due_date"
    # The renewal window around the due date: from `before` days before it (None: any time) to
    # `after` days after it (0: the due date itself; -1: strictly before it; None: any time).
    renew_days_before: Days | None = None
    renew_days_after: Annotated[int, Field(ge=-1, le=3650)] | None = 0
    hold_queue_blocks_renewal: bool = True
    # Grace days after the due date: returned within them, no fee and no block.
    tolerance_days: Days = 0

    def matches(self, material_type: MaterialType, category: str, loan_type: LoanType) -> bool:
        return (
            (not self.material_types or material_type in self.material_types)
            and (not self.categories or category in self.categories)
            and (not self.loan_types or loan_type in self.loan_types)
        )

    @model_validator(mode="after")
    def _one_period(self) -> LoanRule:
        if (self.period_days is None) == (self.period_months is None):
            raise ValueError("give exactly one of period_days and period_months")
        if self.renewals and (self.renewal_days is None) == (self.renewal_months is None):
            raise ValueError("a renewable rule gives exactly one of renewal_days, renewal_months")
        return self


class GroupLimit(_Part):
    """At most `max` loans at once of these material types (e.g. "multimedia")."""

    name: Annotated[str, Field(min_length=1)]
    material_types: tuple[MaterialType, ...] = Field(min_length=1)
    max: Annotated[int, Field(ge=0)]


class Limits(_Part):
    loans: Annotated[int, Field(ge=0)]
    holds: Annotated[int, Field(ge=0)]
    groups: tuple[GroupLimit, ...] = ()


class Circulating(_Part):
    """Which items may be lent: everything but what these exclude (and items flagged so)."""

    excluded_material_types: tuple[MaterialType, ...] = ()
    excluded_sections: tuple[Section, ...] = ()
    excluded_series: tuple[str, ...] = ()
    latest_issue_loanable: bool = False
    latest_issue_holdable: bool = False


class HoldPolicy(_Part):
    # The READY notice starts the pickup window: `pickup_days` calendar days, or open days of
    # the pickup library, after the day it became READY; the last one is inclusive.
    pickup_days: Annotated[int, Field(ge=1, le=60)]
    pickup_days_count: Literal["calendar", "open_days"] = "calendar"
    # Days a copy takes between libraries, or the courier's weekdays (arrival on the next one).
    transit_days: Annotated[int, Field(ge=0, le=30)] = 1
    courier_weekdays: tuple[Weekday, ...] = ()


class NoticePolicy(_Part):
    due_soon_days: Annotated[int, Field(ge=0, le=60)] = 3
    # Overdue reminders, in days after the due date: listed, or the first and then every N.
    overdue_days: tuple[Annotated[int, Field(ge=1)], ...] = (1, 8, 22)
    overdue_every_days: Annotated[int, Field(ge=1)] | None = None
    overdue_count: Annotated[int, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _schedule(self) -> NoticePolicy:
        if (self.overdue_every_days is None) != (self.overdue_count is None):
            raise ValueError("overdue_every_days and overdue_count go together")
        if list(self.overdue_days) != sorted(set(self.overdue_days)):
            raise ValueError("overdue_days must be increasing")
        return self

    def overdue_schedule(self) -> tuple[int, ...]:
        """The days after the due date on which an overdue reminder is sent."""
        if self.overdue_every_days is None or self.overdue_count is None:
            return self.overdue_days
        first = self.overdue_days[0] if self.overdue_days else self.overdue_every_days
        return tuple(first + n * self.overdue_every_days for n in range(self.overdue_count))


class Discount(_Part):
    """A share off the late fee, e.g. for patrons under an age on children's material."""

    percent: Annotated[int, Field(ge=1, le=100)]
    under_age: Annotated[int, Field(ge=1, le=120)] | None = None
    sections: tuple[Section, ...] = ()
    categories: tuple[str, ...] = ()


class FeePolicy(_Part):
    """Late fees: `amount_cents` per started `per_days` of delay, counted from the due date."""

    amount_cents: Cents
    per_days: Annotated[int, Field(ge=1, le=365)] = 1
    cap_cents: Cents | None = None
    cap_cents_by_material: dict[MaterialType, Cents] = Field(default_factory=dict)
    # A payment is rounded to a multiple of `rounding_cents` (nearest, ties down), at least
    # `minimum_payment_cents`, at most `payment_cap_cents`.
    rounding_cents: Annotated[int, Field(ge=1)] = 1
    minimum_payment_cents: Cents = 0
    payment_cap_cents: Cents | None = None
    discounts: tuple[Discount, ...] = ()


class Block(_Part):
    """A penalty on the patron's card (Fluxus "penali").

    - while_overdue: blocked while a loan is more than `after_days_late` days overdue, until
      its return (and, with `until_paid`, until the fees are paid);
    - days_late_beyond_tolerance: at the return, blocked for the days late beyond `tolerance_days`;
    - days_after_return: at the return of a late loan, blocked for `days` days;
    - revoke: a loan more than `after_days_late` days overdue revokes the card until staff act.
    """

    kind: Literal["while_overdue", "days_late_beyond_tolerance", "days_after_return", "revoke"]
    after_days_late: Days = 0
    until_paid: bool = False
    tolerance_days: Days = 0
    days: Days = 0


class Embargo(_Part):
    """New multimedia does not circulate until `months` after publication (18-month rule)."""

    material_types: tuple[MaterialType, ...] = Field(min_length=1)
    months: Annotated[int, Field(ge=1, le=120)]


class Policy(_Part):
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    loan_rules: tuple[LoanRule, ...] = Field(min_length=1)
    limits: Limits
    circulating: Circulating = Circulating()
    holds: HoldPolicy
    notices: NoticePolicy = NoticePolicy()
    fees: FeePolicy | None = None
    blocks: tuple[Block, ...] = ()
    embargo: Embargo | None = None
    quarantine_days: Days = 0
    move_due_date_to_open_day: bool = False

    @model_validator(mode="after")
    def _catch_all(self) -> Policy:
        last = self.loan_rules[-1]
        if last.material_types or last.categories or last.loan_types:
            raise ValueError("loan_rules: the last loan rule must match everything (no criteria)")
        return self

    def loan_rule(
        self, material_type: MaterialType, category: str, loan_type: LoanType
    ) -> LoanRule:
        """The first rule that matches: the most specific rules come first in the file."""
        return next(
            rule for rule in self.loan_rules if rule.matches(material_type, category, loan_type)
        )


class InvalidPolicy(ValueError):
    """A policy file that cannot be used; the message names the file and every problem."""


def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESETS.glob("*.toml"))


def load_policy(name_or_path: str | Path) -> Policy:
    """A preset by name (see `preset_names`) or a policy file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = PRESETS / f"{name_or_path}.toml"
        if not path.exists():
            raise InvalidPolicy(
                f"no policy preset {name_or_path!r}: the presets are {', '.join(preset_names())},"
                " or give the path of a .toml policy file"
            )
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidPolicy(f"{path}: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise InvalidPolicy(f"{path}: not TOML: {error}") from error
    try:
        return Policy.model_validate(document)
    except ValidationError as error:
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in problem['loc']) or '(top)'}: "
            f"{problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors()
        )
        raise InvalidPolicy(f"{path}: invalid policy:\n{problems}") from error
