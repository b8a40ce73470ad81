"""Reading the outbox at least once, without skipping a late-committed event.

Ids are handed out when a transaction inserts, not when it commits: on PostgreSQL an event
with a lower id can become visible after one with a higher id. A hole in the ids is waited for;
one still open after `gap_timeout` seconds belongs to a transaction that rolled back and is
passed over. `OutboxReader` delivers in order (it stops at the first hole) and keeps its
position in the database; `OutboxTail` delivers each event as soon as it is visible, in any
order, and keeps its position in memory (for what one process keeps, such as a cache).
"""

from __future__ import annotations

from collections.abc import Collection
from time import monotonic

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ._engine import transaction
from ._models import OutboxConsumer, OutboxEvent

__all__ = ["OutboxReader", "OutboxTail"]


# When a tail starts, ids this far below the newest may belong to transactions still open.
_START_LOOKBACK = 1000
# Ids a tail waits for at most (a bulk insert in flight while others commit leaves many).
_MAX_HOLES = 10_000


async def _events_after(session: AsyncSession, event_id: int, *, limit: int) -> list[OutboxEvent]:
    """The first `limit` visible events with an id above `event_id`, by id."""
    query = select(OutboxEvent).where(OutboxEvent.id > event_id).order_by(OutboxEvent.id)
    return list(await session.scalars(query.limit(limit)))


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
            rows = await _events_after(session, position, limit=limit)
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


class OutboxTail:
    """Every event from now on, each once, as soon as it is visible (not in id order)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, gap_timeout: float = 10.0
    ) -> None:
        self._sessions = sessions
        self._gap_timeout = gap_timeout
        self._highest: int | None = None
        # Ids below the highest seen that may still commit, lowest (and oldest) first, with
        # when they were first missed.
        self._holes: dict[int, float] = {}

    async def fetch(self, *, limit: int = 500) -> list[OutboxEvent]:
        """The events that became visible since the last call (none on the first: it marks
        where "now" is, and the ids just below it that are still to commit)."""
        async with self._sessions() as session:
            if self._highest is None:
                await self._start(session)
                return []
            now = monotonic()
            found: list[OutboxEvent] = []
            # From the lowest hole up: the events above it that were delivered already are
            # read again (a few seconds' worth, while a hole stays open) and passed over.
            after = next(iter(self._holes), self._highest + 1) - 1
            while len(found) < limit:
                rows = await _events_after(session, after, limit=limit)
                for event in rows:
                    if event.id > self._highest:
                        self._missed(self._highest + 1, event.id, now)
                        self._highest = event.id
                        found.append(event)
                    elif self._holes.pop(event.id, None) is not None:
                        found.append(event)
                if len(rows) < limit:
                    break
                after = rows[-1].id
        while self._holes:
            oldest, since = next(iter(self._holes.items()))
            if now - since < self._gap_timeout:
                break
            del self._holes[oldest]
        return found

    def waiting_for(self) -> int:
        """How many ids below the newest seen may still commit (and are read for again)."""
        return len(self._holes)

    async def _start(self, session: AsyncSession) -> None:
        highest = await session.scalar(select(func.max(OutboxEvent.id))) or 0
        # Transactions open now may still commit events just below the highest id.
        lowest = max(highest - _START_LOOKBACK, 0)
        present = set(await session.scalars(select(OutboxEvent.id).where(OutboxEvent.id > lowest)))
        now = monotonic()
        for id_ in range(lowest + 1, highest):
            if id_ not in present:
                self._holes[id_] = now
        self._highest = highest

    def _missed(self, first: int, stop: int, now: float) -> None:
        """Ids first..stop-1 are not visible (yet); past _MAX_HOLES, the oldest are given up."""
        for missing in range(max(first, stop - _MAX_HOLES), stop):
            self._holes[missing] = now
        while len(self._holes) > _MAX_HOLES:
            del self._holes[next(iter(self._holes))]
