"""What every resolver receives: sessions and the clock, handed in by the gateway."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext

from circulation import Clock

__all__ = ["Context"]


@dataclass
class Context(BaseContext):
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock

    def __post_init__(self) -> None:
        super().__init__()
