"""Build the demo dataset (`demo/dataset.json`, the contract's "Dataset (JSON)" format).

Libraries are the Pavia province rows of the ICCU Anagrafe (CC0); records are the NLNZ
Publications New Zealand sample (CC BY 3.0 NZ, credited in demo/SOURCES.md); items, opening
hours, closures and patrons are made up, from fixed seeds, so every run writes the same bytes:

    .venv/bin/python demo/build_dataset.py [--shared ../shared] [--out demo/dataset.json]

The BNCF UNIMARC sample in the shared data is GPL-licensed and deliberately not used here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import holidays
from stdnum.it import codicefiscale

from catalog._iccu import IccuLibrary, parse_iccu_libraries
from catalog._marc import MarcRecord, read_marc_file, record_from_marc

DEMO_DIR = Path(__file__).resolve().parent
DEFAULT_SHARED = DEMO_DIR.parents[1] / "shared"
DEFAULT_OUT = DEMO_DIR / "dataset.json"

ICCU_FILE = Path("data/libraries/iccu_territorio_2017_pv_vi_ar.csv")
NLNZ_FILE = Path("data/marc/nlnz_pubsnz_1001.mrc")
PROVINCE = "Pavia"
RECORD_ID_PREFIX = "nlnz-"

Dataset = dict[str, list[dict[str, Any]]]
Hours = dict[str, list[list[str]]]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The comuni whose public libraries get most of the copies, so the map shows clusters.
TOWNS = frozenset({"Pavia", "Vigevano", "Voghera"})
# The civic libraries of Pavia (Bonetta), Vigevano (Mastronardi) and Voghera (Ricottiana).
MAIN_CIVIC_LIBRARIES = frozenset({"IT-PV0071", "IT-PV0188", "IT-PV0190"})
NOT_PUBLIC = ("museo", "musei", "carcere", "casa circondariale", "istituto", "liceo", "scuola")
PUBLIC_MARKERS = ("comunale", "civica", "di quartiere", "ragazzi", "bibliobus")
ACADEMIC_MARKERS = ("universit", "collegio", "dipartimento", "liceo", "istituto", "policlinico")

# The 18-month rule for new multimedia needs recent AV material, and the NLNZ sample ends in
# 2020; these dates replace the real ones on a few AUDIOVISUAL/AUDIOBOOK records (chosen by a
# seeded draw) so the demo has titles on both sides of the limit. Everything else is real.
RECENT_AUDIOVISUAL_DATES = ("2026-10", "2026-06", "2026-03", "2026", "2025-12", "2025-04")
RECENT_AUDIOBOOK_DATES = ("2026-09", "2025-11")
LATEST_ISSUE_COUNT = 2
NOT_LOANABLE_SHARE = 0.03
NATIONAL_HOLIDAYS = holidays.country_holidays("IT", years=(2026, 2027))


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A mapped NLNZ record with the two fixed-field codes the demo choices depend on."""

    marc: MarcRecord
    record_type: str  # leader/06
    date_type: str  # 008/06; "c" is a serial still being published


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoPatron:
    card_number: str
    pin: str
    name: str
    birth_date: str
    home_library_id: str
    category: str = "ADULT"
    pickup_library_id: str | None = None
    registration_expires: str | None = None
    role: str = "patron"


def _codice_fiscale(without_check: str) -> str:
    return without_check + str(codicefiscale.calc_check_digit(without_check))


