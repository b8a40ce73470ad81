"""The web push sender against the local push service: real aes128gcm and VAPID, the header
cached per push service, bounded concurrency, and what each answer means."""

from __future__ import annotations

import asyncio
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from push._results import Outcome, retry_after_seconds
from push._webpush import VAPID_LIFETIME_SECONDS, PushTarget, WebPushSender, _PublicResolver
from tests.push.services import Browser, LocalPushService


def _target(browser: Browser) -> PushTarget:
    return PushTarget(browser.endpoint, browser.p256dh, browser.auth)


def _payload(tag: str) -> bytes:
    message = {"type": "DUE_SOON", "title": "t", "body": "b", "url": "/#/loans", "tag": tag}
    return json.dumps(message).encode()


async def test_messages_decrypt_with_the_browser_keys_and_carry_the_headers(
    push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    browser = push_service.browser()
    sender = WebPushSender(
        private_key=vapid_key, subject="mailto:a@example.org", allow_loopback=True
    )
    try:
        result = await sender.send(
            _target(browser), _payload("due-1"), ttl=600, urgency="normal", topic="due-1"
        )
    finally:
        await sender.close()

    assert result.outcome is Outcome.SENT
    assert push_service.errors == []
    [message] = push_service.received
    assert message.payload["tag"] == "due-1"
    assert (message.ttl, message.urgency, message.topic) == (600, "normal", "due-1")
    assert message.claims["aud"] == push_service.origin


async def test_the_vapid_header_is_signed_once_per_origin_and_renewed_before_it_expires(
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    now = [1_800_000_000.0]
    sender = WebPushSender(
        private_key=vapid_key, subject="mailto:a@example.org", wall_time=lambda: now[0]
    )
    first = sender.authorization("https://fcm.googleapis.com/fcm/send/abc")
    assert sender.authorization("https://fcm.googleapis.com/fcm/send/def") == first
    other = sender.authorization("https://updates.push.services.mozilla.com/wpush/v2/x")
    assert other != first
    now[0] += VAPID_LIFETIME_SECONDS - 3601  # still more than an hour left: kept
    assert sender.authorization("https://fcm.googleapis.com/fcm/send/abc") == first
    now[0] += 2  # under an hour left: signed anew
    renewed = sender.authorization("https://fcm.googleapis.com/fcm/send/abc")
    assert renewed != first


async def test_sends_share_one_pool_with_bounded_concurrency(
    push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    push_service.delay = 0.05
    browsers = [push_service.browser() for _ in range(40)]
    sender = WebPushSender(
        private_key=vapid_key, subject="mailto:a@example.org", allow_loopback=True, concurrency=8
    )
    try:
        results = await asyncio.gather(
            *(
                sender.send(_target(b), _payload(f"t{i}"), ttl=60, urgency="low", topic=f"t{i}")
                for i, b in enumerate(browsers)
            )
        )
    finally:
        await sender.close()
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert push_service.peak_in_flight == 8
    assert len({m.authorization for m in push_service.received}) == 1


async def test_answers_and_refusals(
    push_service: LocalPushService, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    browser = push_service.browser()
    push_service.answer(browser, 410)
    push_service.answer(browser, 404)
    push_service.answer(browser, 503, {"Retry-After": "30"})
    push_service.answer(browser, 413)
    sender = WebPushSender(
        private_key=vapid_key, subject="mailto:a@example.org", allow_loopback=True
    )
    strict = WebPushSender(private_key=vapid_key, subject="mailto:a@example.org")
    try:
        outcomes = [
            await sender.send(_target(browser), _payload("x"), ttl=1, urgency="low", topic="x")
            for _ in range(4)
        ]
        # Without allow_loopback an endpoint on this machine is never contacted.
        refused = await strict.send(
            _target(browser), _payload("x"), ttl=1, urgency="low", topic="x"
        )
    finally:
        await sender.close()
        await strict.close()
    assert [r.outcome for r in outcomes] == [
        Outcome.GONE,
        Outcome.GONE,
        Outcome.RETRY,
        Outcome.FAILED,
    ]
    assert outcomes[2].retry_after == 30
    assert refused.outcome is Outcome.FAILED
    assert push_service.requests == 4


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("120", now=0) == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert retry_after_seconds("soon", now=0) is None
    assert retry_after_seconds(None, now=0) is None


async def test_a_name_resolving_into_this_machine_is_refused() -> None:
    resolver = _PublicResolver(allow_loopback=False)
    try:
        with pytest.raises(OSError, match="no public address"):
            await resolver.resolve("localhost", 443)
        assert await _PublicResolver(allow_loopback=True).resolve("localhost", 443)
    finally:
        await resolver.close()
