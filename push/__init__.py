"""Notifications: the web push subscriptions that patrons' browsers hand over."""

from ._subscriptions import (
    InvalidSubscription,
    check_endpoint,
    remove_subscription,
    store_subscription,
)

__all__ = ["InvalidSubscription", "check_endpoint", "remove_subscription", "store_subscription"]
