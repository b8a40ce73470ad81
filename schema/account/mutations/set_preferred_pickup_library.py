"""setPreferredPickupLibrary: where holds go when the patron names no pickup library."""

from __future__ import annotations

import strawberry
from sqlalchemy import update

import db
from circulation import Refusal

from ..._context import GraphQLInfo
from ..._errors import UserError, user_errors
from ..types import LibraryType, library_of

__all__ = [
    "SetPreferredPickupLibraryInput",
    "SetPreferredPickupLibraryPayload",
    "resolve_set_preferred_pickup_library",
]


@strawberry.input
class SetPreferredPickupLibraryInput:
    library_id: strawberry.ID


@strawberry.type
class SetPreferredPickupLibraryPayload:
    library_row: strawberry.Private[db.Library | None] = None
    errors: list[UserError] = strawberry.field(default_factory=list)

    @strawberry.field
    def library(self) -> LibraryType | None:
        return library_of(self.library_row) if self.library_row is not None else None


async def resolve_set_preferred_pickup_library(
    info: GraphQLInfo, input: SetPreferredPickupLibraryInput
) -> SetPreferredPickupLibraryPayload:
    context = info.context
    principal = await context.principal()
    async with db.transaction(context.services.sessions) as session:
        library = await session.get(db.Library, input.library_id)
        if library is None:
            return SetPreferredPickupLibraryPayload(
                errors=user_errors(Refusal("INVALID_PICKUP_LIBRARY"), context.language)
            )
        await session.execute(
            update(db.Patron)
            .where(db.Patron.id == principal.patron_id)
            .values(preferred_pickup_library_id=library.id)
        )
    return SetPreferredPickupLibraryPayload(library_row=library)
