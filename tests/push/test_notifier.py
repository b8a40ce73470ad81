"""The notifier end to end, on both databases: outbox events in, messages out through the local
push service (decrypted with the browser's keys), SMS gateway and SMTP server."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from circulation import HOLD_READY, LIBRARY_TIME_ZONE, checkout, set_patron_standing
from circulation._events import emit
from db import Item, PushSubscription, StandingCode, transaction
from push._gsm import SmsText, encode_sms
from tests.circulation.world import World, ok
from tests.push.conftest import Inbox
from tests.push.scene import MOBILE, deliveries, notifier, patron, ready_hold, subscribe
from tests.push.services import LocalPushService, LocalSmsGateway


async def test_a_ready_hold_reaches_every_device_of_the_patron(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library)
    phone, laptop = push_service.browser(), push_service.browser()
    await subscribe(world, maria, phone)
    await subscribe(world, maria, laptop)
    hold_id = await ready_hold(world, library, maria, title="Il barone rampante")

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        report = await sender.deliver_due()
        again = await sender.deliver_due()

    assert push_service.errors == []
    assert (report.events, report.created, report.sent) == (1, 2, 2)
    assert not again.anything
    deadline = (world.today + timedelta(days=7)).strftime("%d/%m/%Y")
    for browser in (phone, laptop):
        [message] = push_service.for_browser(browser)
        assert message.payload == {
            "type": "HOLD_READY",
            "title": "Prenotazione pronta",
            "body": f"«Il barone rampante» ti aspetta presso Biblioteca PV1 fino al {deadline}.",
            "url": "/#/holds",
            "tag": f"hold-{hold_id}",
        }
        assert (message.urgency, message.topic) == ("high", f"hold-{hold_id}")
        assert message.ttl > 0
        assert message.claims["sub"] == "mailto:tessera@example.org"
    assert {d.status for d in await deliveries(world)} == {"sent"}


async def test_texts_are_in_the_patrons_language(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    jane = await patron(world, library, language="en")
    browser = push_service.browser()
    await subscribe(world, jane, browser)
    await ready_hold(world, library, jane, title="The Baron in the Trees")

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        await sender.deliver_due()

    [message] = push_service.for_browser(browser)
    deadline = world.today + timedelta(days=7)
    assert message.payload["title"] == "Your hold is ready"
    assert message.payload["body"] == (
        f"“The Baron in the Trees” is waiting for you at Biblioteca PV1 until"
        f" {deadline.day} {deadline.strftime('%b')} {deadline.year}."
    )


async def test_quiet_hours_defer_to_their_end_and_never_drop(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library, quiet_hours_start=time(9, 30), quiet_hours_end=time(11))
    browser = push_service.browser()
    await subscribe(world, maria, browser)
    await ready_hold(world, library, maria)

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        first = await sender.deliver_due()  # 10:00, inside 09:30-11:00
        [delivery] = await deliveries(world)
        world.clock.set(world.clock.now() + timedelta(minutes=59))
        meanwhile = await sender.deliver_due()
        world.clock.set(world.clock.now() + timedelta(minutes=1))
        at_the_end = await sender.deliver_due()

    assert (first.deferred, first.sent) == (1, 0)
    assert delivery.status == "deferred"
    assert delivery.next_attempt_at == datetime.combine(
        world.today, time(11), tzinfo=LIBRARY_TIME_ZONE
    )
    assert not meanwhile.anything
    assert at_the_end.sent == 1
    assert len(push_service.for_browser(browser)) == 1


async def test_a_night_window_ends_the_next_morning(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library, quiet_hours_start=time(21), quiet_hours_end=time(8))
    await subscribe(world, maria, push_service.browser())
    world.clock.set(datetime.combine(world.today, time(22, 30), tzinfo=LIBRARY_TIME_ZONE))
    await ready_hold(world, library, maria)

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        report = await sender.deliver_due()

    [delivery] = await deliveries(world)
    assert report.deferred == 1
    tomorrow = world.today + timedelta(days=1)
    assert delivery.next_attempt_at == datetime.combine(tomorrow, time(8), tzinfo=LIBRARY_TIME_ZONE)


async def test_a_hold_collected_during_quiet_hours_sends_nothing(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library, quiet_hours_start=time(9), quiet_hours_end=time(12))
    browser = push_service.browser()
    await subscribe(world, maria, browser)
    hold_id = await ready_hold(world, library, maria)

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        await sender.deliver_due()
        [hold] = [h for h in await world.holds_seen_by(maria) if h.hold.id == hold_id]
        await checkout(
            world.circulation,
            card_number=maria.card_number,
            barcode=await _barcode(world, hold.record.id),
            library_id=library,
        )
        world.clock.set(world.clock.now() + timedelta(hours=2))
        report = await sender.deliver_due()

    assert report.skipped == 1
    assert push_service.for_browser(browser) == []
    [delivery] = await deliveries(world)
    assert (delivery.status, delivery.last_error) == ("skipped", "nothing left to say")


async def _barcode(world: World, record_id: str) -> str:
    async with world.sessions() as session:
        barcode = await session.scalar(select(Item.barcode).where(Item.record_id == record_id))
    assert barcode is not None
    return barcode


async def test_the_last_day_to_collect_is_reminded(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library)
    browser = push_service.browser()
    await subscribe(world, maria, browser)
    hold_id = await ready_hold(world, library, maria, title="Marcovaldo")

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        await sender.deliver_due()
        await world.advance(days=7)  # the pickup deadline: the scheduler emits the reminder
        await sender.deliver_due()

    ready, last_day = push_service.for_browser(browser)
    assert ready.payload["type"] == "HOLD_READY"
    assert last_day.payload == {
        "type": "HOLD_PICKUP_REMINDER",
        "title": "Ultimo giorno per il ritiro",
        "body": "Oggi è l'ultimo giorno per ritirare «Marcovaldo» presso Biblioteca PV1.",
        "url": "/#/holds",
        "tag": f"hold-{hold_id}",
    }
    # The same tag: on the device the reminder replaces the first notice.
    assert list(push_service.shown(browser).values()) == [last_day.payload]


async def test_a_gone_subscription_is_deleted_and_the_other_device_still_served(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library)
    old, new = push_service.browser(), push_service.browser()
    old_id = await subscribe(world, maria, old)
    await subscribe(world, maria, new)
    push_service.answer(old, 410)
    await ready_hold(world, library, maria)

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        report = await sender.deliver_due()
        await ready_hold(world, library, maria)
        later = await sender.deliver_due()

    assert (report.sent, report.failed, report.subscriptions_removed) == (1, 1, 1)
    assert await world.get(PushSubscription, old_id) is None
    assert len(push_service.for_browser(new)) == 2
    assert later.created == 1  # the next event makes no delivery to the forgotten device


async def test_429_and_5xx_are_retried_when_retry_after_says(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library)
    browser = push_service.browser()
    await subscribe(world, maria, browser)
    push_service.answer(browser, 429, {"Retry-After": "120"})
    push_service.answer(browser, 503)
    await ready_hold(world, library, maria)

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        first = await sender.deliver_due()
        [delivery] = await deliveries(world)
        world.clock.set(world.clock.now() + timedelta(seconds=119))
        too_soon = await sender.deliver_due()
        world.clock.set(world.clock.now() + timedelta(seconds=1))
        second = await sender.deliver_due()
        # No Retry-After on the 503: the doubling backoff (30 s, then 60 s for a second retry).
        world.clock.set(world.clock.now() + timedelta(seconds=60))
        third = await sender.deliver_due()

    assert first.retried == 1
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "push service answered 429"
    assert not too_soon.anything
    assert second.retried == 1
    assert third.sent == 1
    assert len(push_service.for_browser(browser)) == 1
    [done] = await deliveries(world)
    assert (done.status, done.attempts) == ("sent", 3)


async def test_sms_goes_to_the_gateway_in_e164_with_a_stable_reference(
    world: World,
    push_service: LocalPushService,
    sms_gateway: LocalSmsGateway,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library, notify_sms=True, phone="333 123 4567")
    await ready_hold(world, library, maria, title="Il sentiero dei nidi di ragno")
    sms_gateway.answer(500)

    async with notifier(world, vapid_key=vapid_key, push=push_service, sms=sms_gateway) as sender:
        first = await sender.deliver_due()
        world.clock.set(world.clock.now() + timedelta(seconds=30))
        second = await sender.deliver_due()

    assert (first.retried, second.sent) == (1, 1)
    failed, accepted = sms_gateway.requests
    assert failed == accepted  # the retry is the same message, reference included
    deadline = (world.today + timedelta(days=7)).strftime("%d/%m/%Y")
    [delivery] = await deliveries(world)
    assert accepted == {
        "to": MOBILE,
        "text": f'Prenotazione pronta: "Il sentiero dei nidi di ragno" ti aspetta presso'
        f" Biblioteca PV1 fino al {deadline}.",
        "reference": delivery.key,
    }
    assert encode_sms(accepted["text"]) == SmsText(accepted["text"], "GSM-7")
    assert encode_sms(accepted["text"]).segments == 1


async def test_sms_as_fallback_only_when_no_push_was_accepted(
    world: World,
    push_service: LocalPushService,
    sms_gateway: LocalSmsGateway,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    library = await world.library("PV1")
    served = await patron(world, library, notify_sms=True, phone=MOBILE)
    await subscribe(world, served, push_service.browser())
    stale = await patron(world, library, notify_sms=True, phone="+393471234567")
    gone = push_service.browser()
    await subscribe(world, stale, gone)
    push_service.answer(gone, 410)
    await ready_hold(world, library, served)
    await ready_hold(world, library, stale)

    async with notifier(
        world, vapid_key=vapid_key, push=push_service, sms=sms_gateway, sms_only_as_fallback=True
    ) as sender:
        await sender.deliver_due()
        world.clock.set(world.clock.now() + timedelta(seconds=30))
        await sender.deliver_due()

    assert [request["to"] for request in sms_gateway.requests] == ["+393471234567"]
    by_patron = {(d.patron_id, d.channel): d for d in await deliveries(world)}
    assert by_patron[served.id, "sms"].status == "skipped"
    assert by_patron[served.id, "sms"].last_error == "a push message was accepted"
    assert by_patron[stale.id, "sms"].status == "sent"


async def test_email_for_patrons_with_neither_push_nor_sms(
    world: World,
    push_service: LocalPushService,
    vapid_key: ec.EllipticCurvePrivateKey,
    smtp_server: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp_server
    library = await world.library("PV1")
    by_mail = await patron(world, library, email="maria@example.org")
    with_push = await patron(world, library, email="luca@example.org")
    await subscribe(world, with_push, push_service.browser())
    opted_out = await patron(world, library, email="anna@example.org", notify_email=False)
    for someone in (by_mail, with_push, opted_out):
        await ready_hold(world, library, someone, title="Le città invisibili")

    async with notifier(
        world,
        vapid_key=vapid_key,
        push=push_service,
        smtp_host=controller.hostname,
        smtp_port=controller.port,
        smtp_sender="Biblioteche <avvisi@biblioteche.example.org>",
        app_url="https://tessera.example.org/",
    ) as sender:
        report = await sender.deliver_due()

    assert report.sent == 2
    [message] = inbox.messages
    assert inbox.envelopes == [("avvisi@biblioteche.example.org", ["maria@example.org"])]
    assert message["Subject"] == "Prenotazione pronta"
    assert message["Content-Language"] == "it"
    [delivery] = [d for d in await deliveries(world) if d.channel == "email"]
    assert message["Message-ID"] == f"<{delivery.key.replace(':', '.')}@biblioteche.example.org>"
    body = message.get_content()
    assert "«Le città invisibili» ti aspetta presso Biblioteca PV1" in body
    assert body.rstrip().endswith("https://tessera.example.org/#/holds")


async def test_a_channel_turned_off_is_not_used(
    world: World,
    push_service: LocalPushService,
    sms_gateway: LocalSmsGateway,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library, notify_push=False, notify_sms=True, phone=MOBILE)
    browser = push_service.browser()
    await subscribe(world, maria, browser)
    await ready_hold(world, library, maria)

    async with notifier(world, vapid_key=vapid_key, push=push_service, sms=sms_gateway) as sender:
        await sender.deliver_due()

    assert push_service.for_browser(browser) == []
    assert len(sms_gateway.requests) == 1


async def test_a_suspension_is_explained_and_an_unreadable_event_holds_up_nothing(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library)
    browser = push_service.browser()
    await subscribe(world, maria, browser)
    async with transaction(world.sessions) as session:
        emit(session, HOLD_READY, {"patronId": maria.id, "holdId": "x"}, now=world.clock.now())
    ok(
        await set_patron_standing(
            world.circulation,
            card_number=maria.card_number,
            code=StandingCode.SUSPENDED,
            note="damaged a book",
        )
    )

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        report = await sender.deliver_due()

    assert (report.sent, report.failed) == (1, 1)
    [message] = push_service.for_browser(browser)
    assert message.payload == {
        "type": "ACCOUNT_SUSPENDED",
        "title": "Tessera sospesa",
        "body": "La tessera è sospesa dalla biblioteca. Rivolgiti al banco prestiti per"
        " riattivarla.",
        "url": "/#/account",
        "tag": "account",
    }
    broken = next(d for d in await deliveries(world) if d.event_type == HOLD_READY)
    assert broken.status == "failed"
    assert broken.last_error is not None
    assert broken.last_error.startswith("unreadable HOLD_READY payload")


async def test_events_older_than_a_week_are_not_notified(
    world: World, push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    library = await world.library("PV1")
    maria = await patron(world, library)
    browser = push_service.browser()
    await subscribe(world, maria, browser)
    await ready_hold(world, library, maria)
    world.clock.set(world.clock.now() + timedelta(days=8))  # the worker was down that long

    async with notifier(world, vapid_key=vapid_key, push=push_service) as sender:
        report = await sender.deliver_due()

    assert (report.events, report.sent) == (0, 0)
    assert push_service.for_browser(browser) == []
