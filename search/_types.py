"""The one search interface both backends implement, and what goes in and out of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "FACETS",
    "MAX_PAGE_SIZE",
    "CatalogDocument",
    "FacetValue",
    "InvalidSearch",
    "SearchBackend",
    "SearchPage",
    "SearchRequest",
]

FACETS = ("materialType", "language", "library", "available")
MAX_PAGE_SIZE = 50


class InvalidSearch(ValueError):
    """A search that cannot be run as asked (a bad cursor, a malformed filter)."""


@dataclass(frozen=True)
class CatalogDocument:
    """One bibliographic record as the index holds it: text to match, values to filter and
    count, and where copies are (held, and on the shelf now)."""

    record_id: str
    title: str
    authors: tuple[str, ...]
    subjects: tuple[str, ...]
    series: str | None
    isbns: tuple[str, ...]
    material_type: str
    language: str | None
    year: int | None
    libraries: tuple[str, ...]
    available_libraries: tuple[str, ...]
    copies: int
    available: int


@dataclass(frozen=True)
class SearchRequest:
    query: str = ""
    material_types: tuple[str, ...] = ()
    library_ids: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    available_only: bool = False
    # The "nearest first" walk: records on the shelf at one of `available_at`, and at none of
    # `not_available_at` (the nearer libraries already walked).
    available_at: tuple[str, ...] = ()
    not_available_at: tuple[str, ...] = ()
    offset: int = 0
    limit: int = 20
    with_facets: bool = True
    # Without a total (and facets), a backend may stop at the page: the nearest-first walk
    # asks one record more than it shows to know whether a ring has more.
    with_total: bool = True


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class SearchPage:
    total: int
    record_ids: list[str]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)


class SearchBackend(Protocol):
    """A catalogue index: documents in, record ids with counts and facets out."""

    async def start(self) -> None:
        """Create or update the index and its settings (idempotent)."""
        ...

    async def close(self) -> None: ...

    async def upsert(self, documents: Sequence[CatalogDocument]) -> None:
        """Add or replace documents (by record id)."""
        ...

    async def delete(self, record_ids: Sequence[str]) -> None: ...

    async def optimize(self) -> None:
        """Compact the index after a bulk load (where the backend gains from it)."""
        ...

    async def count(self) -> int:
        """How many documents the index holds."""
        ...

    async def clear(self) -> None:
        """Remove every document (before a full rebuild)."""
        ...

    async def search(self, request: SearchRequest) -> SearchPage: ...

    async def search_many(self, requests: Sequence[SearchRequest]) -> list[SearchPage]:
        """Several searches at once (one round trip where the backend can)."""
        ...

    async def records_with_isbn(self, isbn13: str) -> list[str]:
        """The records carrying this ISBN: an exact filter, never a text match."""
        ...

    async def healthy(self) -> bool: ...
