"""Map MARC21 and UNIMARC bibliographic records (binary ISO 2709 or MARCXML) to dataset records.

The output of `record_from_marc` is a plain dict in the shape of a dataset "records" entry
(see the contract's "Dataset (JSON)" section), so the demo builder, the MARC importer and the
tests all agree on one mapping.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pymarc

from catalog._isbn import InvalidIsbn, normalize_isbn

__all__ = [
    "MarcFormat",
    "MarcHolding",
    "MarcRecord",
    "detect_format",
    "read_marc_bytes",
    "read_marc_file",
    "record_from_marc",
]

MarcFormat = Literal["marc21", "unimarc"]

MAX_SUBJECTS = 10

# SBN and other ISO 2709 exports mark the non-sorting part of a title ("Lo ", "L'") with the
# C1 controls NSB/NSE: U+0098/U+009C, or U+0088/U+0089 in older ISO 6630 data. MARC21 uses
# indicators for that instead.
_NON_SORTING_MARKERS = dict.fromkeys(map(ord, "\u0098\u009c\u0088\u0089"))
# ISBD punctuation that ends a subfield because another element follows it in the record.
_TRAILING_PUNCTUATION = re.compile(r"[\s/:;,=+]+$")
_LEADING_PUNCTUATION = re.compile(r"^[\s/:;,=+]+")
_SPACES = re.compile(r"\s+")
_ISBN_TOKEN = re.compile(r"^\s*(?:ISBN(?:-1[03])?:?\s*)?([0-9][0-9Xx\-\u2010-\u2015]*)")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_LANGUAGE = re.compile(r"^[a-z]{3}$")
_NO_LANGUAGE = frozenset({"und", "zxx", "|||", "   "})

_MARC21_AUTHOR_TAGS = ("100", "110", "700", "710")
_UNIMARC_PERSON_TAGS = frozenset({"700", "701", "702"})
_UNIMARC_AUTHOR_TAGS = ("700", "701", "702", "710", "711", "712")
# MARC21 008/22 is "target audience" only for these leader/06 types (books, music, visual
# material, computer files); for maps, mixed materials and serials it means something else.
_MARC21_AUDIENCE_TYPES = frozenset("acdgijkmort")
_MARC21_CHILDREN_AUDIENCES = frozenset("abcj")
_UNIMARC_CHILDREN_AUDIENCES = frozenset("abcd")
_ELECTRONIC_FORMS = frozenset("oqs")


@dataclass(frozen=True, slots=True)
class MarcHolding:
    """One copy described in a record's holdings fields (852/949/952 or 995/950/960)."""

    barcode: str | None
    call_number: str | None
    library_code: str | None


@dataclass(frozen=True, slots=True)
class MarcRecord:
    """A mapped record: the dataset entry, the ISBNs that failed validation, and its copies."""

    record: dict[str, Any]
    invalid_isbns: tuple[str, ...]
    holdings: tuple[MarcHolding, ...]
    classification: str | None
    """Dewey number (MARC21 082$a, UNIMARC 676$a) without segmentation marks, for call numbers."""


def read_marc_file(path: Path | str) -> Iterator[pymarc.Record | None]:
    """Yield the records of a binary ISO 2709 or MARCXML file; None for an unreadable record."""
    return read_marc_bytes(Path(path).read_bytes())


def read_marc_bytes(data: bytes) -> Iterator[pymarc.Record | None]:
    """Yield the records in `data` (ISO 2709 or MARCXML, detected); None for an unreadable one."""
    text_start = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text_start.startswith(b"<"):
        # The XML parser rejects anything before the declaration, so parse from the "<".
        records: list[pymarc.Record] = pymarc.parse_xml_to_array(  # type: ignore[no-untyped-call]
            io.BytesIO(text_start)
        )
        yield from records
        return
    # Some exports (the BNCF file among them) put a newline after every record terminator;
    # pymarc would then read "\n0143..." as the next record's length and give up.
    data = data.replace(b"\x1d\r\n", b"\x1d").replace(b"\x1d\n", b"\x1d").rstrip(b"\r\n")
    yield from pymarc.MARCReader(data, to_unicode=True, force_utf8=True)


def detect_format(record: pymarc.Record) -> MarcFormat:
    """Tell MARC21 (245 title, 008 fixed data) from UNIMARC (200 title, 100 general data)."""
    if record.get("245") is not None:
        return "marc21"
    general = record.get("100")
    if record.get("200") is not None and general is not None and not general.is_control_field():
        return "unimarc"
    if record.get("008") is not None:
        return "marc21"
    if general is not None and re.match(r"^\d{8}[a-z]", general.get("a", "")):
        return "unimarc"
    return "marc21"


