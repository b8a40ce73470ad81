"""The patron's GraphQL types: their account, loans, holds, fees, standing and notification
settings. Built from the circulation core's views, so a field shows what the rules say today."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, time
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import GraphQLError
from sqlalchemy import or_, select

import db
from circulation import (
    LIBRARY_TIME_ZONE,
    HoldView,
    Language,
    LoanView,
    fee_summary,
    hold_views,
    loan_views,
)
from circulation import Standing as StandingState

from .._context import GraphQLInfo
from .._loaders import libraries_by_id

if TYPE_CHECKING:
    from ..catalog.types import Library, PageInfo, Record

__all__ = [
    "FeeItem",
    "Fees",
    "Hold",
    "HoldStatus",
    "LibraryType",
    "Loan",
    "LoanHistoryConnection",
    "LoanHistoryEdge",
    "LoanItem",
    "NotificationLanguage",
    "NotificationPreferences",
    "PastLoan",
    "Patron",
    "RecordType",
    "Standing",
    "StandingCode",
    "euro",
    "library_of",
    "moment",
    "parse_id",
    "record_of",
]

# The catalogue's types belong to another package of the schema: referenced lazily here, and
# imported where they are built, so that this module never needs it at import time.
LibraryType = Annotated["Library", strawberry.lazy("schema.catalog.types")]
RecordType = Annotated["Record", strawberry.lazy("schema.catalog.types")]
PageInfoType = Annotated["PageInfo", strawberry.lazy("schema.catalog.types")]

HISTORY_PAGE_SIZE = 20
HISTORY_MAX_PAGE_SIZE = 50
_BAD_INPUT = {"code": "BAD_USER_INPUT"}


def library_of(row: db.Library) -> Library:
    from ..catalog.types import Library

    return Library.from_row(row)


def record_of(row: db.Record) -> Record:
    from ..catalog.types import Record

    return Record.from_row(row)


def euro(cents: int) -> str:
    """An amount as the API writes it: euro with two decimals ("0.50")."""
    return f"{cents // 100}.{cents % 100:02d}"


def moment(value: datetime) -> datetime:
    """A moment as the API shows it: with the libraries' offset (the database keeps UTC)."""
    return value.astimezone(LIBRARY_TIME_ZONE)


def parse_id(value: str) -> int | None:
    """The number behind a loan or hold id; None for anything else (then: NOT_FOUND)."""
    # Bounded so that a long string of digits never reaches the database as an overflow.
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


@strawberry.enum(description="A patron's standing: whether they may borrow, hold and renew.")
class StandingCode(Enum):
    OK = "OK"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@strawberry.enum(description="Where a hold is: in the queue, travelling, on the shelf, or ended.")
class HoldStatus(Enum):
    WAITING = "WAITING"
    IN_TRANSIT = "IN_TRANSIT"
    READY = "READY"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    FULFILLED = "FULFILLED"


@strawberry.enum(description="The language of the patron's notifications.")
class NotificationLanguage(Enum):
    it = "it"
    en = "en"


@strawberry.type(description="Whether the patron may borrow, and if not why and until when.")
class Standing:
    code: StandingCode
    message: str = strawberry.field(description="Why, and what to do, in the request's language.")
    blocked_until: date | None = strawberry.field(
        description="The last blocked day; null when not blocked, blocked until a return or a"
        " payment, revoked, or expired."
    )

    @classmethod
    def of(cls, standing: StandingState, language: Language) -> Standing:
        # An expired registration carries its expiry date, which is not a last blocked day.
        last_day = standing.until if standing.code is db.StandingCode.SUSPENDED else None
        return cls(
            code=StandingCode(standing.code.value),
            message=standing.message(language),
            blocked_until=last_day,
        )


@strawberry.type(description="The copy a loan is of.")
class LoanItem:
    barcode: str
    call_number: str | None


@strawberry.type(description="An open loan, with whether and when it may be renewed.")
class Loan:
    id: strawberry.ID
    due_date: date = strawberry.field(description="The last day to return it.")
    loaned_at: datetime
    renewals_used: int
    renewals_left: int
    overdue_days: int
    renewable: bool
    renew_blocked_by: str | None = strawberry.field(
        description="Why a renewal would be refused now (an error code); null when renewable."
    )
    renewable_from: date | None = strawberry.field(
        description="With TOO_EARLY: the first day a renewal is allowed."
    )
    item: LoanItem
    view: strawberry.Private[LoanView]

    @classmethod
    def of(cls, view: LoanView) -> Loan:
        loan = view.loan
        return cls(
            id=strawberry.ID(str(loan.id)),
            due_date=loan.due_date,
            loaned_at=moment(loan.loaned_at),
            renewals_used=loan.renewals_used,
            renewals_left=view.renewals_left,
            overdue_days=view.overdue_days,
            renewable=view.renewable,
            renew_blocked_by=view.renew_blocked_by,
            renewable_from=view.renewable_from,
            item=LoanItem(barcode=view.item.barcode, call_number=view.item.call_number),
            view=view,
        )

    @strawberry.field
    def record(self) -> RecordType:
        return record_of(self.view.record)

    @strawberry.field(description="The library that lent it.")
    def library(self) -> LibraryType:
        return library_of(self.view.library)