PATRONS = (
    DemoPatron(
        card_number="C0001",
        pin="1234",
        name="Maria Rossi",
        birth_date="1990-04-02",
        home_library_id="IT-PV0071",
    ),
    DemoPatron(
        card_number="C0002",
        pin="2468",
        name="Luca Bianchi",
        birth_date="1978-11-15",
        home_library_id="IT-PV0071",
        pickup_library_id="IT-PV0329",
    ),
    # Under 15, for the CUBI minors' discount on CHILDREN material.
    DemoPatron(
        card_number="C0003",
        pin="1357",
        name="Sofia Colombo",
        birth_date="2014-06-21",
        home_library_id="IT-PV0326",
    ),
    DemoPatron(
        card_number="C0004",
        pin="8642",
        name="Giulia Ferrari",
        birth_date="2003-02-09",
        home_library_id="IT-PV0215",
        category="STUDENT",
    ),
    DemoPatron(
        card_number="C0005",
        pin="9753",
        name="Paolo Esposito",
        birth_date="1962-09-30",
        home_library_id="IT-PV0327",
        registration_expires="2027-06-30",
    ),
    # A codice fiscale as card number: Rossi Mario, male, born 10 December 1985 in Pavia (G388).
    DemoPatron(
        card_number=_codice_fiscale("RSSMRA85T10G388"),
        pin="5821",
        name="Mario Rossi",
        birth_date="1985-12-10",
        home_library_id="IT-PV0217",
    ),
    # "9999" would be refused as a weak PIN (all one digit), so staff get another one.
    DemoPatron(
        card_number="STAFF01",
        pin="9021",
        name="Elena Fontana",
        birth_date="1975-03-12",
        home_library_id="IT-PV0071",
        role="staff",
    ),
)
PATRON_PHONES = (
    "+393331234567",
    "+393479876543",
    "+393201112233",
    "+393925550142",
    "+393381122334",
    "+393408765432",
    "+393356677889",
)


def build_dataset(shared: Path) -> Dataset:
    """Build the whole dataset from the shared data folder (the one holding `data/`)."""
    iccu_text = (shared / ICCU_FILE).read_text(encoding="utf-8")
    pavia = sorted(
        (library for library in parse_iccu_libraries(iccu_text) if library.province == PROVINCE),
        key=lambda library: library.isil,
    )
    sources = _read_records(shared / NLNZ_FILE)
    records = _records(sources)
    return {
        "libraries": [_library(library) for library in pavia],
        "records": records,
        "items": _items(sources, records, pavia),
        "patrons": _patrons(),
    }


