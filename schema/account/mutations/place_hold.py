"""placeHold: join a record's queue in one tap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import GraphQLError

from circulation import place_hold

from ..._context import GraphQLInfo
from ..payloads import HoldPayload

if TYPE_CHECKING:
    from ...catalog.types import GeoPointInput

__all__ = ["PlaceHoldInput", "resolve_place_hold"]

# The width of the stored column: a longer id could not be kept to answer a retry.
MAX_CLIENT_MUTATION_ID_LENGTH = 64


@strawberry.input
class PlaceHoldInput:
    record_id: strawberry.ID
    pickup_library_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Default: the preferred pickup library, else the nearest to `near`, else"
        " the library of registration.",
    )
    near: Annotated[GeoPointInput, strawberry.lazy("schema.catalog.types")] | None = None
    client_mutation_id: str | None = strawberry.field(
        default=None,
        description="Sent again with the same value, the first answer is given and no second"
        " hold is placed (at most 64 characters).",
    )


async def resolve_place_hold(info: GraphQLInfo, input: PlaceHoldInput) -> HoldPayload:
    context = info.context
    principal = await context.principal()
    if (
        input.client_mutation_id is not None
        and len(input.client_mutation_id) > MAX_CLIENT_MUTATION_ID_LENGTH
    ):
        raise GraphQLError(
            f"clientMutationId is at most {MAX_CLIENT_MUTATION_ID_LENGTH} characters",
            extensions={"code": "BAD_USER_INPUT"},
        )
    outcome = await place_hold(
        context.services.circulation,
        patron_id=principal.patron_id,
        record_id=input.record_id,
        pickup_library_id=input.pickup_library_id,
        near=input.near.point() if input.near is not None else None,
        client_mutation_id=input.client_mutation_id,
    )
    return await HoldPayload.of(context, outcome)
