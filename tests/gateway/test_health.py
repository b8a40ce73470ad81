"""/healthz: the process is up; /readyz: the database and the search backend answer."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from db import create_engine
from gateway._runtime import Runtime
from gateway.app import create_app
from gateway.settings import Settings
from search import EmbeddedSearch


class _UnhealthySearch(EmbeddedSearch):
    """An embedded index that opens and closes as usual but says it is not healthy (as
    Meilisearch does while it is down)."""

    async def healthy(self) -> bool:
        return False


def _runtime(tmp_path: Path) -> Runtime:
    return Runtime.from_settings(
        Settings(
            var_dir=tmp_path / "var",
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'tessera.db'}",
            search="embedded",
        )
    )


@asynccontextmanager
async def _client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime, worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_healthz_and_readyz_answer_ok(tmp_path: Path) -> None:
    async with _client(_runtime(tmp_path)) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "search": "ok"}}
    assert ready.headers["cache-control"] == "no-store"


async def test_readyz_is_503_naming_the_search_backend_when_it_is_unhealthy(
    tmp_path: Path,
) -> None:
    runtime = _runtime(tmp_path)
    runtime = dataclasses.replace(
        runtime, search_backend=_UnhealthySearch(runtime.settings.var_dir / "search.db")
    )
    async with _client(runtime) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")

    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "search": "failed"},
    }


async def test_readyz_is_503_naming_the_database_when_it_does_not_answer(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    async with _client(runtime) as client:
        started = runtime.engine
        # A database that refuses connections (nothing listens on port 1).
        runtime.engine = create_engine("postgresql+asyncpg://tessera@127.0.0.1:1/tessera")
        try:
            ready = await client.get("/readyz")
        finally:
            await started.dispose()

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"database": "failed", "search": "ok"},
    }


async def test_readyz_is_503_when_the_search_backend_is_closed(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    async with _client(runtime) as client:
        await runtime.search_backend.close()
        ready = await client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "search": "failed"}
