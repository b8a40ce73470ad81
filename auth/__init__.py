"""Patron identity: card numbers, PINs, and (later) sessions."""

from ._cards import InvalidCardNumber, normalize_card_number
from ._pins import hash_pin, is_weak_pin, verify_pin

__all__ = ["InvalidCardNumber", "hash_pin", "is_weak_pin", "normalize_card_number", "verify_pin"]
