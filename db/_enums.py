"""The closed vocabularies stored in the database, as their names, checked by constraints."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DatePrecision",
    "FeeKind",
    "HoldStatus",
    "ItemStatus",
    "LoanType",
    "MaterialType",
    "Role",
    "Section",
    "StandingCode",
    "StandingSource",
]


class MaterialType(StrEnum):
    BOOK = "BOOK"
    AUDIOBOOK = "AUDIOBOOK"
    PERIODICAL = "PERIODICAL"
    AUDIOVISUAL = "AUDIOVISUAL"
    EBOOK = "EBOOK"
    KIT = "KIT"
    OTHER = "OTHER"


class Section(StrEnum):
    ADULT = "ADULT"
    CHILDREN = "CHILDREN"


class DatePrecision(StrEnum):
    YEAR = "YEAR"
    MONTH = "MONTH"
    DAY = "DAY"


class LoanType(StrEnum):
    """Fluxus loan types: an item lends for the ordinary or the short period, or not at all."""

    ORDINARY = "ORDINARY"
    SHORT = "SHORT"
    CONSULTATION = "CONSULTATION"


class ItemStatus(StrEnum):
    """Where a copy physically is; embargo and "not for loan" follow from the rules, not stored."""

    AVAILABLE = "AVAILABLE"
    ON_LOAN = "ON_LOAN"
    IN_TRANSIT = "IN_TRANSIT"
    ON_HOLD_SHELF = "ON_HOLD_SHELF"
    IN_QUARANTINE = "IN_QUARANTINE"
    LOST = "LOST"


class Role(StrEnum):
    PATRON = "PATRON"
    STAFF = "STAFF"


class StandingCode(StrEnum):
    OK = "OK"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class StandingSource(StrEnum):
    """Who set the standing: automatic blocks end by rule, staff blocks only by staff."""

    AUTOMATIC = "AUTOMATIC"
    STAFF = "STAFF"


class HoldStatus(StrEnum):
    WAITING = "WAITING"
    IN_TRANSIT = "IN_TRANSIT"
    READY = "READY"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    FULFILLED = "FULFILLED"


ACTIVE_HOLD_STATUSES = (HoldStatus.WAITING, HoldStatus.IN_TRANSIT, HoldStatus.READY)


class FeeKind(StrEnum):
    LATE = "LATE"
    LOST = "LOST"
    DAMAGE = "DAMAGE"
