"""The data model: the network's libraries and catalogue, its patrons, and circulation."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ._enums import (
    ACTIVE_HOLD_STATUSES,
    DatePrecision,
    FeeKind,
    HoldStatus,
    ItemStatus,
    LoanType,
    MaterialType,
    Role,
    Section,
    StandingCode,
    StandingSource,
)
from ._types import BigId, UtcDateTime

__all__ = [
    "AuthSession",
    "Base",
    "Delivery",
    "Fee",
    "Hold",
    "Item",
    "Library",
    "LibraryClosure",
    "LibraryHours",
    "Loan",
    "LoginFailures",
    "OutboxConsumer",
    "OutboxEvent",
    "Patron",
    "Payment",
    "PushSubscription",
    "Record",
    "RecordIsbn",
    "SchedulerMark",
]

# Stable constraint names, so that migrations can refer to them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(enum_class: type[StrEnum], name: str) -> Enum:
    """A portable enum column: a string checked by a named constraint, not a native PG type."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class Library(Base):
    __tablename__ = "libraries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))

    hours: Mapped[list[LibraryHours]] = relationship(
        cascade="all, delete-orphan", order_by="(LibraryHours.weekday, LibraryHours.opens)"
    )
    closures: Mapped[list[LibraryClosure]] = relationship(
        cascade="all, delete-orphan", order_by="LibraryClosure.day"
    )

    __table_args__ = (
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name="lon_range"),
        CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="location_whole"),
    )


class LibraryHours(Base):
    """One opening period on a weekday (0 = Monday); a weekday without any is a closed day."""

    __tablename__ = "library_hours"

    library_id: Mapped[str] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    opens: Mapped[time] = mapped_column(Time, primary_key=True)
    closes: Mapped[time] = mapped_column(Time)

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )


class LibraryClosure(Base):
    __tablename__ = "library_closures"

    library_id: Mapped[str] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class Record(Base):
    """A bibliographic record: what patrons search for and place holds on."""

    __tablename__ = "records"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    material_type: Mapped[MaterialType] = mapped_column(_enum(MaterialType, "material_type"))
    language: Mapped[str | None] = mapped_column(String(3))
    # The date as catalogued, and how much of it is known (the 18-month rule reads a year-only
    # date differently from a month); published_on is the first day of that period.
    published_on: Mapped[date | None] = mapped_column(Date)
    published_precision: Mapped[DatePrecision | None] = mapped_column(
        _enum(DatePrecision, "date_precision")
    )
    section: Mapped[Section] = mapped_column(_enum(Section, "section"), default=Section.ADULT)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    series: Mapped[str | None] = mapped_column(Text)
    latest_issue: Mapped[bool] = mapped_column(Boolean, default=False)

    isbns: Mapped[list[RecordIsbn]] = relationship(
        cascade="all, delete-orphan", order_by="RecordIsbn.position"
    )

    __table_args__ = (
        CheckConstraint(
            "(published_on IS NULL) = (published_precision IS NULL)", name="published_whole"
        ),
    )


