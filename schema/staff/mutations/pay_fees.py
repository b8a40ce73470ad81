"""payFees: record what the patron pays at the desk."""

from __future__ import annotations

import re

import strawberry

from circulation import pay_fees

from ..._context import GraphQLInfo
from ..._errors import UserError, user_error, user_errors
from ...account.types import euro
from .._desk import card_number_of, staff_refusal

__all__ = ["PayFeesInput", "PayFeesPayload", "resolve_pay_fees"]

# Euro with up to two decimals, a point or (as typed in Italy) a comma; six digits of euro
# are far above any payable total, and keep the number within a database integer.
_AMOUNT = re.compile(r"^(\d{1,6})(?:[.,](\d{1,2}))?$")


@strawberry.input
class PayFeesInput:
    card_number: str
    amount: str = strawberry.field(
        description='Euro, e.g. "2.00": more than 0 and at most the payable total.'
    )


@strawberry.type
class PayFeesPayload:
    charged: str | None = strawberry.field(default=None, description="The amount recorded, euro.")
    remaining: str | None = strawberry.field(
        default=None, description="The payable total afterwards, euro."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


def _cents(amount: str) -> int:
    """The amount in cents; 0 (no payment at all) when it is not an amount of euro."""
    match = _AMOUNT.match(amount.strip())
    if match is None:
        return 0
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


async def resolve_pay_fees(info: GraphQLInfo, input: PayFeesInput) -> PayFeesPayload:
    context = info.context
    if errors := await staff_refusal(context):
        return PayFeesPayload(errors=errors)
    card_number = card_number_of(input.card_number)
    if card_number is None:
        return PayFeesPayload(errors=[user_error("NOT_FOUND", context.language)])
    # An amount that does not parse is refused by the domain like zero: INVALID_AMOUNT, with
    # a message that says what may be paid.
    outcome = await pay_fees(
        context.services.circulation, card_number=card_number, amount_cents=_cents(input.amount)
    )
    if outcome.value is None:
        return PayFeesPayload(errors=user_errors(outcome.refusal, context.language))
    return PayFeesPayload(
        charged=euro(outcome.value.charged_cents), remaining=euro(outcome.value.remaining_cents)
    )
