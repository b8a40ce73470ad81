"""The embedded backend's own behaviour beyond the contract: broad matches, counted on a
sample, on a catalogue big enough to have one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from search import EmbeddedSearch, SearchRequest
from tests.search.test_contract import CALVINO


async def test_a_broad_match_bunched_in_the_catalogue_keeps_its_words_and_counts(
    tmp_path: Path,
) -> None:
    # 300 records with both words at the start of the catalogue, one of them a film; then
    # films with the first word only, and 2,800 records with neither.
    both = [
        replace(
            CALVINO,
            record_id=f"both-{number}",
            title=f"Atlante del mondo {number}",
            material_type="AUDIOVISUAL" if number == 7 else "BOOK",
        )
        for number in range(1, 301)
    ]
    first_only = [
        replace(CALVINO, record_id=f"first-{number}", title="Atlante", material_type="AUDIOVISUAL")
        for number in range(20)
    ]
    neither = [
        replace(CALVINO, record_id=f"other-{number}", title=f"Storia {number}")
        for number in range(2800)
    ]
    backend = EmbeddedSearch(tmp_path / "search.db", broad_matches=50)
    await backend.start()
    try:
        await backend.upsert([*both, *first_only, *neither])

        everything = await backend.search(SearchRequest(query="atlante mondo"))
        films = await backend.search(
            SearchRequest(query="atlante mondo", material_types=("AUDIOVISUAL",))
        )
    finally:
        await backend.close()

    assert everything.total == 300
    counts = {facet.value: facet.count for facet in everything.facets["materialType"]}
    assert 240 <= counts["BOOK"] <= 360
    # The one film with both words, not the films with the first word alone.
    assert films.record_ids == ["both-7"]
    assert films.total >= 1


@pytest.mark.parametrize("broad_matches", [1, 2000])
async def test_a_word_spelt_like_a_shelf_token_finds_no_shelf(
    tmp_path: Path, broad_matches: int
) -> None:
    # The shelf column holds "l" and the hex digits of each library with a copy on the shelf:
    # library "A" is "l41". A typed word matches the text columns only, whole or as a prefix.
    on_shelf = replace(CALVINO, libraries=("A",), available_libraries=("A",), available=1)
    spelt = [
        replace(CALVINO, record_id=f"r-{word}", title=f"Rivista {word}", available_libraries=())
        for word in ("l4x", "l4y")
    ]
    backend = EmbeddedSearch(tmp_path / "search.db", broad_matches=broad_matches)
    await backend.start()
    try:
        await backend.upsert([on_shelf, *spelt])
        whole = await backend.search(SearchRequest(query="l41"))
        # Two words begin with "l4": FTS5 is asked for the prefix.
        prefix = await backend.search(SearchRequest(query="l4"))
    finally:
        await backend.close()

    assert whole.total == 0
    assert sorted(prefix.record_ids) == ["r-l4x", "r-l4y"]


@pytest.mark.parametrize("broad_matches", [1, 2000])
async def test_a_page_without_total_or_facets_is_the_same_page(
    tmp_path: Path, broad_matches: int
) -> None:
    # The rings of a nearest-first walk ask for their page alone: on a broad match the
    # embedded backend then leaves the sample unread; the page is the same either way.
    libraries = [f"L{number}" for number in range(6)]
    documents = [
        replace(
            CALVINO,
            record_id=f"r-{number}",
            title=f"Atlante {'del mondo ' * (number % 3)}{number}",
            libraries=tuple(libraries),
            available_libraries=tuple(libraries[number % 4 : number % 4 + number % 3]),
            available=number % 3,
        )
        for number in range(40)
    ]
    rings = [
        SearchRequest(query="atlante mondo", available_at=("L0", "L1")),
        SearchRequest(query="atlante mondo", available_at=("L2", "L3"), not_available_at=("L0",)),
        SearchRequest(query="atlante", not_available_at=("L0", "L1", "L2", "L3")),
        SearchRequest(query="atlante", material_types=("BOOK",), available_at=("L4",)),
        SearchRequest(query="atlante mondo", available_at=("L5",)),  # on no shelf
    ]
    backend = EmbeddedSearch(tmp_path / "search.db", broad_matches=broad_matches)
    await backend.start()
    try:
        await backend.upsert(documents)
        for ring in rings:
            for offset, limit in ((0, 3), (2, 5), (0, 50), (60, 5)):
                asked = replace(ring, offset=offset, limit=limit)
                full = await backend.search(asked)
                (bare,) = await backend.search_many(
                    [replace(asked, with_total=False, with_facets=False)]
                )
                assert bare.record_ids == full.record_ids, asked
                # Nothing found is told as before: it makes the search drop its last word.
                assert (bare.total == 0) == (full.total == 0), asked
                assert bare.total <= full.total, asked
    finally:
        await backend.close()
