"""Local stand-ins for the outside world, on 127.0.0.1: a push service that decrypts what it gets
with the browser's own keys (http_ece) and verifies the VAPID JWT with the server's public key,
and the contract's SMS gateway. Nothing here is mocked crypto: a message that arrives was
really encrypted to the subscription and really signed by the notifier's key."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import http_ece
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["Browser", "LocalPushService", "LocalSmsGateway", "PushReceived", "b64url"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    await web.SockSite(runner, sock).start()
    return runner, int(sock.getsockname()[1])


@dataclass(frozen=True)
class Browser:
    """A browser's push subscription as PushManager makes it: a P-256 key pair of its own
    and a 16-byte auth secret; the server only ever sees the public half."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def token(self) -> str:
        return self.endpoint.rsplit("/", 1)[1]

    @property
    def p256dh(self) -> str:
        return b64url(_point(self.private_key.public_key()))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


@dataclass(frozen=True)
class PushReceived:
    token: str
    payload: dict[str, Any]
    ttl: int
    urgency: str | None
    topic: str | None
    claims: dict[str, Any]
    authorization: str


@dataclass
class LocalPushService:
    """Answers 201 to a message it could decrypt and whose VAPID JWT verifies (after `delay`
    seconds), or what a test queued for that subscription."""

    vapid_public_key: ec.EllipticCurvePublicKey
    delay: float = 0.0
    received: list[PushReceived] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    _browsers: dict[str, Browser] = field(default_factory=dict)
    _answers: dict[str, deque[tuple[int, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    _runner: web.AppRunner | None = None
    port: int = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/{token}", self._handle)
        self._runner, self.port = await _serve(app)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def browser(self) -> Browser:
        """A new subscriber of this service."""
        endpoint = f"{self.origin}/push/{b64url(os.urandom(12))}"
        browser = Browser(endpoint, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        self._browsers[browser.token] = browser
        return browser

    def answer(self, browser: Browser, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next message to `browser` with `status` instead."""
        self._answers[browser.token].append((status, headers or {}))

    def for_browser(self, browser: Browser) -> list[PushReceived]:
        return [message for message in self.received if message.token == browser.token]

    def shown(self, browser: Browser) -> dict[str, dict[str, Any]]:
        """What the device ends up showing: one notification per tag, the latest."""
        return {m.payload["tag"]: m.payload for m in self.for_browser(browser)}

    def _verify_vapid(self, header: str) -> dict[str, Any]:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"not a VAPID authorization: {header!r}")
        parts = dict(part.strip().split("=", 1) for part in params.split(","))
        if parts.get("k") != b64url(_point(self.vapid_public_key)):
            raise ValueError("k is not the server's public key")
        claims: dict[str, Any] = jwt.decode(
            parts["t"],
            self.vapid_public_key,
            algorithms=["ES256"],
            audience=self.origin,
            options={"require": ["aud", "exp", "sub"]},
        )
        if claims["exp"] > time.time() + 24 * 3600:
            raise ValueError("exp is more than 24 hours ahead")
        if not str(claims["sub"]).startswith("mailto:"):
            raise ValueError("sub is not a mailto: contact")
        return claims

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            body = await request.read()
            if self.delay:
                await asyncio.sleep(self.delay)
            return self._answer(request, body)
        finally:
            self.in_flight -= 1

    def _answer(self, request: web.Request, body: bytes) -> web.Response:
        token = request.match_info["token"]
        browser = self._browsers.get(token)
        if browser is None:
            return web.Response(status=404)
        if self._answers[token]:
            status, headers = self._answers[token].popleft()
            return web.Response(status=status, headers=headers)
        try:
            claims = self._verify_vapid(request.headers.get("Authorization", ""))
            if request.headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError("not aes128gcm")
            plain = http_ece.decrypt(
                body,
                private_key=browser.private_key,
                auth_secret=browser.auth_secret,
                version="aes128gcm",
            )
            payload = json.loads(plain)
        except Exception as error:
            self.errors.append(f"{type(error).__name__}: {error}")
            return web.Response(status=400)
        self.received.append(
            PushReceived(
                token=token,
                payload=payload,
                ttl=int(request.headers["TTL"]),
                urgency=request.headers.get("Urgency"),
                topic=request.headers.get("Topic"),
                claims=claims,
                authorization=request.headers["Authorization"],
            )
        )
        return web.Response(status=201)


@dataclass
class LocalSmsGateway:
    """The contract's SMS gateway: Bearer token, JSON {to, text, reference}. Like a real one it
    sends one SMS per reference, however often the same reference is posted. With `stall`
    cleared, it takes a message and then never answers (the sender may die meanwhile)."""

    token: str = "sms-token"
    requests: list[dict[str, Any]] = field(default_factory=list)
    delivered: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused_auth: int = 0
    stall: asyncio.Event = field(default_factory=asyncio.Event)
    _answers: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    port: int = 0

    def __post_init__(self) -> None:
        self.stall.set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/sms", self._handle)
        self._runner, self.port = await _serve(app)

    async def close(self) -> None:
        self.stall.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    def answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        self._answers.append((status, headers or {}))

    async def _handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.refused_auth += 1
            return web.Response(status=401)
        body = await request.json()
        self.requests.append(body)
        if self._answers:
            status, headers = self._answers.popleft()
            return web.Response(status=status, headers=headers)
        self.delivered.setdefault(body["reference"], body)
        await self.stall.wait()
        return web.json_response({"id": body["reference"]}, status=202)
