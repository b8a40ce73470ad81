"""The dataset format: a bad file is refused whole, with the entry and the field named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from catalog import InvalidDataset, parse_dataset, read_dataset
from tests.factories import dataset_document

Change = Callable[[dict[str, Any]], None]


def _set(section: str, index: int, field: str, value: Any) -> Change:
    def change(document: dict[str, Any]) -> None:
        document[section][index][field] = value

    return change


def _duplicate_barcode(document: dict[str, Any]) -> None:
    document["items"][2]["barcode"] = document["items"][0]["barcode"]


BAD_FILES: dict[str, tuple[Change, str, str, str]] = {
    # case: (change, entry named, field named, words in the message)
    "unknown library id": (
        _set("items", 1, "libraryId", "NOWHERE"),
        "items[1] (barcode 'PAV02-000001')",
        "libraryId",
        "unknown library 'NOWHERE'",
    ),
    "unknown home library": (
        _set("patrons", 0, "homeLibraryId", "XX"),
        "patrons[0] (cardNumber 'C0001')",
        "homeLibraryId",
        "unknown library 'XX'",
    ),
    "unknown record": (
        _set("items", 0, "recordId", "r99"),
        "items[0] (barcode 'PAV01-000001')",
        "recordId",
        "unknown record 'r99'",
    ),
    "duplicate barcode": (
        _duplicate_barcode,
        "items[2] (barcode 'PAV01-000001')",
        "barcode",
        "duplicate barcode",
    ),
    "invalid isbn": (
        _set("records", 0, "isbns", ["978-88-04-66769-9"]),
        "records[0] (id 'r1')",
        "isbns",
        "check digit",
    ),
    "invalid codice fiscale": (
        _set("patrons", 1, "cardNumber", "RSSMRA85T10A562T"),
        "patrons[1] (cardNumber 'RSSMRA85T10A562T')",
        "cardNumber",
        "not a valid codice fiscale",
    ),
    "bad birth date": (
        _set("patrons", 0, "birthDate", "1990-02-30"),
        "patrons[0] (cardNumber 'C0001')",
        "birthDate",
        "date",
    ),
    "bad closure date": (
        _set("libraries", 0, "closures", ["2026-13-01"]),
        "libraries[0] (id 'PAV01')",
        "closures.0",
        "date",
    ),
    "bad published date": (
        _set("records", 1, "published", "2025-02-30"),
        "records[1] (id 'r2')",
        "published",
        "not a real date",
    ),
    "published in no known form": (
        _set("records", 1, "published", "circa 1990"),
        "records[1] (id 'r2')",
        "published",
        "YYYY, YYYY-MM or YYYY-MM-DD",
    ),
    "unknown material type": (
        _set("records", 0, "materialType", "SCROLL"),
        "records[0] (id 'r1')",
        "materialType",
        "BOOK",
    ),
    "opening hours backwards": (
        _set("libraries", 1, "hours", {"tue": [["18:00", "09:00"]]}),
        "libraries[1] (id 'PAV02')",
        "hours",
        "closes before it opens",
    ),
    "weak pin": (
        _set("patrons", 0, "pin", "0001"),
        "patrons[0] (cardNumber 'C0001')",
        "(entry)",
        "too easy",
    ),
    "invalid phone": (
        _set("patrons", 0, "phone", "+39 12"),
        "patrons[0] (cardNumber 'C0001')",
        "phone",
        "not a valid phone number",
    ),
    "unknown field": (
        _set("items", 0, "colour", "red"),
        "items[0] (barcode 'PAV01-000001')",
        "colour",
        "Extra inputs",
    ),
}


def test_a_good_dataset_is_parsed_and_normalised() -> None:
    dataset = parse_dataset(dataset_document())

    assert [library.id for library in dataset.libraries] == ["PAV01", "PAV02"]
    assert dataset.records[0].isbns == ["9788804667698"]
    assert dataset.records[1].isbns == ["9788807818738"]  # ISBN-10 made ISBN-13
    assert dataset.patrons[0].phone == "+393331234567"
    assert dataset.patrons[1].cardNumber == "RSSMRA85T10A562S"


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_dataset_names_the_entry_and_the_field(case: str) -> None:
    change, entry, field, words = BAD_FILES[case]
    document = dataset_document()
    change(document)

    with pytest.raises(InvalidDataset) as refused:
        parse_dataset(document)

    matching = [error for error in refused.value.errors if error.entry == entry]
    assert matching, f"no error names {entry}: {refused.value}"
    assert any(error.field == field and words in error.message for error in matching), str(
        refused.value
    )


def test_every_problem_is_reported_at_once() -> None:
    document = dataset_document()
    document["items"][0]["libraryId"] = "XX"
    document["records"][0]["isbns"] = ["123"]

    with pytest.raises(InvalidDataset) as refused:
        parse_dataset(document)

    assert {error.field for error in refused.value.errors} == {"libraryId", "isbns"}


def test_a_file_that_is_not_json_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"libraries": [\n  {"id": "A",}\n]}', encoding="utf-8")

    with pytest.raises(InvalidDataset, match="line 2"):
        read_dataset(path)
