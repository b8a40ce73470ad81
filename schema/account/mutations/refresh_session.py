"""refreshSession: new tokens for a refresh token, which stops working."""

from __future__ import annotations

import strawberry

from ..._context import GraphQLInfo
from ..payloads import SessionPayload

__all__ = ["RefreshSessionInput", "resolve_refresh_session"]


@strawberry.input
class RefreshSessionInput:
    refresh_token: str


async def resolve_refresh_session(info: GraphQLInfo, input: RefreshSessionInput) -> SessionPayload:
    result = await info.context.services.authenticator.refresh(input.refresh_token)
    return SessionPayload.of(result, info.context.language)
