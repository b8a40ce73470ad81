"""The circulation core: one rules engine, a policy file per network.

Every operation is a transaction of its own that happens whole or not at all, and answers
with an `Outcome`: what it did, or a `Refusal` with the contract's code and a message in
Italian and English. Time comes from the injected clock only.
"""

from ._calendar import LibraryCalendar, is_public_holiday
from ._clock import LIBRARY_TIME_ZONE, Clock, ManualClock, SystemClock, library_date
from ._events import (
    ACCOUNT_SUSPENDED,
    DUE_SOON,
    HOLD_CANCELLED,
    HOLD_EXPIRED,
    HOLD_PICKUP_REMINDER,
    HOLD_PLACED,
    HOLD_READY,
    ITEM_STATUS_CHANGED,
    LOAN_RENEWED,
    NOTICE_EVENTS,
    NOTIFICATION_EVENTS,
    OVERDUE,
)
from ._holds import (
    GeoPoint,
    cancel_hold,
    change_hold_pickup,
    place_hold,
    receive_transit,
    suspend_hold,
)
from ._loans import CheckinResult, checkin, checkout, renew_all, renew_loan
from ._patrons import (
    FeeLine,
    FeeSummary,
    PaymentResult,
    fee_summary,
    pay_fees,
    set_patron_standing,
)
from ._policy import InvalidPolicy, Policy, load_policy, preset_names
from ._refusals import Language, Refusal, format_day
from ._scheduler import WorkReport, run_scheduled_work
from ._standing import Standing
from ._state import Circulation, Outcome
from ._views import HoldView, LoanView, hold_views, loan_views

__all__ = [
    "ACCOUNT_SUSPENDED",
    "DUE_SOON",
    "HOLD_CANCELLED",
    "HOLD_EXPIRED",
    "HOLD_PICKUP_REMINDER",
    "HOLD_PLACED",
    "HOLD_READY",
    "ITEM_STATUS_CHANGED",
    "LIBRARY_TIME_ZONE",
    "LOAN_RENEWED",
    "NOTICE_EVENTS",
    "NOTIFICATION_EVENTS",
    "OVERDUE",
    "CheckinResult",
    "Circulation",
    "Clock",
    "FeeLine",
    "FeeSummary",
    "GeoPoint",
    "HoldView",
    "InvalidPolicy",
    "Language",
    "LibraryCalendar",
    "LoanView",
    "ManualClock",
    "Outcome",
    "PaymentResult",
    "Policy",
    "Refusal",
    "Standing",
    "SystemClock",
    "WorkReport",
    "cancel_hold",
    "change_hold_pickup",
    "checkin",
    "checkout",
    "fee_summary",
    "format_day",
    "hold_views",
    "is_public_holiday",
    "library_date",
    "load_policy",
    "loan_views",
    "pay_fees",
    "place_hold",
    "preset_names",
    "receive_transit",
    "renew_all",
    "renew_loan",
    "run_scheduled_work",
    "set_patron_standing",
    "suspend_hold",
]
