"""Parser for the ICCU *Anagrafe delle biblioteche italiane* open-data file `territorio.csv`.

The file is `;`-separated with every field double-quoted, but quotes inside a field are not
escaped (`"Biblioteca comunale "Giovanni Giovannini""`), so the `csv` module cannot read it.
Every field being quoted means `";"` only ever occurs between fields, which is what we split on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["IccuLibrary", "parse_iccu_libraries"]

_COLUMNS = (
    "codice-isil",
    "denominazione",
    "indirizzo",
    "frazione",
    "cap",
    "comune",
    "provincia",
    "latitudine",
    "longitudine",
    "telefono",
    "url",
)
_FIELD_SEPARATOR = '";"'
_MISSING = frozenset({"", "null"})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class IccuLibrary:
    """One library of the Anagrafe; `lat`/`lon` (WGS84) are both None when it has no location."""

    isil: str
    name: str
    address: str
    postcode: str | None
    comune: str
    province: str
    lat: float | None
    lon: float | None
    phone: str | None
    url: str | None


def parse_iccu_libraries(text: str) -> list[IccuLibrary]:
    """Parse the whole CSV text (header line first); raise ValueError naming the bad line."""
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines:
        raise ValueError("line 1: the file is empty, expected the territorio.csv header")
    header = _split_fields(lines[0], line_number=1)
    missing = [name for name in _COLUMNS if name not in header]
    if missing:
        raise ValueError(f"line 1: the header lacks the column(s) {', '.join(missing)}")
    position = {name: index for index, name in enumerate(header)}

    libraries: list[IccuLibrary] = []
    for line_number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = _split_fields(line, line_number=line_number)
        if len(fields) != len(header):
            raise ValueError(
                f"line {line_number}: expected {len(header)} fields, found {len(fields)}"
            )
        row = {name: _clean(fields[index]) for name, index in position.items()}
        lat, lon = _coordinates(row["latitudine"], row["longitudine"], line_number=line_number)
        libraries.append(
            IccuLibrary(
                isil=row["codice-isil"],
                name=row["denominazione"],
                address=", ".join(part for part in (row["indirizzo"], row["frazione"]) if part),
                postcode=row["cap"] or None,
                comune=row["comune"],
                province=row["provincia"],
                lat=lat,
                lon=lon,
                phone=row["telefono"] or None,
                url=_url(row["url"]),
            )
        )
    return libraries


def _split_fields(line: str, *, line_number: int) -> list[str]:
    stripped = line.strip()
    if len(stripped) < 2 or not (stripped.startswith('"') and stripped.endswith('"')):
        raise ValueError(f"line {line_number}: every field must be double-quoted")
    return stripped[1:-1].split(_FIELD_SEPARATOR)


def _clean(value: str) -> str:
    # The Anagrafe has double spaces inside addresses and phone numbers ("+39  0382818105").
    return _SPACES.sub(" ", value).strip()


def _coordinates(
    latitude: str, longitude: str, *, line_number: int
) -> tuple[float | None, float | None]:
    if latitude.lower() in _MISSING or longitude.lower() in _MISSING:
        return None, None
    try:
        lat = float(latitude.replace(",", "."))
        lon = float(longitude.replace(",", "."))
    except ValueError:
        raise ValueError(
            f"line {line_number}: coordinates {latitude!r}, {longitude!r} are not numbers"
        ) from None
    # 0,0 is how the Anagrafe says "never geocoded": it is in the Gulf of Guinea, not in Italy.
    if lat == 0 and lon == 0:
        return None, None
    return lat, lon


def _url(value: str) -> str | None:
    if not value:
        return None
    # Some rows give a bare host ("www.accademiasanpietro.it"), which a browser would treat as
    # a relative link.
    if "://" not in value:
        return f"http://{value}"
    return value
