"""suspendHold: pause a WAITING hold until a day, keeping its place; or resume it."""

from __future__ import annotations

from datetime import date

import strawberry

from circulation import suspend_hold

from ..._context import GraphQLInfo
from ..._errors import user_errors
from ..payloads import HoldPayload, invalid_time
from ..types import parse_id

__all__ = ["SuspendHoldInput", "resolve_suspend_hold"]

_NOT_A_DAY = invalid_time(
    "La data di fine pausa si scrive AAAA-MM-GG.", "The end of the pause is written YYYY-MM-DD."
)


@strawberry.input
class SuspendHoldInput:
    hold_id: strawberry.ID
    until: str | None = strawberry.field(
        default=None,
        description="The last day of the pause (YYYY-MM-DD, inclusive); null resumes the hold.",
    )


async def resolve_suspend_hold(info: GraphQLInfo, input: SuspendHoldInput) -> HoldPayload:
    context = info.context
    principal = await context.principal()
    hold_id = parse_id(input.hold_id)
    if hold_id is None:
        return HoldPayload.not_found(context)
    until: date | None = None
    if input.until is not None:
        try:
            until = date.fromisoformat(input.until)
        except ValueError:
            return HoldPayload(errors=user_errors(_NOT_A_DAY, context.language))
    outcome = await suspend_hold(
        context.services.circulation, hold_id=hold_id, patron_id=principal.patron_id, until=until
    )
    return await HoldPayload.of(context, outcome)
