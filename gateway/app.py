"""The HTTP application: GraphQL at /graphql, the PWA at /, health at /healthz and /readyz.

What every request goes through, outermost first:
- security headers on every response (the CSP of a PWA that talks only to its own origin; HSTS
  when the request came over https);
- a request id and one JSON log line (gateway/_logging.py);
- CORS for the PWA's origin when TESSERA_PWA_ORIGIN names one (otherwise no CORS headers: same
  origin only);
- a body limit: more than MAX_BODY_BYTES is 413.
Then GraphQL: queries over GET or POST, mutations over POST only; persisted operations
(gateway/_persisted.py); the schema's depth, cost and size limits (schema/_schema.py);
introspection and GraphiQL only with TESSERA_GRAPHIQL=1. A request that is not a GraphQL request
(bad JSON, not an object, wrong field types) is 400, never 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types.graphql import OperationType

from circulation import ManualClock
from schema import Context, Services, language_of
from schema._schema import build_schema

from ._logging import (
    REQUEST_ID_HEADER,
    OperationNameRecorder,
    RequestLogMiddleware,
    configure_logging,
)
from ._persisted import PersistedOperations, PersistedQueries
from ._response_cache import FOLLOW_INTERVAL_SECONDS, ResponseCache, ResponseCacheMiddleware
from ._runtime import Runtime
from ._secrets import vapid_public_key

__all__ = ["CONTENT_SECURITY_POLICY", "MAX_BODY_BYTES", "PWA_DIR", "create_app"]

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

MAX_BODY_BYTES = 64 * 1024
READY_TIMEOUT_SECONDS = 3.0

# The PWA is served from / and talks only to /graphql on the same origin. 'wasm-unsafe-eval'
# lets it compile WebAssembly (the barcode polyfill, served from here), and nothing else: no eval.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data:; "
    "worker-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)
# GraphiQL (TESSERA_GRAPHIQL=1 only) loads its scripts and styles from unpkg and runs inline code.
GRAPHIQL_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; "
    "style-src 'self' 'unsafe-inline' https://unpkg.com; font-src 'self' data: https://unpkg.com; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=(self), geolocation=(self)"),
)
STRICT_TRANSPORT_SECURITY = "max-age=31536000"

log = logging.getLogger("tessera.gateway")


class SecurityHeadersMiddleware:
    """The security headers on every response (a response may set its own CSP first)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if secure:
                    headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _json_error(status: int, message: str) -> tuple[Message, Message]:
    body = json.dumps({"errors": [{"message": message}]}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class BodySizeLimitMiddleware:
    """Refuses a request body over `limit` bytes with 413, before the app reads any of it (a
    declared Content-Length over the limit) or once the bytes received pass it."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"The request body is larger than {self.limit} bytes."
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value.decode("latin-1").strip()
                if not declared.isdigit():
                    await self._refuse(send, 400, "Content-Length is not a number.")
                    return
                if int(declared) > self.limit:
                    await self._refuse(send, 413, too_large)
                    return
        # The body is read here (at most `limit` bytes), then handed to the app.
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(send, 413, too_large)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if received:
                return received.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Send, status: int, message: str) -> None:
        start, body = _json_error(status, message)
        await send(start)
        await send(body)


class _GraphQLRouter(GraphQLRouter[Context, None]):
    """Strawberry's router, stricter about what a GraphQL request is (400 for the rest)."""

    def decode_json(self, data: str | bytes) -> object:
        try:
            value = json.loads(data)
        except (ValueError, RecursionError) as error:
            # ValueError covers bad JSON and bytes that are not UTF-8; RecursionError, JSON
            # nested too deep for the parser.
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request must be a JSON object.")
        return value

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null."
                )
        return data

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET with only a persisted query's hash has no `query` either, and is no page view.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        response = await super().render_graphql_ide(request)
        response.headers["Content-Security-Policy"] = GRAPHIQL_CONTENT_SECURITY_POLICY
        return response


class AfterWrites(SchemaExtension):
    """After a mutation, the search index catches up at once rather than at its next round (a
    copy returned at the desk shows on the shelf within a few milliseconds), and the answer
    waits for the kept answers to drop what the mutation changed (the client sees its own
    change in the next read)."""

    def __init__(
        self, nudge: Callable[[], None], caught_up: Callable[[], Awaitable[None]] | None
    ) -> None:
        self._nudge = nudge
        self._caught_up = caught_up

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        if self.execution_context.operation_type is OperationType.MUTATION:
            self._nudge()
            if self._caught_up is not None:
                try:
                    await self._caught_up()
                except Exception:
                    # The mutation is committed: say so. The cache serves nothing meanwhile.
                    log.exception("the kept answers could not catch up after a mutation")


async def _passes(check: Callable[[], Awaitable[bool]]) -> bool:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            return await check()
    except Exception:
        log.warning("readiness check failed", exc_info=True)
        return False


def create_app(
    runtime: Runtime,
    *,
    worker: bool = True,
    follow_interval: float | None = FOLLOW_INTERVAL_SECONDS,
) -> FastAPI:
    """The app for one runtime, started with the app; with `worker`, the scheduled work and
    index updates run in this process too. The kept answers follow the outbox every
    `follow_interval` seconds (None: only when a mutation here asks, for tests)."""
    configure_logging()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        background = []
        try:
            if answers.size and follow_interval is not None:
                await answers.catch_up()
                background.append(asyncio.create_task(answers.follow_forever(follow_interval)))
            if worker:
                background.append(asyncio.create_task(runtime.work_forever()))
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
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
    registry = PersistedOperations.load()
    answers = ResponseCache(runtime.sessions, size=settings.response_cache_size)
    graphql_schema = build_schema(
        introspection=settings.graphiql,
        extensions=[
            lambda: PersistedQueries(registry, only=settings.persisted_only),
            OperationNameRecorder,
            lambda: AfterWrites(runtime.nudge_index, answers.catch_up if answers.size else None),
        ],
    )

    async def context(request: HTTPConnection) -> Context:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        return Context(
            services=services,
            language=language_of(request.headers.get("accept-language")),
            address=request.client.host if request.client else "unknown",
            bearer_token=token.strip() if scheme.lower() == "bearer" else None,
        )

    app = FastAPI(
        title="Tessera",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.response_cache = answers

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """The process can serve: the database answers SELECT 1 and the search backend says it
        is healthy (503, naming the part that failed, otherwise)."""

        async def database() -> bool:
            async with runtime.engine.connect() as connection:
                return bool((await connection.scalar(text("SELECT 1"))) == 1)

        database_ok, search_ok = await asyncio.gather(
            _passes(database), _passes(runtime.search_backend.healthy)
        )
        checks = {
            "database": "ok" if database_ok else "failed",
            "search": "ok" if search_ok else "failed",
        }
        ready = database_ok and search_ok
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/graphql/persisted-operations", include_in_schema=False)
    async def persisted_operations() -> dict[str, str]:
        """The registered operations: SHA-256 of the text → operation name."""
        return registry.names()

    app.include_router(
        _GraphQLRouter(
            graphql_schema,
            context_getter=context,
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(),
        ),
        prefix="/graphql",
    )
    app.mount("/", StaticFiles(directory=PWA_DIR, html=True), name="pwa")

    # Added innermost first: the last one added sees the request first.
    app.add_middleware(
        ResponseCacheMiddleware,
        cache=answers,
        registry=registry,
        today=runtime.circulation.today,
    )
    app.add_middleware(BodySizeLimitMiddleware, limit=MAX_BODY_BYTES)
    if settings.pwa_origin:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[settings.pwa_origin],
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
            max_age=600,
        )
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
