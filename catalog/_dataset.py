"""The dataset format of the contract, validated whole before anything is written."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from auth import InvalidCardNumber, is_weak_pin, normalize_card_number
from db import DatePrecision, MaterialType, Section

from ._isbn import InvalidIsbn, normalize_isbn

__all__ = [
    "Dataset",
    "DatasetEntryError",
    "InvalidDataset",
    "ItemEntry",
    "LibraryEntry",
    "PatronEntry",
    "RecordEntry",
    "parse_dataset",
    "parse_published",
    "read_dataset",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_PUBLISHED = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

NonEmpty = Annotated[str, Field(min_length=1)]


def parse_published(text: str) -> tuple[date, DatePrecision]:
    """`YYYY`, `YYYY-MM` or `YYYY-MM-DD` as the first day of that period and its precision."""
    match = _PUBLISHED.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        if day is not None:
            return date(int(year), int(month), int(day)), DatePrecision.DAY
        if month is not None:
            return date(int(year), int(month), 1), DatePrecision.MONTH
        return date(int(year), 1, 1), DatePrecision.YEAR
    except ValueError as error:
        raise ValueError(f"{text!r} is not a real date: {error}") from error


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class LibraryEntry(_Entry):
    id: Annotated[str, Field(min_length=1, max_length=32)]
    name: NonEmpty
    address: str | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    phone: str | None = None
    email: str | None = None
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[tuple[str, str]]] = (
        Field(default_factory=dict)
    )
    closures: list[date] = Field(default_factory=list)

    @field_validator("hours")
    @classmethod
    def _periods(cls, hours: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        for weekday, periods in hours.items():
            for opens, closes in periods:
                for moment in (opens, closes):
                    if not _HH_MM.match(moment):
                        raise ValueError(f"{weekday}: {moment!r} is not a time HH:MM")
                if opens >= closes:
                    raise ValueError(f"{weekday}: {opens}-{closes} closes before it opens")
        return hours

    @model_validator(mode="after")
    def _whole_location(self) -> LibraryEntry:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon are given together or not at all")
        return self

    def opening_periods(self) -> Iterable[tuple[int, time, time]]:
        """(weekday with Monday 0, opens, closes) for every opening period."""
        for weekday, periods in self.hours.items():
            for opens, closes in periods:
                yield WEEKDAYS.index(weekday), time.fromisoformat(opens), time.fromisoformat(closes)


class RecordEntry(_Entry):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    title: NonEmpty
    authors: list[NonEmpty] = Field(default_factory=list)
    isbns: list[str] = Field(default_factory=list)
    materialType: MaterialType = MaterialType.BOOK
    language: Annotated[str, Field(pattern=r"^[a-z]{3}$")] | None = None
    published: str | None = None
    section: Section = Section.ADULT
    subjects: list[NonEmpty] = Field(default_factory=list)
    series: str | None = None
    latestIssue: bool = False

    @field_validator("isbns")
    @classmethod
    def _isbns(cls, isbns: list[str]) -> list[str]:
        normalized: list[str] = []
        for code in isbns:
            try:
                isbn13 = normalize_isbn(code)
            except InvalidIsbn as error:
                raise ValueError(f"invalid ISBN {code!r}: {error.reason}") from error
            if isbn13 not in normalized:
                normalized.append(isbn13)
        return normalized

    @field_validator("published")
    @classmethod
    def _published(cls, published: str | None) -> str | None:
        if published is not None:
            parse_published(published)
        return published


class ItemEntry(_Entry):
    barcode: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
    recordId: NonEmpty
    libraryId: NonEmpty
    callNumber: Annotated[str, Field(max_length=100)] | None = None
    loanable: bool = True


class PatronEntry(_Entry):
    cardNumber: NonEmpty
    pin: Annotated[str, Field(pattern=r"^\d{4,12}$")]
    name: NonEmpty
    birthDate: date | None = None
    homeLibraryId: NonEmpty
    category: Annotated[str, Field(min_length=1, max_length=32)] = "ADULT"
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: str | None = None
    preferredPickupLibraryId: str | None = None
    registrationExpires: date | None = None
    role: Literal["patron", "staff"] = "patron"

    @field_validator("cardNumber")
    @classmethod
    def _card_number(cls, card_number: str) -> str:
        try:
            return normalize_card_number(card_number)
        except InvalidCardNumber as error:
            raise ValueError(str(error)) from error

    @field_validator("phone")
    @classmethod
    def _phone(cls, phone: str | None) -> str | None:
        if phone is None:
            return None
        try:
            number = phonenumbers.parse(phone, "IT")
        except phonenumbers.NumberParseException as error:
            raise ValueError(f"{phone!r} is not a phone number") from error
        if not phonenumbers.is_valid_number(number):
            raise ValueError(f"{phone!r} is not a valid phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    @model_validator(mode="after")
    def _strong_pin(self) -> PatronEntry:
        if is_weak_pin(self.pin, card_number=self.cardNumber):
            raise ValueError("pin is too easy to guess (all one digit, or the card's last digits)")
        return self


@dataclass(frozen=True)
class DatasetEntryError:
    """One problem: where it is (`items[3] barcode 'X'`), the field, and what is wrong."""

    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.entry}: {self.field}: {self.message}"


class InvalidDataset(ValueError):
    """The dataset was refused; nothing was loaded. `errors` lists every problem found."""

    def __init__(self, errors: list[DatasetEntryError]) -> None:
        shown = "\n".join(f"  {error}" for error in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"invalid dataset ({len(errors)} problems):\n{shown}{more}")
        self.errors = errors


@dataclass(frozen=True)
class Dataset:
    libraries: tuple[LibraryEntry, ...]
    records: tuple[RecordEntry, ...]
    items: tuple[ItemEntry, ...]
    patrons: tuple[PatronEntry, ...]


_SECTIONS: dict[str, tuple[type[_Entry], str]] = {
    "libraries": (LibraryEntry, "id"),
    "records": (RecordEntry, "id"),
    "items": (ItemEntry, "barcode"),
    "patrons": (PatronEntry, "cardNumber"),
}


def _describe(section: str, index: int, raw: Any, key: str) -> str:
    name = raw.get(key) if isinstance(raw, dict) else None
    return f"{section}[{index}] ({key} {name!r})" if name is not None else f"{section}[{index}]"


def parse_dataset(document: Any) -> Dataset:
    """Validate a decoded dataset document; raise InvalidDataset naming every bad entry."""
    errors: list[DatasetEntryError] = []
    if not isinstance(document, dict):
        raise InvalidDataset([DatasetEntryError("dataset", "(top)", "must be a JSON object")])
    unknown = sorted(set(document) - set(_SECTIONS))
    errors.extend(DatasetEntryError("dataset", section, "unknown section") for section in unknown)
    parsed: dict[str, list[Any]] = {section: [] for section in _SECTIONS}
    # Every id a file declares, valid entry or not: a reference to an entry that is itself
    # refused is not a second problem.
    declared: dict[str, set[Any]] = {section: set() for section in _SECTIONS}
    for section, (model, key) in _SECTIONS.items():
        raw_entries = document.get(section, [])
        if not isinstance(raw_entries, list):
            errors.append(DatasetEntryError("dataset", section, "must be a list"))
            continue
        seen: set[str] = set()
        for index, raw in enumerate(raw_entries):
            where = _describe(section, index, raw, key)
            if isinstance(raw, dict):
                declared[section].add(raw.get(key))
            try:
                entry = model.model_validate(raw)
            except ValidationError as error:
                for problem in error.errors():
                    field = ".".join(str(part) for part in problem["loc"]) or "(entry)"
                    message = problem["msg"].removeprefix("Value error, ")
                    errors.append(DatasetEntryError(where, field, message))
                continue
            identity = getattr(entry, key)
            if identity in seen:
                errors.append(DatasetEntryError(where, key, f"duplicate {key} {identity!r}"))
                continue
            seen.add(identity)
            parsed[section].append(entry)

    library_ids = declared["libraries"]
    record_ids = declared["records"]
    for index, item in enumerate(parsed["items"]):
        where = f"items[{index}] (barcode {item.barcode!r})"
        if item.recordId not in record_ids:
            errors.append(DatasetEntryError(where, "recordId", f"unknown record {item.recordId!r}"))
        if item.libraryId not in library_ids:
            errors.append(
                DatasetEntryError(where, "libraryId", f"unknown library {item.libraryId!r}")
            )
    for index, patron in enumerate(parsed["patrons"]):
        where = f"patrons[{index}] (cardNumber {patron.cardNumber!r})"
        for field in ("homeLibraryId", "preferredPickupLibraryId"):
            library_id = getattr(patron, field)
            if library_id is not None and library_id not in library_ids:
                errors.append(DatasetEntryError(where, field, f"unknown library {library_id!r}"))
    if errors:
        raise InvalidDataset(errors)
    return Dataset(
        libraries=tuple(parsed["libraries"]),
        records=tuple(parsed["records"]),
        items=tuple(parsed["items"]),
        patrons=tuple(parsed["patrons"]),
    )


def read_dataset(path: Path) -> Dataset:
    """Read and validate a dataset file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidDataset([DatasetEntryError(str(path), "(file)", str(error))]) from error
    except json.JSONDecodeError as error:
        raise InvalidDataset(
            [DatasetEntryError(str(path), f"line {error.lineno}", f"not JSON: {error.msg}")]
        ) from error
    return parse_dataset(document)
