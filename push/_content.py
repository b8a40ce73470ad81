"""Messages built when they are first sent, from the event and the database as they are then:
a loan returned or renewed meanwhile is left out, a hold collected meanwhile sends nothing, and
the due-soon digest says what can be renewed on the day it arrives (circulation's loan views)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from circulation import (
    ACCOUNT_SUSPENDED,
    DUE_SOON,
    HOLD_EXPIRED,
    HOLD_PICKUP_REMINDER,
    HOLD_READY,
    LOAN_RENEWED,
    OVERDUE,
    Circulation,
    Language,
    loan_views,
)
from db import Hold, HoldStatus, Item, Library, Loan, Patron, Record, StandingCode

from ._messages import (
    DueLoan,
    LateLoan,
    Message,
    account_suspended,
    due_soon,
    hold_expired,
    hold_ready,
    loan_renewed,
    overdue,
    pickup_reminder,
)

__all__ = ["EventToBuild", "build_messages"]

_HOLD_EVENTS = (HOLD_READY, HOLD_PICKUP_REMINDER, HOLD_EXPIRED)
_LOAN_EVENTS = (OVERDUE, LOAN_RENEWED)

EventToBuild = tuple[int, str, dict[str, Any], Patron]


def _language(patron: Patron) -> Language:
    return "en" if patron.language == "en" else "it"


def _loan_ids(event_type: str, payload: dict[str, Any]) -> list[int]:
    if event_type == LOAN_RENEWED:
        return [int(payload["loanId"])]
    return [int(loan["loanId"]) for loan in payload.get("loans", [])]


async def _names(
    session: AsyncSession, model: Any, ids: Iterable[Any], column: Any
) -> dict[Any, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(model.id, column).where(model.id.in_(wanted)))
    return {key: str(value) for key, value in rows}


class _Context:
    """What a batch of events refers to, each kind read in one query."""

    def __init__(self) -> None:
        self.holds: dict[int, HoldStatus] = {}
        self.titles: dict[str, str] = {}
        self.libraries: dict[str, str] = {}
        self.loans: dict[int, tuple[str, date, bool]] = {}

    async def load(self, session: AsyncSession, events: list[EventToBuild]) -> None:
        holds = [p for _, kind, p, _ in events if kind in _HOLD_EVENTS]
        if holds:
            statuses = await session.execute(
                select(Hold.id, Hold.status).where(Hold.id.in_({int(p["holdId"]) for p in holds}))
            )
            self.holds = {row.id: row.status for row in statuses}
        self.titles = await _names(session, Record, (p["recordId"] for p in holds), Record.title)
        self.libraries = await _names(
            session,
            Library,
            (p["pickupLibraryId"] for p in holds if "pickupLibraryId" in p),
            Library.name,
        )
        loan_ids = {
            i for _, kind, p, _ in events if kind in _LOAN_EVENTS for i in _loan_ids(kind, p)
        }
        if loan_ids:
            rows = await session.execute(
                select(Loan.id, Record.title, Loan.due_date, Loan.returned_at.is_not(None))
                .join(Item, Item.id == Loan.item_id)
                .join(Record, Record.id == Item.record_id)
                .where(Loan.id.in_(loan_ids))
            )
            self.loans = {loan_id: (title, due, returned) for loan_id, title, due, returned in rows}


async def _due_soon(
    circulation: Circulation,
    session: AsyncSession,
    event_id: int,
    payload: dict[str, Any],
    patron: Patron,
) -> Message | None:
    announced = {int(loan["loanId"]): loan["dueDate"] for loan in payload["loans"]}
    # Still open and still due when announced (a renewal moved it: nothing to remind).
    loans = [
        DueLoan(view.record.title, view.loan.due_date, view.renewable, view.renewable_from)
        for view in await loan_views(circulation, session, patron)
        if announced.get(view.loan.id) == view.loan.due_date.isoformat()
    ]
    if not loans:
        return None
    return due_soon(language=_language(patron), event_id=event_id, loans=loans)


async def _build(
    circulation: Circulation, session: AsyncSession, context: _Context, event: EventToBuild
) -> Message | None:
    event_id, kind, payload, patron = event
    language = _language(patron)
    if kind in _HOLD_EVENTS:
        hold_id = int(payload["holdId"])
        title = context.titles.get(payload["recordId"], "")
        library = context.libraries.get(payload.get("pickupLibraryId", ""), "")
        if kind == HOLD_EXPIRED:
            return hold_expired(language=language, hold_id=hold_id, title=title)
        if context.holds.get(hold_id) is not HoldStatus.READY:
            return None  # collected or cancelled meanwhile
        if kind == HOLD_READY:
            deadline = date.fromisoformat(payload["pickupDeadline"])
            return hold_ready(
                language=language, hold_id=hold_id, title=title, library=library, deadline=deadline
            )
        return pickup_reminder(language=language, hold_id=hold_id, title=title, library=library)
    if kind == DUE_SOON:
        return await _due_soon(circulation, session, event_id, payload, patron)
    if kind == OVERDUE:
        late = [
            LateLoan(
                context.loans[int(loan["loanId"])][0],
                date.fromisoformat(loan["dueDate"]),
                int(loan["overdueDays"]),
            )
            for loan in payload["loans"]
            if int(loan["loanId"]) in context.loans and not context.loans[int(loan["loanId"])][2]
        ]
        return overdue(language=language, event_id=event_id, loans=late) if late else None
    if kind == LOAN_RENEWED:
        title = context.loans.get(int(payload["loanId"]), ("", None, False))[0]
        due = date.fromisoformat(payload["dueDate"])
        return loan_renewed(language=language, event_id=event_id, title=title, due=due)
    if kind == ACCOUNT_SUSPENDED:
        standing = await circulation.standing(session, patron)
        if not standing.blocked:
            return None  # lifted meanwhile
        revoked = standing.code is StandingCode.REVOKED
        return account_suspended(
            language=language, revoked=revoked, explanation=standing.message(language)
        )
    return None


def _check(kind: str, payload: dict[str, Any]) -> None:
    """Read every field the message needs, so that a malformed payload fails here."""
    int(payload["patronId"])
    if kind in _HOLD_EVENTS:
        int(payload["holdId"])
        str(payload["recordId"])
        if kind != HOLD_EXPIRED:
            str(payload["pickupLibraryId"])
            date.fromisoformat(payload["pickupDeadline"])
    elif kind in (DUE_SOON, OVERDUE):
        for loan in payload["loans"]:
            int(loan["loanId"])
            date.fromisoformat(loan["dueDate"])
            if kind == OVERDUE:
                int(loan["overdueDays"])
    elif kind == LOAN_RENEWED:
        int(payload["loanId"])
        date.fromisoformat(payload["dueDate"])


async def build_messages(
    *, circulation: Circulation, session: AsyncSession, events: list[EventToBuild]
) -> Mapping[int, Message | str | None]:
    """Each event's message by event id; None when there is nothing left to say, and why not
    for an event whose payload cannot be read (it must not hold up the others)."""
    built: dict[int, Message | str | None] = {}
    readable: list[EventToBuild] = []
    for event in events:
        try:
            _check(event[1], event[2])
            readable.append(event)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            built[event[0]] = f"unreadable {event[1]} payload: {error!r}"
    context = _Context()
    await context.load(session, readable)
    for event in readable:
        if event[0] not in built:
            built[event[0]] = await _build(circulation, session, context, event)
    return built