@strawberry.type(description="A place in a record's queue, or a hold that ended lately.")
class Hold:
    id: strawberry.ID
    status: HoldStatus
    position: int | None = strawberry.field(
        description="Place in the queue while WAITING (a paused hold keeps it); null after."
    )
    placed_at: datetime
    pickup_deadline: date | None = strawberry.field(
        description="While READY: the last day to collect it."
    )
    suspended_until: date | None = strawberry.field(
        description="A paused WAITING hold is skipped up to this day (inclusive)."
    )
    estimated_ready_date: date | None = strawberry.field(
        description="For a WAITING hold: the best estimate, from the queue and the due dates."
    )
    view: strawberry.Private[HoldView]

    @classmethod
    def of(cls, view: HoldView) -> Hold:
        hold = view.hold
        return cls(
            id=strawberry.ID(str(hold.id)),
            status=HoldStatus(hold.status.value),
            position=view.position,
            placed_at=moment(hold.placed_at),
            pickup_deadline=hold.pickup_deadline,
            suspended_until=hold.suspended_until,
            estimated_ready_date=view.estimated_ready_date,
            view=view,
        )

    @strawberry.field
    def record(self) -> RecordType:
        return record_of(self.view.record)

    @strawberry.field
    def pickup_library(self) -> LibraryType:
        return library_of(self.view.pickup_library)


@strawberry.type(description="A fee as accrued.")
class FeeItem:
    loan_id: strawberry.ID | None
    amount: str = strawberry.field(description='Euro, e.g. "0.50".')
    description: str


@strawberry.type(description="What the patron owes.")
class Fees:
    total: str = strawberry.field(
        description="What the patron pays now, in euro: the items after the policy's caps,"
        " rounding, minimum and per-payment cap."
    )
    items: list[FeeItem]


@strawberry.type(description="How and when the patron is notified.")
class NotificationPreferences:
    push: bool
    sms: bool
    email: bool
    quiet_hours_start: str | None = strawberry.field(description='"HH:MM", Europe/Rome.')
    quiet_hours_end: str | None = strawberry.field(description='"HH:MM", Europe/Rome.')
    language: NotificationLanguage
    phone: str | None = strawberry.field(description="E.164, for text messages.")

    @classmethod
    def of(cls, patron: db.Patron) -> NotificationPreferences:
        def clock(value: time | None) -> str | None:
            return value.strftime("%H:%M") if value is not None else None

        return cls(
            push=patron.notify_push,
            sms=patron.notify_sms,
            # Not chosen yet: e-mail is on when there is an address to write to.
            email=patron.notify_email
            if patron.notify_email is not None
            else patron.email is not None,
            quiet_hours_start=clock(patron.quiet_hours_start),
            quiet_hours_end=clock(patron.quiet_hours_end),
            language=NotificationLanguage(patron.language),
            phone=patron.phone,
        )


@strawberry.type(description="A returned loan.")
class PastLoan:
    id: strawberry.ID
    due_date: date
    loaned_at: datetime
    returned_at: datetime
    item: LoanItem
    record_row: strawberry.Private[db.Record]
    library_row: strawberry.Private[db.Library]

    @strawberry.field
    def record(self) -> RecordType:
        return record_of(self.record_row)

    @strawberry.field(description="The library that lent it.")
    def library(self) -> LibraryType:
        return library_of(self.library_row)


@strawberry.type
class LoanHistoryEdge:
    cursor: str
    node: PastLoan


@strawberry.type(description="Returned loans, the latest returned first.")
class LoanHistoryConnection:
    edges: list[LoanHistoryEdge]
    page_info: PageInfoType


