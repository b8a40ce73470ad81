"""renewAll: renew every loan that may be renewed, saying for each what happened."""

from __future__ import annotations

import strawberry

from circulation import renew_all

from ..._context import GraphQLInfo
from ..._errors import UserError, user_errors
from ..payloads import loan_views_by_id
from ..types import Loan

__all__ = ["RenewAllPayload", "RenewalResult", "resolve_renew_all"]


@strawberry.type(description="What happened to one loan.")
class RenewalResult:
    loan: Loan | None = strawberry.field(description="Null only when returned meanwhile.")
    errors: list[UserError]


@strawberry.type
class RenewAllPayload:
    results: list[RenewalResult] = strawberry.field(
        description="One per open loan, in the order of `me.loans`."
    )
    errors: list[UserError]


async def resolve_renew_all(info: GraphQLInfo) -> RenewAllPayload:
    context = info.context
    principal = await context.principal()
    outcomes = await renew_all(context.services.circulation, patron_id=principal.patron_id)
    views = await loan_views_by_id(context, principal.patron_id)
    return RenewAllPayload(
        results=[
            RenewalResult(
                loan=Loan.of(views[loan.id]) if loan.id in views else None,
                errors=user_errors(outcome.refusal, context.language),
            )
            for loan, outcome in outcomes
        ],
        errors=[],
    )
