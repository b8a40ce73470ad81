"""checkin: take a copy back; fees, blocks and the next hold follow."""

from __future__ import annotations

import strawberry

from circulation import checkin

from ..._context import GraphQLInfo
from ..._errors import UserError, user_errors
from ...account.payloads import hold_answer
from ...account.types import Hold, euro
from .._desk import staff_refusal

__all__ = ["CheckinInput", "CheckinPayload", "resolve_checkin"]


@strawberry.input
class CheckinInput:
    item_barcode: str
    library_id: strawberry.ID = strawberry.field(description="The desk's library.")


@strawberry.type
class CheckinPayload:
    fee_charged: str | None = strawberry.field(
        default=None, description='The late fee the return recorded, in euro ("0.00": none).'
    )
    trapped_hold: Hold | None = strawberry.field(
        default=None,
        description="The hold the copy now goes to: READY here, or IN_TRANSIT to its pickup.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


async def resolve_checkin(info: GraphQLInfo, input: CheckinInput) -> CheckinPayload:
    context = info.context
    if errors := await staff_refusal(context):
        return CheckinPayload(errors=errors)
    outcome = await checkin(
        context.services.circulation, barcode=input.item_barcode, library_id=input.library_id
    )
    if outcome.value is None:
        return CheckinPayload(errors=user_errors(outcome.refusal, context.language))
    trapped = outcome.value.trapped_hold
    return CheckinPayload(
        fee_charged=euro(outcome.value.fee_cents),
        trapped_hold=await hold_answer(context, trapped) if trapped is not None else None,
    )
