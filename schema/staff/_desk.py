"""What every desk operation checks first: a staff token, and a card number as the desk typed it."""

from __future__ import annotations

from auth import InvalidCardNumber, normalize_card_number

from .._context import Context
from .._errors import UserError, user_error

__all__ = ["card_number_of", "staff_refusal"]


async def staff_refusal(context: Context) -> list[UserError]:
    """No errors for a staff token, FORBIDDEN for a patron's (without one: Unauthenticated)."""
    principal = await context.principal()
    return [] if principal.staff else [user_error("FORBIDDEN", context.language)]


def card_number_of(text: str) -> str | None:
    """The card number as stored (upper case, no spaces); None when it cannot be one."""
    try:
        return normalize_card_number(text)
    except InvalidCardNumber:
        return None
