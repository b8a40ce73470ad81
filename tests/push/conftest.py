from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.circulation.world import World, make_world
from tests.push.services import LocalPushService, LocalSmsGateway


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@pytest.fixture
def vapid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
async def push_service(vapid_key: ec.EllipticCurvePrivateKey) -> AsyncIterator[LocalPushService]:
    service = LocalPushService(vapid_public_key=vapid_key.public_key())
    await service.start()
    yield service
    await service.close()


@pytest.fixture
async def sms_gateway() -> AsyncIterator[LocalSmsGateway]:
    gateway = LocalSmsGateway()
    await gateway.start()
    yield gateway
    await gateway.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    """The CUBI network with its clock at Monday 2 March 2026, 10:00 in Pavia."""
    return await make_world(sessions, "cubi")
