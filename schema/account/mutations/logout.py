"""logout: sign a session out."""

from __future__ import annotations

import strawberry

from ..._context import GraphQLInfo
from ..._errors import UserError, user_error

__all__ = ["LogoutInput", "LogoutPayload", "resolve_logout"]


@strawberry.input
class LogoutInput:
    refresh_token: str


@strawberry.type
class LogoutPayload:
    errors: list[UserError]


async def resolve_logout(info: GraphQLInfo, input: LogoutInput) -> LogoutPayload:
    refusal = await info.context.services.authenticator.sign_out(input.refresh_token)
    return LogoutPayload(
        errors=[user_error(refusal, info.context.language)] if refusal is not None else []
    )
