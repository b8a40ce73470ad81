"""Answers to the public reads of one record (ScanIsbn, Record), kept in memory and served again
until the outbox says the record changed.

A record's detail (its copies' status and due dates, its hold queue) changes only in a
transaction that also writes an outbox event naming the record, so following the outbox is
enough to know when a kept answer went stale:
- the notices that change no record (due soon, overdue, suspension, pickup reminder) drop none;
- an event with a `recordId` drops the answers about that record;
- a change to the catalogue (records, libraries), or any other event that names no record,
  drops every answer.
Answers are kept per day of the circulation clock, as a copy's status may follow the date
(embargoes, quarantines), and for `KEEP_SECONDS` at most, so that a change written behind the
outbox's back (by hand, or by an older process during an upgrade) is seen within that time.

In this process a mutation waits for the cache to catch up before it answers, so a client sees
its own change at once; another process's change is seen within `FOLLOW_INTERVAL_SECONDS`. When
the outbox has not been read for `FRESH_SECONDS` (the database is slow or away), nothing is
served from memory.

Only an answer about a record is kept, to an operation sent as a registered text (whatever its
layout) or by its persisted hash; the key is the operation, the variables it declares, the
language and the day. An answer with errors is never kept. Requests the app would judge
differently (odd extensions, repeated or blank parameters) go to the app.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from time import monotonic
from typing import Any
from urllib.parse import parse_qsl

from graphql import GraphQLError, OperationDefinitionNode, parse, print_ast
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog import LIBRARY_CHANGED, RECORD_CHANGED
from circulation import NOTICE_EVENTS
from db import OutboxEvent, OutboxTail
from schema import language_of

from ._logging import current_request
from ._persisted import PersistedOperations

__all__ = [
    "FOLLOW_INTERVAL_SECONDS",
    "FRESH_SECONDS",
    "KEEP_SECONDS",
    "KeptAnswer",
    "ResponseCache",
    "ResponseCacheMiddleware",
]

FOLLOW_INTERVAL_SECONDS = 0.1
FRESH_SECONDS = 2.0
KEEP_SECONDS = 60.0
# How long a mutation waits for the cache to catch up before answering anyway.
CATCH_UP_TIMEOUT_SECONDS = 5.0

# Operation name → the field of `data` holding the record the answer is about.
_RECORD_FIELDS = {"ScanIsbn": "scan", "Record": "record"}
_CATALOGUE = frozenset({RECORD_CHANGED, LIBRARY_CHANGED})
_REQUEST_FIELDS = frozenset({"query", "variables", "operationName", "extensions"})
# Variables beyond this size (a 10,000-character "code") are answered but not kept.
_MAX_VARIABLES_BYTES = 1024
# Query texts recognised (or not) as a registered operation, remembered by their SHA-256.
_KNOWN_TEXTS = 256
_MAX_TEXT_BYTES = 8192

Key = tuple[object, ...]
log = logging.getLogger("tessera.gateway")


@dataclass(frozen=True)
class KeptAnswer:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    record_id: str


class ResponseCache:
    """The kept answers (at most `size`, least recently used dropped first) and what drops them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        size: int,
        keep_seconds: float = KEEP_SECONDS,
        fresh_seconds: float = FRESH_SECONDS,
        timer: Callable[[], float] = monotonic,
    ) -> None:
        self.size = size
        self._keep_seconds = keep_seconds
        self._fresh_seconds = fresh_seconds
        self._timer = timer
        # Each answer with when it was kept.
        self._answers: OrderedDict[Key, tuple[KeptAnswer, float]] = OrderedDict()
        self._keys_by_record: dict[str, set[Key]] = {}
        # An answer computed while its record was dropped must not be kept: each drop is
        # numbered, and an answer is kept only if no drop of its record came after its start.
        self._drops = 0
        self._dropped_at: dict[str, int] = {}
        self._all_dropped_at = 0
        self._started: Counter[int] = Counter()
        self._tail = OutboxTail(sessions)
        self._catching_up = asyncio.Lock()
        self._requested = 0
        self._done = 0
        # When the outbox was last read through (never: nothing is served or kept).
        self._caught_up_at = float("-inf")

    def __len__(self) -> int:
        return len(self._answers)

    def _fresh(self, now: float) -> bool:
        return now - self._caught_up_at <= self._fresh_seconds

    def get(self, key: Key) -> KeptAnswer | None:
        now = self._timer()
        kept = self._answers.get(key)
        if kept is None or not self._fresh(now):
            return None
        answer, kept_at = kept
        if now - kept_at > self._keep_seconds:
            self._forget(key)
            return None
        self._answers.move_to_end(key)
        return answer

    def begin(self) -> int:
        """Mark the start of computing an answer; pass the mark to `keep` or `abandon`."""
        self._started[self._drops] += 1
        return self._drops

    def abandon(self, mark: int) -> None:
        self._started[mark] -= 1
        if not self._started[mark]:
            del self._started[mark]

    def keep(self, mark: int, key: Key, answer: KeptAnswer) -> None:
        self.abandon(mark)
        now = self._timer()
        if not self._fresh(now):
            return
        if self._all_dropped_at > mark or self._dropped_at.get(answer.record_id, 0) > mark:
            return
        self._forget(key)
        self._answers[key] = (answer, now)
        self._keys_by_record.setdefault(answer.record_id, set()).add(key)
        while len(self._answers) > self.size:
            self._forget(next(iter(self._answers)))

    def _forget(self, key: Key) -> None:
        kept = self._answers.pop(key, None)
        if kept is not None:
            keys = self._keys_by_record[kept[0].record_id]
            keys.discard(key)
            if not keys:
                del self._keys_by_record[kept[0].record_id]

    def drop_record(self, record_id: str) -> None:
        self._drops += 1
        self._dropped_at[record_id] = self._drops
        for key in self._keys_by_record.pop(record_id, ()):
            del self._answers[key]

    def drop_all(self) -> None:
        self._drops += 1
        self._all_dropped_at = self._drops
        self._dropped_at.clear()
        self._answers.clear()
        self._keys_by_record.clear()

    def apply(self, events: Iterable[OutboxEvent]) -> None:
        """Drop what the events make stale."""
        for event in events:
            if event.event_type in NOTICE_EVENTS:
                continue
            payload = event.payload if isinstance(event.payload, dict) else {}
            record_id = payload.get("recordId")
            if event.event_type not in _CATALOGUE and isinstance(record_id, str):
                self.drop_record(record_id)
            else:
                self.drop_all()
        # Drops older than every answer being computed can no longer refuse one.
        oldest = min(self._started, default=self._drops)
        for record_id, dropped in list(self._dropped_at.items()):
            if dropped <= oldest:
                del self._dropped_at[record_id]

    async def catch_up(self) -> None:
        """Apply every event committed before this call (one read of the outbox, shared by
        the callers that arrive while it runs)."""
        self._requested += 1
        ticket = self._requested
        async with asyncio.timeout(CATCH_UP_TIMEOUT_SECONDS), self._catching_up:
            if self._done >= ticket:
                return
            target = self._requested
            try:
                while events := await self._tail.fetch():
                    self.apply(events)
            except BaseException:
                # Changes may have gone unseen: serve and keep nothing until the outbox is
                # read through (the tail then reads what it missed).
                self._caught_up_at = float("-inf")
                self.drop_all()
                raise
            self._caught_up_at = self._timer()
            self._done = target

    async def follow_forever(self, interval: float = FOLLOW_INTERVAL_SECONDS) -> None:
        """Catch up every `interval` seconds (every second while the outbox cannot be read)."""
        failing = False
        while True:
            try:
                await self.catch_up()
            except Exception:
                if not failing:
                    log.exception("the response cache cannot read the outbox; keeping nothing")
                failing = True
                await asyncio.sleep(max(interval, 1.0))
                continue
            if failing:
                log.info("the response cache reads the outbox again")
                failing = False
            await asyncio.sleep(interval)


