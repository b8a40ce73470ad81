"""changeHoldPickup: collect a hold at another library."""

from __future__ import annotations

import strawberry

from circulation import change_hold_pickup

from ..._context import GraphQLInfo
from ..payloads import HoldPayload
from ..types import parse_id

__all__ = ["ChangeHoldPickupInput", "resolve_change_hold_pickup"]


@strawberry.input
class ChangeHoldPickupInput:
    hold_id: strawberry.ID
    pickup_library_id: strawberry.ID


async def resolve_change_hold_pickup(
    info: GraphQLInfo, input: ChangeHoldPickupInput
) -> HoldPayload:
    context = info.context
    principal = await context.principal()
    hold_id = parse_id(input.hold_id)
    if hold_id is None:
        return HoldPayload.not_found(context)
    outcome = await change_hold_pickup(
        context.services.circulation,
        hold_id=hold_id,
        patron_id=principal.patron_id,
        library_id=input.pickup_library_id,
    )
    return await HoldPayload.of(context, outcome)