def dataset_json(dataset: Dataset) -> str:
    """Serialise so that the same dataset always gives the same bytes and small diffs."""
    return json.dumps(dataset, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


# Libraries


def _library(library: IccuLibrary) -> dict[str, Any]:
    hours = _weekly_hours(library)
    return {
        "id": library.isil,
        "name": library.name,
        "address": ", ".join(
            part
            for part in (library.address, f"{library.postcode or ''} {library.comune}".strip())
            if part
        ),
        "lat": None if library.lat is None else round(library.lat, 6),
        "lon": None if library.lon is None else round(library.lon, 6),
        "phone": library.phone,
        "email": None,
        "hours": hours,
        "closures": _closures(library, hours),
    }


def _kind(library: IccuLibrary) -> str:
    name = library.name.lower()
    if any(marker in name for marker in PUBLIC_MARKERS) and not any(
        marker in name for marker in NOT_PUBLIC
    ):
        return "town" if library.comune in TOWNS else "village"
    if any(marker in name for marker in ACADEMIC_MARKERS):
        return "academic"
    return "special"


def _weekly_hours(library: IccuLibrary) -> Hours:
    rng = random.Random(f"hours:{library.isil}")
    kind = _kind(library)
    hours: Hours = {}
    if library.isil in MAIN_CIVIC_LIBRARIES:
        for day in WEEKDAYS[1:5]:
            hours[day] = [["09:00", "19:00"]]
        hours["mon"] = [["14:00", "19:00"]]
        hours["sat"] = [["09:00", "13:00"]]
    elif kind == "town":
        morning = [rng.choice(("09:00", "09:30")), rng.choice(("12:30", "13:00"))]
        afternoon = [rng.choice(("14:00", "14:30")), rng.choice(("18:00", "18:30", "19:00"))]
        for day in WEEKDAYS[1:5]:
            # Branches commonly keep one morning a week for school classes.
            hours[day] = [afternoon] if rng.random() < 0.25 else [morning, afternoon]
        if rng.random() < 0.4:
            hours["mon"] = [afternoon]
        if rng.random() < 0.7:
            hours["sat"] = [["09:00", "12:30"]]
    elif kind == "village":
        afternoon = [rng.choice(("14:30", "15:00", "15:30")), rng.choice(("18:00", "18:30"))]
        for day in sorted(rng.sample(WEEKDAYS[:5], rng.randint(2, 4)), key=WEEKDAYS.index):
            hours[day] = [afternoon]
        if rng.random() < 0.5:
            hours["sat"] = [["09:30", "12:00"]]
    elif kind == "academic":
        opening = rng.choice(("08:30", "09:00"))
        closing = rng.choice(("16:30", "17:00", "18:00"))
        for day in WEEKDAYS[:5]:
            hours[day] = [[opening, closing]]
        if rng.random() < 0.3:
            hours["fri"] = [[opening, "13:00"]]
    else:
        for day in sorted(rng.sample(WEEKDAYS[:5], rng.randint(2, 3)), key=WEEKDAYS.index):
            hours[day] = [["09:00", "13:00"]] if rng.random() < 0.6 else [["14:00", "17:30"]]
    return {day: hours[day] for day in WEEKDAYS if day in hours}


def _closures(library: IccuLibrary, hours: Hours) -> list[str]:
    rng = random.Random(f"closures:{library.isil}")
    kind = _kind(library)
    days: set[dt.date] = set()
    # Summer: the week of Ferragosto (15 August), two weeks for the small libraries.
    weeks = 2 if kind in ("village", "special") else 1
    if rng.random() < 0.8:
        days |= _days(dt.date(2026, 8, 10), weeks * 7)
        days |= _days(dt.date(2027, 8, 9), weeks * 7)
    if kind in ("town", "village"):
        days |= {dt.date(2026, 12, 24), dt.date(2026, 12, 31)}
        days |= {dt.date(2027, 12, 24), dt.date(2027, 12, 31)}
    if library.comune == "Pavia":
        # San Siro, patron saint of Pavia: a local holiday, not in the national calendar.
        days |= {dt.date(2026, 12, 9), dt.date(2027, 12, 9)}
    if kind == "town" and rng.random() < 0.3:
        # The yearly stocktaking, a few working days in late winter.
        start = dt.date(2027, 2, 1) + dt.timedelta(days=rng.randrange(0, 21))
        days |= _days(start, 3)
    # Only days the library would otherwise be open (not a national holiday, which every
    # library observes anyway), so every listed closure means something.
    open_days = {WEEKDAYS.index(day) for day in hours}
    return [
        day.isoformat()
        for day in sorted(days)
        if day.weekday() in open_days and day not in NATIONAL_HOLIDAYS
    ]


def _days(start: dt.date, count: int) -> set[dt.date]:
    return {start + dt.timedelta(days=offset) for offset in range(count)}


# Records


def _read_records(path: Path) -> list[SourceRecord]:
    sources: list[SourceRecord] = []
    for number, marc in enumerate(read_marc_file(path), start=1):
        if marc is None:
            raise ValueError(f"{path}: record {number} could not be read")
        fixed = marc.get("008")
        sources.append(
            SourceRecord(
                marc=record_from_marc(marc, id_prefix=RECORD_ID_PREFIX),
                record_type=str(marc.leader)[6],
                date_type=str(fixed.data)[6:7] if fixed is not None else "",
            )
        )
    return sorted(sources, key=lambda source: str(source.marc.record["id"]))


def _records(sources: list[SourceRecord]) -> list[dict[str, Any]]:
    records = [dict(source.marc.record) for source in sources]
    # The newest issue of a periodical stays in the library under CUBI: give that issue to the
    # most recently started periodicals that are still being published.
    current = sorted(
        (
            record
            for record, source in zip(records, sources, strict=True)
            if record["materialType"] == "PERIODICAL" and source.date_type == "c"
        ),
        key=lambda record: (record["published"] or "0000", record["id"]),
        reverse=True,
    )
    for record in current[:LATEST_ISSUE_COUNT]:
        record["latestIssue"] = True
    rng = random.Random("recent-multimedia")
    for material_type, dates in (
        ("AUDIOVISUAL", RECENT_AUDIOVISUAL_DATES),
        ("AUDIOBOOK", RECENT_AUDIOBOOK_DATES),
    ):
        candidates = [record for record in records if record["materialType"] == material_type]
        for record, date in zip(rng.sample(candidates, len(dates)), dates, strict=True):
            record["published"] = date
    return records


# Items


def _items(
    sources: list[SourceRecord],
    records: list[dict[str, Any]],
    libraries: list[IccuLibrary],
) -> list[dict[str, Any]]:
    rng = random.Random("items")
    located = [library for library in libraries if library.lat is not None]
    weights = [_collection_weight(library) for library in located]
    children_weights = [
        weight * (6 if "ragazzi" in library.name.lower() else 1)
        for weight, library in zip(weights, located, strict=True)
    ]
    sequence: dict[str, int] = {}
    items: list[dict[str, Any]] = []
    for source, record in zip(sources, records, strict=True):
        if record["materialType"] == "PERIODICAL":
            copies = rng.choices((1, 2), weights=(70, 30))[0]
        else:
            copies = rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]
        record_weights = children_weights if record["section"] == "CHILDREN" else weights
        holders: list[IccuLibrary] = []
        while len(holders) < copies:
            library = rng.choices(located, weights=record_weights)[0]
            if library not in holders:
                holders.append(library)
        for library in sorted(holders, key=lambda holder: holder.isil):
            sequence[library.isil] = sequence.get(library.isil, 0) + 1
            items.append(
                {
                    "barcode": f"{library.isil.removeprefix('IT-')}-{sequence[library.isil]:06d}",
                    "recordId": record["id"],
                    "libraryId": library.isil,
                    "callNumber": _call_number(
                        record, source.marc.classification, source.record_type
                    ),
                    "loanable": rng.random() >= NOT_LOANABLE_SHARE,
                }
            )
    return items


