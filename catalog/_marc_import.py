"""Importing a MARC file (MARC21 or UNIMARC, ISO 2709 or MARCXML) into one library's catalogue.

Every record is mapped by `catalog._marc` and written by `load_dataset`, so an import follows
the same rules as a dataset load: new records are inserted, changed ones updated, and the
search index hears of both through the outbox. A record that cannot be used is left out with a
reason; only a missing library or a file that is not MARC at all stops the import.
"""

from __future__ import annotations

import xml.sax
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pymarc
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from db import Library

from ._dataset import Dataset, ItemEntry, RecordEntry
from ._loader import SectionCounts, load_dataset
from ._marc import MarcHolding, MarcRecord, detect_format, read_marc_bytes, record_from_marc

__all__ = [
    "ImportProgress",
    "InvalidIsbnValue",
    "MarcImportReport",
    "SkipLog",
    "UnknownLibrary",
    "UnreadableMarcFile",
    "import_marc",
]

MAX_EXAMPLES_PER_REASON = 3
RECORD_TERMINATOR = b"\x1d"

# Why a record or a holding was left out: the keys of `SkipLog.counts`.
UNREADABLE_RECORD = "unreadable record"
UNMAPPABLE_RECORD = "record could not be mapped"
NO_TITLE = "no title"
INVALID_RECORD = "invalid record"
DUPLICATE_RECORD_ID = "duplicate record id in the file"
NO_BARCODE = "holding without a barcode"
DUPLICATE_BARCODE = "duplicate barcode in the file"
INVALID_HOLDING = "invalid holding"

ImportProgress = Callable[[int, int], None]
"""Called with (records mapped, records in the file) after each record, e.g. to move a progress
bar; the database write follows the last call."""


class UnknownLibrary(ValueError):
    """The library to import into is not in the database; nothing was written."""

    def __init__(self, library_id: str) -> None:
        super().__init__(
            f"library {library_id!r} does not exist: load it first with `tessera load`"
        )
        self.library_id = library_id


