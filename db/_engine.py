"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlalchemy.util import await_

from ._inline_sqlite import create_inline_engine

__all__ = ["create_engine", "create_session_factory", "reading", "transaction"]

# Marks the connection of a unit of work (see `transaction`), which may write; its value is the
# unit's _WriteTurn.
_WRITES = "tessera_writes"
# How long a SQLite statement may wait for a lock, in milliseconds: statements on a WAL database
# wait only in rare moments (another connection recovering the WAL), and they wait on the event
# loop; a unit of work waits for the write lock itself on the loop, up to the second figure.
_BUSY_TIMEOUT_MS = 250
_WRITE_LOCK_TIMEOUT_SECONDS = 30.0


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
        asyncpg = parsed.get_driver_name() == "asyncpg"
        kwargs.setdefault("pool_pre_ping", not asyncpg)
        server = create_async_engine(parsed, **kwargs)
        if asyncpg:
            event.listen(server.sync_engine, "checkout", _refuse_closed_connection)
        return server

    in_file = parsed.database not in (None, "", ":memory:")
    if in_file:
        engine = create_inline_engine(parsed, **kwargs)
    else:
        # One connection holds an in-memory database: its pool has no size.
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
        engine = create_async_engine(parsed, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # pysqlite's own transaction handling would defer BEGIN; take it over (SQLAlchemy recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS if in_file else 30000}")
        if in_file:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    # The units of work of this process wait for the write lock in this queue, first come first
    # served, rather than in SQLite's busy handler, which sleeps up to 100 ms between tries
    # (seconds at the 99th percentile under load).
    queue = asyncio.Lock()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # A unit of work takes the write lock up front: two transactions that read then write
        # can never deadlock, and a limit checked inside one still holds when it commits.
        # Other sessions begin deferred, so readers never wait for each other (WAL).
        turn = connection.get_execution_options().get(_WRITES)
        if not isinstance(turn, _WriteTurn):
            connection.exec_driver_sql("BEGIN")
            return
        # The connection is already out of the pool: the units waiting here are under way.
        turn.take(queue)
        if in_file:
            _begin_immediate_on_the_loop(connection)
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    if in_file:
        _READERS[engine.sync_engine] = _reading_engine(engine)
    return engine


def _refuse_closed_connection(
    _dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any
) -> None:
    """In place of pool_pre_ping, whose ping costs asyncpg three round trips per checkout
    (BEGIN, the ping, ROLLBACK): a server that restarts or ends a session closes the socket,
    which asyncpg notices on the event loop while the connection waits in the pool. Raising
    here makes the pool connect again, so no request fails on the closed connection."""
    if record.driver_connection is None or record.driver_connection.is_closed():
        raise DisconnectionError("the server closed the connection")


def _begin_immediate_on_the_loop(connection: Connection) -> None:
    """BEGIN IMMEDIATE on a connection called from the event loop: when another process holds
    the write lock, wait for it by sleeping on the loop rather than in SQLite's busy handler,
    which would stop the loop. Once it has the lock a transaction never waits (WAL)."""
    deadline = time.monotonic() + _WRITE_LOCK_TIMEOUT_SECONDS
    pause = 0.001
    connection.exec_driver_sql("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as error:
                if "locked" not in str(error.orig) or time.monotonic() > deadline:
                    raise
            await_(asyncio.sleep(pause))
            pause = min(pause * 2, 0.05)
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")


def _reading_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine `reading` uses for the SQLite file of `engine`: inline pysqlite, each statement
    in a transaction of its own, refusing to write."""
    # As many connections as the engine's: a reading session holds one while its request
    # awaits other work, and a pool too small opens and closes one per session under load.
    sized = {"pool_size": engine.pool.size()} if isinstance(engine.pool, QueuePool) else {}
    reader = create_inline_engine(engine.url, **sized)

    @event.listens_for(reader.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
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
async def writing_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A unit of work on a bare connection (for the migrations), as `transaction` is for
    sessions: the write lock taken up front, commit at the end, rollback on any exception."""
    turn = _WriteTurn()
    try:
        async with engine.connect() as connection:
            await connection.execution_options(**{_WRITES: turn})
            async with connection.begin():
                yield connection
    finally:
        turn.give_back()


@asynccontextmanager
async def reading(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session that only reads, with no transaction around its statements: each sees what was
    committed before it ran. On PostgreSQL a query costs one round trip instead of three (BEGIN,
    the query, ROLLBACK); a SQLite file is read on the event loop's own thread
    (db/_inline_sqlite.py)."""
    bind = sessions.kw.get("bind")
    reader = _READERS.get(bind.sync_engine) if isinstance(bind, AsyncEngine) else None
    if reader is not None:
        async with sessions(bind=reader) as session:
            yield session
        return
    async with sessions() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