def _collection_weight(library: IccuLibrary) -> int:
    if library.isil in MAIN_CIVIC_LIBRARIES:
        return 36
    kind = _kind(library)
    if kind == "town":
        return 12
    if kind == "village":
        return 2
    return 1


_DEWEY = re.compile(r"\d{3}(?:\.\d{1,3})?")
_ARTICLES = re.compile(r"^(?:the|an?|il|lo|la|i|gli|le|l'|un|una|uno|he|te|nga)\s+", re.IGNORECASE)
# A shelf prefix for what has no Dewey number, keyed by leader/06 (type of record).
_SHELF_BY_RECORD_TYPE = {
    "j": "CD",
    "i": "AL",  # audiolibri
    "g": "DVD",
    "c": "MUS",
    "d": "MUS",
    "e": "CART",  # cartografia
    "f": "CART",
    "m": "CD-ROM",
}


def _call_number(record: dict[str, Any], classification: str | None, record_type: str) -> str:
    dewey = _DEWEY.search(classification or "")
    if record["materialType"] == "PERIODICAL":
        shelf = "PER"
    elif dewey:
        # Shelf labels shorten Dewey numbers to three decimals; "823.010" would read oddly.
        shelf = dewey.group(0).rstrip("0").rstrip(".") if "." in dewey.group(0) else dewey.group(0)
    else:
        shelf = _SHELF_BY_RECORD_TYPE.get(record_type, "N")  # N: narrativa, the fiction shelves
    if record["section"] == "CHILDREN":
        shelf = f"R {shelf}"  # the "ragazzi" (children's) shelves
    authors: list[str] = record["authors"]
    source = authors[0] if authors else _ARTICLES.sub("", str(record["title"]))
    letters = "".join(
        char for char in unicodedata.normalize("NFKD", source) if char.isascii() and char.isalpha()
    )
    return f"{shelf} {letters[:3].upper() or 'XXX'}"


# Patrons


def _patrons() -> list[dict[str, Any]]:
    return [
        {
            "cardNumber": patron.card_number,
            "pin": patron.pin,
            "name": patron.name,
            "birthDate": patron.birth_date,
            "homeLibraryId": patron.home_library_id,
            "category": patron.category,
            "email": _email(patron.name),
            "phone": phone,
            "preferredPickupLibraryId": patron.pickup_library_id,
            "registrationExpires": patron.registration_expires,
            "role": patron.role,
        }
        for patron, phone in zip(PATRONS, PATRON_PHONES, strict=True)
    ]


def _email(name: str) -> str:
    local = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    return f"{'.'.join(local.split())}@example.org"


def main(argv: Sequence[str] | None = None) -> int:
    """Build the dataset and write it; print a one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON file to write")
    arguments = parser.parse_args(argv)
    dataset = build_dataset(arguments.shared)
    arguments.out.write_text(dataset_json(dataset), encoding="utf-8")
    summary = ", ".join(f"{len(rows)} {key}" for key, rows in dataset.items())
    print(f"{arguments.out}: {summary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
