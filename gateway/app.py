"""The HTTP application: GraphQL at /graphql, the PWA at /."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from strawberry.fastapi import GraphQLRouter

from schema import Context, schema

from ._runtime import Runtime

__all__ = ["PWA_DIR", "create_app"]

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"


def create_app(runtime: Runtime) -> FastAPI:
    """The app for one runtime; the runtime's database is migrated when the app starts."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        yield
        await runtime.close()

    async def context() -> Context:
        return Context(sessions=runtime.sessions, clock=runtime.clock)

    app = FastAPI(title="Tessera", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(GraphQLRouter(schema, context_getter=context), prefix="/graphql")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/", StaticFiles(directory=PWA_DIR, html=True), name="pwa")
    return app
