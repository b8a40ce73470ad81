"""The parts one process shares: settings, the database, the clock."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from circulation import Clock, ManualClock, SystemClock
from db import create_engine, create_session_factory, upgrade

from .settings import Settings

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.resolved_database_url())
        system = SystemClock()
        # The test clock starts at the real time and is moved only by setClock.
        clock: Clock = ManualClock(system.now()) if settings.test_clock else system
        return cls(settings, engine, create_session_factory(engine), clock)

    async def start(self) -> None:
        """Bring the database schema up to date."""
        await upgrade(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()
