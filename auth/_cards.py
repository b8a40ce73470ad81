"""Card numbers: a library card, or an Italian codice fiscale checked to its last character."""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.it import codicefiscale

__all__ = ["InvalidCardNumber", "normalize_card_number"]

_CARD_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9\-]{0,31}$")
# Sixteen characters opening with six letters (surname and name consonants) is a codice fiscale.
_CODICE_FISCALE_SHAPE = re.compile(r"^[A-Z]{6}[A-Z0-9]{10}$")


class InvalidCardNumber(ValueError):
    """Not a card number; the message says why."""


def normalize_card_number(text: str) -> str:
    """The card number in its stored form (upper case, no spaces); one shaped like a codice
    fiscale must be a valid one, check character included."""
    card = re.sub(r"\s+", "", text).upper()
    if not _CARD_NUMBER.match(card):
        raise InvalidCardNumber(
            "a card number is 1 to 32 letters, digits and dashes, starting with a letter or digit"
        )
    if _CODICE_FISCALE_SHAPE.match(card):
        try:
            codicefiscale.validate(card)
        except ValidationError as error:
            raise InvalidCardNumber(f"{card} is not a valid codice fiscale: {error}") from error
    return card
