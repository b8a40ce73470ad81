"""cancelHold: leave a queue; a copy set aside goes to the next patron."""

from __future__ import annotations

import strawberry

from circulation import cancel_hold

from ..._context import GraphQLInfo
from ..payloads import HoldPayload
from ..types import parse_id

__all__ = ["CancelHoldInput", "resolve_cancel_hold"]


@strawberry.input
class CancelHoldInput:
    hold_id: strawberry.ID


async def resolve_cancel_hold(info: GraphQLInfo, input: CancelHoldInput) -> HoldPayload:
    context = info.context
    principal = await context.principal()
    hold_id = parse_id(input.hold_id)
    if hold_id is None:
        return HoldPayload.not_found(context)
    outcome = await cancel_hold(
        context.services.circulation, hold_id=hold_id, patron_id=principal.patron_id
    )
    return await HoldPayload.of(context, outcome)
