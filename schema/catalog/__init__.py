"""The public catalogue: search, scan, records, libraries."""

from __future__ import annotations

import strawberry

from catalog import list_libraries

from .._context import GraphQLInfo

__all__ = ["CatalogQuery"]


@strawberry.type
class Library:
    id: strawberry.ID
    name: str
    address: str | None


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="The libraries of the network, by name.")
    async def libraries(self, info: GraphQLInfo) -> list[Library]:
        async with info.context.services.sessions() as session:
            rows = await list_libraries(session)
        return [
            Library(id=strawberry.ID(row.id), name=row.name, address=row.address) for row in rows
        ]
