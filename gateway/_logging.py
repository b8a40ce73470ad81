"""Structured logs: one JSON object per line, and one line per HTTP request.

A request's line has its method, path (never the query string: a GET carries the variables there),
status, duration in milliseconds, request id and GraphQL operation name, and nothing else: never
headers (Authorization), bodies, variables, tokens or PINs. The request id is the client's
X-Request-ID when it is a plausible one (letters, digits, `.`, `_`, `-`; at most 128), else a new
one; it is sent back in X-Request-ID and added to every line logged while the request runs.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

__all__ = [
    "REQUEST_ID_HEADER",
    "JsonFormatter",
    "OperationNameRecorder",
    "RequestInfo",
    "RequestLogMiddleware",
    "configure_logging",
    "current_request",
]

REQUEST_ID_HEADER = "X-Request-ID"
# The status logged for a request whose client went away before the answer (nginx's 499).
CLIENT_CLOSED_REQUEST = 499
_HANDLER_NAME = "tessera-json"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")

request_log = logging.getLogger("tessera.request")


@dataclass
class RequestInfo:
    request_id: str
    operation_name: str | None = None
    # "hit" or "miss" for an operation whose answers are kept (gateway/_response_cache.py).
    cache: str | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("tessera_request", default=None)


def current_request() -> RequestInfo | None:
    """The request being served by this task, if any."""
    return _current.get()


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time, level, logger, message, the record's `fields` (passed as
    `extra={"fields": {...}}`), the current request id, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        request = current_request()
        if request is not None:
            entry.setdefault("request_id", request.request_id)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


_DROP_ALL = _DropAll()


def configure_logging() -> None:
    """JSON lines on stderr for the process (once): our own loggers from INFO, the libraries'
    from WARNING. Uvicorn's access log is silenced: it prints query strings (a GET's variables),
    and the request lines below replace it."""
    root = logging.getLogger()
    if not any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        handler = logging.StreamHandler()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    tessera = logging.getLogger("tessera")
    if tessera.level == logging.NOTSET:
        tessera.setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").addFilter(_DROP_ALL)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = str(value.decode("latin-1")).strip()
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Gives each HTTP request an id and logs one line when it is answered; an exception that
    escapes the app is logged (with its traceback) and answered 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = RequestInfo(request_id=_request_id(scope))
        token = _current.set(info)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = info.request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST  # the client left before it was answered
        except Exception as error:
            # The type and the frames, not the message: it may quote data (SQL parameters).
            request_log.error(
                "unhandled error",
                extra={
                    "fields": {
                        "error": type(error).__name__,
                        "traceback": "".join(traceback.format_tb(error.__traceback__)),
                    }
                },
            )
            if not response_started:
                await _internal_error(send_with_id, info.request_id)
        finally:
            request_log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "request_id": info.request_id,
                        "operation": info.operation_name,
                        "cache": info.cache,
                    }
                },
            )
            _current.reset(token)


async def _internal_error(send: Send, request_id: str) -> None:
    body = json.dumps(
        {"errors": [{"message": f"Internal server error (request {request_id})."}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class OperationNameRecorder(SchemaExtension):
    """Puts the GraphQL operation's name (when it is a valid name) on the request's log line."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            request = current_request()
            if request is not None:
                name = self.execution_context.operation_name
                if isinstance(name, str) and _OPERATION_NAME.fullmatch(name):
                    request.operation_name = name