def record_from_marc(record: pymarc.Record, *, id_prefix: str) -> MarcRecord:
    """Map one MARC21 or UNIMARC record to a dataset record, keeping invalid ISBNs apart."""
    if detect_format(record) == "unimarc":
        return _from_unimarc(record, id_prefix=id_prefix)
    return _from_marc21(record, id_prefix=id_prefix)


# MARC21


def _from_marc21(record: pymarc.Record, *, id_prefix: str) -> MarcRecord:
    leader = str(record.leader)
    fixed = _control(record, "008").ljust(40)
    isbns, invalid_isbns = _isbns(record, "020")
    material_type = _marc21_material_type(leader, fixed, record)
    audience = fixed[22] if leader[6:7] in _MARC21_AUDIENCE_TYPES else " "
    if leader[6:7] in ("a", "t") and leader[7:8] in ("b", "i", "s"):
        audience = " "  # 008/22 of a serial is the form of the original item
    series = _first_subfield(record, ("490", "830"), "a")
    entry = {
        "id": _record_id(record, id_prefix=id_prefix),
        "title": _marc21_title(record),
        "authors": _marc21_authors(record),
        "isbns": isbns,
        "materialType": material_type,
        "language": _marc21_language(record, fixed),
        "published": _marc21_published(record, fixed),
        "section": "CHILDREN" if audience in _MARC21_CHILDREN_AUDIENCES else "ADULT",
        "subjects": _subjects(record, tags=[f"6{n:02d}" for n in range(100)]),
        "series": _strip_punctuation(series) if series else None,
        "latestIssue": False,
    }
    return MarcRecord(
        record=entry,
        invalid_isbns=invalid_isbns,
        holdings=_marc21_holdings(record),
        classification=_classification(record, "082"),
    )


def _marc21_material_type(leader: str, fixed: str, record: pymarc.Record) -> str:
    record_type, level = leader[6:7], leader[7:8]
    if record_type in ("a", "t"):
        if level in ("s", "i", "b"):
            return "PERIODICAL"
        return "EBOOK" if record_type == "a" and _marc21_is_electronic(fixed, record) else "BOOK"
    return {
        "i": "AUDIOBOOK",
        "j": "AUDIOVISUAL",
        "g": "AUDIOVISUAL",
        "m": "EBOOK",
        "o": "KIT",
    }.get(record_type, "OTHER")


def _marc21_is_electronic(fixed: str, record: pymarc.Record) -> bool:
    if fixed[23] in _ELECTRONIC_FORMS:
        return True
    for field in record.get_fields("006"):
        data = field.data or ""
        # An 006 for a computer file (006/00 'm') says the text also exists as a file; for the
        # other types 006/06 repeats 008/23, the form of item.
        if data[:1] == "m" or data[6:7] in _ELECTRONIC_FORMS:
            return True
    # 007/00 'c' is the physical description of an electronic resource (online, CD-ROM).
    return any((field.data or "")[:1] == "c" for field in record.get_fields("007"))


def _marc21_title(record: pymarc.Record) -> str:
    field = record.get("245")
    if field is None:
        return ""
    title = ""
    for code, value in field.subfields:
        part = _strip_punctuation(value)
        if not part:
            continue
        if code == "a":
            title = f"{title} ; {part}" if title else part
        elif code == "b":
            title = f"{title} : {part}" if title else part
        elif code in ("n", "p"):
            title = f"{title}. {part}" if title else part
    return title


def _marc21_authors(record: pymarc.Record) -> list[str]:
    names: list[str] = []
    for field in record.get_fields(*_MARC21_AUTHOR_TAGS):
        parts = field.get_subfields("a")
        if field.tag in ("110", "710"):
            # "New Zealand" alone says little: keep the subordinate units of a corporate name.
            parts += field.get_subfields("b")
        name = ". ".join(_strip_punctuation(part) for part in parts if part)
        names.append(name)
    return _unique(names)


def _marc21_language(record: pymarc.Record, fixed: str) -> str | None:
    language = _language(fixed[35:38])
    if language is None:
        # 041$a sometimes runs several codes together ("maoeng"); the first is the main one.
        language = _language((_first_subfield(record, ("041",), "a") or "")[:3])
    return language


