"""The `me` query: the signed-in patron."""

from __future__ import annotations

import db

from .._context import GraphQLInfo
from .types import Patron

__all__ = ["resolve_me"]


async def resolve_me(info: GraphQLInfo) -> Patron | None:
    principal = await info.context.principal()
    async with db.reading(info.context.services.sessions) as session:
        row = await session.get(db.Patron, principal.patron_id)
    return Patron.of(row) if row is not None else None
