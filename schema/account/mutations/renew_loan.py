"""renewLoan: renew one loan, if the rules allow it today."""

from __future__ import annotations

import strawberry

from circulation import renew_loan

from ..._context import GraphQLInfo
from ..payloads import LoanPayload
from ..types import parse_id

__all__ = ["RenewLoanInput", "resolve_renew_loan"]


@strawberry.input
class RenewLoanInput:
    loan_id: strawberry.ID


async def resolve_renew_loan(info: GraphQLInfo, input: RenewLoanInput) -> LoanPayload:
    context = info.context
    principal = await context.principal()
    loan_id = parse_id(input.loan_id)
    if loan_id is None:
        return LoanPayload.not_found(context)
    outcome = await renew_loan(
        context.services.circulation, loan_id=loan_id, patron_id=principal.patron_id
    )
    return await LoanPayload.of(context, outcome)
