"""search: one page of the catalogue, with live availability of the records shown."""

from __future__ import annotations

from typing import Annotated

import strawberry
from graphql import GraphQLError

from catalog import distance_meters
from circulation import GeoPoint
from db import reading
from search import FACETS, InvalidSearch, SearchRequest

from .._context import Context, GraphQLInfo
from .._loaders import records_by_id
from .types import (
    CatalogFilter,
    Facet,
    FacetValue,
    GeoPointInput,
    PageInfo,
    Record,
    SearchConnection,
    SearchEdge,
    point_of,
)

__all__ = ["libraries_by_distance", "resolve_search"]


def _request(query: str, catalog_filter: CatalogFilter | None) -> SearchRequest:
    if catalog_filter is None:
        return SearchRequest(query=query)
    return SearchRequest(
        query=query,
        material_types=tuple(kind.value for kind in catalog_filter.material_types or ()),
        library_ids=tuple(str(library_id) for library_id in catalog_filter.library_ids or ()),
        languages=tuple(catalog_filter.languages or ()),
        available_only=bool(catalog_filter.available_only),
    )


async def libraries_by_distance(context: Context, point: GeoPoint) -> list[str]:
    """Every library id, nearest first; those without a location last."""
    circulation = context.services.circulation
    async with reading(context.services.sessions) as session:
        sites = await circulation.libraries(session)

    def distance(library_id: str) -> tuple[bool, float, str]:
        place = sites[library_id].point
        if place is None:
            return True, 0.0, library_id
        return False, distance_meters(point.lat, point.lon, *place), library_id

    return sorted(sites, key=distance)


async def resolve_search(
    info: GraphQLInfo,
    query: str,
    catalog_filter: Annotated[CatalogFilter | None, strawberry.argument(name="filter")] = None,
    near: GeoPointInput | None = None,
    first: Annotated[
        int | None, strawberry.argument(description="Page size: 20 when not given, at most 50.")
    ] = None,
    after: Annotated[
        str | None, strawberry.argument(description="pageInfo.endCursor of the page before.")
    ] = None,
) -> SearchConnection:
    context = info.context
    point = point_of(near)
    nearest = await libraries_by_distance(context, point) if point is not None else []
    try:
        results = await context.services.search.search(
            _request(query, catalog_filter), first=first, after=after, nearest_libraries=nearest
        )
    except InvalidSearch as error:
        raise GraphQLError(
            f"The search cannot be run: {error}.", extensions={"code": "BAD_USER_INPUT"}
        ) from error
    # The index may still list a record the database has just lost: it is left out.
    rows = [row for row in await records_by_id(context).load_many(results.record_ids) if row]
    last = len(rows) - 1
    return SearchConnection(
        total_count=results.total,
        facets=[
            Facet(
                name=name,
                values=[FacetValue(value=value.value, count=value.count) for value in values],
            )
            for name in FACETS
            if (values := results.facets.get(name)) is not None
        ],
        edges=[
            SearchEdge(
                cursor=results.next_cursor if position == last else None,
                node=Record.from_row(row, near=point),
            )
            for position, row in enumerate(rows)
        ],
        page_info=PageInfo(
            has_next_page=results.next_cursor is not None, end_cursor=results.next_cursor
        ),
    )
