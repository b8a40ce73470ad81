"""Databases for the tests: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is reached at TESSERA_TEST_POSTGRES_URL (default: the local server). Without one the
PostgreSQL half is skipped, except in CI (CI set), where a missing server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import Base, create_engine, create_session_factory, upgrade

POSTGRES_URL = os.environ.get(
    "TESSERA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = bool(os.environ.get("CI"))
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _postgres_database() -> str:
    """Create an empty database for this run and return its URL."""
    try:
        admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}"
        if IN_CI:
            pytest.fail(message + " (CI must run the PostgreSQL tests)")
        pytest.skip(message)
    name = f"tessera_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(url: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated, empty database of each kind, shared by the tests of the run."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "tessera.db"
        url = f"sqlite+aiosqlite:///{path}"
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url
        return
    url = await _postgres_database()
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    yield url
    await _drop_postgres_database(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The run's database, emptied after each test so that tests see only their own rows."""
    engine = create_engine(database_url)
    yield engine
    async with engine.begin() as connection:
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, read in place; its absence fails in CI and skips elsewhere."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"{SHARED_DATA} is missing")
        pytest.skip(f"{SHARED_DATA} is missing")
    return SHARED_DATA


_postgres_tests_passed = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _postgres_tests_passed
    if report.when == "call" and report.passed and "postgres" in report.keywords:
        _postgres_tests_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a run whose PostgreSQL tests did not run is a failed run, whatever else passed."""
    selected_all = not session.config.option.keyword and not session.config.option.markexpr
    if IN_CI and selected_all and exitstatus == 0 and _postgres_tests_passed == 0:
        print("\nCI: no PostgreSQL test ran; failing the run.")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
