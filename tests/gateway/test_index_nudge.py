"""A mutation served by the gateway makes the search index catch up at once."""

from __future__ import annotations

from pathlib import Path

import httpx

from gateway._runtime import Runtime
from gateway.app import create_app
from gateway.settings import Settings


class CountingRuntime(Runtime):
    nudges = 0

    def nudge_index(self) -> None:
        CountingRuntime.nudges += 1
        super().nudge_index()


async def test_a_mutation_nudges_the_index_and_a_query_does_not(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path / "var", database_url=f"sqlite+aiosqlite:///{tmp_path / 'tessera.db'}"
    )
    base = Runtime.from_settings(settings)
    runtime = CountingRuntime(**{name: getattr(base, name) for name in base.__dataclass_fields__})
    app = create_app(runtime, worker=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        await client.post("/graphql", json={"query": "{ libraries { id } }"})
        assert CountingRuntime.nudges == 0

        await client.post(
            "/graphql",
            json={"query": 'mutation { logout(input: {refreshToken: "x"}) { errors { code } } }'},
        )
        assert CountingRuntime.nudges == 1
