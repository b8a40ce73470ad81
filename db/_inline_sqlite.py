"""A SQLAlchemy dialect that calls pysqlite straight from the event loop's thread (for the
SQLite files of db/_engine.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_

__all__ = ["create_inline_engine"]


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite called straight from the event loop's thread, for a SQLite file.

    aiosqlite runs each call on a thread of the connection's and hands the result back: about
    four thread switches per statement, which cost far more than a small statement itself. On a
    WAL database a read never waits for a writer, and a unit of work waits only for the write
    lock, which it takes first thing, on the loop (db/_engine.py): after that no
    statement waits, so none stops the loop for longer than it runs."""

    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool

    # SQLAlchemy's AsyncConnection checks that a statement awaited something (a sync driver
    # slipped in by mistake would not): each statement passes through an await that returns
    # at once, without giving up the loop.
    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        cursor.execute(statement, parameters)
        await_(_at_once())

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        cursor.execute(statement)
        await_(_at_once())

    def do_executemany(
        self, cursor: Any, statement: str, parameters: Any, context: Any = None
    ) -> None:
        cursor.executemany(statement, parameters)
        await_(_at_once())


async def _at_once() -> None:
    return None


class InlineCursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """SQLAlchemy's asyncio results call this on a cursor they have read (an async driver's
        cursor may have rows still to fetch); a pysqlite cursor has nothing to do."""


class InlineConnection(sqlite3.Connection):
    def cursor(self, factory: Any = InlineCursor) -> Any:
        return super().cursor(factory)


registry.register("sqlite.tessera_inline", __name__, "InlineSQLiteDialect")


def create_inline_engine(url: URL, **kwargs: Any) -> AsyncEngine:
    """An async engine on the SQLite file of `url`, through InlineSQLiteDialect."""
    # The loop's thread is the only one to use these connections; the garbage collector may
    # close them from another.
    return create_async_engine(
        url.set(drivername="sqlite+tessera_inline"),
        connect_args={"check_same_thread": False, "factory": InlineConnection},
        **kwargs,
    )
