"""What every search backend does, checked the same way on each."""

from __future__ import annotations

from dataclasses import replace

import pytest

from search import CatalogDocument, CatalogSearch, InvalidSearch, SearchBackend, SearchRequest

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
    libraries=("PV1", "PV2"),
    available_libraries=("PV2",),
    copies=2,
    available=1,
)
RODARI = CatalogDocument(
    record_id="r-rodari",
    title="La freccia azzurra",
    authors=("Rodari, Gianni",),
    subjects=("Letteratura per ragazzi",),
    series=None,
    isbns=("9788807818738",),
    material_type="AUDIOVISUAL",
    language="ita",
    year=2020,
    libraries=("PV1",),
    available_libraries=(),
    copies=1,
    available=0,
)
TOLKIEN = CatalogDocument(
    record_id="r-tolkien",
    title="The Lord of the Rings",
    authors=("Tolkien, J. R. R.",),
    subjects=("Fantasy fiction",),
    series=None,
    isbns=(),
    material_type="BOOK",
    language="eng",
    year=1954,
    libraries=("PV3",),
    available_libraries=("PV3",),
    copies=1,
    available=1,
)
CITTA = CatalogDocument(
    record_id="r-citta",
    title="Le città invisibili",
    authors=("Calvino, Italo",),
    subjects=("Narrativa italiana",),
    series=None,
    isbns=("9788804668237",),
    material_type="BOOK",
    language="ita",
    year=1972,
    libraries=("PV1",),
    available_libraries=("PV1",),
    copies=1,
    available=1,
)
ALL = [CALVINO, RODARI, TOLKIEN, CITTA]


async def _found(backend: SearchBackend, query: str, **filters: object) -> list[str]:
    page = await backend.search(SearchRequest(query=query, **filters))  # type: ignore[arg-type]
    return page.record_ids


@pytest.fixture
async def catalog(backend: SearchBackend) -> SearchBackend:
    await backend.upsert(ALL)
    return backend


async def test_free_text_matches_title_authors_subjects_series(catalog: SearchBackend) -> None:
    assert await _found(catalog, "barone") == ["r-calvino"]
    assert set(await _found(catalog, "calvino")) == {"r-calvino", "r-citta"}
    assert await _found(catalog, "ragazzi") == ["r-rodari"]
    assert await _found(catalog, "oscar mondadori") == ["r-calvino"]


async def test_the_title_ranks_first(catalog: SearchBackend) -> None:
    await catalog.upsert(
        [replace(RODARI, record_id="r-about", title="Studi", subjects=("Barone rampante",))]
    )
    assert (await _found(catalog, "barone rampante"))[0] == "r-calvino"


async def test_a_typo_is_forgiven(catalog: SearchBackend) -> None:
    assert set(await _found(catalog, "calvno")) == {"r-calvino", "r-citta"}
    assert await _found(catalog, "barnoe rampante") == ["r-calvino"]
    assert await _found(catalog, "frecia azzurra") == ["r-rodari"]


async def test_the_last_word_is_a_prefix(catalog: SearchBackend) -> None:
    assert await _found(catalog, "il barone ramp") == ["r-calvino"]
    assert await _found(catalog, "tolk") == ["r-tolkien"]


async def test_accents_and_case_do_not_matter(catalog: SearchBackend) -> None:
    assert await _found(catalog, "CITTA INVISIBILI") == ["r-citta"]
    assert await _found(catalog, "città") == ["r-citta"]


async def test_filters(catalog: SearchBackend) -> None:
    assert await _found(catalog, "", material_types=("AUDIOVISUAL",)) == ["r-rodari"]
    assert set(await _found(catalog, "", library_ids=("PV1",))) == {
        "r-calvino",
        "r-rodari",
        "r-citta",
    }
    assert set(await _found(catalog, "calvino", available_only=True)) == {"r-calvino", "r-citta"}
    assert await _found(catalog, "", languages=("eng",)) == ["r-tolkien"]
    assert await _found(catalog, "", available_at=("PV2",)) == ["r-calvino"]
    assert set(await _found(catalog, "calvino", not_available_at=("PV2",))) == {"r-citta"}


async def test_facets_count_the_matching_records(catalog: SearchBackend) -> None:
    page = await catalog.search(SearchRequest(query=""))

    assert page.total == 4
    facets = {
        name: {value.value: value.count for value in values} for name, values in page.facets.items()
    }
    assert facets["materialType"] == {"BOOK": 3, "AUDIOVISUAL": 1}
    assert facets["language"] == {"ita": 3, "eng": 1}
    assert facets["library"] == {"PV1": 3, "PV2": 1, "PV3": 1}
    assert facets["available"] == {"true": 3, "false": 1}


