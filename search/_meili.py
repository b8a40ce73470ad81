"""The Meilisearch backend: one document per record, settings kept by code, and the
nearest-first walk sent as one multi-search.

The SDK's AsyncClient builds its own httpx2 client and accepts neither a client nor a
transport, but its AsyncIndex is built on a client we pass in. So this backend owns one
httpx2 client (timeout, API key, and a transport in tests), runs every index call through
an AsyncIndex on it, and sends the three server-wide calls that only AsyncClient offers
(multi-search, tasks, health) on the same client, read back with the SDK's models.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import httpx2
from meilisearch_python_sdk import AsyncIndex
from meilisearch_python_sdk.errors import (
    MeilisearchApiError,
    MeilisearchTaskFailedError,
    MeilisearchTimeoutError,
)
from meilisearch_python_sdk.models.health import Health
from meilisearch_python_sdk.models.search import SearchParams, SearchResults, SearchResultsWithUID
from meilisearch_python_sdk.models.settings import (
    Faceting,
    MeilisearchSettings,
    Pagination,
    TypoTolerance,
)
from meilisearch_python_sdk.models.task import TaskInfo, TaskResult
from meilisearch_python_sdk.types import JsonDict

from ._text import clean_query
from ._types import CatalogDocument, FacetValue, SearchPage, SearchRequest

__all__ = ["MeiliSearch"]

_PRIMARY_KEY = "id"
# Title matters most, then authors, subjects, series (as the embedded backend's bm25 weights).
_SEARCHABLE_ATTRIBUTES = ("title", "authors", "subjects", "series")
_FILTERABLE_ATTRIBUTES = (
    "materialType",
    "language",
    "libraries",
    "availableLibraries",
    "available",
    "isbns",
    "recordId",
)
_SORTABLE_ATTRIBUTES = ("year",)
# Meilisearch's own default, written down so that a hand-made change is put back at start.
_RANKING_RULES = ("words", "typo", "proximity", "attribute", "sort", "exactness")
# Enough values that every library of a network is counted in the library facet.
_MAX_VALUES_PER_FACET = 300
# How deep results can be paged; totals are counted exactly regardless.
_MAX_TOTAL_HITS = 100_000
_SETTINGS = MeilisearchSettings(
    ranking_rules=list(_RANKING_RULES),
    searchable_attributes=list(_SEARCHABLE_ATTRIBUTES),
    filterable_attributes=list(_FILTERABLE_ATTRIBUTES),
    sortable_attributes=list(_SORTABLE_ATTRIBUTES),
    # ISBNs are matched by exact filters only, never forgiven a typo.
    typo_tolerance=TypoTolerance(enabled=True, disable_on_attributes=["isbns"]),
    faceting=Faceting(max_values_per_facet=_MAX_VALUES_PER_FACET),
    pagination=Pagination(max_total_hits=_MAX_TOTAL_HITS),
)
# Our facet names, and the attribute each is counted on.
_FACET_ATTRIBUTES = {
    "materialType": "materialType",
    "language": "language",
    "library": "libraries",
    "available": "available",
}
# Far more records than one ISBN ever has.
_ISBN_MATCHES = 1000
# A settings change re-indexes the whole catalogue: minutes on a large network.
_TASK_TIMEOUT_SECONDS = 300.0
_REQUEST_TIMEOUT = httpx2.Timeout(10.0)


def _document_id(record_id: str) -> str:
    """Meilisearch ids may hold only a-z A-Z 0-9 - _ : the record id as unpadded URL-safe
    base64, which uses just those and decodes back to it."""
    return base64.urlsafe_b64encode(record_id.encode()).decode().rstrip("=")


def _document(document: CatalogDocument) -> JsonDict:
    return {
        _PRIMARY_KEY: _document_id(document.record_id),
        "recordId": document.record_id,
        "title": document.title,
        "authors": list(document.authors),
        "subjects": list(document.subjects),
        "series": document.series,
        "isbns": list(document.isbns),
        "materialType": document.material_type,
        "language": document.language,
        "year": document.year,
        # As the embedded backend: a library with a copy on the shelf holds the record.
        "libraries": list(dict.fromkeys((*document.libraries, *document.available_libraries))),
        "availableLibraries": list(document.available_libraries),
        "copies": document.copies,
        # A boolean, so that the "available" facet counts "true" and "false".
        "available": document.available > 0,
    }


def _quoted(value: str) -> str:
    """A filter value that stays one value whatever it holds. Meilisearch's filter parser ends
    a double-quoted value at the first quote not after a backslash, then unescapes: so
    backslashes are doubled first, then quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_of(attribute: str, values: Sequence[str]) -> str:
    return f"{attribute} IN [{', '.join(_quoted(value) for value in values)}]"


