"""Catalogue search as clients ask for it: cursors, ISBNs typed into the box, and results
walked from the nearest libraries outwards. The same on every backend."""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from catalog import InvalidIsbn, normalize_isbn

from ._text import clean_query
from ._types import MAX_PAGE_SIZE, FacetValue, InvalidSearch, SearchBackend, SearchRequest

__all__ = ["CatalogSearch", "SearchResults", "isbn_in_query"]

# The walk outwards: records on the shelf at the nearest 3 libraries, then the next 12, then
# everything else in order of relevance.
NEAREST_RINGS = (3, 15)


@dataclass(frozen=True)
class SearchResults:
    total: int
    record_ids: list[str]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    next_cursor: str | None = None


def isbn_in_query(query: str) -> str | None:
    """The ISBN-13 of a query that is an ISBN (typed or scanned), else None."""
    text = clean_query(query)
    if not any(character.isdigit() for character in text):
        return None
    try:
        return normalize_isbn(text, allow_addon=True)
    except InvalidIsbn:
        return None


def _cursor(ring: int, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{ring}:{offset}".encode()).decode().rstrip("=")


def _position(cursor: str | None) -> tuple[int, int]:
    if cursor is None:
        return 0, 0
    try:
        ring, offset = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).split(b":")
        position = int(ring), int(offset)
    except (binascii.Error, ValueError) as error:
        raise InvalidSearch("the cursor is not one this server gave") from error
    if position[0] < 0 or position[1] < 0 or position[0] > len(NEAREST_RINGS):
        raise InvalidSearch("the cursor is not one this server gave")
    return position


@dataclass(frozen=True)
class CatalogSearch:
    backend: SearchBackend

    async def search(
        self,
        request: SearchRequest,
        *,
        first: int | None = None,
        after: str | None = None,
        nearest_libraries: Sequence[str] = (),
    ) -> SearchResults:
        """One page of results. With `nearest_libraries` (every library, nearest first), the
        records on the shelf nearby come first."""
        size = MAX_PAGE_SIZE if first is not None and first > MAX_PAGE_SIZE else first or 20
        if first is not None and first < 1:
            raise InvalidSearch("first must be between 1 and 50")
        ring, offset = _position(after)
        isbn = isbn_in_query(request.query)
        if isbn is not None:
            found = await self.backend.records_with_isbn(isbn)
            if found:
                return SearchResults(total=len(found), record_ids=found[offset : offset + size])
        if not nearest_libraries:
            if ring:
                raise InvalidSearch("the cursor is not one this server gave")
            page = await self.backend.search(replace(request, offset=offset, limit=size))
            more = offset + size < page.total
            return SearchResults(
                page.total,
                page.record_ids,
                page.facets,
                _cursor(0, offset + size) if more else None,
            )
        return await self._nearest_first(request, size, ring, offset, list(nearest_libraries))

    async def _nearest_first(
        self, request: SearchRequest, size: int, ring: int, offset: int, libraries: list[str]
    ) -> SearchResults:
        last = len(NEAREST_RINGS)
        bounds = [0, *(min(bound, len(libraries)) for bound in NEAREST_RINGS), len(libraries)]
        rings: list[tuple[int, SearchRequest]] = [
            (
                index,
                replace(
                    request,
                    available_at=tuple(libraries[start:end]) if index < last else (),
                    not_available_at=tuple(libraries[:start]),
                    offset=offset if index == ring else 0,
                    limit=size + 1,
                    with_facets=False,
                    with_total=False,
                ),
            )
            for index, (start, end) in enumerate(itertools.pairwise(bounds))
            # A ring with no library in it would match everything: only the last may.
            if index >= ring and (start < end or index == last)
        ]
        whole = replace(request, offset=0, limit=0)
        pages = await self.backend.search_many([whole, *(ringed for _, ringed in rings)])
        record_ids: list[str] = []
        next_cursor: str | None = None
        walked = list(zip((index for index, _ in rings), pages[1:], strict=True))
        for position, (index, page) in enumerate(walked):
            start = offset if index == ring else 0
            taken = page.record_ids[: size - len(record_ids)]
            record_ids.extend(taken)
            if len(record_ids) < size:
                continue
            # Each ring was asked one record more than the page holds, to know if it has more.
            if len(page.record_ids) > len(taken):
                next_cursor = _cursor(index, start + len(taken))
            else:
                later = [later for later, page in walked[position + 1 :] if page.record_ids]
                next_cursor = _cursor(later[0], 0) if later else None
            break
        return SearchResults(pages[0].total, record_ids, pages[0].facets, next_cursor)