def _marc21_published(record: pymarc.Record, fixed: str) -> str | None:
    date_type, year, month_day = fixed[6], fixed[7:11], fixed[11:15]
    if year.isdigit():
        # Type 'e' ("detailed date") is the only one whose 008/11-14 holds a month and day.
        if date_type == "e":
            return _with_month(year, month_day)
        return year
    # 264 second indicator 1 is the publication statement; the others (production,
    # distribution, copyright) are still better than nothing.
    statements = record.get_fields("264")
    publication = [field for field in statements if field.indicator2 == "1"]
    others = [field for field in statements if field.indicator2 != "1"]
    for field in [*publication, *record.get_fields("260"), *others]:
        for value in field.get_subfields("c"):
            match = _YEAR.search(value)
            if match:
                return match.group(1)
    return None


def _marc21_holdings(record: pymarc.Record) -> tuple[MarcHolding, ...]:
    holdings: list[MarcHolding] = []
    for field in record.get_fields("852"):
        call_number = " ".join(field.get_subfields("h", "i")) or field.get("j")
        holdings.append(_holding(field.get("p"), call_number, field.get("b") or field.get("a")))
    for field in record.get_fields("949"):
        holdings.append(_holding(field.get("i"), field.get("a"), field.get("l")))
    for field in record.get_fields("952"):  # Koha's MARC21 item field
        holdings.append(_holding(field.get("p"), field.get("o"), field.get("a")))
    return tuple(holding for holding in holdings if holding.barcode or holding.call_number)


# UNIMARC


def _from_unimarc(record: pymarc.Record, *, id_prefix: str) -> MarcRecord:
    leader = str(record.leader)
    general = (_first_subfield(record, ("100",), "a") or "").ljust(36)
    isbns, invalid_isbns = _isbns(record, "010")
    series = _first_subfield(record, ("225", "410"), "a")
    entry = {
        "id": _record_id(record, id_prefix=id_prefix),
        "title": _unimarc_title(record),
        "authors": _unimarc_authors(record),
        "isbns": isbns,
        "materialType": _unimarc_material_type(leader),
        "language": _language((_first_subfield(record, ("101",), "a") or "")[:3]),
        "published": _unimarc_published(record, general),
        "section": "CHILDREN" if general[17] in _UNIMARC_CHILDREN_AUDIENCES else "ADULT",
        # 660-699 are coded areas and classification numbers (676 is Dewey), not subjects.
        "subjects": _subjects(record, tags=[f"6{n:02d}" for n in range(60)]),
        "series": _strip_punctuation(series) if series else None,
        "latestIssue": False,
    }
    return MarcRecord(
        record=entry,
        invalid_isbns=invalid_isbns,
        holdings=_unimarc_holdings(record),
        classification=_classification(record, "676"),
    )


def _unimarc_material_type(leader: str) -> str:
    record_type, level = leader[6:7], leader[7:8]
    if record_type in ("a", "b"):
        return "PERIODICAL" if level == "s" else "BOOK"
    return {
        "i": "AUDIOBOOK",
        "j": "AUDIOVISUAL",
        "g": "AUDIOVISUAL",
        "l": "EBOOK",
        "m": "KIT",
    }.get(record_type, "OTHER")


def _unimarc_title(record: pymarc.Record) -> str:
    field = record.get("200")
    if field is None:
        return ""
    title = ""
    for code, value in field.subfields:
        part = _strip_punctuation(value)
        if not part:
            continue
        if code == "a":
            title = f"{title} ; {part}" if title else part
        elif code == "e":
            title = f"{title} : {part}" if title else part
        elif code in ("h", "i"):
            title = f"{title}. {part}" if title else part
    return title


def _unimarc_authors(record: pymarc.Record) -> list[str]:
    names: list[str] = []
    for field in record.get_fields(*_UNIMARC_AUTHOR_TAGS):
        surname = _clean(field.get("a", ""))
        rest = _clean(field.get("b", ""))
        if field.tag in _UNIMARC_PERSON_TAGS:
            # SBN writes $b with its leading comma (", Mariana"); UNIMARC proper does not.
            rest = _LEADING_PUNCTUATION.sub("", rest)
            name = f"{surname}, {rest}" if surname and rest else surname or rest
        else:
            name = ". ".join(part for part in (surname, rest) if part)
        names.append(_strip_punctuation(name))
    return _unique(names)


def _unimarc_published(record: pymarc.Record, general: str) -> str | None:
    date_type, year, month_day = general[8], general[9:13], general[13:17]
    if year.isdigit():
        # Type 'j' ("detailed date of publication") keeps the month and day in date 2.
        if date_type == "j":
            return _with_month(year, month_day)
        return year
    for field in record.get_fields("210", "214"):
        for value in field.get_subfields("d"):
            match = _YEAR.search(value)
            if match:
                return match.group(1)
    return None


