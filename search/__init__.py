"""Catalogue search: one interface, an embedded SQLite FTS5 backend and Meilisearch."""

from ._documents import build_documents, on_the_shelf
from ._embedded import EmbeddedSearch
from ._indexer import SearchIndexer
from ._meili import MeiliSearch
from ._service import CatalogSearch, SearchResults, isbn_in_query
from ._types import (
    FACETS,
    MAX_PAGE_SIZE,
    CatalogDocument,
    FacetValue,
    InvalidSearch,
    SearchBackend,
    SearchPage,
    SearchRequest,
)

__all__ = [
    "FACETS",
    "MAX_PAGE_SIZE",
    "CatalogDocument",
    "CatalogSearch",
    "EmbeddedSearch",
    "FacetValue",
    "InvalidSearch",
    "MeiliSearch",
    "SearchBackend",
    "SearchIndexer",
    "SearchPage",
    "SearchRequest",
    "SearchResults",
    "build_documents",
    "isbn_in_query",
    "on_the_shelf",
]
