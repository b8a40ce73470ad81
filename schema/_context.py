"""What every resolver receives: the services (handed in by the gateway), the caller, and the
per-request loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from auth import Authenticator, InvalidToken, Principal
from circulation import Circulation, Language, ManualClock
from search import CatalogSearch

__all__ = ["Context", "GraphQLInfo", "Services", "Unauthenticated", "language_of"]


@dataclass(frozen=True)
class Services:
    """The domain services one process shares (built by the gateway from its settings)."""

    sessions: async_sessionmaker[AsyncSession]
    circulation: Circulation
    search: CatalogSearch
    authenticator: Authenticator
    vapid_public_key: str
    push_allow_loopback: bool
    # Set only when the server runs with the test clock (TESSERA_TEST_CLOCK=1).
    test_clock: ManualClock | None = None


class Unauthenticated(Exception):
    """No valid access token: a GraphQL error with extensions.code UNAUTHENTICATED."""

    def __init__(self, message: str = "Sign in first.") -> None:
        super().__init__(message)
        self.extensions = {"code": "UNAUTHENTICATED"}


def language_of(accept_language: str | None) -> Language:
    """Italian unless the client prefers English (Accept-Language: en...)."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("it"):
            return "it"
    return "it"


@dataclass
class Context(BaseContext):
    services: Services
    language: Language
    address: str
    bearer_token: str | None
    # Per request: DataLoaders and the like, created on first use by the schema modules.
    cache: dict[str, Any] = field(default_factory=dict)
    _principal: Principal | None = None

    def __post_init__(self) -> None:
        super().__init__()

    async def principal(self) -> Principal:
        """The signed-in patron, or Unauthenticated (a token of a signed-out session too)."""
        if self._principal is not None:
            return self._principal
        if not self.bearer_token:
            raise Unauthenticated()
        authenticator = self.services.authenticator
        try:
            principal = authenticator.verify(self.bearer_token)
        except InvalidToken as error:
            raise Unauthenticated("The session token is not valid; sign in again.") from error
        if not await authenticator.is_family_active(principal.session_family):
            raise Unauthenticated("This session was signed out; sign in again.")
        self._principal = principal
        return principal

    async def optional_principal(self) -> Principal | None:
        """The signed-in patron when there is one (public fields that say more when signed in)."""
        if not self.bearer_token:
            return None
        try:
            return await self.principal()
        except Unauthenticated:
            return None


GraphQLInfo = Info[Context, None]
