"""The index follows the database through the outbox, and loses nothing while it is down."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import load_dataset, parse_dataset
from circulation import Circulation, ManualClock, checkin, checkout, load_policy
from db import transaction
from search import CatalogDocument, EmbeddedSearch, SearchIndexer, SearchRequest
from tests.factories import NOW, dataset_document

Sessions = async_sessionmaker[AsyncSession]


class UnreachableIndex(EmbeddedSearch):
    """An index that refuses writes while `down` (as a Meilisearch server that went away)."""

    down = False

    async def upsert(self, documents: Sequence[CatalogDocument]) -> None:
        if self.down:
            raise ConnectionError("the search server does not answer")
        await super().upsert(documents)


async def _shelved_at(backend: EmbeddedSearch, library_id: str) -> list[str]:
    page = await backend.search(SearchRequest(query="", available_at=(library_id,)))
    return sorted(page.record_ids)


async def test_changes_wait_while_the_index_is_down_and_arrive_when_it_returns(
    sessions: Sessions, tmp_path: Path
) -> None:
    async with transaction(sessions) as session:
        await load_dataset(session, parse_dataset(dataset_document()), now=NOW)
    circulation = Circulation(load_policy("cubi"), ManualClock(NOW), sessions)
    backend = UnreachableIndex(tmp_path / "search.db")
    await backend.start()
    indexer = SearchIndexer(backend, sessions, circulation)
    assert await indexer.catch_up() == 2
    assert await _shelved_at(backend, "PAV01") == ["r1"]

    backend.down = True
    lent = await checkout(
        circulation, card_number="C0001", barcode="PAV01-000001", library_id="PAV01"
    )
    assert lent.refusal is None
    with pytest.raises(ConnectionError):
        await indexer.catch_up()
    assert await _shelved_at(backend, "PAV01") == ["r1"]  # stale, nothing applied

    backend.down = False
    assert await indexer.catch_up() == 1
    assert await _shelved_at(backend, "PAV01") == []

    await checkin(circulation, barcode="PAV01-000001", library_id="PAV01")
    assert await indexer.catch_up() == 1
    assert await indexer.catch_up() == 0  # applied once, then nothing pending
    assert await _shelved_at(backend, "PAV01") == ["r1"]
    await backend.close()


async def test_a_rebuild_covers_what_happened_before_it(sessions: Sessions, tmp_path: Path) -> None:
    async with transaction(sessions) as session:
        await load_dataset(session, parse_dataset(dataset_document()), now=NOW)
    circulation = Circulation(load_policy("cubi"), ManualClock(NOW), sessions)
    backend = EmbeddedSearch(tmp_path / "search.db")
    await backend.start()
    indexer = SearchIndexer(backend, sessions, circulation)

    assert await indexer.rebuild() == 2
    assert await indexer.catch_up() == 0
    assert await backend.count() == 2
    await backend.close()
