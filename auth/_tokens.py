"""Short-lived access tokens: JWT signed with EdDSA, the algorithm pinned, issuer, audience and
expiry checked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["AccessTokens", "InvalidToken", "Principal"]

ISSUER = "tessera"
AUDIENCE = "tessera-app"


class InvalidToken(Exception):
    """The token is missing, forged, expired, or not for us."""


@dataclass(frozen=True)
class Principal:
    """Who a valid access token speaks for."""

    patron_id: int
    staff: bool
    session_family: str


class AccessTokens:
    def __init__(self, private_key: Ed25519PrivateKey, *, lifetime: timedelta) -> None:
        self._private_key = private_key
        self._public_key = private_key.public_key()
        self.lifetime = lifetime

    def issue(self, *, patron_id: int, staff: bool, session_family: str, now: datetime) -> str:
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(patron_id),
            "role": "staff" if staff else "patron",
            "sid": session_family,
            "iat": int(now.timestamp()),
            "exp": int((now + self.lifetime).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._private_key, algorithm="EdDSA")

    def verify(self, token: str, *, now: datetime) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub", "sid"],
                    "verify_exp": False,
                },
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        # Expiry is checked against the injected clock, so tests can age a token without sleeping.
        if claims["exp"] <= now.timestamp():
            raise InvalidToken("expired")
        return Principal(
            patron_id=int(claims["sub"]),
            staff=claims.get("role") == "staff",
            session_family=str(claims["sid"]),
        )