class RecordIsbn(Base):
    __tablename__ = "record_isbns"

    record_id: Mapped[str] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    isbn13: Mapped[str] = mapped_column(String(13), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    __table_args__ = (
        CheckConstraint("length(isbn13) = 13", name="isbn13_length"),
        Index("ix_record_isbns_isbn13", "isbn13"),
    )


class Item(Base):
    """A copy: it belongs to one library and may be somewhere else on its way to a hold."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    library_id: Mapped[str] = mapped_column(ForeignKey("libraries.id"), index=True)
    # Where the copy is now: its own library, a pickup library, or the courier's van.
    location_library_id: Mapped[str | None] = mapped_column(ForeignKey("libraries.id"))
    call_number: Mapped[str | None] = mapped_column(String(100))
    loanable: Mapped[bool] = mapped_column(Boolean, default=True)
    loan_type: Mapped[LoanType] = mapped_column(
        _enum(LoanType, "loan_type"), default=LoanType.ORDINARY
    )
    status: Mapped[ItemStatus] = mapped_column(
        _enum(ItemStatus, "item_status"), default=ItemStatus.AVAILABLE
    )
    # The first day the copy may circulate again (end of quarantine, of a block after return).
    available_from: Mapped[date | None] = mapped_column(Date)


class Patron(Base):
    __tablename__ = "patrons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The library card number, or the codice fiscale in networks that use it (upper case).
    card_number: Mapped[str] = mapped_column(String(32), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(32), default="ADULT")
    home_library_id: Mapped[str] = mapped_column(ForeignKey("libraries.id"))
    preferred_pickup_library_id: Mapped[str | None] = mapped_column(ForeignKey("libraries.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    registration_expires: Mapped[date | None] = mapped_column(Date)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.PATRON)

    standing: Mapped[StandingCode] = mapped_column(
        _enum(StandingCode, "standing_code"), default=StandingCode.OK
    )
    standing_source: Mapped[StandingSource | None] = mapped_column(
        _enum(StandingSource, "standing_source")
    )
    # The staff note (names the library and the item); never shown to the patron.
    standing_note: Mapped[str | None] = mapped_column(Text)
    # Last blocked day; NULL while blocked means "until return/payment" (or REVOKED).
    standing_until: Mapped[date | None] = mapped_column(Date)

    # Notification preferences; NULL means the contract's default.
    notify_push: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_email: Mapped[bool | None] = mapped_column(Boolean)
    quiet_hours_start: Mapped[time | None] = mapped_column(Time, default=time(21, 0))
    quiet_hours_end: Mapped[time | None] = mapped_column(Time, default=time(8, 0))
    language: Mapped[str] = mapped_column(String(2), default="it")

    __table_args__ = (
        CheckConstraint("standing IN ('OK', 'SUSPENDED', 'REVOKED')", name="stored_standing"),
        CheckConstraint(
            "(standing = 'OK') = (standing_source IS NULL)", name="standing_source_when_blocked"
        ),
        CheckConstraint("language IN ('it', 'en')", name="language"),
        CheckConstraint(
            "(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)", name="quiet_hours_whole"
        ),
    )


class Loan(Base):
    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"))
    library_id: Mapped[str] = mapped_column(ForeignKey("libraries.id"))
    loaned_at: Mapped[datetime]
    due_date: Mapped[date] = mapped_column(Date)
    renewals_used: Mapped[int] = mapped_column(SmallInteger, default=0)
    returned_at: Mapped[datetime | None]
    return_library_id: Mapped[str | None] = mapped_column(ForeignKey("libraries.id"))
    # Notices already sent, so that scheduled work runs any number of times with one effect:
    # the due date the due-soon notice announced, and how many overdue reminders went out.
    due_soon_notice_for: Mapped[date | None] = mapped_column(Date)
    overdue_reminders_sent: Mapped[int] = mapped_column(
        SmallInteger, default=0, server_default=text("0")
    )

    __table_args__ = (
        CheckConstraint("renewals_used >= 0", name="renewals_used_not_negative"),
        CheckConstraint("(returned_at IS NULL) = (return_library_id IS NULL)", name="return_whole"),
        # The database itself keeps a copy from being lent twice at once.
        Index(
            "uq_loans_open_item",
            "item_id",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        Index(
            "ix_loans_open_by_patron",
            "patron_id",
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        Index(
            "ix_loans_open_by_due_date",
            "due_date",
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        Index("ix_loans_patron_returned", "patron_id", "returned_at"),
    )


_ACTIVE_HOLD = text(
    "status IN (" + ", ".join(f"'{status.value}'" for status in ACTIVE_HOLD_STATUSES) + ")"
)
_COPY_SET_ASIDE = text("status IN ('IN_TRANSIT', 'READY')")


class Hold(Base):
    """A place in a record's queue; the queue is first come first served by id."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"))
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"))
    pickup_library_id: Mapped[str] = mapped_column(ForeignKey("libraries.id"))
    status: Mapped[HoldStatus] = mapped_column(
        _enum(HoldStatus, "hold_status"), default=HoldStatus.WAITING
    )
    placed_at: Mapped[datetime]
    # A WAITING hold paused until this day (inclusive) keeps its place and is skipped.
    suspended_until: Mapped[date | None] = mapped_column(Date)
    # The copy set aside for the hold while IN_TRANSIT or READY.
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    ready_at: Mapped[datetime | None]
    pickup_deadline: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None]
    client_mutation_id: Mapped[str | None] = mapped_column(String(64))
    pickup_reminder_sent: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    __table_args__ = (
        UniqueConstraint("patron_id", "client_mutation_id"),
        Index(
            "uq_holds_active_patron_record",
            "patron_id",
            "record_id",
            unique=True,
            sqlite_where=_ACTIVE_HOLD,
            postgresql_where=_ACTIVE_HOLD,
        ),
        Index(
            "uq_holds_item_set_aside",
            "item_id",
            unique=True,
            sqlite_where=_COPY_SET_ASIDE,
            postgresql_where=_COPY_SET_ASIDE,
        ),
        Index("ix_holds_record_queue", "record_id", "status", "id"),
        Index("ix_holds_patron_status", "patron_id", "status"),
        CheckConstraint(
            "status NOT IN ('IN_TRANSIT', 'READY') OR item_id IS NOT NULL",
            name="item_when_set_aside",
        ),
        CheckConstraint(
            "status <> 'READY' OR pickup_deadline IS NOT NULL", name="deadline_when_ready"
        ),
    )


