"""The outbox tail delivers every event written after it started, each once, as soon as it is
visible, including an event with a lower id that commits after a higher one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import OutboxEvent, OutboxTail, transaction

Sessions = async_sessionmaker[AsyncSession]
AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def _write(sessions: Sessions, name: str) -> None:
    async with transaction(sessions) as session:
        session.add(OutboxEvent(event_type=name, payload={}, occurred_at=AT))


def _names(events: list[OutboxEvent]) -> list[str]:
    return [event.event_type for event in events]


async def test_events_from_the_start_on_each_once(sessions: Sessions) -> None:
    await _write(sessions, "BEFORE")
    tail = OutboxTail(sessions)
    assert await tail.fetch() == []

    await _write(sessions, "FIRST")
    await _write(sessions, "SECOND")
    assert _names(await tail.fetch()) == ["FIRST", "SECOND"]
    assert await tail.fetch() == []


async def test_a_batch_at_a_time(sessions: Sessions) -> None:
    tail = OutboxTail(sessions)
    await tail.fetch()
    for n in range(5):
        await _write(sessions, f"E{n}")

    assert _names(await tail.fetch(limit=3)) == ["E0", "E1", "E2"]
    assert _names(await tail.fetch(limit=3)) == ["E3", "E4"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
async def test_a_lower_id_committed_later_is_delivered(sessions: Sessions) -> None:
    tail = OutboxTail(sessions)
    await tail.fetch()
    async with sessions() as slow, slow.begin():
        slow.add(OutboxEvent(event_type="SLOW", payload={}, occurred_at=AT))
        await slow.flush()
        await _write(sessions, "FAST")
        assert _names(await tail.fetch()) == ["FAST"]
    assert _names(await tail.fetch()) == ["SLOW"]
    assert await tail.fetch() == []


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
async def test_an_event_in_flight_when_the_tail_starts_is_delivered(sessions: Sessions) -> None:
    tail = OutboxTail(sessions)
    async with sessions() as slow, slow.begin():
        slow.add(OutboxEvent(event_type="SLOW", payload={}, occurred_at=AT))
        await slow.flush()
        await _write(sessions, "FAST")
        assert await tail.fetch() == []
    assert _names(await tail.fetch()) == ["SLOW"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
async def test_a_hole_left_by_a_rollback_is_given_up(sessions: Sessions) -> None:
    tail = OutboxTail(sessions, gap_timeout=0)
    await tail.fetch()
    async with sessions() as failed, failed.begin():
        failed.add(OutboxEvent(event_type="ROLLED_BACK", payload={}, occurred_at=AT))
        await failed.flush()
        await failed.rollback()
    await _write(sessions, "AFTER")

    assert _names(await tail.fetch()) == ["AFTER"]
    assert tail.waiting_for() == 0
