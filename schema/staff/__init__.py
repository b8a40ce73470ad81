"""The desk: operations for staff tokens, and the test clock."""

from __future__ import annotations

import strawberry

from ..account.payloads import HoldPayload, LoanPayload
from .mutations.checkin import CheckinPayload, resolve_checkin
from .mutations.checkout import resolve_checkout
from .mutations.pay_fees import PayFeesPayload, resolve_pay_fees
from .mutations.receive_transit import resolve_receive_transit
from .mutations.set_clock import SetClockPayload, resolve_set_clock
from .mutations.set_patron_standing import SetPatronStandingPayload, resolve_set_patron_standing

__all__ = ["StaffMutation"]


@strawberry.type(description="Staff only: a patron's token gets FORBIDDEN.")
class StaffMutation:
    checkout: LoanPayload = strawberry.mutation(
        resolver=resolve_checkout, description="Lend a copy at a desk."
    )
    checkin: CheckinPayload = strawberry.mutation(
        resolver=resolve_checkin,
        description="Take a copy back: fees and blocks are settled, the next hold is served.",
    )
    receive_transit: HoldPayload = strawberry.mutation(
        resolver=resolve_receive_transit,
        description="A copy in transit arrived at its hold's pickup library: the hold is READY.",
    )
    set_patron_standing: SetPatronStandingPayload = strawberry.mutation(
        resolver=resolve_set_patron_standing,
        description="Suspend, revoke, expire or re-enable a card.",
    )
    pay_fees: PayFeesPayload = strawberry.mutation(
        resolver=resolve_pay_fees, description="Record a payment; the oldest fees go first."
    )
    set_clock: SetClockPayload = strawberry.mutation(
        resolver=resolve_set_clock,
        description="Test servers only: move circulation time forward and do the work due by then.",
    )
