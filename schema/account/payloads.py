"""Mutation answers that several mutations share: a session, a hold, a loan. A hold or loan in
an answer is read again after the change, as its patron sees it now."""

from __future__ import annotations

import strawberry

import db
from auth import SessionTokens, SignInRefusal
from circulation import HoldView, Language, LoanView, Outcome, Refusal, hold_views, loan_views

from .._context import Context
from .._errors import UserError, user_error, user_errors
from .types import Hold, Loan

__all__ = [
    "HoldPayload",
    "LoanPayload",
    "SessionPayload",
    "hold_answer",
    "invalid_time",
    "loan_views_by_id",
]


def invalid_time(italian: str, english: str) -> Refusal:
    """INVALID_TIME, saying in both languages what is wrong with a date or a time given."""
    return Refusal("INVALID_TIME", {"detail_it": italian, "detail_en": english})


@strawberry.type(description="A new session's tokens, or why there is none.")
class SessionPayload:
    access_token: str | None = strawberry.field(
        default=None, description="Sent as Authorization: Bearer; short-lived."
    )
    refresh_token: str | None = strawberry.field(
        default=None, description="For refreshSession and logout; it works once."
    )
    expires_in: int | None = strawberry.field(
        default=None, description="Seconds until the access token expires."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: SessionTokens | SignInRefusal, language: Language) -> SessionPayload:
        if isinstance(result, SessionTokens):
            return cls(
                access_token=result.access_token,
                refresh_token=result.refresh_token,
                expires_in=result.expires_in,
            )
        return cls(errors=[user_error(result, language)])


async def hold_answer(context: Context, hold: db.Hold) -> Hold:
    """The hold as its patron sees it now."""
    services = context.services
    async with db.reading(context.services.sessions) as session:
        patron = await session.get(db.Patron, hold.patron_id)
        assert patron is not None
        for view in await hold_views(services.circulation, session, patron):
            if view.hold.id == hold.id:
                return Hold.of(view)
        # Ended long ago (an old clientMutationId sent again): no queue place nor estimate.
        record = await session.get(db.Record, hold.record_id)
        library = await session.get(db.Library, hold.pickup_library_id)
    assert record is not None
    assert library is not None
    return Hold.of(HoldView(hold, record, library, None, None))


@strawberry.type
class HoldPayload:
    hold: Hold | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    async def of(cls, context: Context, outcome: Outcome[db.Hold]) -> HoldPayload:
        if outcome.value is None:
            return cls(errors=user_errors(outcome.refusal, context.language))
        return cls(hold=await hold_answer(context, outcome.value))

    @classmethod
    def not_found(cls, context: Context) -> HoldPayload:
        return cls(errors=[user_error("NOT_FOUND", context.language)])


async def loan_views_by_id(context: Context, patron_id: int) -> dict[int, LoanView]:
    """The patron's open loans as they stand now, by loan id."""
    services = context.services
    async with db.reading(context.services.sessions) as session:
        patron = await session.get(db.Patron, patron_id)
        if patron is None:
            return {}
        views = await loan_views(services.circulation, session, patron)
    return {view.loan.id: view for view in views}


@strawberry.type
class LoanPayload:
    loan: Loan | None = strawberry.field(
        default=None, description="Null with errors (or when it was returned meanwhile)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    async def of(cls, context: Context, outcome: Outcome[db.Loan]) -> LoanPayload:
        if outcome.value is None:
            return cls(errors=user_errors(outcome.refusal, context.language))
        view = (await loan_views_by_id(context, outcome.value.patron_id)).get(outcome.value.id)
        return cls(loan=Loan.of(view) if view is not None else None)

    @classmethod
    def not_found(cls, context: Context) -> LoanPayload:
        return cls(errors=[user_error("NOT_FOUND", context.language)])
