"""The desk: operations for staff tokens, and the test clock."""

from __future__ import annotations

import strawberry

__all__ = ["StaffMutation"]


@strawberry.type
class StaffMutation:
    @strawberry.mutation(description="Placeholder until the staff mutations land.")
    def staff_pending(self) -> bool:
        return True
