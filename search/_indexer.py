"""The index follows the database through the outbox: in order, at least once, idempotently
(a document is rebuilt whole from the database each time)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import RECORD_CHANGED
from circulation import ITEM_STATUS_CHANGED, Circulation
from db import OutboxEvent, OutboxReader, Record

from ._documents import build_documents
from ._types import SearchBackend

__all__ = ["SearchIndexer"]

CONSUMER = "search-index"
_REBUILD_BATCH = 1000


class SearchIndexer:
    def __init__(
        self,
        backend: SearchBackend,
        sessions: async_sessionmaker[AsyncSession],
        circulation: Circulation,
    ) -> None:
        self._backend = backend
        self._sessions = sessions
        self._circulation = circulation
        self._reader = OutboxReader(
            sessions, consumer=CONSUMER, event_types={RECORD_CHANGED, ITEM_STATUS_CHANGED}
        )

    async def _refresh(self, record_ids: set[str]) -> None:
        async with self._sessions() as session:
            documents, missing = await build_documents(session, self._circulation, record_ids)
        await self._backend.upsert(documents)
        await self._backend.delete(missing)

    async def catch_up(self, *, batch: int = 500) -> int:
        """Apply every pending event; returns how many records were refreshed. If the index
        fails, the events stay pending and the next call retries them."""
        refreshed = 0
        while True:
            position_before = await self._reader.position()
            events, position = await self._reader.fetch(limit=batch)
            if position == position_before:
                return refreshed
            record_ids = {str(event.payload["recordId"]) for event in events}
            if record_ids:
                await self._refresh(record_ids)
                refreshed += len(record_ids)
            await self._reader.acknowledge(position)

    async def rebuild(self) -> int:
        """Rebuild the whole index from the database (tessera reindex)."""
        async with self._sessions() as session:
            # Events up to here are covered by the rebuild; later ones are applied after it.
            position = await session.scalar(select(func.coalesce(func.max(OutboxEvent.id), 0)))
            record_ids = list(await session.scalars(select(Record.id).order_by(Record.id)))
        await self._backend.clear()
        for start in range(0, len(record_ids), _REBUILD_BATCH):
            await self._refresh(set(record_ids[start : start + _REBUILD_BATCH]))
        await self._backend.optimize()
        await self._reader.acknowledge(int(position or 0))
        return len(record_ids)
