"""The parts one process shares: settings, the database, the clock, and the services built on
them (circulation, search, sign-in, notifications), plus the background work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from auth import AccessTokens, Authenticator
from circulation import (
    Circulation,
    Clock,
    ManualClock,
    SystemClock,
    WorkReport,
    load_policy,
    run_scheduled_work,
)
from db import Record, create_engine, create_session_factory, upgrade
from push import Notifier
from search import CatalogSearch, EmbeddedSearch, MeiliSearch, SearchBackend, SearchIndexer

from ._secrets import jwt_private_key, vapid_private_key
from .settings import Settings

__all__ = ["Runtime"]

ACCESS_TOKEN_LIFETIME = timedelta(minutes=15)
# The index follows the outbox closely (a copy returned shows on the shelf within a second);
# the scheduled work deals in days, so a minute is plenty.
INDEX_INTERVAL_SECONDS = 0.5
SCHEDULE_INTERVAL_SECONDS = 60.0
NOTIFY_INTERVAL_SECONDS = 1.0

log = logging.getLogger("tessera.worker")


def _search_backend(settings: Settings) -> SearchBackend:
    if settings.search == "meilisearch":
        if not settings.meili_url:
            raise ValueError("TESSERA_SEARCH=meilisearch needs TESSERA_MEILI_URL")
        key = settings.meili_key.get_secret_value() if settings.meili_key else None
        return MeiliSearch(url=settings.meili_url, api_key=key)
    return EmbeddedSearch(settings.var_dir / "search.db")


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    circulation: Circulation
    search_backend: SearchBackend
    search: CatalogSearch
    indexer: SearchIndexer
    authenticator: Authenticator
    notifier: Notifier
    _index_wanted: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        # No overflow: a process never holds more connections than the setting says (on
        # PostgreSQL, processes x pool size must stay under max_connections).
        engine = create_engine(
            settings.resolved_database_url(),
            pool_size=settings.database_pool_size,
            max_overflow=0,
        )
        sessions = create_session_factory(engine)
        system = SystemClock()
        # The test clock starts at the real time and is moved only by setClock; it rules
        # circulation time only: session tokens always use the real clock.
        clock: Clock = ManualClock(system.now()) if settings.test_clock else system
        circulation = Circulation(load_policy(settings.network), clock, sessions)
        backend = _search_backend(settings)
        tokens = AccessTokens(jwt_private_key(settings), lifetime=ACCESS_TOKEN_LIFETIME)
        notifier = Notifier(
            circulation=circulation,
            vapid_private_key=vapid_private_key(settings),
            vapid_subject=settings.vapid_subject,
            allow_loopback=settings.push_allow_loopback,
            sms_url=settings.sms_url,
            sms_token=settings.sms_token.get_secret_value() if settings.sms_token else None,
            sms_only_as_fallback=settings.sms_fallback_only,
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_sender=settings.smtp_sender,
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            clock=clock,
            circulation=circulation,
            search_backend=backend,
            search=CatalogSearch(backend),
            indexer=SearchIndexer(backend, sessions, circulation),
            authenticator=Authenticator(sessions, tokens, system),
            notifier=notifier,
        )

    async def start(self) -> None:
        """Bring the database schema up to date and open the search index (built anew when
        it is empty and the catalogue is not)."""
        await upgrade(self.engine)
        await self.search_backend.start()
        if await self.search_backend.count() == 0:
            async with self.sessions() as session:
                records = await session.scalar(select(func.count()).select_from(Record))
            if records:
                await self.indexer.rebuild()

    async def run_due_work(self) -> WorkReport:
        """Everything due up to the clock's now: circulation's scheduled work, then the search
        index catching up with the outbox."""
        report = await run_scheduled_work(self.circulation)
        await self.indexer.catch_up()
        await self.notifier.deliver_due()
        return report

    def nudge_index(self) -> None:
        """Something was written here: update the index now rather than at the next round."""
        self._index_wanted.set()

    async def work_forever(
        self,
        *,
        index_interval: float = INDEX_INTERVAL_SECONDS,
        schedule_interval: float = SCHEDULE_INTERVAL_SECONDS,
    ) -> None:
        """The worker: index updates (each round, or at once when nudged) and scheduled
        work, each in a loop of its own; a failed round is logged and retried at the next."""

        async def index() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._index_wanted.wait(), timeout=index_interval)
            self._index_wanted.clear()
            await self.indexer.catch_up()

        async def schedule() -> None:
            await run_scheduled_work(self.circulation)
            await asyncio.sleep(schedule_interval)

        async def notify() -> None:
            await self.notifier.deliver_due()
            await asyncio.sleep(NOTIFY_INTERVAL_SECONDS)

        async def forever(work: Callable[[], Awaitable[None]], name: str) -> None:
            while True:
                try:
                    await work()
                except Exception:
                    log.exception("%s failed; retrying", name)
                    await asyncio.sleep(index_interval)

        await asyncio.gather(
            forever(index, "index update"),
            forever(schedule, "scheduled work"),
            forever(notify, "notifications"),
        )

    async def close(self) -> None:
        await self.notifier.close()
        await self.search_backend.close()
        await self.engine.dispose()
