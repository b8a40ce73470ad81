"""unsubscribePush: stop notifying a browser."""

from __future__ import annotations

import strawberry

from push import remove_subscription

from ..._context import GraphQLInfo
from ..._errors import UserError

__all__ = ["UnsubscribePushInput", "UnsubscribePushPayload", "resolve_unsubscribe_push"]


@strawberry.input
class UnsubscribePushInput:
    endpoint: str


@strawberry.type
class UnsubscribePushPayload:
    errors: list[UserError]


async def resolve_unsubscribe_push(
    info: GraphQLInfo, input: UnsubscribePushInput
) -> UnsubscribePushPayload:
    principal = await info.context.principal()
    # Unknown endpoints are fine: a browser may unsubscribe twice, or after a 410 removed it.
    await remove_subscription(
        sessions=info.context.services.sessions,
        patron_id=principal.patron_id,
        endpoint=input.endpoint,
    )
    return UnsubscribePushPayload(errors=[])
