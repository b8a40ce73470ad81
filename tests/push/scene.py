"""Builders for notifier tests: patrons with preferences and devices, holds made ready, and a
notifier wired to the local services."""

from __future__ import annotations

from datetime import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from circulation import place_hold
from db import Delivery, Patron, PushSubscription, Record, transaction
from push._notifier import Notifier
from tests.circulation.world import World, ok
from tests.push.services import Browser, LocalPushService, LocalSmsGateway

MOBILE = "+393331234567"


async def patron(world: World, library: str, **preferences: Any) -> Patron:
    """A patron with the given preferences (columns of Patron), quiet hours off by default so
    that tests at any hour send at once."""
    made = await world.patron(library)
    values: dict[str, Any] = {"quiet_hours_start": None, "quiet_hours_end": None}
    values.update(preferences)
    async with transaction(world.sessions) as session:
        row = await session.get(Patron, made.id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
    return await world.reload(made)


async def subscribe(world: World, patron: Patron, browser: Browser) -> int:
    async with transaction(world.sessions) as session:
        sub = PushSubscription(
            patron_id=patron.id,
            endpoint=browser.endpoint,
            p256dh=browser.p256dh,
            auth=browser.auth,
            created_at=world.clock.now(),
        )
        session.add(sub)
        await session.flush()
        return sub.id


async def ready_hold(world: World, library: str, who: Patron, *, title: str | None = None) -> int:
    """A hold of `who` made READY at once (the copy is on the shelf): a HOLD_READY event."""
    record = await world.record()
    await world.item(record, library)
    if title is not None:
        await rename(world, record, title)
    hold = ok(await place_hold(world.circulation, patron_id=who.id, record_id=record))
    return int(hold.id)


async def rename(world: World, record_id: str, title: str) -> None:
    async with transaction(world.sessions) as session:
        record = await session.get(Record, record_id)
        assert record is not None
        record.title = title


async def deliveries(world: World) -> list[Delivery]:
    async with world.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


def notifier(
    world: World,
    *,
    vapid_key: ec.EllipticCurvePrivateKey,
    push: LocalPushService | None = None,
    sms: LocalSmsGateway | None = None,
    **options: Any,
) -> Notifier:
    settings: dict[str, Any] = {
        "circulation": world.circulation,
        "vapid_private_key": vapid_key if push is not None else None,
        "vapid_subject": "mailto:tessera@example.org",
        "allow_loopback": True,
        "request_timeout": 10.0,
    }
    if sms is not None:
        settings.update(sms_url=sms.url, sms_token=sms.token)
    settings.update(options)
    return Notifier(**settings)


QUIET_NIGHT = {"quiet_hours_start": time(21, 0), "quiet_hours_end": time(8, 0)}