class UnreadableMarcFile(ValueError):
    """The file cannot be opened, or holds no MARC record at all; nothing was written."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot import {path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class SkipLog:
    """What an import left out: how many for each reason, and the first few examples of each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.counts.total()

    def add(self, reason: str, example: str) -> None:
        self.counts[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < MAX_EXAMPLES_PER_REASON:
            shown.append(example)


@dataclass(frozen=True, slots=True)
class InvalidIsbnValue:
    """An ISBN field value that failed validation, kept out of its record."""

    record_id: str
    value: str


@dataclass
class MarcImportReport:
    """The outcome of one import; `records` and `items` are the loader's counts."""

    library_id: str
    records_read: int = 0
    """Every record in the file, the unreadable ones included."""
    records: SectionCounts = field(default_factory=SectionCounts)
    items: SectionCounts = field(default_factory=SectionCounts)
    isbns: int = 0
    """Valid ISBNs stored with the imported records."""
    records_with_isbn: int = 0
    invalid_isbns: list[InvalidIsbnValue] = field(default_factory=list)
    skipped_records: SkipLog = field(default_factory=SkipLog)
    skipped_holdings: SkipLog = field(default_factory=SkipLog)

    @property
    def records_imported(self) -> int:
        return self.records.created + self.records.updated + self.records.unchanged


async def import_marc(
    session: AsyncSession,
    path: Path,
    *,
    library_id: str,
    now: datetime,
    progress: ImportProgress | None = None,
) -> MarcImportReport:
    """Import the records of a MARC file, and the copies in their holdings, into `library_id`.

    Writes in the caller's transaction; importing the same file again changes nothing. Raises
    UnknownLibrary or UnreadableMarcFile before anything is written.
    """
    if await session.get(Library, library_id) is None:
        raise UnknownLibrary(library_id)
    file_records = _read(path)
    report = MarcImportReport(library_id=library_id, records_read=len(file_records))
    builder = _DatasetBuilder(report=report, library_id=library_id)
    for position, file_record in enumerate(file_records, start=1):
        builder.add(file_record, position=position)
        if progress is not None:
            progress(position, len(file_records))
    load_report = await load_dataset(session, builder.dataset(), now=now)
    report.records = load_report.records
    report.items = load_report.items
    return report


class _DatasetBuilder:
    """Turns MARC records into dataset entries, noting in the report what it leaves out."""

    def __init__(self, *, report: MarcImportReport, library_id: str) -> None:
        self.report = report
        self.library_id = library_id
        self.record_entries: list[RecordEntry] = []
        self.item_entries: list[ItemEntry] = []
        # Where each id and barcode first appeared: the loader expects each of them once.
        self.positions_by_record_id: dict[str, int] = {}
        self.record_ids_by_barcode: dict[str, str] = {}
        self.last_record_id = "the start of the file"

    def dataset(self) -> Dataset:
        return Dataset(
            libraries=(),
            records=tuple(self.record_entries),
            items=tuple(self.item_entries),
            patrons=(),
        )

    def add(self, file_record: _FileRecord, *, position: int) -> None:
        skipped = self.report.skipped_records
        marc_record = file_record.marc_record
        if marc_record is None:
            # pymarc says no more than None: say where the record is, for a cataloguer to look.
            at_byte = (
                "" if file_record.byte_offset is None else f" at byte {file_record.byte_offset}"
            )
            skipped.add(UNREADABLE_RECORD, f"#{position}{at_byte}, after {self.last_record_id}")
            return
        try:
            id_prefix = _id_prefix(marc_record, self.library_id)
            mapped = record_from_marc(marc_record, id_prefix=id_prefix)
        except Exception as error:  # one malformed record must not stop the others
            skipped.add(UNMAPPABLE_RECORD, f"#{position}: {error!r}")
            return
        record_id = str(mapped.record["id"])
        self.last_record_id = record_id
        where = f"#{position} {record_id}"
        if not mapped.record["title"]:
            skipped.add(NO_TITLE, where)
            return
        if record_id in self.positions_by_record_id:
            first = self.positions_by_record_id[record_id]
            skipped.add(DUPLICATE_RECORD_ID, f"{where} (first at #{first})")
            return
        try:
            record_entry = RecordEntry.model_validate(mapped.record)
        except ValidationError as error:
            skipped.add(INVALID_RECORD, f"{where}: {_problems(error)}")
            return
        self.positions_by_record_id[record_id] = position
        self.record_entries.append(record_entry)
        self.report.isbns += len(record_entry.isbns)
        self.report.records_with_isbn += bool(record_entry.isbns)
        self.report.invalid_isbns.extend(
            InvalidIsbnValue(record_id=record_id, value=value) for value in mapped.invalid_isbns
        )
        for holding in mapped.holdings:
            self._add_holding(holding, mapped)

    def _add_holding(self, holding: MarcHolding, mapped: MarcRecord) -> None:
        skipped = self.report.skipped_holdings
        record_id = str(mapped.record["id"])
        if holding.barcode is None:
            # A copy is known by its barcode at the desk; without one it cannot circulate.
            skipped.add(NO_BARCODE, f"{record_id} call number {holding.call_number!r}")
            return
        if holding.barcode in self.record_ids_by_barcode:
            first = self.record_ids_by_barcode[holding.barcode]
            skipped.add(DUPLICATE_BARCODE, f"{holding.barcode} in {record_id} (first in {first})")
            return
        try:
            item_entry = ItemEntry(
                barcode=holding.barcode,
                recordId=record_id,
                libraryId=self.library_id,
                # The Dewey number shelves the copy when the holding has no shelfmark of its own.
                callNumber=holding.call_number or mapped.classification,
            )
        except ValidationError as error:
            skipped.add(
                INVALID_HOLDING, f"{record_id} barcode {holding.barcode!r}: {_problems(error)}"
            )
            return
        self.record_ids_by_barcode[holding.barcode] = record_id
        self.item_entries.append(item_entry)


@dataclass(frozen=True, slots=True)
class _FileRecord:
    """One record of the file as pymarc read it (None: unreadable), and where it starts."""

    marc_record: pymarc.Record | None
    byte_offset: int | None
    """In an ISO 2709 file; None in MARCXML, which is parsed as a whole."""


def _read(path: Path) -> list[_FileRecord]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableMarcFile(path, error.strerror or str(error)) from error
    if RECORD_TERMINATOR in data:
        file_records = _read_iso2709(data)
    else:
        # No record terminator: MARCXML (XML cannot contain the character), or not MARC at all.
        try:
            file_records = [_FileRecord(record, None) for record in read_marc_bytes(data)]
        except xml.sax.SAXException as error:
            raise UnreadableMarcFile(path, f"not well-formed MARCXML: {error}") from error
    if not any(file_record.marc_record is not None for file_record in file_records):
        raise UnreadableMarcFile(path, "no MARC record could be read from it")
    return file_records


def _read_iso2709(data: bytes) -> list[_FileRecord]:
    """Read each record on its own, cut at its terminator.

    pymarc stops at the first record whose length or terminator is wrong, and the rest of the
    file would be lost without a word; the terminator, unlike the length, is never part of the
    data, so cutting there keeps one damaged record from taking its successors with it.
    """
    file_records: list[_FileRecord] = []
    start = 0
    while start < len(data):
        end = data.find(RECORD_TERMINATOR, start)
        end = len(data) if end == -1 else end + 1
        chunk = data[start:end]
        # The newline some exports put after each terminator (see read_marc_bytes).
        content = chunk.lstrip(b"\r\n")
        if content:
            results = list(read_marc_bytes(content))
            marc_record = results[0] if len(results) == 1 else None
            file_records.append(_FileRecord(marc_record, start + len(chunk) - len(content)))
        start = end
    return file_records


def _id_prefix(marc_record: pymarc.Record, library_id: str) -> str:
    """`marc21-PAV01-` or `unimarc-PAV01-`, put before the record's control number (001).

    The loader matches records by id, so the id must be the same every time the same record
    comes in: it is built from the 001 (or, without one, a hash of the fields), the flavour and
    the library, and from nothing that changes between exports (file name, position, date,
    ISO 2709 or MARCXML). The library is part of it because a 001 is a number the library's own
    system gave and is unique only there; the flavour, because MARC21 and UNIMARC sources
    number their records in unrelated schemes (local numbers, SBN BIDs).
    """
    return f"{detect_format(marc_record)}-{library_id}-"


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or '(entry)'}: "
        + problem["msg"].removeprefix("Value error, ")
        for problem in error.errors()
    )
