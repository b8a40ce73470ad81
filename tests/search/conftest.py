"""The search contract runs on every backend: the embedded one always, Meilisearch whenever
TESSERA_MEILI_URL points at a server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from search import EmbeddedSearch, SearchBackend

BackendFactory = Callable[[], SearchBackend]

MEILI_URL = os.environ.get("TESSERA_MEILI_URL")


def _embedded(tmp_path: Path) -> SearchBackend:
    return EmbeddedSearch(tmp_path / f"search-{uuid.uuid4().hex[:8]}.db")


def _embedded_broad(tmp_path: Path) -> SearchBackend:
    """Every search with more than one match takes the path of searches over common words."""
    return EmbeddedSearch(tmp_path / f"search-{uuid.uuid4().hex[:8]}.db", broad_matches=1)


def _meilisearch(_tmp_path: Path) -> SearchBackend:
    from search import MeiliSearch

    backend: SearchBackend = MeiliSearch(
        url=MEILI_URL or "",
        api_key=os.environ.get("TESSERA_MEILI_KEY"),
        index=f"test_{uuid.uuid4().hex[:8]}",
    )
    return backend


@pytest.fixture(
    params=[
        "embedded",
        "embedded-broad",
        pytest.param(
            "meilisearch",
            marks=pytest.mark.skipif(MEILI_URL is None, reason="TESSERA_MEILI_URL is not set"),
        ),
    ]
)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SearchBackend]:
    """A started, empty backend, closed after the test."""
    make = {"embedded": _embedded, "embedded-broad": _embedded_broad}.get(
        request.param, _meilisearch
    )
    backend = make(tmp_path)
    await backend.start()
    try:
        yield backend
    finally:
        await backend.clear()
        await backend.close()
