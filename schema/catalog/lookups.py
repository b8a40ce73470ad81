"""The small lookups: one record, the libraries, the push key."""

from __future__ import annotations

from typing import Annotated

import strawberry

from catalog import list_libraries
from db import reading

from .._context import GraphQLInfo
from .._loaders import records_by_id
from .types import GeoPointInput, Library, Record, nearest_first, point_of

__all__ = ["resolve_libraries", "resolve_push_public_key", "resolve_record"]


async def resolve_record(
    info: GraphQLInfo,
    record_id: Annotated[strawberry.ID, strawberry.argument(name="id")],
    near: Annotated[
        GeoPointInput | None,
        strawberry.argument(description="When not given: the operation's $near variable."),
    ] = None,
) -> Record | None:
    # The contract's Record operation declares $near without passing it on (and clients send
    # it as written), so the variable stands in for the argument.
    given = info.variable_values.get("near")
    if near is None and isinstance(given, dict):
        near = GeoPointInput(lat=given["lat"], lon=given["lon"])
    point = point_of(near)
    row = await records_by_id(info.context).load(str(record_id))
    return Record.from_row(row, near=point) if row is not None else None


async def resolve_libraries(info: GraphQLInfo, near: GeoPointInput | None = None) -> list[Library]:
    point = point_of(near)
    async with reading(info.context.services.sessions) as session:
        rows = await list_libraries(session)
    libraries = [Library.from_row(row, near=point) for row in rows]
    return sorted(libraries, key=nearest_first) if point is not None else libraries


def resolve_push_public_key(info: GraphQLInfo) -> str:
    return info.context.services.vapid_public_key