def _filter(request: SearchRequest) -> list[str | list[str]] | None:
    """The request's filters, each one condition, all of them required."""
    conditions: list[str | list[str]] = []
    if request.material_types:
        conditions.append(_any_of("materialType", request.material_types))
    if request.languages:
        conditions.append(_any_of("language", request.languages))
    if request.library_ids:
        conditions.append(_any_of("libraries", request.library_ids))
    if request.available_only:
        conditions.append("available = true")
    if request.available_at:
        conditions.append(_any_of("availableLibraries", request.available_at))
    if request.not_available_at:
        conditions.append("NOT " + _any_of("availableLibraries", request.not_available_at))
    return conditions or None


def _numbered_page(offset: int, limit: int) -> tuple[int, int, int]:
    """Meilisearch counts matches exactly only for a numbered page (hitsPerPage and page):
    the smallest such page holding the hits from `offset` to `offset + limit`, as
    (hitsPerPage, page, where the hits asked for start in it). hitsPerPage 0 counts only."""
    if limit == 0 or offset >= _MAX_TOTAL_HITS:
        return 0, 1, 0
    end = offset + limit
    # The more pages before ours, the smaller each: try the most first.
    for pages_before in range(offset // limit, 0, -1):
        size = -(-end // (pages_before + 1))
        if size * pages_before <= offset:
            return size, pages_before + 1, offset - size * pages_before
    return end, 1, offset


class _SearchArguments(TypedDict):
    """Arguments both AsyncIndex.search and SearchParams (multi-search) take."""

    query: str
    filter: list[str | list[str]] | None
    facets: list[str] | None
    offset: int
    limit: int
    hits_per_page: int | None
    page: int | None
    attributes_to_retrieve: list[str]
    matching_strategy: Literal["last"]


@dataclass(frozen=True)
class _Search:
    """One request as Meilisearch is asked it, and how its answer is read back."""

    arguments: _SearchArguments
    skip: int
    limit: int
    with_facets: bool

    @classmethod
    def of(cls, request: SearchRequest) -> _Search:
        offset, limit = request.offset, request.limit
        hits_per_page: int | None = None
        page: int | None = None
        skip = 0
        if request.with_total or request.with_facets:
            hits_per_page, page, skip = _numbered_page(offset, limit)
            offset, limit = 0, hits_per_page
        return cls(
            arguments={
                "query": clean_query(request.query),
                "filter": _filter(request),
                "facets": list(_FACET_ATTRIBUTES.values()) if request.with_facets else None,
                "offset": offset,
                "limit": limit,
                "hits_per_page": hits_per_page,
                "page": page,
                "attributes_to_retrieve": ["recordId"],
                # Like the embedded backend: with nothing found, drop words from the end.
                "matching_strategy": "last",
            },
            skip=skip,
            limit=request.limit,
            with_facets=request.with_facets,
        )

    def page(self, results: SearchResults[JsonDict]) -> SearchPage:
        hits = results.hits[self.skip : self.skip + self.limit]
        # totalHits (exact) answers a numbered page; estimatedTotalHits an offset and limit.
        total = (
            results.total_hits if results.total_hits is not None else results.estimated_total_hits
        )
        return SearchPage(
            total=total or 0,
            record_ids=[hit["recordId"] for hit in hits],
            facets=_facets(results.facet_distribution or {}) if self.with_facets else {},
        )


def _facets(distribution: JsonDict) -> dict[str, list[FacetValue]]:
    return {
        name: sorted(
            (FacetValue(value, count) for value, count in distribution.get(attribute, {}).items()),
            key=lambda facet: (-facet.count, facet.value),
        )
        for name, attribute in _FACET_ATTRIBUTES.items()
    }


def _settings_differ(current: MeilisearchSettings) -> bool:
    """Whether the index differs from _SETTINGS in anything _SETTINGS sets. Meilisearch answers
    attribute sets in its own order, and with defaults filled in."""
    filterable = current.filterable_attributes or []
    typo = current.typo_tolerance
    return (
        current.ranking_rules != list(_RANKING_RULES)
        or current.searchable_attributes != list(_SEARCHABLE_ATTRIBUTES)
        # Attribute rules (objects, set by hand) differ from our names, and are unhashable.
        or not all(isinstance(attribute, str) for attribute in filterable)
        or set(filterable) != set(_FILTERABLE_ATTRIBUTES)
        or set(current.sortable_attributes or ()) != set(_SORTABLE_ATTRIBUTES)
        or typo is None
        or not typo.enabled
        or set(typo.disable_on_attributes or ()) != {"isbns"}
        or current.faceting is None
        or current.faceting.max_values_per_facet != _MAX_VALUES_PER_FACET
        or current.pagination is None
        or current.pagination.max_total_hits != _MAX_TOTAL_HITS
    )


class MeiliSearch:
    """A catalogue index in a Meilisearch server."""

    def __init__(
        self,
        *,
        url: str,
        api_key: str | None,
        index: str = "records",
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx2.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else None,
            timeout=_REQUEST_TIMEOUT,
            transport=transport,
        )
        self._uid = index
        self._index = AsyncIndex(self._http, index)

    # -- plumbing

    async def _call(self, method: str, path: str, body: JsonDict | None = None) -> httpx2.Response:
        """A server-wide call (see the module docstring), failing as the SDK's calls do."""
        response = await self._http.request(method, path, json=body)
        if response.is_error:
            raise MeilisearchApiError(f"{method} {path}: HTTP {response.status_code}", response)
        return response

    async def _wait(self, task: TaskInfo) -> None:
        """Until the task is done; a failed or canceled task raises. (The SDK's wait_for_task
        returns failed tasks unless told otherwise, and polls a canceled one until it times
        out.)"""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _TASK_TIMEOUT_SECONDS
        pause = 0.05
        while True:
            response = await self._call("GET", f"tasks/{task.task_uid}")
            result = TaskResult.model_validate_json(response.content)
            if result.status == "succeeded":
                return
            if result.status in ("failed", "canceled"):
                raise MeilisearchTaskFailedError(
                    f"task {result.uid} ({result.task_type}) {result.status}: {result.error}"
                )
            if loop.time() > deadline:
                raise MeilisearchTimeoutError(f"task {result.uid} still {result.status}")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    async def start(self) -> None:
        try:
            current = await self._index.get_settings()
        except MeilisearchApiError as error:
            if error.code != "index_not_found":
                raise
            # Tolerates another process creating it first: the SDK then just fetches it.
            await AsyncIndex.create(
                self._http,
                self._uid,
                _PRIMARY_KEY,
                timeout_in_ms=int(_TASK_TIMEOUT_SECONDS * 1000),
            )
            current = await self._index.get_settings()
        # A settings update re-indexes every document: only when something differs.
        if _settings_differ(current):
            await self._wait(await self._index.update_settings(_SETTINGS))

    async def close(self) -> None:
        await self._http.aclose()

    async def count(self) -> int:
        return (await self._index.get_stats()).number_of_documents

    async def healthy(self) -> bool:
        try:
            response = await self._call("GET", "health")
        except (httpx2.HTTPError, MeilisearchApiError):
            return False
        return Health.model_validate_json(response.content).status == "available"

    # -- writing

    async def upsert(self, documents: Sequence[CatalogDocument]) -> None:
        if documents:
            # Documents are rebuilt whole, so they replace (POST), never merge (PUT).
            await self._wait(
                await self._index.add_documents([_document(document) for document in documents])
            )

    async def delete(self, record_ids: Sequence[str]) -> None:
        if record_ids:
            await self._wait(
                await self._index.delete_documents(
                    [_document_id(record_id) for record_id in record_ids]
                )
            )

    async def clear(self) -> None:
        await self._wait(await self._index.delete_all_documents())

    async def optimize(self) -> None:
        """Compact the index: a rebuild leaves it fragmented, and Meilisearch 1.23 added
        compaction for that (its changelog reports searches 2-4 times faster). Older servers
        lack the route; they are left as they are."""
        # Sent by hand rather than with AsyncIndex.compact, whose errors for an unknown route
        # depend on the body's content type; _call always raises MeilisearchApiError.
        try:
            response = await self._call("POST", f"indexes/{self._uid}/compact")
        except MeilisearchApiError as error:
            if error.status_code == 404 and error.code != "index_not_found":
                return
            raise
        await self._wait(TaskInfo.model_validate_json(response.content))

    # -- reading

    async def records_with_isbn(self, isbn13: str) -> list[str]:
        results = await self._index.search(
            "",
            filter=[f"isbns = {_quoted(isbn13)}"],
            limit=_ISBN_MATCHES,
            attributes_to_retrieve=["recordId"],
        )
        return [hit["recordId"] for hit in results.hits]

    async def search(self, request: SearchRequest) -> SearchPage:
        search = _Search.of(request)
        return search.page(await self._index.search(**search.arguments))

    async def search_many(self, requests: Sequence[SearchRequest]) -> list[SearchPage]:
        searches = [_Search.of(request) for request in requests]
        # Without "federation": one result per query, in order.
        response = await self._call(
            "POST",
            "multi-search",
            {
                "queries": [
                    SearchParams(index_uid=self._uid, **search.arguments).model_dump(
                        by_alias=True, exclude_none=True
                    )
                    for search in searches
                ]
            },
        )
        results: list[Any] = response.json()["results"]
        return [
            search.page(SearchResultsWithUID[JsonDict].model_validate(result))
            for search, result in zip(searches, results, strict=True)
        ]
