"""Patron identity: card numbers, PINs, session tokens, sign-in with lockout."""

from ._cards import InvalidCardNumber, normalize_card_number
from ._pins import hash_pin, is_weak_pin, verify_pin
from ._sessions import Authenticator, SessionTokens, SignInRefusal
from ._tokens import AccessTokens, InvalidToken, Principal

__all__ = [
    "AccessTokens",
    "Authenticator",
    "InvalidCardNumber",
    "InvalidToken",
    "Principal",
    "SessionTokens",
    "SignInRefusal",
    "hash_pin",
    "is_weak_pin",
    "normalize_card_number",
    "verify_pin",
]