def _history_edge(
    loan: db.Loan, item: db.Item, record: db.Record, library: db.Library
) -> LoanHistoryEdge:
    assert loan.returned_at is not None
    cursor = f"{loan.returned_at.isoformat()}|{loan.id}"
    return LoanHistoryEdge(
        cursor=base64.urlsafe_b64encode(cursor.encode()).decode(),
        node=PastLoan(
            id=strawberry.ID(str(loan.id)),
            due_date=loan.due_date,
            loaned_at=moment(loan.loaned_at),
            returned_at=moment(loan.returned_at),
            item=LoanItem(barcode=item.barcode, call_number=item.call_number),
            record_row=record,
            library_row=library,
        ),
    )


def _history_position(cursor: str) -> tuple[datetime, int]:
    """Where a page after `cursor` starts: the return moment and id of the loan before it."""
    try:
        returned_at, loan_id = base64.urlsafe_b64decode(cursor).decode().split("|")
        position = datetime.fromisoformat(returned_at), int(loan_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise GraphQLError("after is not a cursor of this list", extensions=_BAD_INPUT) from error
    if position[0].tzinfo is None:
        raise GraphQLError("after is not a cursor of this list", extensions=_BAD_INPUT)
    return position


@strawberry.type(description="The signed-in patron.")
class Patron:
    id: strawberry.ID
    name: str
    card_number: str
    row: strawberry.Private[db.Patron]

    @classmethod
    def of(cls, row: db.Patron) -> Patron:
        return cls(
            id=strawberry.ID(str(row.id)), name=row.name, card_number=row.card_number, row=row
        )

    @strawberry.field(description="Where holds go when no pickup library is chosen.")
    async def preferred_pickup_library(self, info: GraphQLInfo) -> LibraryType | None:
        library_id = self.row.preferred_pickup_library_id
        if library_id is None:
            return None
        row = await libraries_by_id(info.context).load(library_id)
        return library_of(row) if row is not None else None

    @strawberry.field
    async def standing(self, info: GraphQLInfo) -> Standing:
        services = info.context.services
        async with db.reading(info.context.services.sessions) as session:
            standing = await services.circulation.standing(session, self.row)
        return Standing.of(standing, info.context.language)

    @strawberry.field(description="Open loans, soonest due first.")
    async def loans(self, info: GraphQLInfo) -> list[Loan]:
        services = info.context.services
        async with db.reading(info.context.services.sessions) as session:
            views = await loan_views(services.circulation, session, self.row)
        return [Loan.of(view) for view in views]

    @strawberry.field(description="Active holds, then those that ended in the last 14 days.")
    async def holds(self, info: GraphQLInfo) -> list[Hold]:
        services = info.context.services
        async with db.reading(info.context.services.sessions) as session:
            views = await hold_views(services.circulation, session, self.row)
        return [Hold.of(view) for view in views]

    @strawberry.field
    async def fees(self, info: GraphQLInfo) -> Fees:
        services = info.context.services
        async with db.reading(info.context.services.sessions) as session:
            summary = await fee_summary(services.circulation, session, self.row)
        return Fees(
            total=euro(summary.payable_cents),
            items=[
                FeeItem(
                    loan_id=strawberry.ID(str(line.loan_id)) if line.loan_id is not None else None,
                    amount=euro(line.unpaid_cents),
                    description=line.description,
                )
                for line in summary.lines
            ],
        )

    @strawberry.field
    def notification_preferences(self) -> NotificationPreferences:
        return NotificationPreferences.of(self.row)

    @strawberry.field(description="Returned loans, the latest returned first.")
    async def history(
        self, info: GraphQLInfo, first: int | None = None, after: str | None = None
    ) -> LoanHistoryConnection:
        from ..catalog.types import PageInfo

        size = HISTORY_PAGE_SIZE if first is None else min(first, HISTORY_MAX_PAGE_SIZE)
        if size < 0:
            raise GraphQLError("first must not be negative", extensions=_BAD_INPUT)
        query = (
            select(db.Loan, db.Item, db.Record, db.Library)
            .join(db.Item, db.Item.id == db.Loan.item_id)
            .join(db.Record, db.Record.id == db.Item.record_id)
            .join(db.Library, db.Library.id == db.Loan.library_id)
            .where(db.Loan.patron_id == self.row.id, db.Loan.returned_at.is_not(None))
            .order_by(db.Loan.returned_at.desc(), db.Loan.id.desc())
            .limit(size + 1)
        )
        if after is not None:
            returned_at, loan_id = _history_position(after)
            query = query.where(
                or_(
                    db.Loan.returned_at < returned_at,
                    (db.Loan.returned_at == returned_at) & (db.Loan.id < loan_id),
                )
            )
        async with db.reading(info.context.services.sessions) as session:
            rows = (await session.execute(query)).all()
        edges = [_history_edge(*row) for row in rows[:size]]
        return LoanHistoryConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
            ),
        )
