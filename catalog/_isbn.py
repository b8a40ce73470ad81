"""ISBN normalisation: whatever a patron typed, a MARC field held or a camera read, as ISBN-13."""

from __future__ import annotations

import re
import unicodedata

from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import ValidationError

__all__ = ["InvalidIsbn", "normalize_isbn"]

# Separators people and catalogues put inside an ISBN: ASCII and Unicode dashes, spaces, dots.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u00ad.]+")
_PREFIX = re.compile(r"^(?:isbn(?:-1[03])?:?)", re.IGNORECASE)


class InvalidIsbn(ValueError):
    """The text is not an ISBN; `reason` says why in a few words (English, for logs and reports)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code!r} is not an ISBN: {reason}")
        self.code = code
        self.reason = reason


def normalize_isbn(code: str, *, allow_addon: bool = False) -> str:
    """Return the ISBN-13 (digits only) of an ISBN-10/13 or a 978/979 EAN, else raise InvalidIsbn.

    With `allow_addon`, an EAN-13 followed by a 2- or 5-digit add-on (as a barcode scanner
    reports a price or issue supplement) keeps its first 13 digits.
    """
    text = unicodedata.normalize("NFKC", code).strip()
    compact = _SEPARATORS.sub("", _PREFIX.sub("", _SEPARATORS.sub("", text)))
    if allow_addon and len(compact) in (15, 18) and compact.isdigit():
        compact = compact[:13]
    compact = compact.upper()
    if len(compact) not in (10, 13):
        raise InvalidIsbn(code, f"an ISBN has 10 or 13 characters, not {len(compact)}")
    body, check = compact[:-1], compact[-1]
    if not body.isdigit() or not (check.isdigit() or (len(compact) == 10 and check == "X")):
        raise InvalidIsbn(code, "an ISBN has only digits (and X as the last of ten)")
    if len(compact) == 13 and not compact.startswith(("978", "979")):
        raise InvalidIsbn(code, "an ISBN-13 starts with 978 or 979")
    if compact.startswith("9790"):
        raise InvalidIsbn(code, "979-0 is an ISMN (printed music), not a book")
    try:
        stdnum_isbn.validate(compact)
    except ValidationError as error:
        raise InvalidIsbn(code, "the check digit is wrong") from error
    return str(stdnum_isbn.to_isbn13(compact))
