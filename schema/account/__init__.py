"""The patron: sessions, their account, holds, renewals, notification settings."""

from __future__ import annotations

import strawberry

__all__ = ["AccountMutation", "AccountQuery"]


@strawberry.type
class AccountQuery:
    @strawberry.field(description="Placeholder until the account fields land.")
    def account_pending(self) -> bool:
        return True


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="Placeholder until the account mutations land.")
    def account_pending(self) -> bool:
        return True
