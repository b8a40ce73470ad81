"""scan: what the camera read, as a record, an ISBN the catalogue lacks, or why it is no ISBN."""

from __future__ import annotations

import re
from typing import Annotated

import strawberry

from catalog import InvalidIsbn, normalize_isbn, record_with_isbn
from circulation import Language
from db import reading

from .._context import GraphQLInfo
from .types import GeoPointInput, InvalidCode, NotInCatalog, Record, ScanResult, point_of

__all__ = ["invalid_code_message", "resolve_scan"]

# InvalidIsbn.reason is English prose (catalog/_isbn.py); these are its sentences in Italian.
# The tests go through every reason, so a changed sentence there shows up here.
_LENGTH = re.compile(r"an ISBN has 10 or 13 characters, not (\d+)")
_ITALIAN_REASONS = {
    "an ISBN has only digits (and X as the last of ten)": (
        "un ISBN ha solo cifre (e la X come ultima di dieci)"
    ),
    "an ISBN-13 starts with 978 or 979": "un ISBN-13 comincia con 978 o 979",
    "979-0 is an ISMN (printed music), not a book": (
        "979-0 è un ISMN (musica a stampa), non un libro"
    ),
    "the check digit is wrong": "la cifra di controllo è sbagliata",
}


def invalid_code_message(reason: str, language: Language) -> str:
    """Why a code is not an ISBN, for people, in the request's language."""
    if language == "en":
        return f"This is not an ISBN: {reason}."
    length = _LENGTH.fullmatch(reason)
    if length is not None:
        italian = f"un ISBN ha 10 o 13 caratteri, non {length.group(1)}"
    else:
        italian = _ITALIAN_REASONS.get(reason, reason)
    return f"Questo non è un ISBN: {italian}."


async def resolve_scan(
    info: GraphQLInfo,
    code: Annotated[
        str,
        strawberry.argument(
            description="An EAN-13 (978/979, with or without a 2- or 5-digit add-on) or an"
            " ISBN-10/13; hyphens and spaces allowed."
        ),
    ],
    near: GeoPointInput | None = None,
) -> ScanResult:
    point = point_of(near)
    try:
        isbn13 = normalize_isbn(code, allow_addon=True)
    except InvalidIsbn as error:
        return InvalidCode(message=invalid_code_message(error.reason, info.context.language))
    async with reading(info.context.services.sessions) as session:
        row = await record_with_isbn(session, isbn13)
    if row is None:
        return NotInCatalog(isbn13=isbn13)
    return Record.from_row(row, near=point)
