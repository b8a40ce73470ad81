"""setPatronStanding: staff suspend, revoke, expire or re-enable a card."""

from __future__ import annotations

import strawberry

import db
from circulation import set_patron_standing

from ..._context import GraphQLInfo
from ..._errors import UserError, user_error, user_errors
from ...account.types import Standing, StandingCode
from .._desk import card_number_of, staff_refusal

__all__ = ["SetPatronStandingInput", "SetPatronStandingPayload", "resolve_set_patron_standing"]


@strawberry.input
class SetPatronStandingInput:
    card_number: str
    code: StandingCode = strawberry.field(
        description="EXPIRED ends the registration; OK lifts a block."
    )
    note: str | None = strawberry.field(
        default=None,
        description="For staff only (the library, the item); never shown to the patron.",
    )


@strawberry.type
class SetPatronStandingPayload:
    standing: Standing | None = strawberry.field(
        default=None, description="The patron's standing now (the message as the patron reads it)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


async def resolve_set_patron_standing(
    info: GraphQLInfo, input: SetPatronStandingInput
) -> SetPatronStandingPayload:
    context = info.context
    if errors := await staff_refusal(context):
        return SetPatronStandingPayload(errors=errors)
    card_number = card_number_of(input.card_number)
    if card_number is None:
        return SetPatronStandingPayload(errors=[user_error("NOT_FOUND", context.language)])
    outcome = await set_patron_standing(
        context.services.circulation,
        card_number=card_number,
        code=db.StandingCode(input.code.value),
        note=input.note,
    )
    if outcome.value is None:
        return SetPatronStandingPayload(errors=user_errors(outcome.refusal, context.language))
    return SetPatronStandingPayload(standing=Standing.of(outcome.value, context.language))
