"""The HTTP application: GraphQL at /graphql, the PWA at /."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from strawberry.fastapi import GraphQLRouter

from circulation import ManualClock
from schema import Context, Services, language_of, schema

from ._runtime import Runtime
from ._secrets import vapid_public_key

__all__ = ["PWA_DIR", "create_app"]

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"


def create_app(runtime: Runtime, *, worker: bool = True) -> FastAPI:
    """The app for one runtime, started with the app; with `worker`, the scheduled work and
    index updates run in this process too."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        background = asyncio.create_task(runtime.work_forever()) if worker else None
        try:
            yield
        finally:
            if background is not None:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
            await runtime.close()

    settings = runtime.settings
    services = Services(
        sessions=runtime.sessions,
        circulation=runtime.circulation,
        search=runtime.search,
        authenticator=runtime.authenticator,
        vapid_public_key=vapid_public_key(settings),
        push_allow_loopback=settings.push_allow_loopback,
        test_clock=runtime.clock if isinstance(runtime.clock, ManualClock) else None,
    )

    async def context(request: Request) -> Context:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        return Context(
            services=services,
            language=language_of(request.headers.get("accept-language")),
            address=request.client.host if request.client else "unknown",
            bearer_token=token.strip() if scheme.lower() == "bearer" else None,
        )

    app = FastAPI(title="Tessera", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(GraphQLRouter(schema, context_getter=context), prefix="/graphql")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/", StaticFiles(directory=PWA_DIR, html=True), name="pwa")
    return app
