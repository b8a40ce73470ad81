"""Web push subscriptions: what a browser's PushSubscription.toJSON() gives, checked before it is
kept, since the server will later POST to the endpoint (no requests into private networks) and
encrypt to the keys (RFC 8291)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import PushSubscription, transaction

__all__ = ["InvalidSubscription", "check_endpoint", "remove_subscription", "store_subscription"]

MAX_ENDPOINT_LENGTH = 1000
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# A top-level domain starts with a letter: this refuses numeric forms such as "127.1" or
# "0x7f.1", which some resolvers still read as IP addresses.
_TOP_LEVEL = re.compile(r"^(?:[a-z][a-z0-9-]*[a-z0-9]|[a-z])$")
# Names that only mean something inside a network: reserved (RFC 6761, RFC 6762, RFC 8375,
# ICANN's .internal) and the usual home and office ones.
_PRIVATE_SUFFIXES = ("localhost", "local", "home.arpa", "internal", "lan", "intranet")
_P256_POINT_LENGTH = 65
_AUTH_SECRET_LENGTH = 16


class InvalidSubscription(ValueError):
    """The endpoint or the keys are not ones the server may use; the message says which."""


def _decode_base64url(value: str, *, name: str) -> bytes:
    if not _BASE64URL.match(value):
        raise InvalidSubscription(f"{name} is not base64url")
    unpadded = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidSubscription(f"{name} is not base64url") from error


def _check_keys(p256dh: str, auth: str) -> None:
    point = _decode_base64url(p256dh, name="p256dh")
    if len(point) != _P256_POINT_LENGTH or point[0] != 0x04:
        raise InvalidSubscription("p256dh is not an uncompressed P-256 point")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as error:
        raise InvalidSubscription("p256dh is not a point on P-256") from error
    if len(_decode_base64url(auth, name="auth")) != _AUTH_SECRET_LENGTH:
        raise InvalidSubscription("auth is not a 16-byte secret")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_public_host(host: str) -> None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if not address.is_global:
            raise InvalidSubscription(f"{host} is not a public address")
        return
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidSubscription(f"{host} is not a public host name")
    if not _TOP_LEVEL.match(labels[-1]):
        raise InvalidSubscription(f"{host} is not a public host name")
    if any(host == suffix or host.endswith("." + suffix) for suffix in _PRIVATE_SUFFIXES):
        raise InvalidSubscription(f"{host} is a local name")


def check_endpoint(endpoint: str, *, allow_loopback: bool) -> None:
    """Refuse an endpoint that is not https on a public host (with `allow_loopback`, http or
    https on 127.0.0.1 and localhost pass too)."""
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise InvalidSubscription("the endpoint is too long")
    try:
        parts = urlsplit(endpoint)
        # Reading the port is what refuses a malformed one.
        host, _port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError as error:
        raise InvalidSubscription("the endpoint is not a URL") from error
    if not host or parts.username is not None or parts.password is not None:
        raise InvalidSubscription("the endpoint has no plain host")
    if allow_loopback and _is_loopback(host) and parts.scheme in ("http", "https"):
        return
    if parts.scheme != "https":
        raise InvalidSubscription("the endpoint is not https")
    _check_public_host(host)


async def _upsert(
    session: AsyncSession, *, patron_id: int, endpoint: str, p256dh: str, auth: str, now: datetime
) -> None:
    existing = await session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint).with_for_update()
    )
    if existing is not None and existing.patron_id == patron_id:
        # The same browser again (keys rotate): what is queued for it goes out with the new keys.
        existing.p256dh = p256dh
        existing.auth = auth
        return
    if existing is not None:
        # The same browser, now signed in by another patron: it notifies the new one, and what
        # was queued for the previous patron loses its device instead of reaching it.
        await session.delete(existing)
        await session.flush()
    session.add(
        PushSubscription(
            patron_id=patron_id, endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=now
        )
    )


async def store_subscription(
    *,
    sessions: async_sessionmaker[AsyncSession],
    patron_id: int,
    endpoint: str,
    p256dh: str,
    auth: str,
    allow_loopback: bool,
    now: datetime,
) -> None:
    """Keep a checked subscription for the patron (raises InvalidSubscription)."""
    check_endpoint(endpoint, allow_loopback=allow_loopback)
    _check_keys(p256dh, auth)
    try:
        async with transaction(sessions) as session:
            await _upsert(
                session, patron_id=patron_id, endpoint=endpoint, p256dh=p256dh, auth=auth, now=now
            )
    except IntegrityError:
        # A concurrent subscribe inserted the same endpoint first: it exists now, so update it.
        async with transaction(sessions) as session:
            await _upsert(
                session, patron_id=patron_id, endpoint=endpoint, p256dh=p256dh, auth=auth, now=now
            )


async def remove_subscription(
    *, sessions: async_sessionmaker[AsyncSession], patron_id: int, endpoint: str
) -> None:
    """Forget the patron's subscription to `endpoint` (none there: nothing to do)."""
    async with transaction(sessions) as session:
        await session.execute(
            delete(PushSubscription).where(
                PushSubscription.patron_id == patron_id, PushSubscription.endpoint == endpoint
            )
        )
