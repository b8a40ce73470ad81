"""What the Meilisearch backend sends, checked against a stand-in server: no Meilisearch needed.

The stand-in answers as Meilisearch 1.x does for the routes the backend uses, and records
every request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from meilisearch_python_sdk.errors import MeilisearchError, MeilisearchTaskFailedError

from search import (
    CatalogDocument,
    CatalogSearch,
    FacetValue,
    MeiliSearch,
    SearchPage,
    SearchRequest,
)

JsonDict = dict[str, Any]

URL = "http://meili.test:7700"
INDEX = "records"
WHEN = "2025-03-01T10:00:00.000000Z"

DEFAULT_SETTINGS: JsonDict = {
    "displayedAttributes": ["*"],
    "searchableAttributes": ["*"],
    "filterableAttributes": [],
    "sortableAttributes": [],
    "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
    "stopWords": [],
    "nonSeparatorTokens": [],
    "separatorTokens": [],
    "dictionary": [],
    "synonyms": {},
    "distinctAttribute": None,
    "proximityPrecision": "byWord",
    "typoTolerance": {
        "enabled": True,
        "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        "disableOnWords": [],
        "disableOnAttributes": [],
        "disableOnNumbers": False,
    },
    "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}},
    "pagination": {"maxTotalHits": 1000},
    "embedders": {},
    "searchCutoffMs": None,
    "localizedAttributes": None,
    "facetSearch": True,
    "prefixSearch": "indexingTime",
}
OUR_SETTINGS: JsonDict = {
    "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
    "searchableAttributes": ["title", "authors", "subjects", "series"],
    "filterableAttributes": [
        "materialType",
        "language",
        "libraries",
        "availableLibraries",
        "available",
        "isbns",
        "recordId",
    ],
    "sortableAttributes": ["year"],
    "typoTolerance": {"enabled": True, "disableOnAttributes": ["isbns"]},
    "faceting": {"maxValuesPerFacet": 300},
    "pagination": {"maxTotalHits": 100000},
}
# What the SDK puts in every search body, whatever we ask: highlighting and cropping we never
# use. The single-index route also gets explicit nulls; multi-search queries leave them out.
SEARCH_PRESENTATION: JsonDict = {
    "cropLength": 200,
    "showMatchesPosition": False,
    "highlightPreTag": "<em>",
    "highlightPostTag": "</em>",
    "cropMarker": "...",
    "showRankingScore": False,
}
SEARCH_NULLS: JsonDict = {
    "attributesToCrop": None,
    "attributesToHighlight": None,
    "sort": None,
    "attributesToSearchOn": None,
    "rankingScoreThreshold": None,
}
MULTI_SEARCH_PRESENTATION: JsonDict = {**SEARCH_PRESENTATION, "showRankingScoreDetails": False}
ALL_FACETS = ["materialType", "language", "libraries", "available"]

CALVINO = CatalogDocument(
    record_id="r-calvino",
    title="Il barone rampante",
    authors=("Calvino, Italo",),
    subjects=("Narrativa italiana",),
    series="Oscar Mondadori",
    isbns=("9788804667698",),
    material_type="BOOK",
    language="ita",
    year=2016,
    libraries=("PV1",),
    available_libraries=("PV2",),
    copies=2,
    available=1,
)
# An SBN-style id: backslashes are not allowed in Meilisearch ids.
SBN = CatalogDocument(
    record_id="IT\\ICCU\\CFI\\0123456",
    title="La freccia azzurra",
    authors=(),
    subjects=(),
    series=None,
    isbns=(),
    material_type="AUDIOVISUAL",
    language=None,
    year=None,
    libraries=("PV1",),
    available_libraries=(),
    copies=1,
    available=0,
)


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    body: Any


def _error(status: int, code: str, message: str) -> httpx2.Response:
    return httpx2.Response(
        status,
        json={
            "message": message,
            "code": code,
            "type": "invalid_request",
            "link": f"https://docs.meilisearch.com/errors#{code}",
        },
    )


@dataclass
class FakeMeilisearch:
    """A Meilisearch that keeps settings, queues tasks that succeed (or `task_status`), and
    answers searches with `matching(query)`: record ids, in ranking order."""

    index_exists: bool = True
    settings: JsonDict = field(default_factory=lambda: json.loads(json.dumps(DEFAULT_SETTINGS)))
    matching: Callable[[JsonDict], list[str]] = lambda _query: []
    facet_distribution: JsonDict = field(default_factory=dict)
    task_status: str = "succeeded"
    # Before 1.23 Meilisearch has no compaction route.
    compacts: bool = True
    sent: list[Sent] = field(default_factory=list)
    _tasks: dict[int, str] = field(default_factory=dict)

    def bodies(self, method: str, path: str) -> list[Any]:
        return [sent.body for sent in self.sent if (sent.method, sent.path) == (method, path)]

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body: Any = json.loads(request.content) if request.content else None
        method, path = request.method, request.url.path
        self.sent.append(Sent(method, path, body))
        index_path = f"/indexes/{INDEX}"
        match method, path:
            case "GET", "/health":
                return httpx2.Response(200, json={"status": "available"})
            case "POST", "/indexes":
                self.index_exists = True
                return self._enqueue("indexCreation")
            case "GET", _ if path == index_path and self.index_exists:
                return httpx2.Response(
                    200,
                    json={"uid": INDEX, "primaryKey": "id", "createdAt": WHEN, "updatedAt": WHEN},
                )
            case _, _ if path.startswith(index_path) and not self.index_exists:
                return _error(404, "index_not_found", f"Index `{INDEX}` not found.")
            case "GET", _ if path == f"{index_path}/settings":
                return httpx2.Response(200, json=self.settings)
            case "PATCH", _ if path == f"{index_path}/settings":
                self._apply(body)
                return self._enqueue("settingsUpdate")
            case "POST", _ if path == f"{index_path}/documents":
                return self._enqueue("documentAdditionOrUpdate")
            case "POST", _ if path == f"{index_path}/documents/delete-batch":
                return self._enqueue("documentDeletion")
            case "DELETE", _ if path == f"{index_path}/documents":
                return self._enqueue("documentDeletion")
            case "POST", _ if path == f"{index_path}/compact" and self.compacts:
                return self._enqueue("indexCompaction")
            case "GET", _ if path == f"{index_path}/stats":
                return httpx2.Response(
                    200,
                    json={
                        "numberOfDocuments": 2,
                        "isIndexing": False,
                        "fieldDistribution": {"recordId": 2, "title": 2},
                        "rawDocumentDbSize": 8192,
                        "avgDocumentSize": 4096,
                        "numberOfEmbeddedDocuments": 0,
                        "numberOfEmbeddings": 0,
                    },
                )
            case "POST", _ if path == f"{index_path}/search":
                return httpx2.Response(200, json=self._answer(body))
            case "POST", "/multi-search":
                results = [
                    {"indexUid": query["indexUid"], **self._answer(query)}
                    for query in body["queries"]
                ]
                return httpx2.Response(200, json={"results": results})
            case "GET", _ if path.startswith("/tasks/"):
                return self._task(int(path.removeprefix("/tasks/")))
        return _error(404, "not_found", f"no route {method} {path}")

    def _apply(self, patch: JsonDict) -> None:
        """As Meilisearch keeps settings: attribute sets in its own order, objects merged."""
        for name, value in patch.items():
            if name in ("filterableAttributes", "sortableAttributes"):
                self.settings[name] = sorted(value)
            elif isinstance(value, dict):
                self.settings[name] = {**self.settings[name], **value}
            else:
                self.settings[name] = value

    def _enqueue(self, task_type: str) -> httpx2.Response:
        uid = len(self._tasks)
        self._tasks[uid] = task_type
        return httpx2.Response(
            202,
            json={
                "taskUid": uid,
                "indexUid": INDEX,
                "status": "enqueued",
                "type": task_type,
                "enqueuedAt": WHEN,
            },
        )

    def _task(self, uid: int) -> httpx2.Response:
        failed = self.task_status == "failed"
        return httpx2.Response(
            200,
            json={
                "uid": uid,
                "batchUid": uid,
                "indexUid": INDEX,
                "status": self.task_status,
                "type": self._tasks[uid],
                "canceledBy": None,
                "details": {},
                "error": {
                    "message": "Attribute `year` is not sortable.",
                    "code": "invalid_document_fields",
                    "type": "invalid_request",
                    "link": "https://docs.meilisearch.com/errors#invalid_document_fields",
                }
                if failed
                else None,
                "duration": "PT0.012S",
                "enqueuedAt": WHEN,
                "startedAt": WHEN,
                "finishedAt": WHEN,
            },
        )

    def _answer(self, query: JsonDict) -> JsonDict:
        found = self.matching(query)
        answer: JsonDict = {"query": query.get("q") or "", "processingTimeMs": 1}
        if query.get("hitsPerPage") is not None or query.get("page") is not None:
            size, page = query.get("hitsPerPage", 20), query.get("page", 1)
            window = found[(page - 1) * size : page * size] if page else []
            answer |= {
                "hitsPerPage": size,
                "page": page,
                "totalPages": -(-len(found) // size) if size else 0,
                "totalHits": len(found),
            }
        else:
            offset, limit = query.get("offset", 0), query.get("limit", 20)
            window = found[offset : offset + limit]
            answer |= {"offset": offset, "limit": limit, "estimatedTotalHits": len(found)}
        answer["hits"] = [{"recordId": record_id} for record_id in window]
        if query.get("facets"):
            answer["facetDistribution"] = {
                name: self.facet_distribution.get(name, {}) for name in query["facets"]
            }
            answer["facetStats"] = {}
        return answer


@pytest.fixture
def meili() -> FakeMeilisearch:
    return FakeMeilisearch()


@pytest.fixture
async def backend(meili: FakeMeilisearch) -> AsyncIterator[MeiliSearch]:
    backend = MeiliSearch(
        url=URL, api_key="search-key", index=INDEX, transport=httpx2.MockTransport(meili)
    )
    yield backend
    await backend.close()


def _requests(meili: FakeMeilisearch) -> list[tuple[str, str]]:
    return [(sent.method, sent.path) for sent in meili.sent]


# -- settings


async def test_start_creates_the_index_and_applies_the_settings(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    meili.index_exists = False

    await backend.start()

    assert _requests(meili) == [
        ("GET", f"/indexes/{INDEX}/settings"),
        ("POST", "/indexes"),
        ("GET", "/tasks/0"),
        ("GET", f"/indexes/{INDEX}"),
        ("GET", f"/indexes/{INDEX}/settings"),
        ("PATCH", f"/indexes/{INDEX}/settings"),
        ("GET", "/tasks/1"),
    ]
    assert meili.bodies("POST", "/indexes") == [{"uid": INDEX, "primaryKey": "id"}]
    assert meili.bodies("PATCH", f"/indexes/{INDEX}/settings") == [OUR_SETTINGS]


async def test_a_second_start_with_the_same_settings_changes_nothing(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    await backend.start()
    meili.sent.clear()

    await backend.start()

    assert _requests(meili) == [("GET", f"/indexes/{INDEX}/settings")]


async def test_a_setting_changed_by_hand_is_put_back(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    await backend.start()
    meili.settings["faceting"]["maxValuesPerFacet"] = 100
    meili.sent.clear()

    await backend.start()

    assert meili.bodies("PATCH", f"/indexes/{INDEX}/settings") == [OUR_SETTINGS]


async def test_the_api_key_is_sent(meili: FakeMeilisearch) -> None:
    seen: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers.get("authorization"))
        return meili(request)

    backend = MeiliSearch(url=URL, api_key="s3cret", transport=httpx2.MockTransport(handler))
    await backend.start()
    await backend.close()

    assert seen
    assert set(seen) == {"Bearer s3cret"}


# -- writing


async def test_upsert_sends_whole_documents_keyed_by_an_encoded_record_id(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    await backend.upsert([CALVINO, SBN])

    assert _requests(meili) == [("POST", f"/indexes/{INDEX}/documents"), ("GET", "/tasks/0")]
    assert meili.bodies("POST", f"/indexes/{INDEX}/documents") == [
        [
            {
                "id": "ci1jYWx2aW5v",
                "recordId": "r-calvino",
                "title": "Il barone rampante",
                "authors": ["Calvino, Italo"],
                "subjects": ["Narrativa italiana"],
                "series": "Oscar Mondadori",
                "isbns": ["9788804667698"],
                "materialType": "BOOK",
                "language": "ita",
                "year": 2016,
                # A library with a copy on the shelf holds the record too.
                "libraries": ["PV1", "PV2"],
                "availableLibraries": ["PV2"],
                "copies": 2,
                "available": True,
            },
            {
                "id": "SVRcSUNDVVxDRklcMDEyMzQ1Ng",
                "recordId": "IT\\ICCU\\CFI\\0123456",
                "title": "La freccia azzurra",
                "authors": [],
                "subjects": [],
                "series": None,
                "isbns": [],
                "materialType": "AUDIOVISUAL",
                "language": None,
                "year": None,
                "libraries": ["PV1"],
                "availableLibraries": [],
                "copies": 1,
                "available": False,
            },
        ]
    ]


async def test_delete_by_encoded_ids_and_clear(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    await backend.delete(["r-calvino", SBN.record_id])
    await backend.clear()

    assert _requests(meili) == [
        ("POST", f"/indexes/{INDEX}/documents/delete-batch"),
        ("GET", "/tasks/0"),
        ("DELETE", f"/indexes/{INDEX}/documents"),
        ("GET", "/tasks/1"),
    ]
    assert meili.bodies("POST", f"/indexes/{INDEX}/documents/delete-batch") == [
        ["ci1jYWx2aW5v", "SVRcSUNDVVxDRklcMDEyMzQ1Ng"]
    ]


async def test_optimize_compacts_the_index(meili: FakeMeilisearch, backend: MeiliSearch) -> None:
    await backend.optimize()

    assert _requests(meili) == [("POST", f"/indexes/{INDEX}/compact"), ("GET", "/tasks/0")]


async def test_optimize_leaves_a_server_without_compaction_alone(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    meili.compacts = False

    await backend.optimize()

    assert _requests(meili) == [("POST", f"/indexes/{INDEX}/compact")]


async def test_optimize_a_missing_index_fails(meili: FakeMeilisearch, backend: MeiliSearch) -> None:
    meili.index_exists = False

    with pytest.raises(MeilisearchError, match="index_not_found"):
        await backend.optimize()


async def test_count_reads_the_index_stats(meili: FakeMeilisearch, backend: MeiliSearch) -> None:
    assert await backend.count() == 2
    assert _requests(meili) == [("GET", f"/indexes/{INDEX}/stats")]


async def test_nothing_to_write_sends_nothing(meili: FakeMeilisearch, backend: MeiliSearch) -> None:
    await backend.upsert([])
    await backend.delete([])

    assert meili.sent == []


async def test_a_failed_task_raises(meili: FakeMeilisearch, backend: MeiliSearch) -> None:
    meili.task_status = "failed"

    with pytest.raises(MeilisearchTaskFailedError, match="invalid_document_fields"):
        await backend.upsert([CALVINO])


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda: _error(503, "unavailable", "Meilisearch is restarting"), id="503"),
        pytest.param(lambda: httpx2.Response(503, text="Service Unavailable"), id="503-html"),
        pytest.param(lambda: None, id="connection-refused"),
    ],
)
async def test_server_errors_propagate_from_upsert(
    answer: Callable[[], httpx2.Response | None],
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        response = answer()
        if response is None:
            raise httpx2.ConnectError("Connection refused", request=request)
        return response

    backend = MeiliSearch(url=URL, api_key=None, transport=httpx2.MockTransport(handler))
    # The indexer leaves its events pending on any error, and retries later.
    with pytest.raises((MeilisearchError, httpx2.HTTPError)):
        await backend.upsert([CALVINO])
    assert not await backend.healthy()
    await backend.close()


async def test_healthy(backend: MeiliSearch) -> None:
    assert await backend.healthy()


# -- reading


async def test_a_search_with_every_filter(meili: FakeMeilisearch, backend: MeiliSearch) -> None:
    matches = [f"r-{number}" for number in range(25)]
    meili.matching = lambda _query: matches

    page = await backend.search(
        SearchRequest(
            query="  calvino\x00 barone ",
            material_types=("BOOK", "AUDIOVISUAL"),
            library_ids=("PV1",),
            languages=("ita",),
            available_only=True,
            available_at=("PV2", "PV3"),
            not_available_at=("PV4",),
            offset=20,
            limit=10,
        )
    )

    assert meili.bodies("POST", f"/indexes/{INDEX}/search") == [
        {
            **SEARCH_PRESENTATION,
            **SEARCH_NULLS,
            "q": "calvino barone",
            "filter": [
                'materialType IN ["BOOK", "AUDIOVISUAL"]',
                'language IN ["ita"]',
                'libraries IN ["PV1"]',
                "available = true",
                'availableLibraries IN ["PV2", "PV3"]',
                'NOT availableLibraries IN ["PV4"]',
            ],
            "facets": ALL_FACETS,
            # A numbered page, so that Meilisearch counts the matches exactly.
            "offset": 0,
            "limit": 10,
            "hitsPerPage": 10,
            "page": 3,
            "attributesToRetrieve": ["recordId"],
            "matchingStrategy": "last",
        }
    ]
    assert page == SearchPage(
        total=25,
        record_ids=matches[20:],
        facets={"materialType": [], "language": [], "library": [], "available": []},
    )


def _parse_quoted(text: str) -> tuple[str, str]:
    """A double-quoted filter value as Meilisearch's filter parser reads it (filter-parser
    value.rs: the value ends at the first quote not after a backslash; escaped quotes are
    unescaped, then backslash escapes): the value and the text after it."""
    assert text.startswith('"')
    index, escaped_quote = 1, False
    while text[index] != '"':
        if text[index] == "\\":
            escaped_quote |= text[index + 1] == '"'
            index += 1
        index += 1
    raw = text[1:index]
    if escaped_quote:
        raw = raw.replace('\\"', '"')
    value, position = "", 0
    while position < len(raw):
        if raw[position] == "\\":
            # Our quoting leaves only doubled backslashes for the second pass.
            assert raw[position + 1] == "\\", f"{raw!r} has an escape Meilisearch reinterprets"
            position += 1
        value += raw[position]
        position += 1
    return value, text[index + 1 :]


@pytest.mark.parametrize(
    "library_id",
    [
        'PV1" OR available = false OR libraries = "PV2',
        '"] OR libraries EXISTS OR x IN ["',
        "PV1\\",
        '\\"',
        '\\\\" OR "',
        "it's",
        "NOT",
        "",
        "a\nb\tc",
        "\\u{41}\\n",
    ],
)
async def test_a_client_value_cannot_break_out_of_its_quotes(
    meili: FakeMeilisearch, backend: MeiliSearch, library_id: str
) -> None:
    await backend.search(SearchRequest(library_ids=(library_id, "PV9"), with_facets=False))

    (body,) = meili.bodies("POST", f"/indexes/{INDEX}/search")
    (condition,) = body["filter"]
    assert condition.startswith("libraries IN [")
    first, rest = _parse_quoted(condition.removeprefix("libraries IN ["))
    second, rest = _parse_quoted(rest.removeprefix(", "))
    assert (first, second, rest) == (library_id, "PV9", "]")


async def test_facet_counts_map_back_to_our_names(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    meili.matching = lambda _query: ["r-1", "r-2", "r-3", "r-4"]
    meili.facet_distribution = {
        "materialType": {"AUDIOVISUAL": 1, "BOOK": 3},
        "language": {"eng": 1, "ita": 3},
        "libraries": {"PV2": 1, "PV1": 3, "PV3": 1},
        "available": {"false": 1, "true": 3},
    }

    page = await backend.search(SearchRequest())

    assert page.total == 4
    assert page.record_ids == ["r-1", "r-2", "r-3", "r-4"]
    assert page.facets == {
        "materialType": [FacetValue("BOOK", 3), FacetValue("AUDIOVISUAL", 1)],
        "language": [FacetValue("ita", 3), FacetValue("eng", 1)],
        "library": [FacetValue("PV1", 3), FacetValue("PV2", 1), FacetValue("PV3", 1)],
        "available": [FacetValue("true", 3), FacetValue("false", 1)],
    }


@pytest.mark.parametrize(
    ("offset", "limit", "hits_per_page", "page"),
    [
        (0, 20, 20, 1),
        (40, 20, 20, 3),
        # Off the grid (a ring of the nearest-first walk): the smallest page around the window.
        (15, 20, 35, 1),
        (35, 20, 28, 2),
        (7, 3, 5, 2),
        # Only the total and facets.
        (0, 0, 0, 1),
        # Past what Meilisearch would page to: still counted.
        (100_000, 20, 0, 1),
    ],
)
async def test_pages_are_numbered_so_that_totals_are_exact(
    meili: FakeMeilisearch,
    backend: MeiliSearch,
    offset: int,
    limit: int,
    hits_per_page: int,
    page: int,
) -> None:
    catalogue = [f"r-{number}" for number in range(100)]
    meili.matching = lambda _query: catalogue

    found = await backend.search(SearchRequest(offset=offset, limit=limit, with_facets=False))

    (body,) = meili.bodies("POST", f"/indexes/{INDEX}/search")
    assert (body["hitsPerPage"], body["page"], body["facets"]) == (hits_per_page, page, None)
    assert found == SearchPage(total=100, record_ids=catalogue[offset : offset + limit])


async def test_without_total_or_facets_an_offset_and_limit_do(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    meili.matching = lambda _query: [f"r-{number}" for number in range(100)]

    found = await backend.search(
        SearchRequest(offset=15, limit=5, with_facets=False, with_total=False)
    )

    (body,) = meili.bodies("POST", f"/indexes/{INDEX}/search")
    assert (body["offset"], body["limit"], body["hitsPerPage"], body["page"]) == (15, 5, None, None)
    assert found.record_ids == ["r-15", "r-16", "r-17", "r-18", "r-19"]


async def test_isbn_lookup_is_a_filter_not_a_text_search(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    meili.matching = lambda query: ["r-calvino"] if query["filter"] else []

    assert await backend.records_with_isbn("9788804667698") == ["r-calvino"]
    (body,) = meili.bodies("POST", f"/indexes/{INDEX}/search")
    assert body["q"] == ""
    assert body["filter"] == ['isbns = "9788804667698"']
    assert body["attributesToRetrieve"] == ["recordId"]


async def test_nearest_first_is_one_multi_search(
    meili: FakeMeilisearch, backend: MeiliSearch
) -> None:
    on_the_shelf = {"r-tolkien": "PV3", "r-calvino": "PV2", "r-far": "PV4"}

    def matching(query: JsonDict) -> list[str]:
        """Ring filters as Meilisearch applies them to four records (r-rodari is out)."""
        records = ["r-calvino", "r-rodari", "r-tolkien", "r-far"]
        for condition in query.get("filter") or []:
            negated = condition.startswith("NOT ")
            libraries = json.loads(condition.split(" IN ", 1)[1])
            records = [r for r in records if (on_the_shelf.get(r) in libraries) != negated]
        return records

    meili.matching = matching
    service = CatalogSearch(backend)

    results = await service.search(
        SearchRequest(query="calvino"), first=2, nearest_libraries=["PV3", "PV1", "PV2", "PV4"]
    )

    assert _requests(meili) == [("POST", "/multi-search")]
    (body,) = meili.bodies("POST", "/multi-search")
    assert "federation" not in body

    def query(**chosen: Any) -> JsonDict:
        return {
            **MULTI_SEARCH_PRESENTATION,
            "indexUid": INDEX,
            "q": "calvino",
            "attributesToRetrieve": ["recordId"],
            "matchingStrategy": "last",
            "offset": 0,
            **chosen,
        }

    assert body["queries"] == [
        # The whole result: total and facets.
        query(limit=0, hitsPerPage=0, page=1, facets=ALL_FACETS),
        # On the shelf at the nearest three, then at the next, then everything else: a record
        # more than the page holds, no count.
        query(limit=3, filter=['availableLibraries IN ["PV3", "PV1", "PV2"]']),
        query(
            limit=3,
            filter=[
                'availableLibraries IN ["PV4"]',
                'NOT availableLibraries IN ["PV3", "PV1", "PV2"]',
            ],
        ),
        query(limit=3, filter=['NOT availableLibraries IN ["PV3", "PV1", "PV2", "PV4"]']),
    ]
    assert results.total == 4
    assert results.record_ids == ["r-calvino", "r-tolkien"]
    assert results.next_cursor is not None

    meili.sent.clear()
    rest = await service.search(
        SearchRequest(query="calvino"),
        first=2,
        after=results.next_cursor,
        nearest_libraries=["PV3", "PV1", "PV2", "PV4"],
    )

    assert _requests(meili) == [("POST", "/multi-search")]
    assert rest.record_ids == ["r-far", "r-rodari"]
