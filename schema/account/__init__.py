"""The patron: sessions, their account, holds, renewals, notification settings."""

from __future__ import annotations

import strawberry

from .me import resolve_me
from .mutations.cancel_hold import resolve_cancel_hold
from .mutations.change_hold_pickup import resolve_change_hold_pickup
from .mutations.change_pin import ChangePinPayload, resolve_change_pin
from .mutations.login import resolve_login
from .mutations.logout import LogoutPayload, resolve_logout
from .mutations.place_hold import resolve_place_hold
from .mutations.refresh_session import resolve_refresh_session
from .mutations.renew_all import RenewAllPayload, resolve_renew_all
from .mutations.renew_loan import resolve_renew_loan
from .mutations.set_preferred_pickup_library import (
    SetPreferredPickupLibraryPayload,
    resolve_set_preferred_pickup_library,
)
from .mutations.subscribe_push import SubscribePushPayload, resolve_subscribe_push
from .mutations.suspend_hold import resolve_suspend_hold
from .mutations.unsubscribe_push import UnsubscribePushPayload, resolve_unsubscribe_push
from .mutations.update_notification_preferences import (
    UpdateNotificationPreferencesPayload,
    resolve_update_notification_preferences,
)
from .payloads import HoldPayload, LoanPayload, SessionPayload
from .types import Patron

__all__ = ["AccountMutation", "AccountQuery"]


@strawberry.type
class AccountQuery:
    me: Patron | None = strawberry.field(
        resolver=resolve_me,
        description="The signed-in patron (a GraphQL error UNAUTHENTICATED without a valid token).",
    )


@strawberry.type
class AccountMutation:
    login: SessionPayload = strawberry.mutation(
        resolver=resolve_login,
        description="Sign in with the card number and PIN; wrong credentials and the lockout"
        " after 10 wrong PINs are payload errors.",
    )
    refresh_session: SessionPayload = strawberry.mutation(
        resolver=resolve_refresh_session,
        description="New tokens for a refresh token, which stops working; using it again"
        " signs the whole session out.",
    )
    logout: LogoutPayload = strawberry.mutation(
        resolver=resolve_logout, description="Sign the session of this refresh token out."
    )
    change_pin: ChangePinPayload = strawberry.mutation(
        resolver=resolve_change_pin,
        description="Change the PIN; the patron's other sessions are signed out.",
    )
    place_hold: HoldPayload = strawberry.mutation(
        resolver=resolve_place_hold,
        description="Join a record's queue; a copy on the shelf is set aside at once.",
    )
    cancel_hold: HoldPayload = strawberry.mutation(
        resolver=resolve_cancel_hold, description="Leave a record's queue."
    )
    suspend_hold: HoldPayload = strawberry.mutation(
        resolver=resolve_suspend_hold,
        description="Pause a WAITING hold until a day (it keeps its place), or resume it.",
    )
    change_hold_pickup: HoldPayload = strawberry.mutation(
        resolver=resolve_change_hold_pickup, description="Collect a hold at another library."
    )
    renew_loan: LoanPayload = strawberry.mutation(
        resolver=resolve_renew_loan, description="Renew one loan, if the rules allow it today."
    )
    renew_all: RenewAllPayload = strawberry.mutation(
        resolver=resolve_renew_all,
        description="Renew every loan that may be renewed; one result per loan.",
    )
    set_preferred_pickup_library: SetPreferredPickupLibraryPayload = strawberry.mutation(
        resolver=resolve_set_preferred_pickup_library,
        description="Where holds go when no pickup library is named.",
    )
    update_notification_preferences: UpdateNotificationPreferencesPayload = strawberry.mutation(
        resolver=resolve_update_notification_preferences,
        description="Change the notification settings given; the others stay.",
    )
    subscribe_push: SubscribePushPayload = strawberry.mutation(
        resolver=resolve_subscribe_push, description="Notify this browser by web push."
    )
    unsubscribe_push: UnsubscribePushPayload = strawberry.mutation(
        resolver=resolve_unsubscribe_push, description="Stop notifying this browser."
    )
