"""Importing MARC files into a library: the real NLNZ and BNCF samples, damage, and the command."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pymarc
import pytest
from pymarc import Field, Indicators, Subfield
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import (
    RECORD_CHANGED,
    ImportProgress,
    InvalidIsbnValue,
    MarcImportReport,
    SectionCounts,
    UnknownLibrary,
    UnreadableMarcFile,
    import_marc,
    load_dataset,
    parse_dataset,
)
from catalog import _marc_import as marc_import
from catalog._marc import MarcRecord, read_marc_file, record_from_marc
from catalog._marc_import import (
    DUPLICATE_BARCODE,
    DUPLICATE_RECORD_ID,
    INVALID_HOLDING,
    INVALID_RECORD,
    NO_BARCODE,
    NO_TITLE,
    UNMAPPABLE_RECORD,
    UNREADABLE_RECORD,
)
from db import Base, Item, OutboxEvent, Record, RecordIsbn, transaction
from tests.factories import NOW, dataset_document

Sessions = async_sessionmaker[AsyncSession]

REPO = Path(__file__).resolve().parents[2]
LIBRARY = "PAV01"
NLNZ = "nlnz_pubsnz_1001.mrc"
BNCF = "bncf_sbn_unimarc_5.mrc"
BNCF_IDS = ["CFI0893220", "CFI0899224", "SGE0046714", "MIL0907385", "CFI0012299"]


@pytest.fixture
def marc_dir(shared_data: Path) -> Path:
    return shared_data / "marc"


@pytest.fixture
async def library(sessions: Sessions) -> str:
    document = {"libraries": [{"id": LIBRARY, "name": "Biblioteca delle Scienze"}]}
    async with transaction(sessions) as session:
        await load_dataset(session, parse_dataset(document), now=NOW)
    return LIBRARY


async def _import(
    sessions: Sessions,
    path: Path,
    *,
    library_id: str = LIBRARY,
    progress: ImportProgress | None = None,
) -> MarcImportReport:
    async with transaction(sessions) as session:
        return await import_marc(session, path, library_id=library_id, now=NOW, progress=progress)


async def _snapshot(sessions: Sessions) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare a database before and after."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return snapshot


async def _record_ids(sessions: Sessions) -> set[str]:
    async with sessions() as session:
        return set(await session.scalars(select(Record.id)))


async def _count(sessions: Sessions, model: type[Base]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _record_changed_events(sessions: Sessions) -> int:
    async with sessions() as session:
        query = select(func.count()).where(OutboxEvent.event_type == RECORD_CHANGED)
        return int(await session.scalar(query) or 0)


def _record_offsets(data: bytes) -> list[int]:
    """Where each record of a sound ISO 2709 file starts, from the lengths in the leaders."""
    offsets = [0]
    while offsets[-1] + int(data[offsets[-1] : offsets[-1] + 5]) < len(data):
        offsets.append(offsets[-1] + int(data[offsets[-1] : offsets[-1] + 5]))
    return offsets


def _marc21(control_number: str, *fields: Field, title: str | None = "A title") -> pymarc.Record:
    """A small MARC21 book record with the given 001, 245$a (unless None) and fields."""
    title_fields = [] if title is None else [_datafield("245", ("a", title))]
    return pymarc.Record(
        leader="00000nam a2200000 a 4500",
        fields=[
            Field(tag="001", data=control_number),
            Field(tag="008", data="200101s1992    nz            000 0 eng d"),
            *title_fields,
            *fields,
        ],
    )


def _datafield(tag: str, *subfields: tuple[str, str]) -> Field:
    return Field(
        tag=tag,
        indicators=Indicators(" ", " "),
        subfields=[Subfield(code, value) for code, value in subfields],
    )


# The real samples


async def test_nlnz_imports_every_record_with_its_isbns(
    sessions: Sessions, library: str, marc_dir: Path
) -> None:
    expected = [
        record_from_marc(record, id_prefix=f"marc21-{library}-")
        for record in read_marc_file(marc_dir / NLNZ)
        if record is not None
    ]

    report = await _import(sessions, marc_dir / NLNZ)

    assert report.records_read == 1001
    assert report.records == SectionCounts(created=1001)
    assert report.records_imported == 1001
    assert report.items == SectionCounts()  # the NLNZ extract has no holdings fields
    assert (report.isbns, report.records_with_isbn) == (315, 274)
    assert report.isbns == sum(len(mapped.record["isbns"]) for mapped in expected)
    assert report.invalid_isbns == [
        InvalidIsbnValue(f"marc21-{library}-9914219643502836", "97804783666846 (spiral binding)"),
        InvalidIsbnValue(f"marc21-{library}-9912598673502836", "1877182686 (pbk.) :"),
    ]
    assert (report.skipped_records.total, report.skipped_holdings.total) == (0, 0)

    assert await _record_ids(sessions) == {mapped.record["id"] for mapped in expected}
    assert await _count(sessions, RecordIsbn) == 315
    assert await _count(sessions, Item) == 0
    assert await _record_changed_events(sessions) == 1001
    async with sessions() as session:
        isbns = await session.scalars(
            select(RecordIsbn.isbn13).where(
                RecordIsbn.record_id == f"marc21-{library}-99627923502836"
            )
        )
        assert list(isbns) == ["9780908812080"]  # 020$a "0908812086 (pbk.) :"


async def test_bncf_imports_its_five_records_and_the_copies_with_a_barcode(
    sessions: Sessions, library: str, marc_dir: Path
) -> None:
    report = await _import(sessions, marc_dir / BNCF)

    assert report.records_read == 5
    assert report.records == SectionCounts(created=5)
    assert (report.isbns, report.records_with_isbn, report.invalid_isbns) == (5, 5, [])
    assert report.items == SectionCounts(created=6)
    # The fifth record lists 31 more copies in other SBN libraries, by shelfmark only.
    assert report.skipped_holdings.counts == {NO_BARCODE: 31}
    assert report.skipped_records.total == 0

    assert await _record_ids(sessions) == {f"unimarc-{library}-{bid}" for bid in BNCF_IDS}
    async with sessions() as session:
        title = await session.scalar(
            select(Record.title).where(Record.id == f"unimarc-{library}-CFI0893220")
        )
        items = (
            await session.execute(
                select(Item.barcode, Item.record_id, Item.library_id, Item.call_number).order_by(
                    Item.barcode
                )
            )
        ).all()
    assert title == "Lo Stato innovatore : sfatare il mito del pubblico contro il privato"
    assert [tuple(item) for item in items] == [
        # No shelfmark in the holding: the record's Dewey number (676$a) stands in.
        ("CF005925138", f"unimarc-{library}-CFI0012299", library, "945"),
        ("CF006430746", f"unimarc-{library}-CFI0893220", library, "GEN B35 09807"),
        ("CF006455600", f"unimarc-{library}-CFI0899224", library, "GEN B36 08490"),
        ("CF006485669", f"unimarc-{library}-CFI0893220", library, "GEN B37 09798"),
        ("CF006591747", f"unimarc-{library}-MIL0907385", library, "GEN B41 02194"),
        ("CF006662861", f"unimarc-{library}-SGE0046714", library, "GEN B43 04931"),
    ]


@pytest.mark.parametrize(("file_name", "records", "items"), [(NLNZ, 1001, 0), (BNCF, 5, 6)])
async def test_importing_the_same_file_twice_changes_nothing(
    sessions: Sessions, library: str, marc_dir: Path, file_name: str, records: int, items: int
) -> None:
    await _import(sessions, marc_dir / file_name)
    before = await _snapshot(sessions)

    report = await _import(sessions, marc_dir / file_name)

    assert report.records == SectionCounts(unchanged=records)
    assert report.items == SectionCounts(unchanged=items)
    assert await _snapshot(sessions) == before  # no new outbox event either


async def test_marcxml_gives_the_same_records_as_iso2709(
    sessions: Sessions, library: str, marc_dir: Path, tmp_path: Path
) -> None:
    first_records = [record for record in read_marc_file(marc_dir / NLNZ) if record][:25]
    xml_file = tmp_path / "nlnz_25.xml"
    writer = pymarc.XMLWriter(xml_file.open("wb"))
    for record in first_records:
        writer.write(record)
    writer.close()

    from_xml = await _import(sessions, xml_file)
    from_binary = await _import(sessions, marc_dir / NLNZ)

    assert from_xml.records == SectionCounts(created=25)
    assert from_xml.isbns > 0
    # The binary file finds the 25 records as the XML left them: same ids, same content.
    assert from_binary.records == SectionCounts(created=1001 - 25, unchanged=25)
    assert await _record_changed_events(sessions) == 1001


# What is left out, and why


@pytest.mark.parametrize(
    ("leader_position", "damage"),
    [
        pytest.param(0, b"abcde", id="record length"),  # pymarc alone would stop here
        pytest.param(12, b"ab", id="base address"),
    ],
)
async def test_a_damaged_record_is_skipped_and_the_others_imported(
    sessions: Sessions,
    library: str,
    marc_dir: Path,
    tmp_path: Path,
    leader_position: int,
    damage: bytes,
) -> None:
    data = bytearray((marc_dir / NLNZ).read_bytes())
    damaged_offset = _record_offsets(bytes(data))[500]
    start = damaged_offset + leader_position
    data[start : start + len(damage)] = damage
    damaged_file = tmp_path / "damaged.mrc"
    damaged_file.write_bytes(bytes(data))
    control_numbers = [str(r["001"].data) for r in read_marc_file(marc_dir / NLNZ) if r]

    report = await _import(sessions, damaged_file)

    assert report.records_read == 1001
    assert report.records == SectionCounts(created=1000)
    assert report.skipped_records.counts == {UNREADABLE_RECORD: 1}
    assert report.skipped_records.examples[UNREADABLE_RECORD] == [
        f"#501 at byte {damaged_offset}, after marc21-{library}-{control_numbers[499]}"
    ]
    record_ids = await _record_ids(sessions)
    assert f"marc21-{library}-{control_numbers[500]}" not in record_ids
    assert f"marc21-{library}-{control_numbers[1000]}" in record_ids


async def test_records_and_holdings_that_cannot_be_used_are_skipped_with_a_reason(
    sessions: Sessions, library: str, tmp_path: Path
) -> None:
    records = [
        _marc21(
            "1",
            _datafield("852", ("p", "B1"), ("h", "823 SMI")),
            _datafield("852", ("h", "STORE 12")),  # a shelfmark, no barcode
        ),
        _marc21("2", _datafield("852", ("p", "B1")), _datafield("852", ("p", "B 2"))),
        _marc21("3", title=None),
        _marc21("1", title="The first record again"),
        _marc21("9" * 70),  # an id longer than the catalogue keeps
    ]
    marc_file = tmp_path / "mixed.mrc"
    marc_file.write_bytes(b"".join(record.as_marc() for record in records))

    report = await _import(sessions, marc_file)

    assert report.records_read == 5
    assert report.records == SectionCounts(created=2)
    assert report.skipped_records.counts == {
        NO_TITLE: 1,
        DUPLICATE_RECORD_ID: 1,
        INVALID_RECORD: 1,
    }
    examples = report.skipped_records.examples
    assert examples[NO_TITLE] == [f"#3 marc21-{library}-3"]
    assert examples[DUPLICATE_RECORD_ID] == [f"#4 marc21-{library}-1 (first at #1)"]
    assert "id: String should have at most 64 characters" in examples[INVALID_RECORD][0]
    assert report.items == SectionCounts(created=1)
    assert report.skipped_holdings.counts == {
        NO_BARCODE: 1,
        DUPLICATE_BARCODE: 1,
        INVALID_HOLDING: 1,
    }
    assert report.skipped_holdings.examples[DUPLICATE_BARCODE] == [
        f"B1 in marc21-{library}-2 (first in marc21-{library}-1)"
    ]
    assert await _record_ids(sessions) == {f"marc21-{library}-1", f"marc21-{library}-2"}


async def test_a_record_the_mapping_fails_on_is_skipped(
    sessions: Sessions, library: str, marc_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_on_the_third(record: pymarc.Record, *, id_prefix: str) -> MarcRecord:
        if str(record["001"].data) == BNCF_IDS[2]:
            raise KeyError("200")
        return record_from_marc(record, id_prefix=id_prefix)

    monkeypatch.setattr(marc_import, "record_from_marc", failing_on_the_third)

    report = await _import(sessions, marc_dir / BNCF)

    assert report.records == SectionCounts(created=4)
    assert report.skipped_records.counts == {UNMAPPABLE_RECORD: 1}
    assert report.skipped_records.examples[UNMAPPABLE_RECORD] == ["#3: KeyError('200')"]


async def test_an_unknown_library_imports_nothing(sessions: Sessions, marc_dir: Path) -> None:
    with pytest.raises(UnknownLibrary, match="'NOWHERE' does not exist") as raised:
        await _import(sessions, marc_dir / BNCF, library_id="NOWHERE")

    assert isinstance(raised.value, ValueError)
    assert raised.value.library_id == "NOWHERE"
    for model in (Record, Item, OutboxEvent):
        assert await _count(sessions, model) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "No such file or directory", id="missing"),
        pytest.param(b'{"libraries": []}\n', "no MARC record could be read", id="JSON"),
        pytest.param(b"<?xml version='1.0'?><collection><record>", "not well-formed", id="XML"),
        pytest.param(b"", "no MARC record could be read", id="empty"),
    ],
)
async def test_a_file_without_marc_records_is_refused(
    sessions: Sessions, library: str, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "catalogue.mrc"
    if content is not None:
        path.write_bytes(content)
    before = await _snapshot(sessions)

    with pytest.raises(UnreadableMarcFile, match=message):
        await _import(sessions, path)

    assert await _snapshot(sessions) == before


async def test_progress_is_told_after_every_record(
    sessions: Sessions, library: str, marc_dir: Path
) -> None:
    calls: list[tuple[int, int]] = []

    await _import(
        sessions, marc_dir / BNCF, progress=lambda done, total: calls.append((done, total))
    )

    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


# The command


def _tessera(tmp_path: Path, database: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")
    }
    environment["TESSERA_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    environment["TESSERA_VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *arguments],
        env=environment,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _count_rows(database: Path, table: str) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_the_import_marc_command_reports_and_refuses_what_it_cannot_import(
    tmp_path: Path, shared_data: Path
) -> None:
    database = tmp_path / "tessera.db"
    dataset = tmp_path / "dataset.json"
    dataset.write_text(json.dumps(dataset_document()), encoding="utf-8")
    bncf = str(shared_data / "marc" / BNCF)
    assert _tessera(tmp_path, database, "load", str(dataset)).returncode == 0

    first = _tessera(tmp_path, database, "import-marc", bncf, "--library", "PAV01")
    again = _tessera(tmp_path, database, "import-marc", bncf, "--library", "PAV01")

    assert first.returncode == 0, first.stderr
    assert "records read: 5\n" in first.stdout
    assert "records: 5 new, 0 updated, 0 unchanged\n" in first.stdout
    assert "items: 6 new, 0 updated, 0 unchanged\n" in first.stdout
    assert "ISBNs: 5 in 5 records, 0 invalid" in first.stdout
    assert "holding without a barcode: 31" in first.stdout
    assert again.returncode == 0, again.stderr
    assert "records: 0 new, 0 updated, 5 unchanged\n" in again.stdout
    assert "items: 0 new, 0 updated, 6 unchanged\n" in again.stdout
    records, outbox = _count_rows(database, "records"), _count_rows(database, "outbox")
    assert records == 2 + 5

    nowhere = _tessera(tmp_path, database, "import-marc", bncf, "--library", "NOWHERE")
    not_marc = _tessera(tmp_path, database, "import-marc", str(dataset), "--library", "PAV01")

    assert nowhere.returncode != 0
    assert "library 'NOWHERE' does not exist" in nowhere.stderr
    assert not_marc.returncode != 0
    assert "no MARC record could be read" in not_marc.stderr
    assert (_count_rows(database, "records"), _count_rows(database, "outbox")) == (
        records,
        outbox,
    )

    fresh_database = tmp_path / "fresh.db"
    missing = _tessera(
        tmp_path, fresh_database, "import-marc", str(tmp_path / "nope.mrc"), "--library", "PAV01"
    )

    assert missing.returncode != 0
    assert "No such file or directory" in missing.stderr
    assert not fresh_database.exists()