class Fee(Base):
    """A charge as accrued (per loan); what the patron pays is computed by the policy."""

    __tablename__ = "fees"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[FeeKind] = mapped_column(_enum(FeeKind, "fee_kind"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    paid_cents: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(300))
    accrued_at: Mapped[datetime]
    # How late the loan came back: blocks "until paid" refer to fees of loans this late.
    days_late: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("paid_cents BETWEEN 0 AND amount_cents", name="paid_within_amount"),
        UniqueConstraint("loan_id", "kind"),
    )


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    paid_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)


class PushSubscription(Base):
    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class OutboxEvent(Base):
    """An event written in the same transaction as the change it reports; consumers follow it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Circulation time (the injected clock), which may run ahead of the wall clock in tests.
    occurred_at: Mapped[datetime]

    __table_args__ = (Index("ix_outbox_event_type_id", "event_type", "id"),)


class AuthSession(Base):
    """A refresh token (stored as its SHA-256). Rotation chains tokens in one family; a token
    used twice means it was stolen, and the whole family is revoked."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginFailures(Base):
    """Consecutive failed logins for a card or an address, shared by every gateway process."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class SchedulerMark(Base):
    """The last day a day-by-day sweep of the scheduled work covered (e.g. embargoes ending)."""

    __tablename__ = "scheduler_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date)


class OutboxConsumer(Base):
    """How far a consumer (the search index, the notifier) has read the outbox."""

    __tablename__ = "outbox_consumers"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigId, default=0)


_DELIVERY_OPEN = text("status IN ('pending', 'deferred', 'sending')")


class Delivery(Base):
    """One notification of one outbox event on one channel to one target (a device, a phone,
    an address). The unique key is what makes it go out once, however many workers read the
    outbox; `next_attempt_at` is when it is due (after quiet hours, a retry's wait, or the
    lease of the worker sending it, while `sending`)."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # f"{event_id}:{channel}:{target}", and the SMS reference the gateway deduplicates on.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    event_id: Mapped[int] = mapped_column(BigId, index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    # The event's payload, kept here so that the outbox may be pruned.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    # The device, for push; a subscription removed meanwhile leaves NULL (and no message).
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The text as first built, so that a retry sends the same message.
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        CheckConstraint("channel IN ('push', 'sms', 'email')", name="channel"),
        CheckConstraint(
            "status IN ('pending', 'deferred', 'sending', 'sent', 'failed', 'skipped')",
            name="status",
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            sqlite_where=_DELIVERY_OPEN,
            postgresql_where=_DELIVERY_OPEN,
        ),
    )
