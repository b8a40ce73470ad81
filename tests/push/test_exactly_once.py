"""Once and only once: two notifiers at once send every message once; a notifier that dies
after claiming (cancelled in the middle of its sends, or failing after the HTTP calls) leaves
nothing undelivered, and what it sends again is the same message: the same SMS reference (the
gateway sends one SMS per reference) and the same push topic and tag (the device shows one).
Each notifier has an engine of its own, as a separate worker process would."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from circulation import Circulation
from db import create_engine, create_session_factory
from push._deliveries import ResultRow, record_results
from push._notifier import Notifier
from tests.circulation.world import World
from tests.push.scene import deliveries, notifier, patron, ready_hold, subscribe
from tests.push.services import Browser, LocalPushService, LocalSmsGateway

PATRONS = 8
HOLDS_EACH = 2
LEASE = timedelta(minutes=5)


async def _crowd(world: World, push_service: LocalPushService) -> list[list[Browser]]:
    """Patrons with two devices and a phone each, and two ready holds each."""
    library = await world.library("PV1")
    devices: list[list[Browser]] = []
    for number in range(PATRONS):
        someone = await patron(world, library, notify_sms=True, phone=f"+39333123{number:04d}")
        browsers = [push_service.browser(), push_service.browser()]
        for browser in browsers:
            await subscribe(world, someone, browser)
        for _ in range(HOLDS_EACH):
            await ready_hold(world, library, someone)
        devices.append(browsers)
    return devices


@asynccontextmanager
async def _worker(
    world: World, database_url: str, make: Callable[..., Notifier], **options: Any
) -> AsyncIterator[Notifier]:
    """A notifier on an engine of its own (a separate worker process)."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    circulation = Circulation(world.circulation.policy, world.clock, sessions)
    try:
        async with make(World(circulation, world.clock, sessions), **options) as worker:
            yield worker
    finally:
        await engine.dispose()


def _assert_each_sent_once(
    devices: list[list[Browser]], push_service: LocalPushService, sms: LocalSmsGateway
) -> None:
    assert push_service.errors == []
    for browsers in devices:
        for browser in browsers:
            tags = [message.payload["tag"] for message in push_service.for_browser(browser)]
            assert len(set(tags)) == HOLDS_EACH
            # Sent again only as the same message: the same topic, so one on the device.
            for message in push_service.for_browser(browser):
                assert message.topic == message.payload["tag"]
    assert len(sms.delivered) == PATRONS * HOLDS_EACH
    for reference, first in sms.delivered.items():
        assert all(r == first for r in sms.requests if r["reference"] == reference)


async def test_two_notifiers_at_once_send_each_message_once(
    world: World,
    database_url: str,
    push_service: LocalPushService,
    sms_gateway: LocalSmsGateway,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    devices = await _crowd(world, push_service)
    push_service.delay = 0.02

    def make(w: World, **options: Any) -> Notifier:
        return notifier(w, vapid_key=vapid_key, push=push_service, sms=sms_gateway, **options)

    async with AsyncExitStack() as stack:
        one = await stack.enter_async_context(_worker(world, database_url, make, batch_size=5))
        two = await stack.enter_async_context(_worker(world, database_url, make, batch_size=5))
        first, second = await asyncio.gather(one.deliver_due(), two.deliver_due())

    # Both did part of the work, at the same time.
    assert first.sent
    assert second.sent
    assert first.sent + second.sent == PATRONS * HOLDS_EACH * 3
    # Not once more than needed: every push and SMS request was a different message.
    assert (
        Counter((m.token, m.payload["tag"]) for m in push_service.received).most_common(1)[0][1]
        == 1
    )
    assert len(push_service.received) == PATRONS * HOLDS_EACH * 2
    assert len(sms_gateway.requests) == PATRONS * HOLDS_EACH
    _assert_each_sent_once(devices, push_service, sms_gateway)
    assert {d.status for d in await deliveries(world)} == {"sent"}


async def test_a_notifier_cancelled_mid_send_is_made_good_by_the_next(
    world: World,
    database_url: str,
    push_service: LocalPushService,
    sms_gateway: LocalSmsGateway,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    devices = await _crowd(world, push_service)

    def make(w: World, **options: Any) -> Notifier:
        return notifier(w, vapid_key=vapid_key, push=push_service, sms=sms_gateway, **options)

    sms_gateway.stall.clear()  # the gateway takes the SMS, then the sender dies waiting
    async with _worker(world, database_url, make, batch_size=12, lease=LEASE) as doomed:
        task = asyncio.create_task(doomed.deliver_due())
        for _ in range(500):
            if sms_gateway.requests:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    in_flight = set(sms_gateway.delivered)
    assert in_flight
    sms_gateway.stall.set()

    async with _worker(world, database_url, make, batch_size=12, lease=LEASE) as restarted:
        at_once = await restarted.deliver_due()
        world.clock.set(world.clock.now() + LEASE)
        after_the_lease = await restarted.deliver_due()

    # What the dead worker held waited for its lease; everything else went at once.
    assert at_once.sent
    assert after_the_lease.sent
    resent = Counter(r["reference"] for r in sms_gateway.requests)
    assert {reference for reference, count in resent.items() if count > 1} == in_flight
    _assert_each_sent_once(devices, push_service, sms_gateway)
    assert {d.status for d in await deliveries(world)} == {"sent"}


async def test_a_notifier_failing_after_its_sends_is_made_good_by_the_next(
    world: World,
    database_url: str,
    push_service: LocalPushService,
    sms_gateway: LocalSmsGateway,
    vapid_key: ec.EllipticCurvePrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    devices = await _crowd(world, push_service)

    def make(w: World, **options: Any) -> Notifier:
        return notifier(w, vapid_key=vapid_key, push=push_service, sms=sms_gateway, **options)

    async def crash(session: Any, results: list[ResultRow], **kwargs: Any) -> None:
        if any(row.status == "sent" for row in results):
            raise RuntimeError("killed after the HTTP calls, before marking them sent")
        await record_results(session, results, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr("push._notifier.record_results", crash)
        async with _worker(world, database_url, make, batch_size=100, lease=LEASE) as doomed:
            with pytest.raises(RuntimeError):
                await doomed.deliver_due()
    sent_before = len(sms_gateway.requests)
    assert sent_before == PATRONS * HOLDS_EACH

    async with _worker(world, database_url, make, batch_size=100, lease=LEASE) as restarted:
        assert not (await restarted.deliver_due()).sent  # still leased to the dead worker
        world.clock.set(world.clock.now() + LEASE)
        report = await restarted.deliver_due()

    assert report.sent == PATRONS * HOLDS_EACH * 3
    # Every SMS was posted twice, each time with its one reference: one SMS each.
    assert Counter(r["reference"] for r in sms_gateway.requests) == Counter(
        dict.fromkeys(sms_gateway.delivered, 2)
    )
    _assert_each_sent_once(devices, push_service, sms_gateway)
    assert {d.status for d in await deliveries(world)} == {"sent"}