async def test_availability_changes_without_the_text(catalog: SearchBackend) -> None:
    await catalog.upsert([replace(RODARI, available_libraries=("PV1",), available=1)])

    assert await _found(catalog, "freccia", available_only=True) == ["r-rodari"]
    assert await _found(catalog, "", available_at=("PV1",), material_types=("AUDIOVISUAL",)) == [
        "r-rodari"
    ]


async def test_isbn_lookup_is_an_exact_filter(catalog: SearchBackend) -> None:
    assert await catalog.records_with_isbn("9788804667698") == ["r-calvino"]
    assert await catalog.records_with_isbn("9788804667690") == []


async def test_deleted_documents_are_gone(catalog: SearchBackend) -> None:
    await catalog.delete(["r-tolkien"])

    assert await _found(catalog, "tolkien") == []
    assert (await catalog.search(SearchRequest())).total == 3


@pytest.mark.parametrize(
    "query",
    ["", " ", "\x00\x01\x1b[2J", "x" * 10_000, '"unbalanced', "AND OR NOT", "* ( ) : ^", "😀 ☃"],
)
async def test_odd_queries_never_fail(catalog: SearchBackend, query: str) -> None:
    page = await catalog.search(SearchRequest(query=query))
    assert page.total >= 0


async def test_pages_follow_the_cursor(catalog: SearchBackend) -> None:
    service = CatalogSearch(catalog)
    first = await service.search(SearchRequest(query=""), first=3)
    rest = await service.search(SearchRequest(query=""), first=3, after=first.next_cursor)

    assert first.total == 4
    assert len(first.record_ids) == 3
    assert first.next_cursor is not None
    assert len(rest.record_ids) == 1
    assert rest.next_cursor is None
    assert set(first.record_ids) | set(rest.record_ids) == {d.record_id for d in ALL}


async def test_a_typed_isbn_goes_straight_to_its_record(catalog: SearchBackend) -> None:
    service = CatalogSearch(catalog)
    for typed in ("978-88-04-66769-8", "88-04-66769-9", "ISBN 978 88 04 66769 8"):
        results = await service.search(SearchRequest(query=typed))
        assert results.record_ids == ["r-calvino"], typed


async def test_nearest_libraries_first(catalog: SearchBackend) -> None:
    service = CatalogSearch(catalog)
    nearest = ["PV3", "PV1", "PV2", "PV4"]  # PV3 nearest, then PV1
    results = await service.search(SearchRequest(query=""), nearest_libraries=nearest)

    # On the shelf at the nearest three (PV3, PV1, PV2) first, then the rest.
    assert results.record_ids[-1] == "r-rodari"
    assert results.total == 4


async def test_nearest_first_walks_the_rings_of_a_text_match(backend: SearchBackend) -> None:
    nearest = [f"L{number:02d}" for number in range(1, 18)]  # rings: 3, then 12, then the rest

    def atlas(letter: str, *shelves: str) -> CatalogDocument:
        return replace(
            CALVINO,
            record_id=f"r-{letter}",
            title=f"Atlante {letter}",
            isbns=(),
            libraries=("L01", "L02", "L05", "L09", "L16"),
            available_libraries=shelves,
            available=len(shelves),
        )

    await backend.upsert(
        [
            atlas("a", "L05"),
            atlas("b", "L01"),
            atlas("c"),
            atlas("d", "L09", "L02"),
            atlas("e", "L16"),
            replace(TOLKIEN, available_libraries=("L01",)),
        ]
    )
    service = CatalogSearch(backend)
    walked: list[str] = []
    cursor = None
    while True:
        results = await service.search(
            SearchRequest(query="atlante"), first=2, after=cursor, nearest_libraries=nearest
        )
        assert results.total == 5
        walked.extend(results.record_ids)
        cursor = results.next_cursor
        if cursor is None:
            break

    assert len(walked) == 5
    assert set(walked[:2]) == {"r-b", "r-d"}
    assert walked[2] == "r-a"
    assert set(walked[3:]) == {"r-c", "r-e"}


async def test_bad_cursors_and_sizes_are_refused(catalog: SearchBackend) -> None:
    service = CatalogSearch(catalog)
    with pytest.raises(InvalidSearch):
        await service.search(SearchRequest(query=""), after="not-a-cursor")
    with pytest.raises(InvalidSearch):
        await service.search(SearchRequest(query=""), first=0)
    assert len((await service.search(SearchRequest(query=""), first=500)).record_ids) == 4
