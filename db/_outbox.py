"""Reading the outbox in order, at least once, without skipping a late-committed event.

Ids are handed out when a transaction inserts, not when it commits: on PostgreSQL an event
with a lower id can become visible after one with a higher id. A reader therefore stops at
the first hole in the ids and waits for it to fill; a hole still open after `gap_timeout`
seconds belongs to a transaction that rolled back and is passed over.
"""

from __future__ import annotations

from collections.abc import Collection
from time import monotonic

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ._engine import transaction
from ._models import OutboxConsumer, OutboxEvent

__all__ = ["OutboxReader"]


class OutboxReader:
    """The events one consumer has not acknowledged yet, oldest first."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        consumer: str,
        event_types: Collection[str],
        gap_timeout: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._consumer = consumer
        self._event_types = frozenset(event_types)
        self._gap_timeout = gap_timeout
        self._holes_seen: dict[int, float] = {}

    async def position(self) -> int:
        async with self._sessions() as session:
            return await self._position(session)

    async def _position(self, session: AsyncSession) -> int:
        row = await session.get(OutboxConsumer, self._consumer)
        return 0 if row is None else row.last_event_id

    async def fetch(self, *, limit: int = 500) -> tuple[list[OutboxEvent], int]:
        """Events of the consumer's types after its position, and the position to acknowledge
        once they are handled (it may pass events of other types)."""
        async with self._sessions() as session:
            position = await self._position(session)
            rows = list(
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.id > position)
                    .order_by(OutboxEvent.id)
                    .limit(limit)
                )
            )
        wanted: list[OutboxEvent] = []
        expected = position + 1
        for event in rows:
            if event.id != expected and not self._hole_expired(expected, event.id):
                break
            if event.event_type in self._event_types:
                wanted.append(event)
            position = event.id
            expected = event.id + 1
        return wanted, position

    def _hole_expired(self, first_missing: int, next_present: int) -> bool:
        now = monotonic()
        seen = self._holes_seen.setdefault(first_missing, now)
        if now - seen < self._gap_timeout:
            return False
        for missing in range(first_missing, next_present):
            self._holes_seen.pop(missing, None)
        return True

    async def acknowledge(self, position: int) -> None:
        """Everything up to `position` is handled (never moves backwards)."""
        async with transaction(self._sessions) as session:
            row = await session.get(OutboxConsumer, self._consumer, with_for_update=True)
            if row is None:
                session.add(OutboxConsumer(name=self._consumer, last_event_id=position))
            elif position > row.last_event_id:
                row.last_event_id = position