def _unimarc_holdings(record: pymarc.Record) -> tuple[MarcHolding, ...]:
    holdings: list[MarcHolding] = []
    for field in record.get_fields("995"):  # Koha / BiblioMondo item field
        holdings.append(_holding(field.get("f"), field.get("k"), field.get("b") or field.get("c")))
    for field in record.get_fields("950", "960"):
        holdings.append(_sbn_holding(field))
    return tuple(holding for holding in holdings if holding.barcode or holding.call_number)


def _sbn_holding(field: pymarc.Field) -> MarcHolding:
    # SBN copy data: $d "CFGEN       B 35     9807" is the two-letter library code, then
    # section and shelfmark in fixed-width columns; $e "CF   006430746  ..." is the library
    # code, the inventory series and the inventory number, which labels the copy.
    shelfmark = field.get("d", "")
    inventory = field.get("e", "")
    library_code = (shelfmark.strip()[:2] or inventory.strip()[:2]) or None
    call_number = field.get("g") or _clean(shelfmark.strip()[2:]) or None
    barcode = None
    inventory_number = inventory[5:14].strip()
    if inventory.strip() and inventory_number.isdigit():
        barcode = f"{inventory[:2]}{inventory[2:5].strip()}{inventory_number}"
    return _holding(barcode, call_number, library_code)


# Shared helpers


def _record_id(record: pymarc.Record, *, id_prefix: str) -> str:
    control_number = _control(record, "001").strip()
    if control_number:
        return f"{id_prefix}{control_number}"
    # No 001: hash the fields (not the leader, whose lengths differ between ISO 2709 and XML).
    text = "\n".join(str(field) for field in record.fields)
    return f"{id_prefix}{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _isbns(record: pymarc.Record, tag: str) -> tuple[list[str], tuple[str, ...]]:
    valid: list[str] = []
    invalid: list[str] = []
    # $z is a cancelled or invalid ISBN by definition: it identifies no edition we hold.
    for value in (v for field in record.get_fields(tag) for v in field.get_subfields("a")):
        token = _ISBN_TOKEN.match(value)
        try:
            if token is None:
                raise InvalidIsbn(value, "no ISBN at the start of the field")
            valid.append(normalize_isbn(token.group(1)))
        except InvalidIsbn:
            if value.strip():
                invalid.append(value.strip())
    return _unique(valid), tuple(_unique(invalid))


def _subjects(record: pymarc.Record, *, tags: list[str]) -> list[str]:
    headings = (
        _strip_punctuation(value)
        for field in record.get_fields(*tags)
        for value in field.get_subfields("a")
    )
    return _unique(headings)[:MAX_SUBJECTS]


def _classification(record: pymarc.Record, tag: str) -> str | None:
    number = _first_subfield(record, (tag,), "a") or ""
    # Dewey numbers carry "/" and "'" as segmentation marks ("823/.914").
    return number.replace("/", "").replace("'", "").strip() or None


def _language(code: str) -> str | None:
    code = code.strip().lower()
    if code in _NO_LANGUAGE or not _LANGUAGE.match(code):
        return None
    return code


def _with_month(year: str, month_day: str) -> str:
    month, day = month_day[:2], month_day[2:4]
    if not (month.isdigit() and 1 <= int(month) <= 12):
        return year
    if day.isdigit() and 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        return f"{year}-{month}-{day}"
    return f"{year}-{month}"


def _holding(barcode: str | None, call_number: str | None, library: str | None) -> MarcHolding:
    return MarcHolding(
        barcode=_clean(barcode or "") or None,
        call_number=_clean(call_number or "") or None,
        library_code=_clean(library or "") or None,
    )


def _control(record: pymarc.Record, tag: str) -> str:
    field = record.get(tag)
    if field is None or not field.is_control_field():
        return ""
    return str(field.data or "")


def _first_subfield(record: pymarc.Record, tags: Iterable[str], code: str) -> str | None:
    for tag in tags:
        for field in record.get_fields(tag):
            for value in field.get_subfields(code):
                if value.strip():
                    return str(value)
    return None


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_NON_SORTING_MARKERS)
    return _SPACES.sub(" ", text).strip()


def _strip_punctuation(text: str) -> str:
    """Drop the ISBD punctuation that ends a subfield, and a final period unless it ends an
    initial or short abbreviation ("Smith, J." keeps it)."""
    text = _TRAILING_PUNCTUATION.sub("", _clean(text))
    if text.endswith(".") and not text.endswith("..."):
        last_word = re.split(r"[\s,(]", text[:-1])[-1]
        if len(last_word) > 2:
            text = _TRAILING_PUNCTUATION.sub("", text[:-1])
    return text


def _unique(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            unique.append(value)
    return unique
