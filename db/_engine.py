"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_

__all__ = ["create_engine", "create_session_factory", "reading", "transaction"]

# Marks the connection of a unit of work (see `transaction`), which may write; its value is the
# unit's _WriteTurn.
_WRITES = "tessera_writes"
# How long a SQLite read may wait for a lock, in milliseconds: readers of a WAL database wait
# only in rare moments (another connection recovering the WAL), and they wait on the event loop.
_READ_BUSY_TIMEOUT_MS = 250


class _InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite called straight from the event loop's thread, for reads only (see `reading`).

    aiosqlite runs each call on a thread of the connection's and hands the result back: about
    four thread switches per statement, which cost far more than a small read itself. A read of
    a WAL database never waits for a writer, so it can run on the loop; a write may wait for
    the write lock, so units of work stay on aiosqlite."""

    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool


registry.register("sqlite.tessera_inline", __name__, "_InlineSQLiteDialect")


class _WriteTurn:
    """A unit of work's place in its process's queue for SQLite's write lock (see create_engine):
    taken when the unit begins, given back once it has committed or rolled back."""

    def __init__(self) -> None:
        self._queue: asyncio.Lock | None = None

    def take(self, queue: asyncio.Lock) -> None:
        await_(queue.acquire())
        self._queue = queue

    def give_back(self) -> None:
        if self._queue is not None:
            self._queue.release()
            self._queue = None


# The reading engine of each SQLite engine (a file database), dropped with it.
_READERS: weakref.WeakKeyDictionary[Engine, AsyncEngine] = weakref.WeakKeyDictionary()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for `url`, with SQLite set up for safe concurrent use."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(parsed, **kwargs)

    engine = create_async_engine(parsed, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # pysqlite's own transaction handling would defer BEGIN; take it over (SQLAlchemy recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if parsed.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    # The units of work of this process wait for the write lock in this queue, first come first
    # served, rather than in SQLite's busy handler, which sleeps up to 100 ms between tries
    # (seconds at the 99th percentile under load). Other processes' writers still meet the
    # busy handler, rarely.
    queue = asyncio.Lock()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # A unit of work takes the write lock up front: two transactions that read then write
        # can never deadlock, and a limit checked inside one still holds when it commits.
        # Other sessions begin deferred, so readers never wait for each other (WAL).
        turn = connection.get_execution_options().get(_WRITES)
        if isinstance(turn, _WriteTurn):
            # The connection is already out of the pool: the units waiting here are under way.
            turn.take(queue)
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    if parsed.database not in (None, "", ":memory:"):
        _READERS[engine.sync_engine] = _reading_engine(engine)
    return engine


def _reading_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine `reading` uses for the SQLite file of `engine`: inline pysqlite, each statement
    in a transaction of its own, refusing to write."""
    # The loop's thread is the only one to use these connections; the garbage collector may
    # close them from another.
    reader = create_async_engine(
        engine.url.set(drivername="sqlite+tessera_inline"),
        connect_args={"check_same_thread": False},
    )

    @event.listens_for(reader.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {_READ_BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA query_only = ON")

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _dispose(_engine: Engine) -> None:
        reader.sync_engine.dispose()

    return reader


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits when the block ends normally, rolls back on any exception."""
    turn = _WriteTurn()
    try:
        async with sessions() as session, session.begin():
            await session.connection(execution_options={_WRITES: turn})
            yield session
    finally:
        # After the COMMIT or ROLLBACK: the next unit's BEGIN IMMEDIATE finds the lock free.
        turn.give_back()


@asynccontextmanager
async def reading(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session that only reads, with no transaction around its statements: each sees what was
    committed before it ran. On PostgreSQL a query costs one round trip instead of three (BEGIN,
    the query, ROLLBACK); a SQLite file is read on the event loop's own thread
    (_InlineSQLiteDialect)."""
    bind = sessions.kw.get("bind")
    reader = _READERS.get(bind.sync_engine) if isinstance(bind, AsyncEngine) else None
    if reader is not None:
        async with sessions(bind=reader) as session:
            yield session
        return
    async with sessions() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
