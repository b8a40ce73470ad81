"""subscribePush: keep a browser's push subscription, once its endpoint and keys check out."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from push import InvalidSubscription, store_subscription

from ..._context import GraphQLInfo
from ..._errors import UserError, user_error

__all__ = ["PushKeysInput", "SubscribePushInput", "SubscribePushPayload", "resolve_subscribe_push"]


@strawberry.input(description="PushSubscription.toJSON().keys, base64url.")
class PushKeysInput:
    p256dh: str
    auth: str


@strawberry.input(description="What PushSubscription.toJSON() gives in the browser.")
class SubscribePushInput:
    endpoint: str = strawberry.field(
        description="https on a public host (http on 127.0.0.1 or localhost only when the"
        " server allows loopback endpoints, for tests)."
    )
    keys: PushKeysInput


@strawberry.type
class SubscribePushPayload:
    errors: list[UserError]


async def resolve_subscribe_push(
    info: GraphQLInfo, input: SubscribePushInput
) -> SubscribePushPayload:
    context = info.context
    principal = await context.principal()
    services = context.services
    try:
        await store_subscription(
            sessions=services.sessions,
            patron_id=principal.patron_id,
            endpoint=input.endpoint,
            p256dh=input.keys.p256dh,
            auth=input.keys.auth,
            allow_loopback=services.push_allow_loopback,
            # Push runs on the real clock: the test clock moves circulation time only.
            now=datetime.now(UTC),
        )
    except InvalidSubscription:
        return SubscribePushPayload(errors=[user_error("INVALID_SUBSCRIPTION", context.language)])
    return SubscribePushPayload(errors=[])
