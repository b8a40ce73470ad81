"""setClock: move the test clock forward and do the work due by then (test servers only)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from circulation import run_scheduled_work

from ..._context import GraphQLInfo
from ..._errors import UserError, user_error, user_errors
from ...account.payloads import invalid_time
from ...account.types import moment
from .._desk import staff_refusal

__all__ = ["SetClockPayload", "resolve_set_clock"]


@strawberry.type
class SetClockPayload:
    now: datetime | None = strawberry.field(
        default=None, description="Circulation time now, with the libraries' offset."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


async def resolve_set_clock(info: GraphQLInfo, now: str) -> SetClockPayload:
    context = info.context
    if errors := await staff_refusal(context):
        return SetClockPayload(errors=errors)
    clock = context.services.test_clock
    if clock is None:
        return SetClockPayload(errors=[user_error("TEST_CLOCK_DISABLED", context.language)])
    try:
        target = datetime.fromisoformat(now)
    except ValueError:
        target = None
    if target is None or target.tzinfo is None:
        refusal = invalid_time(
            "Indica data e ora ISO con il fuso, per esempio 2026-11-23T10:00:00+01:00.",
            "Give an ISO date and time with its offset, for example 2026-11-23T10:00:00+01:00.",
        )
        return SetClockPayload(errors=user_errors(refusal, context.language))
    current = moment(clock.now()).isoformat()
    try:
        clock.set(target)
    except ValueError:
        refusal = invalid_time(
            f"Il tempo non torna indietro: adesso è {current}.",
            f"Time does not go back: it is {current} now.",
        )
        return SetClockPayload(errors=user_errors(refusal, context.language))
    await run_scheduled_work(context.services.circulation)
    return SetClockPayload(now=moment(clock.now()))
