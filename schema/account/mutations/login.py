"""login: a session for a card number and PIN."""

from __future__ import annotations

import strawberry

from ..._context import GraphQLInfo
from ..payloads import SessionPayload

__all__ = ["LoginInput", "resolve_login"]


@strawberry.input
class LoginInput:
    card_number: str = strawberry.field(description="The card number, or the codice fiscale.")
    pin: str


async def resolve_login(info: GraphQLInfo, input: LoginInput) -> SessionPayload:
    context = info.context
    result = await context.services.authenticator.sign_in(
        card_number=input.card_number, pin=input.pin, address=context.address
    )
    return SessionPayload.of(result, context.language)
