"""receiveTransit: a copy in transit arrived at its hold's pickup library."""

from __future__ import annotations

import strawberry

from circulation import receive_transit

from ..._context import GraphQLInfo
from ...account.payloads import HoldPayload
from .._desk import staff_refusal

__all__ = ["ReceiveTransitInput", "resolve_receive_transit"]


@strawberry.input
class ReceiveTransitInput:
    item_barcode: str
    library_id: strawberry.ID = strawberry.field(description="The desk's library.")


async def resolve_receive_transit(info: GraphQLInfo, input: ReceiveTransitInput) -> HoldPayload:
    context = info.context
    if errors := await staff_refusal(context):
        return HoldPayload(errors=errors)
    outcome = await receive_transit(
        context.services.circulation, barcode=input.item_barcode, library_id=input.library_id
    )
    return await HoldPayload.of(context, outcome)
