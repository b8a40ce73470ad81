"""The GraphQL schema. A first slice: the network's libraries (the full contract comes next)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from catalog import list_libraries

from ._context import Context

__all__ = ["schema"]


@strawberry.type
class Library:
    id: strawberry.ID
    name: str
    address: str | None


@strawberry.type
class Query:
    @strawberry.field(description="The libraries of the network, by name.")
    async def libraries(self, info: Info[Context, None]) -> list[Library]:
        async with info.context.sessions() as session:
            rows = await list_libraries(session)
        return [
            Library(id=strawberry.ID(row.id), name=row.name, address=row.address) for row in rows
        ]


schema = strawberry.Schema(query=Query)
