"""changePin: the patron sets a new PIN; their other sessions are signed out."""

from __future__ import annotations

import strawberry

from ..._context import GraphQLInfo
from ..._errors import UserError, user_error

__all__ = ["ChangePinInput", "ChangePinPayload", "resolve_change_pin"]


@strawberry.input
class ChangePinInput:
    current_pin: str
    new_pin: str = strawberry.field(
        description="At least 4 digits, not all the same, not the card number's last 4."
    )


@strawberry.type
class ChangePinPayload:
    errors: list[UserError]


async def resolve_change_pin(info: GraphQLInfo, input: ChangePinInput) -> ChangePinPayload:
    context = info.context
    principal = await context.principal()
    refusal = await context.services.authenticator.change_pin(
        principal, current_pin=input.current_pin, new_pin=input.new_pin
    )
    return ChangePinPayload(
        errors=[user_error(refusal, context.language)] if refusal is not None else []
    )
