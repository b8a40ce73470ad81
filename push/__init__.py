"""Notifications: web push, SMS and e-mail delivered once from the outbox, and the push
subscriptions that patrons' browsers hand over."""

from ._notifier import DeliveryReport, Notifier
from ._subscriptions import (
    InvalidSubscription,
    check_endpoint,
    remove_subscription,
    store_subscription,
)

__all__ = [
    "DeliveryReport",
    "InvalidSubscription",
    "Notifier",
    "check_endpoint",
    "remove_subscription",
    "store_subscription",
]
