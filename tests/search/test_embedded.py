"""The embedded backend's own behaviour beyond the contract: broad matches, counted on a
sample, on a catalogue big enough to have one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
