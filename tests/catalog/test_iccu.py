"""The ICCU Anagrafe parser against the real territorio.csv extract in the shared data."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from catalog._iccu import IccuLibrary, parse_iccu_libraries

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ICCU_FILE = SHARED_DATA / "libraries" / "iccu_territorio_2017_pv_vi_ar.csv"
HEADER = (
    '"codice-isil";"denominazione";"indirizzo";"frazione";"cap";"comune";"codice istat comune";'
    '"provincia";"regione";"codice istat provincia";"latitudine";"longitudine";"telefono";"fax";'
    '"url"'
)
NO_LOCATION = {"IT-PV0390", "IT-PV0480", "IT-PV0485"}
ZERO_LOCATION = {"IT-PV0042", "IT-PV0050", "IT-PV0191", "IT-PV0302", "IT-PV0325", "IT-PV0330"}
# (lat min, lat max, lon min, lon max), from data/libraries/SOURCES.md.
BOUNDING_BOXES = {
    "Pavia": (44.82, 45.37, 8.58, 9.52),
    "Vicenza": (45.29, 45.94, 11.23, 11.80),
    "Arezzo": (43.25, 43.80, 11.45, 12.30),
}
# SOURCES.md rounds the boxes to two decimals: Crespadoro (VI) is at lon 11.2260, "11.23" there.
ROUNDING = 0.005


@pytest.fixture(scope="module")
def libraries() -> list[IccuLibrary]:
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the shared data folder {SHARED_DATA} is missing")
        pytest.skip(f"the shared data folder {SHARED_DATA} is absent")
    return parse_iccu_libraries(ICCU_FILE.read_text(encoding="utf-8"))


def by_isil(libraries: list[IccuLibrary]) -> dict[str, IccuLibrary]:
    return {library.isil: library for library in libraries}


def test_every_row_parses(libraries: list[IccuLibrary]) -> None:
    assert len(libraries) == 465
    assert len(by_isil(libraries)) == 465
    assert Counter(library.province for library in libraries) == {
        "Pavia": 238,
        "Vicenza": 154,
        "Arezzo": 73,
    }
    comuni = {(library.province, library.comune) for library in libraries}
    assert Counter(province for province, _ in comuni) == {
        "Pavia": 109,
        "Vicenza": 107,
        "Arezzo": 36,
    }
    assert sum(library.phone is not None for library in libraries) == 361
    assert sum(library.url is not None for library in libraries) == 147
    without_postcode = {library.isil for library in libraries if library.postcode is None}
    assert without_postcode == {"IT-AR0111", "IT-AR0121", "IT-PV0484"}
    assert all(
        library.postcode is None or (library.postcode.isdigit() and len(library.postcode) == 5)
        for library in libraries
    )


def test_rows_with_unescaped_inner_quotes_keep_their_whole_text(
    libraries: list[IccuLibrary],
) -> None:
    quoted = {
        library.isil: (library.name, library.address)
        for library in libraries
        if '"' in library.name or '"' in library.address
    }
    assert quoted == {
        "IT-AR0013": ('Biblioteca comunale "Giovanni Giovannini"', "Via Cappucci 48"),
        "IT-PV0215": (
            'Biblioteca di quartiere Borgo Ticino "Angelo Gambini"',
            "Via dei Mille 130, Borgo Ticino",
        ),
        "IT-PV0217": ('Biblioteca di quartiere Vallone "G. Varesi"', "Piazzale Torino"),
        "IT-PV0327": (
            'Biblioteca di quartiere Pavia Ovest "Lia Bolocan"',
            "Via Fratelli Cervi 21/23",
        ),
        "IT-PV0329": ('Biblioteca di quartiere "Aldo Dolcini"', "Via Santo Spirito 2"),
        "IT-PV0489": (
            'Biblioteca dell\'Istituto Tecnico Statale "Luigi Casale"',
            "Via Ludovico il Moro 6/8",
        ),
        "IT-VI0023": ("BIBLIOTECA DI CORNEDO VICENTINO", 'PIAZZA ALDO MORO - VILLA "TRISSINO"'),
    }
    bibbiena = by_isil(libraries)["IT-AR0013"]
    assert (bibbiena.comune, bibbiena.postcode, bibbiena.province) == (
        "Bibbiena",
        "52011",
        "Arezzo",
    )
    assert bibbiena.url == "http://www.comunedibibbiena.gov.it/index.asp?pg=pag&s=10"


def test_missing_and_zero_coordinates_mean_no_location(libraries: list[IccuLibrary]) -> None:
    unlocated = {library.isil for library in libraries if library.lat is None}
    assert unlocated == NO_LOCATION | ZERO_LOCATION
    assert all(library.lon is None for library in libraries if library.lat is None)
    assert all(library.lat is None for library in libraries if library.lon is None)


def test_every_other_row_lies_in_its_province(libraries: list[IccuLibrary]) -> None:
    located = [library for library in libraries if library.lat is not None]
    assert len(located) == 465 - 9
    for library in located:
        lat_min, lat_max, lon_min, lon_max = BOUNDING_BOXES[library.province]
        assert library.lat is not None
        assert library.lon is not None
        assert lat_min - ROUNDING <= library.lat <= lat_max + ROUNDING, library
        assert lon_min - ROUNDING <= library.lon <= lon_max + ROUNDING, library


def test_fields_are_cleaned(libraries: list[IccuLibrary]) -> None:
    library = by_isil(libraries)
    assert library["IT-PV0215"].lat == pytest.approx(45.17646)  # "45,17646": decimal comma
    assert library["IT-PV0480"].phone == "+39 0382818105"  # "+39  0382818105" in the file
    assert library["IT-PV0485"].url == "http://www.accademiasanpietro.it"  # no scheme in the file
    assert library["IT-PV0485"].phone is None
    assert library["IT-PV0050"].address == "Piazza Umberto I 7"


def test_a_row_with_a_missing_field_names_its_line() -> None:
    good = (
        '"IT-PV0001";"Biblioteca";"Via Roma 1";"";"27100";"Pavia";"018110";"Pavia";"LOMBARDIA";'
        '"018";"45,18";"9,15";"";"";""'
    )
    bad = good.replace('"";"";""', '"";""')
    assert len(parse_iccu_libraries(f"{HEADER}\n{good}\n")) == 1
    with pytest.raises(ValueError, match=r"^line 3: expected 15 fields, found 14"):
        parse_iccu_libraries(f"{HEADER}\n{good}\n{bad}\n")
    with pytest.raises(ValueError, match=r"^line 2: .*double-quoted"):
        parse_iccu_libraries(f"{HEADER}\n{good.replace(chr(34), '')}\n")


def test_unreadable_coordinates_name_their_line() -> None:
    row = (
        '"IT-PV0001";"Biblioteca";"Via Roma 1";"";"27100";"Pavia";"018110";"Pavia";"LOMBARDIA";'
        '"018";"45°10\'";"9,15";"";"";""'
    )
    with pytest.raises(ValueError, match=r"^line 2: coordinates"):
        parse_iccu_libraries(f"\ufeff{HEADER}\n{row}")


def test_a_header_without_the_expected_columns_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^line 1: .*codice-isil"):
        parse_iccu_libraries('"isil";"name"\n"IT-PV0001";"Biblioteca"\n')