def _graphql_request(scope: Scope, body: bytes) -> dict[str, Any] | None:
    """The GraphQL request of a GET or a JSON POST, when it is one the app reads the same way."""
    if scope["method"] == "POST":
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        if not content_type.startswith(b"application/json"):
            return None
        try:
            request = json.loads(body)
        except (ValueError, RecursionError):
            return None
        return request if isinstance(request, dict) else None
    if scope["method"] != "GET":
        return None
    pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    found = dict(pairs)
    if len(found) != len(pairs) or not all(found.values()):
        return None
    decoded: dict[str, Any] = dict(found)
    try:
        for name in ("variables", "extensions"):
            if name in decoded:
                decoded[name] = json.loads(decoded[name])
    except (ValueError, RecursionError):
        return None
    return decoded


@dataclass(frozen=True)
class _Cacheable:
    name: str
    variables: tuple[str, ...]


class ResponseCacheMiddleware:
    """Serves a kept answer to a cacheable operation; keeps the answers the app gives."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: ResponseCache,
        registry: PersistedOperations,
        today: Callable[[], date],
        path: str = "/graphql",
    ) -> None:
        self.app = app
        self.cache = cache
        self.today = today
        self.path = path
        self.cacheable: dict[str, _Cacheable] = {}
        for operation in registry:
            if operation.name in _RECORD_FIELDS:
                definition = parse(operation.text).definitions[0]
                assert isinstance(definition, OperationDefinitionNode)
                declared = tuple(
                    v.variable.name.value for v in definition.variable_definitions or ()
                )
                self.cacheable[operation.sha256] = _Cacheable(operation.name, declared)
        self._texts: OrderedDict[str, str | None] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or self.cache.size == 0:
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        body = b""
        if scope["method"] == "POST":
            while True:
                message = await receive()
                received.append(message)
                body += message.get("body", b"")
                if message["type"] != "http.request" or not message.get("more_body", False):
                    break

        async def replay() -> Message:
            if received:
                return received.pop(0)
            return await receive()

        found = self._key(scope, body)
        if found is None:
            await self.app(scope, replay, send)
            return
        key, operation = found
        request = current_request()
        answer = self.cache.get(key)
        if request is not None:
            request.cache = "miss" if answer is None else "hit"
        if answer is None:
            await self._answer_and_keep(scope, replay, send, key, operation)
            return
        if request is not None:
            request.operation_name = operation.name
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})

    def _registered(self, query: str) -> str | None:
        """The hash of the registered operation a query text is, whatever its layout and
        comments (and nothing more: a fragment it does not use makes it another document)."""
        text_sha256 = hashlib.sha256(query.encode()).hexdigest()
        if text_sha256 in self.cacheable:
            return text_sha256
        if text_sha256 in self._texts:
            return self._texts[text_sha256]
        registered = None
        if len(query) <= _MAX_TEXT_BYTES:
            try:
                printed = print_ast(parse(query))
            except (GraphQLError, RecursionError):
                printed = None
            if printed is not None:
                registered = hashlib.sha256(printed.encode()).hexdigest()
        self._texts[text_sha256] = registered if registered in self.cacheable else None
        if len(self._texts) > _KNOWN_TEXTS:
            self._texts.popitem(last=False)
        return self._texts[text_sha256]

    def _key(self, scope: Scope, body: bytes) -> tuple[Key, _Cacheable] | None:
        """The key of a cacheable operation's answer, and the operation."""
        request = _graphql_request(scope, body)
        if request is None or not request.keys() <= _REQUEST_FIELDS:
            return None
        query, extensions = request.get("query"), request.get("extensions")
        sha256: str | None = None
        if extensions is not None:
            # Only the one form a client sends; anything else goes to the app, which judges it.
            persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
            if not isinstance(persisted, dict) or extensions.keys() != {"persistedQuery"}:
                return None
            if persisted.keys() != {"version", "sha256Hash"} or persisted["version"] != 1:
                return None
            if not isinstance(persisted["sha256Hash"], str) or query is not None:
                return None
            sha256 = persisted["sha256Hash"]
        elif isinstance(query, str):
            sha256 = self._registered(query)
        operation = self.cacheable.get(sha256) if sha256 is not None else None
        if operation is None or request.get("operationName") not in (None, operation.name):
            return None
        variables = request.get("variables") or {}
        if not isinstance(variables, dict):
            return None
        declared = json.dumps(
            [variables.get(name) for name in operation.variables],
            separators=(",", ":"),
            sort_keys=True,
        )
        if len(declared) > _MAX_VARIABLES_BYTES:
            return None
        accept_language = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")
        language = language_of(accept_language.decode("latin-1"))
        return (sha256, declared, language, self.today()), operation

    async def _answer_and_keep(
        self, scope: Scope, receive: Receive, send: Send, key: Key, operation: _Cacheable
    ) -> None:
        mark = self.cache.begin()
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                # A copy: the middlewares outside add this request's own headers to the message.
                start = {**message, "headers": list(message.get("headers", ()))}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            self.cache.abandon(mark)
            raise
        answer = self._keepable(start, b"".join(chunks), operation)
        if answer is None:
            self.cache.abandon(mark)
        else:
            self.cache.keep(mark, key, answer)

    @staticmethod
    def _keepable(start: Message | None, body: bytes, operation: _Cacheable) -> KeptAnswer | None:
        """The answer to keep: a 200 with data about a record and no errors."""
        if start is None or start["status"] != 200:
            return None
        try:
            result = json.loads(body)
        except ValueError:
            return None
        data = result.get("data") if isinstance(result, dict) else None
        if not isinstance(data, dict) or "errors" in result:
            return None
        about = data.get(_RECORD_FIELDS[operation.name])
        record_id = about.get("id") if isinstance(about, dict) else None
        if not isinstance(record_id, str):
            return None
        return KeptAnswer(start["headers"], body, record_id)
