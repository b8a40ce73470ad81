"""A temporary PostgreSQL database for a benchmark, on the server at TESSERA_BENCH_POSTGRES_URL
(default: the local server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["POSTGRES_URL", "asyncpg_dsn", "temporary_database"]

POSTGRES_URL = os.environ.get(
    "TESSERA_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL `url` as a DSN that asyncpg (or psql) takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(False)


async def temporary_database() -> tuple[str, Callable[[], Coroutine[Any, Any, None]]]:
    """A new empty database: its SQLAlchemy URL, and what drops it."""
    admin_dsn = asyncpg_dsn(POSTGRES_URL)
    name = f"tessera_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    async def drop() -> None:
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    return make_url(POSTGRES_URL).set(database=name).render_as_string(False), drop
