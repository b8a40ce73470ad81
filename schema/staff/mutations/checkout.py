"""checkout: lend a copy at a desk."""

from __future__ import annotations

import strawberry

from circulation import checkout

from ..._context import GraphQLInfo
from ...account.payloads import LoanPayload
from .._desk import card_number_of, staff_refusal

__all__ = ["CheckoutInput", "resolve_checkout"]


@strawberry.input
class CheckoutInput:
    card_number: str
    item_barcode: str
    library_id: strawberry.ID = strawberry.field(description="The desk's library.")


async def resolve_checkout(info: GraphQLInfo, input: CheckoutInput) -> LoanPayload:
    context = info.context
    if errors := await staff_refusal(context):
        return LoanPayload(errors=errors)
    card_number = card_number_of(input.card_number)
    if card_number is None:
        return LoanPayload.not_found(context)
    outcome = await checkout(
        context.services.circulation,
        card_number=card_number,
        barcode=input.item_barcode,
        library_id=input.library_id,
    )
    return await LoanPayload.of(context, outcome)
