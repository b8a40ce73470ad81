"""Signing in and staying signed in: PIN checks with lockout, rotating refresh tokens with
reuse detection, sign-out, and PIN changes. Counters and tokens live in the database, so every
gateway process behind a load balancer sees the same."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import AuthSession, LoginFailures, Patron, Role, reading, transaction

from ._cards import InvalidCardNumber, normalize_card_number
from ._pins import hash_pin, is_weak_pin, verify_pin
from ._tokens import AccessTokens, Principal

__all__ = ["Authenticator", "Clock", "SessionTokens", "SignInRefusal"]

SignInRefusal = Literal["INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS", "INVALID_TOKEN", "WEAK_PIN"]

CARD_FAILURES_BEFORE_LOCK = 10
ADDRESS_FAILURES_BEFORE_LOCK = 50
LOCK = timedelta(minutes=15)
REFRESH_LIFETIME = timedelta(days=30)
# Verified against a wrong card too, so that an unknown card costs the same time as a known one.
_DUMMY_HASH = hash_pin("0000-not-a-pin")


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class SessionTokens:
    access_token: str
    refresh_token: str
    expires_in: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tokens: AccessTokens,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._tokens = tokens
        self._clock = clock

    def verify(self, access_token: str) -> Principal:
        """The principal of a valid access token (raises InvalidToken)."""
        return self._tokens.verify(access_token, now=self._clock.now())

    async def _locked(self, session: AsyncSession, key: str, now: datetime) -> bool:
        row = await session.get(LoginFailures, key)
        return row is not None and row.locked_until is not None and row.locked_until > now

    async def _fail(self, session: AsyncSession, key: str, limit: int, now: datetime) -> None:
        row = await session.get(LoginFailures, key, with_for_update=True)
        if row is None or now - row.window_started_at > LOCK:
            if row is None:
                row = LoginFailures(key=key, failures=0, window_started_at=now)
                session.add(row)
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + LOCK

    async def sign_in(
        self, *, card_number: str, pin: str, address: str
    ) -> SessionTokens | SignInRefusal:
        """Tokens for a right card and PIN. The 10th wrong PIN in a row still answers
        INVALID_CREDENTIALS and locks the card for 15 minutes; whether a card exists is never
        told."""
        now = self._clock.now()
        try:
            card = normalize_card_number(card_number)
        except InvalidCardNumber:
            card = card_number.strip().upper()[:60]
        card_key, address_key = f"card:{card}", f"address:{address[:60]}"
        async with transaction(self._sessions) as session:
            if await self._locked(session, card_key, now) or await self._locked(
                session, address_key, now
            ):
                return "TOO_MANY_ATTEMPTS"
            patron = await session.scalar(select(Patron).where(Patron.card_number == card))
        # argon2 takes a tenth of a second on purpose: off the event loop.
        valid = await asyncio.to_thread(verify_pin, patron.pin_hash if patron else _DUMMY_HASH, pin)
        async with transaction(self._sessions) as session:
            if patron is None or not valid:
                await self._fail(session, card_key, CARD_FAILURES_BEFORE_LOCK, now)
                await self._fail(session, address_key, ADDRESS_FAILURES_BEFORE_LOCK, now)
                return "INVALID_CREDENTIALS"
            failures = await session.get(LoginFailures, card_key)
            if failures is not None:
                await session.delete(failures)
            return await self._open(session, patron, family=uuid.uuid4().hex, now=now)

    async def _open(
        self, session: AsyncSession, patron: Patron, *, family: str, now: datetime
    ) -> SessionTokens:
        refresh = secrets.token_urlsafe(32)
        session.add(
            AuthSession(
                patron_id=patron.id,
                family=family,
                token_hash=_digest(refresh),
                created_at=now,
                expires_at=now + REFRESH_LIFETIME,
            )
        )
        access = self._tokens.issue(
            patron_id=patron.id, staff=patron.role is Role.STAFF, session_family=family, now=now
        )
        return SessionTokens(access, refresh, int(self._tokens.lifetime.total_seconds()))

    async def refresh(self, refresh_token: str) -> SessionTokens | SignInRefusal:
        """A new pair for a valid refresh token, which stops working. A token used a second
        time was copied: the whole session family is signed out."""
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            row = await session.scalar(
                select(AuthSession)
                .where(AuthSession.token_hash == _digest(refresh_token))
                .with_for_update()
            )
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                return "INVALID_TOKEN"
            if row.rotated_at is not None:
                await self._revoke_family(session, row.family, now)
                return "INVALID_TOKEN"
            patron = await session.get(Patron, row.patron_id)
            if patron is None:
                return "INVALID_TOKEN"
            row.rotated_at = now
            return await self._open(session, patron, family=row.family, now=now)

    async def _revoke_family(self, session: AsyncSession, family: str, now: datetime) -> None:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.family == family, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def is_family_active(self, family: str) -> bool:
        """Whether a session family is still signed in (access tokens die with it)."""
        async with reading(self._sessions) as session:
            return (
                await session.scalar(
                    select(AuthSession.id)
                    .where(AuthSession.family == family, AuthSession.revoked_at.is_(None))
                    .limit(1)
                )
                is not None
            )

    async def sign_out(self, refresh_token: str) -> SignInRefusal | None:
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            row = await session.scalar(
                select(AuthSession).where(AuthSession.token_hash == _digest(refresh_token))
            )
            if row is None:
                return "INVALID_TOKEN"
            await self._revoke_family(session, row.family, now)
            return None

    async def change_pin(
        self, principal: Principal, *, current_pin: str, new_pin: str
    ) -> SignInRefusal | None:
        """Change the PIN; every other session of the patron is signed out."""
        now = self._clock.now()
        async with reading(self._sessions) as session:
            patron = await session.get(Patron, principal.patron_id)
        if patron is None:
            return "INVALID_TOKEN"
        if not await asyncio.to_thread(verify_pin, patron.pin_hash, current_pin):
            return "INVALID_CREDENTIALS"
        if is_weak_pin(new_pin, card_number=patron.card_number):
            return "WEAK_PIN"
        new_hash = await asyncio.to_thread(hash_pin, new_pin)
        async with transaction(self._sessions) as session:
            await session.execute(
                update(Patron).where(Patron.id == patron.id).values(pin_hash=new_hash)
            )
            await session.execute(
                update(AuthSession)
                .where(
                    AuthSession.patron_id == patron.id,
                    AuthSession.family != principal.session_family,
                    AuthSession.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
        return None
