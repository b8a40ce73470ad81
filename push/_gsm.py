"""SMS text encoding (3GPP TS 23.038): GSM-7 when every character is in its basic or extension
table, else UCS-2; and how many segments a text costs (each one is billed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["SmsEncoding", "SmsText", "encode_sms", "is_gsm7", "segments", "septets"]

SmsEncoding = Literal["GSM-7", "UCS-2"]

# The default alphabet, in table order (0x1B is the escape to the extension table).
_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each of these takes two septets: the escape and its code.
_EXTENSION = frozenset("\f^{}\\[~]|€")

_SINGLE = {"GSM-7": 160, "UCS-2": 70}
_PART = {"GSM-7": 153, "UCS-2": 67}

# Replacements that keep the meaning: typographic punctuation and spaces, and the Italian
# convention of an apostrophe for an accent on a capital letter the alphabet lacks ("E'").
# Letters are never stripped of their marks: "Dvořák" as "Dvorak" is a different word, and
# such a text goes as UCS-2 instead.
_TRANSLITERATIONS = str.maketrans(
    {
        # Quotation marks: guillemets, curly double and single quotes, low-9 quotes, primes.
        "\u00ab": '"',
        "\u00bb": '"',
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        # Dashes and hyphens: en dash, em dash, minus sign, hyphen, non-breaking hyphen.
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2010": "-",
        "\u2011": "-",
        # Ellipsis, middle dot, bullet.
        "\u2026": "...",
        "\u00b7": "-",
        "\u2022": "-",
        # No-break, thin and narrow no-break spaces.
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "È": "E'",
        "À": "A'",
        "Ì": "I'",
        "Ò": "O'",
        "Ù": "U'",
    }
)


def is_gsm7(text: str) -> bool:
    return all(char in _BASIC or char in _EXTENSION for char in text)


def septets(text: str) -> int:
    """The length of a GSM-7 text in septets (extension characters count two)."""
    return sum(2 if char in _EXTENSION else 1 for char in text)


def _units(char: str, encoding: SmsEncoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in _EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def segments(text: str, encoding: SmsEncoding) -> int:
    """How many segments the text takes; a character is never split across two (an escape
    pair in GSM-7, a surrogate pair in UCS-2)."""
    total = sum(_units(char, encoding) for char in text)
    if total <= _SINGLE[encoding]:
        return 1
    part, used, count = _PART[encoding], 0, 1
    for char in text:
        size = _units(char, encoding)
        if used + size > part:
            count += 1
            used = 0
        used += size
    return count


@dataclass(frozen=True)
class SmsText:
    text: str
    encoding: SmsEncoding

    @property
    def segments(self) -> int:
        return segments(self.text, self.encoding)


def encode_sms(text: str) -> SmsText:
    """The text in GSM-7 if it is, or becomes by meaning-keeping replacements; else UCS-2."""
    if is_gsm7(text):
        return SmsText(text, "GSM-7")
    replaced = text.translate(_TRANSLITERATIONS)
    if is_gsm7(replaced):
        return SmsText(replaced, "GSM-7")
    return SmsText(text, "UCS-2")
