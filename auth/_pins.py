"""PINs: stored as argon2id hashes, and refused when too easy to guess."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_pin", "is_weak_pin", "verify_pin"]

_HASHER = PasswordHasher()


def hash_pin(pin: str) -> str:
    return _HASHER.hash(pin)


def verify_pin(pin_hash: str, pin: str) -> bool:
    """Whether `pin` matches; a malformed stored hash never matches."""
    try:
        return _HASHER.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def is_weak_pin(pin: str, *, card_number: str) -> bool:
    """The contract's weak PINs: under 4 digits, all one digit, or the card's last 4 digits."""
    if len(pin) < 4 or not pin.isascii() or not pin.isdigit():
        return True
    if len(set(pin)) == 1:
        return True
    card_digits = "".join(character for character in card_number if character.isdigit())
    return len(card_digits) >= 4 and pin == card_digits[-4:]
