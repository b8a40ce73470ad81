"""MARC21/UNIMARC mapping on the real NLNZ and BNCF samples, and the demo dataset built on it."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import phonenumbers
import pymarc
import pytest
from pymarc import Field, Indicators, Record, Subfield
from stdnum import isbn as stdnum_isbn
from stdnum.it import codicefiscale

from catalog._marc import (
    MarcRecord,
    detect_format,
    read_marc_bytes,
    read_marc_file,
    record_from_marc,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(__file__).resolve().parents[3] / "shared"
SHARED_DATA = SHARED / "data"
NLNZ_FILE = SHARED_DATA / "marc" / "nlnz_pubsnz_1001.mrc"
BNCF_FILE = SHARED_DATA / "marc" / "bncf_sbn_unimarc_5.mrc"
BUILD_SCRIPT = REPO / "demo" / "build_dataset.py"
COMMITTED_DATASET = REPO / "demo" / "dataset.json"

# Leader/06-07 counts of the NLNZ file (the six in data/marc/SOURCES.md, and the rest, which
# it does not list) and the material type each maps to.
NLNZ_LEADER_TYPES = {
    "am": 648,
    "jm": 117,
    "as": 115,
    "em": 70,
    "ai": 27,
    "gm": 9,
    "cm": 7,
    "mm": 2,
    "km": 2,
    "im": 2,
    "ac": 1,
    "om": 1,
}
NLNZ_MATERIAL_TYPES = {
    "BOOK": 585,  # am 648 less the 64 electronic ones, and the 1 ac (a collection)
    "EBOOK": 66,  # am with 008/23 o/s or an 006/007 for an online or CD-ROM text; mm 2
    "PERIODICAL": 142,  # as 115 + ai 27 (integrating resources: updated websites)
    "AUDIOVISUAL": 126,  # jm 117 + gm 9
    "OTHER": 79,  # em 70 maps + cm 7 printed music + km 2 pictures
    "AUDIOBOOK": 2,  # im
    "KIT": 1,  # om
}


def _require_shared_data() -> None:
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the shared data folder {SHARED_DATA} is missing")
        pytest.skip(f"the shared data folder {SHARED_DATA} is absent")


@pytest.fixture(scope="module")
def nlnz() -> list[Record]:
    _require_shared_data()
    records = list(read_marc_file(NLNZ_FILE))
    assert all(record is not None for record in records)
    return [record for record in records if record is not None]


@pytest.fixture(scope="module")
def nlnz_mapped(nlnz: list[Record]) -> list[MarcRecord]:
    return [record_from_marc(record, id_prefix="nlnz-") for record in nlnz]


@pytest.fixture(scope="module")
def bncf() -> list[Record]:
    _require_shared_data()
    records = list(read_marc_file(BNCF_FILE))
    assert all(record is not None for record in records)
    return [record for record in records if record is not None]


def marc21(
    *fields: Field,
    leader_type: str = "am",
    date: str = "s1992    ",
    audience: str = " ",
    form: str = " ",
    language: str = "eng",
) -> Record:
    """A MARC21 record with a 008 built from the given codes, and the given data fields."""
    material = f"{'':4}{audience}{form}{'':11}"  # 008/18-34, 17 characters
    fixed = f"200101{date}nz {material}{language} d"
    assert len(fixed) == 40
    title = Field(tag="245", indicators=Indicators("1", "0"), subfields=[Subfield("a", "A title.")])
    return Record(
        leader=f"00000n{leader_type} a2200000 a 4500",
        fields=[Field(tag="001", data="test-1"), Field(tag="008", data=fixed), title, *fields],
    )


def datafield(tag: str, *subfields: tuple[str, str]) -> Field:
    return Field(
        tag=tag,
        indicators=Indicators(" ", " "),
        subfields=[Subfield(code, value) for code, value in subfields],
    )


# NLNZ: MARC21, binary


def test_nlnz_reads_every_record_as_marc21(nlnz: list[Record]) -> None:
    assert len(nlnz) == 1001
    assert {detect_format(record) for record in nlnz} == {"marc21"}


def test_nlnz_material_types_follow_the_leader(
    nlnz: list[Record], nlnz_mapped: list[MarcRecord]
) -> None:
    assert Counter(str(record.leader)[6:8] for record in nlnz) == NLNZ_LEADER_TYPES
    assert Counter(m.record["materialType"] for m in nlnz_mapped) == NLNZ_MATERIAL_TYPES
    by_leader: dict[str, Counter[str]] = {}
    for record, mapped in zip(nlnz, nlnz_mapped, strict=True):
        leader_type = str(record.leader)[6:8]
        by_leader.setdefault(leader_type, Counter())[mapped.record["materialType"]] += 1
    assert by_leader["am"] == {"BOOK": 584, "EBOOK": 64}
    assert by_leader["jm"] == {"AUDIOVISUAL": 117}
    assert by_leader["em"] == {"OTHER": 70}


def test_nlnz_records_have_the_dataset_shape(nlnz_mapped: list[MarcRecord]) -> None:
    keys = {
        "id",
        "title",
        "authors",
        "isbns",
        "materialType",
        "language",
        "published",
        "section",
        "subjects",
        "series",
        "latestIssue",
    }
    assert all(set(m.record) == keys for m in nlnz_mapped)
    assert len({m.record["id"] for m in nlnz_mapped}) == 1001
    assert all(re.fullmatch(r"nlnz-\d+", m.record["id"]) for m in nlnz_mapped)
    assert all(m.record["title"] for m in nlnz_mapped)
    assert all(len(m.record["subjects"]) <= 10 for m in nlnz_mapped)
    assert all(m.holdings == () for m in nlnz_mapped)  # the NLNZ extract has no 852/949
    first = nlnz_mapped[0].record
    assert first["title"] == "Larger than life : the story of Eric Baume"
    assert first["authors"] == ["Manning, Arthur"]
    assert first["subjects"] == ["Baume, Eric", "Journalists", "Authors, New Zealand"]


def test_nlnz_languages_dates_and_sections(nlnz_mapped: list[MarcRecord]) -> None:
    languages = Counter(m.record["language"] for m in nlnz_mapped)
    assert languages["eng"] == 934
    assert languages["mao"] == 18
    assert languages["rar"] + languages["smo"] + languages["ton"] == 31
    assert languages[None] == 6  # 008/35-37 blank or "|||", and no 041
    published = [m.record["published"] for m in nlnz_mapped]
    # 8-bit dates are years only: no month is ever invented.
    assert all(date is None or re.fullmatch(r"\d{4}", date) for date in published)
    assert sum(date is None for date in published) == 46  # "19uu", "[n.d.]" and the like
    assert Counter(m.record["section"] for m in nlnz_mapped) == {"ADULT": 956, "CHILDREN": 45}
    assert all(m.record["latestIssue"] is False for m in nlnz_mapped)


def test_nlnz_isbns_are_normalised_to_isbn13(
    nlnz: list[Record], nlnz_mapped: list[MarcRecord]
) -> None:
    isbns = [isbn for m in nlnz_mapped for isbn in m.record["isbns"]]
    assert all(len(isbn) == 13 and stdnum_isbn.is_valid(isbn) for isbn in isbns)
    # 323 values of 020$a in 276 records: 321 valid (6 repeat an ISBN of the same record in its
    # other form) and 2 invalid; the 22 $z values are cancelled ISBNs and are not counted.
    assert len(isbns) == 315
    assert sum(bool(m.record["isbns"]) for m in nlnz_mapped) == 274
    assert sum(bool(m.record["isbns"] or m.invalid_isbns) for m in nlnz_mapped) == 276
    assert [m.invalid_isbns for m in nlnz_mapped if m.invalid_isbns] == [
        ("97804783666846 (spiral binding)",),  # 14 digits
        ("1877182686 (pbk.) :",),  # wrong check digit
    ]
    by_control_number = {str(r["001"].data): m for r, m in zip(nlnz, nlnz_mapped, strict=True)}
    # 020$a "0908812086 (pbk.) :" with $c "$39.95"
    assert by_control_number["99627923502836"].record["isbns"] == ["9780908812080"]


def test_isbn_qualifiers_prices_and_cancelled_values() -> None:
    record = marc21(
        datafield("020", ("a", "0908812086 (pbk.) : $39.95")),
        datafield("020", ("a", "9780908812080")),  # the same ISBN, already 13 digits
        datafield("020", ("a", "ISBN 978-88-04-66769-8 (rilegato)")),
        datafield("020", ("a", "090877057X(pbk.)")),
        datafield("020", ("z", "9781877413941 (invalid) :")),
        datafield("020", ("a", "9781877413940 (corrected : pbk.)"), ("z", "978187741395X")),
    )
    mapped = record_from_marc(record, id_prefix="t-")
    assert mapped.record["isbns"] == [
        "9780908812080",
        "9788804667698",
        "9780908770571",
        "9781877413940",
    ]
    assert mapped.invalid_isbns == ()


def test_unparseable_isbns_are_kept_apart_and_never_raise() -> None:
    record = marc21(
        datafield("020", ("a", "Gratis (pbk.)")),
        datafield("020", ("a", "0908812087 :")),  # wrong check digit
        datafield("020", ("a", "97804783666846")),
        datafield("020", ("a", "979-0-2600-0043-8")),  # an ISMN, not a book
        datafield("020", ("a", "  "), ("c", "$25.00")),
    )
    mapped = record_from_marc(record, id_prefix="t-")
    assert mapped.record["isbns"] == []
    assert mapped.invalid_isbns == (
        "Gratis (pbk.)",
        "0908812087 :",
        "97804783666846",
        "979-0-2600-0043-8",
    )


@pytest.mark.parametrize(
    ("leader_type", "form", "extra", "material_type"),
    [
        ("am", " ", None, "BOOK"),
        ("am", "d", None, "BOOK"),  # large print
        ("am", "o", None, "EBOOK"),
        ("am", " ", Field(tag="006", data="m     o  d        "), "EBOOK"),
        ("am", " ", Field(tag="007", data="cr |||||||||||"), "EBOOK"),
        ("tm", " ", None, "BOOK"),
        ("as", "o", None, "PERIODICAL"),
        ("ai", " ", None, "PERIODICAL"),
        ("im", " ", None, "AUDIOBOOK"),
        ("jm", " ", None, "AUDIOVISUAL"),
        ("gm", " ", None, "AUDIOVISUAL"),
        ("mm", " ", None, "EBOOK"),
        ("om", " ", None, "KIT"),
        ("em", " ", None, "OTHER"),
        ("km", " ", None, "OTHER"),
        ("rm", " ", None, "OTHER"),
    ],
)
def test_marc21_material_type(
    leader_type: str, form: str, extra: Field | None, material_type: str
) -> None:
    record = marc21(leader_type=leader_type, form=form)
    if extra is not None:
        record.add_ordered_field(extra)
    assert record_from_marc(record, id_prefix="t-").record["materialType"] == material_type


@pytest.mark.parametrize(
    ("date", "fields", "published"),
    [
        ("s2016    ", [], "2016"),
        ("e20260315", [], "2026-03-15"),  # type e: a detailed date, month and day in 008/11-14
        ("e202603uu", [], "2026-03"),
        ("e2026uuuu", [], "2026"),
        ("s19uu    ", [datafield("260", ("a", "Wellington :"), ("c", "c1998."))], "1998"),
        ("n        ", [datafield("264", ("c", "[2019?]"))], "2019"),
        ("n        ", [datafield("260", ("c", "[n.d.]"))], None),
    ],
)
def test_marc21_publication_date(date: str, fields: list[Field], published: str | None) -> None:
    record = marc21(*fields, date=date)
    assert record_from_marc(record, id_prefix="t-").record["published"] == published


def test_marc21_descriptive_fields() -> None:
    record = marc21(
        datafield("041", ("a", "itaeng")),
        datafield("100", ("a", "Calvino, Italo,"), ("d", "1923-1985.")),
        datafield("700", ("a", "Calvino, Italo.")),
        datafield("710", ("a", "New Zealand."), ("b", "Ministry of Education.")),
        datafield("490", ("a", "Oscar ;"), ("v", "12")),
        datafield("650", ("a", "Fiction.")),
        datafield("650", ("a", "Fiction")),
        datafield("651", ("a", "Liguria (Italy)")),
        audience="j",
        language="   ",
    )
    record["245"].subfields = [
        Subfield("a", "Il barone rampante :"),
        Subfield("b", "romanzo /"),
        Subfield("c", "Italo Calvino."),
    ]
    mapped = record_from_marc(record, id_prefix="r-").record
    assert mapped["id"] == "r-test-1"
    assert mapped["title"] == "Il barone rampante : romanzo"
    assert mapped["authors"] == ["Calvino, Italo", "New Zealand. Ministry of Education"]
    assert mapped["language"] == "ita"  # 008 blank: the first code of 041$a
    assert mapped["section"] == "CHILDREN"
    assert mapped["series"] == "Oscar"
    assert mapped["subjects"] == ["Fiction", "Liguria (Italy)"]


def test_a_record_without_001_gets_a_stable_id() -> None:
    first, second = marc21(), marc21()
    first.remove_fields("001")
    second.remove_fields("001")
    first_id = record_from_marc(first, id_prefix="x-").record["id"]
    assert re.fullmatch(r"x-[0-9a-f]{16}", first_id)
    assert record_from_marc(second, id_prefix="x-").record["id"] == first_id


# BNCF: UNIMARC, binary, with a newline after every record


def test_bncf_reads_all_five_records_despite_the_stray_newlines(bncf: list[Record]) -> None:
    raw = BNCF_FILE.read_bytes()
    assert raw.count(b"\x1d\n") == 5
    # What a plain reader makes of it, and the reason read_marc_file strips those newlines.
    assert None in list(pymarc.MARCReader(raw, to_unicode=True, force_utf8=True))
    assert len(bncf) == 5
    assert {detect_format(record) for record in bncf} == {"unimarc"}


def test_bncf_records_map_to_clean_italian_records(bncf: list[Record]) -> None:
    mapped = [record_from_marc(record, id_prefix="sbn-") for record in bncf]
    entries = [m.record for m in mapped]
    assert [entry["id"] for entry in entries] == [
        "sbn-CFI0893220",
        "sbn-CFI0899224",
        "sbn-SGE0046714",
        "sbn-MIL0907385",
        "sbn-CFI0012299",
    ]
    assert all("\u0098" not in e["title"] and "\u009c" not in e["title"] for e in entries)
    assert all(e["language"] == "ita" for e in entries)
    assert all(len(e["isbns"]) == 1 for e in entries)
    assert all(m.invalid_isbns == () for m in mapped)
    assert {e["materialType"] for e in entries} == {"BOOK"}
    assert (
        entries[0]["title"]
        == "Lo Stato innovatore : sfatare il mito del pubblico contro il privato"
    )
    assert entries[0]["authors"] == ["Mazzucato, Mariana", "Galimberti, Fabio"]
    assert entries[0]["series"] == "Anticorpi"
    assert entries[0]["subjects"] == ["Innovazione tecnologica"]
    assert entries[0]["published"] == "2014"
    assert (
        entries[1]["title"]
        == "L'annessione : l'unificazione della Germania e il futuro dell'Europa"
    )
    assert entries[4]["isbns"] == ["9788806116149"]  # 010$a 8806116142, an ISBN-10
    assert entries[4]["published"] == "1978"  # 100$a date type g, no 210$d
    assert mapped[0].classification == "338.45"  # 676$a Dewey, not a subject


def test_bncf_copies_come_from_the_sbn_holdings_field(bncf: list[Record]) -> None:
    mapped = record_from_marc(bncf[0], id_prefix="sbn-")
    assert [(h.barcode, h.call_number, h.library_code) for h in mapped.holdings] == [
        ("CF006430746", "GEN B35 09807", "CF"),
        ("CF006485669", "GEN B37 09798", "CF"),
    ]


def test_unimarc_material_type_date_and_audience() -> None:
    record = Record(
        leader="00000ngm0 2200000   450 ",
        fields=[
            Field(tag="001", data="V1"),
            datafield("100", ("a", "20260301j20260315a   0itay50      ba")),
            datafield("101", ("a", "ita")),
            datafield("200", ("a", "\u0098Il \u009cpiccolo principe"), ("e", "film")),
            datafield("701", ("a", "Rossi"), ("b", "Mario")),
            datafield("995", ("b", "PV0071"), ("f", "PV0071-000001"), ("k", "DVD ROS")),
        ],
    )
    mapped = record_from_marc(record, id_prefix="u-")
    assert detect_format(record) == "unimarc"
    assert mapped.record["materialType"] == "AUDIOVISUAL"
    assert mapped.record["published"] == "2026-03-15"  # type j: a detailed date
    assert mapped.record["section"] == "CHILDREN"  # 100$a/17 "a": juvenile
    assert mapped.record["title"] == "Il piccolo principe : film"
    assert mapped.record["authors"] == ["Rossi, Mario"]
    assert [(h.barcode, h.call_number, h.library_code) for h in mapped.holdings] == [
        ("PV0071-000001", "DVD ROS", "PV0071")
    ]


# MARCXML


def test_marcxml_round_trip_gives_the_same_records(
    tmp_path: Path, nlnz: list[Record], nlnz_mapped: list[MarcRecord], bncf: list[Record]
) -> None:
    single = tmp_path / "one.xml"
    single.write_bytes(pymarc.record_to_xml(nlnz[2], namespace=True))  # type: ignore[no-untyped-call]
    (back,) = list(read_marc_file(single))
    assert back is not None
    assert record_from_marc(back, id_prefix="nlnz-") == nlnz_mapped[2]

    collection = tmp_path / "all.xml"
    writer = pymarc.XMLWriter(collection.open("wb"))
    for record in [*nlnz, *bncf]:
        writer.write(record)
    writer.close()
    # A BOM and blank lines before the declaration, as some exports have.
    collection.write_bytes(b"\xef\xbb\xbf\n  " + collection.read_bytes())
    read_back = list(read_marc_file(collection))
    assert len(read_back) == 1006
    assert all(record is not None for record in read_back)
    remapped = [record_from_marc(r, id_prefix="nlnz-") for r in read_back[:1001] if r is not None]
    assert remapped == nlnz_mapped
    assert {detect_format(r) for r in read_back[1001:] if r is not None} == {"unimarc"}


def test_binary_input_needs_no_file() -> None:
    record = marc21(datafield("020", ("a", "8806116142")))
    (back,) = list(read_marc_bytes(record.as_marc() + b"\n"))
    assert back is not None
    assert record_from_marc(back, id_prefix="t-").record["isbns"] == ["9788806116149"]


# The demo dataset


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_dataset", BUILD_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while the module is being executed.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.fixture(scope="module")
def demo_dataset() -> dict[str, list[dict[str, Any]]]:
    _require_shared_data()
    dataset: dict[str, list[dict[str, Any]]] = json.loads(
        COMMITTED_DATASET.read_text(encoding="utf-8")
    )
    return dataset


def test_the_committed_demo_dataset_is_what_the_script_builds(tmp_path: Path) -> None:
    _require_shared_data()
    builder = _load_builder()
    out = tmp_path / "dataset.json"
    assert builder.main(["--shared", str(SHARED), "--out", str(out)]) == 0
    again = builder.dataset_json(builder.build_dataset(SHARED))
    assert out.read_text(encoding="utf-8") == again  # the same bytes on every run
    assert out.read_bytes() == COMMITTED_DATASET.read_bytes(), (
        "demo/dataset.json is stale: run .venv/bin/python demo/build_dataset.py"
    )
    assert COMMITTED_DATASET.stat().st_size < 2_500_000


def test_demo_dataset_is_consistent(demo_dataset: dict[str, list[dict[str, Any]]]) -> None:
    assert set(demo_dataset) == {"libraries", "records", "items", "patrons"}
    libraries = {library["id"]: library for library in demo_dataset["libraries"]}
    records = {record["id"]: record for record in demo_dataset["records"]}
    items = demo_dataset["items"]
    assert len(libraries) == 238
    assert len(records) == 1001
    assert all(record_id.startswith("nlnz-") for record_id in records)  # nothing from BNCF (GPL)

    barcodes = [item["barcode"] for item in items]
    assert len(set(barcodes)) == len(barcodes)
    copies = Counter(item["recordId"] for item in items)
    assert set(copies) == set(records)
    assert set(copies.values()) <= {1, 2, 3, 4}
    for item in items:
        library = libraries[item["libraryId"]]
        assert item["recordId"] in records
        assert library["lat"] is not None  # copies only in libraries on the map
        assert re.fullmatch(r"PV\d{4}-\d{6}", item["barcode"])
        assert item["barcode"].startswith(item["libraryId"].removeprefix("IT-") + "-")
        assert item["callNumber"].strip()
    not_loanable = sum(not item["loanable"] for item in items)
    assert 0.01 < not_loanable / len(items) < 0.06


def test_demo_libraries_hours_and_closures(demo_dataset: dict[str, list[dict[str, Any]]]) -> None:
    for library in demo_dataset["libraries"]:
        assert library["id"].startswith("IT-PV")
        assert library["email"] is None
        assert (library["lat"] is None) == (library["lon"] is None)
        hours = library["hours"]
        assert hours
        assert "sun" not in hours
        assert set(hours) <= {"mon", "tue", "wed", "thu", "fri", "sat"}
        for periods in hours.values():
            times = [time for period in periods for time in period]
            assert all(re.fullmatch(r"\d\d:\d\d", time) for time in times)
            assert times == sorted(times)
        assert library["closures"] == sorted(set(library["closures"]))
        assert all(day.startswith(("2026-", "2027-")) for day in library["closures"])
        # San Siro, patron saint of Pavia, listed when the library would otherwise be open.
        if library["address"].endswith("27100 Pavia") and "thu" in hours:
            assert "2027-12-09" in library["closures"]
    bonetta = next(lib for lib in demo_dataset["libraries"] if lib["id"] == "IT-PV0071")
    assert bonetta["address"] == "Piazza F. Petrarca 2, 27100 Pavia"
    assert "mon" in bonetta["hours"]
    assert "sat" in bonetta["hours"]
    assert any("mon" not in lib["hours"] for lib in demo_dataset["libraries"])
    unlocated = {lib["id"] for lib in demo_dataset["libraries"] if lib["lat"] is None}
    assert len(unlocated) == 9


def test_demo_records_support_the_policy_demos(
    demo_dataset: dict[str, list[dict[str, Any]]],
) -> None:
    records = demo_dataset["records"]
    latest = [record for record in records if record["latestIssue"]]
    assert 1 <= len(latest) <= 2
    assert all(record["materialType"] == "PERIODICAL" for record in latest)
    recent_multimedia = [
        record
        for record in records
        if record["materialType"] in ("AUDIOVISUAL", "AUDIOBOOK")
        and (record["published"] or "") >= "2025-06"
    ]
    assert len(recent_multimedia) >= 4
    assert any(re.fullmatch(r"\d{4}-\d{2}", record["published"]) for record in recent_multimedia)
    assert any(record["section"] == "CHILDREN" for record in records)


def test_demo_patrons(demo_dataset: dict[str, list[dict[str, Any]]]) -> None:
    patrons = demo_dataset["patrons"]
    libraries = {library["id"]: library for library in demo_dataset["libraries"]}
    cards = [patron["cardNumber"] for patron in patrons]
    assert len(set(cards)) == len(cards)
    assert cards[0] == "C0001"
    for patron in patrons:
        pin, card = patron["pin"], patron["cardNumber"]
        assert re.fullmatch(r"\d{4,}", pin)
        assert len(set(pin)) > 1
        assert pin != re.sub(r"\D", "", card)[-4:]
        assert patron["email"].endswith("@example.org")
        phone = phonenumbers.parse(patron["phone"])
        assert phonenumbers.is_valid_number(phone)
        assert phonenumbers.region_code_for_number(phone) == "IT"
        assert phonenumbers.number_type(phone) == phonenumbers.PhoneNumberType.MOBILE
        assert libraries[patron["homeLibraryId"]]["address"].endswith("27100 Pavia")
        pickup = patron["preferredPickupLibraryId"]
        assert pickup is None or pickup in libraries
        assert patron["role"] in ("patron", "staff")
    birth_years = [int(patron["birthDate"][:4]) for patron in patrons]
    assert any(year >= 2012 for year in birth_years)  # a minor, for the CUBI discount
    fiscal_codes = [card for card in cards if codicefiscale.is_valid(card)]
    assert len(fiscal_codes) == 1
    assert str(codicefiscale.get_birth_date(fiscal_codes[0])) == next(
        p["birthDate"] for p in patrons if p["cardNumber"] == fiscal_codes[0]
    )
    staff = [patron for patron in patrons if patron["role"] == "staff"]
    assert [patron["cardNumber"] for patron in staff] == ["STAFF01"]
