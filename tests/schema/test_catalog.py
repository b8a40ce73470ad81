"""The public catalogue through the real schema: the contract's operations, executed as clients
send them, against a real database (SQLite and PostgreSQL) and a real embedded search index."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from stdnum import ean
from strawberry.types import ExecutionResult

import circulation
from auth import AccessTokens, Authenticator
from catalog import distance_meters, load_dataset, parse_dataset
from circulation import (
    LIBRARY_TIME_ZONE,
    Circulation,
    Language,
    ManualClock,
    checkin,
    checkout,
    load_policy,
    place_hold,
)
from db import Item, ItemStatus, Library, LibraryClosure, LibraryHours, Patron, transaction
from db import MaterialType as StoredMaterialType
from schema import Context, Services, schema
from schema.catalog.types import MaterialType
from search import CatalogSearch, EmbeddedSearch, SearchIndexer

# A Tuesday morning in Pavia.
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=LIBRARY_TIME_ZONE)
# A few steps from the Biblioteca delle Scienze; the Bonetta is about 2 km away, Milan 30 km.
NEAR = {"lat": 45.1990, "lon": 9.1400}
VAPID_KEY = "BHx-test-application-server-key"
GUIDE_VOLUMES = 24
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _isbn13(body: str) -> str:
    """An ISBN-13 with its check digit, for the many volumes of the guide."""
    return body + str(ean.calc_check_digit(body))


def _dataset() -> dict[str, Any]:
    guides = [
        {
            "id": f"guida{volume:02d}",
            "title": f"Guida di Pavia, volume {volume}",
            "authors": ["Touring Club Italiano"],
            "isbns": [_isbn13(f"978880001{volume:03d}")],
            "materialType": "BOOK",
            "language": "ita",
            "published": "2015",
        }
        for volume in range(1, GUIDE_VOLUMES + 1)
    ]
    guide_copies = [
        {
            "barcode": f"{library}-G{volume:02d}",
            "recordId": f"guida{volume:02d}",
            "libraryId": library,
        }
        for volume in range(1, GUIDE_VOLUMES + 1)
        for library in ("PAV01", "PAV02")
    ]
    return {
        "libraries": [
            {
                "id": "PAV01",
                "name": "Biblioteca delle Scienze",
                "address": "Via Ferrata 1, 27100 Pavia",
                "lat": 45.1987,
                "lon": 9.1396,
                "phone": "+39 0382 985000",
                "email": "scienze@example.org",
                "hours": {day: [["09:00", "18:00"]] for day in WEEKDAYS}
                | {"sat": [["09:00", "12:30"]]},
            },
            {
                "id": "PAV02",
                "name": "Biblioteca civica Bonetta",
                "address": "Corso Garibaldi 1, 27100 Pavia",
                "lat": 45.1870,
                "lon": 9.1610,
                "hours": {
                    "tue": [["09:00", "12:30"], ["14:30", "18:30"]],
                    "wed": [["09:00", "12:30"]],
                },
            },
            {
                "id": "MIL01",
                "name": "Biblioteca Sormani",
                "address": "Corso di Porta Vittoria 6, 20122 Milano",
                "lat": 45.4597,
                "lon": 9.1995,
                "hours": {day: [["09:00", "19:30"]] for day in (*WEEKDAYS, "sat")},
                "closures": ["2026-11-24"],
            },
            # No location and no known hours.
            {"id": "ARC01", "name": "Archivio storico civico"},
        ],
        "records": [
            {
                "id": "barone",
                "title": "Il barone rampante",
                "authors": ["Italo Calvino"],
                "isbns": ["978-88-04-66769-8"],
                "materialType": "BOOK",
                "language": "ita",
                "published": "2016",
            },
            {
                "id": "cavaliere",
                "title": "Il cavaliere inesistente",
                "authors": ["Italo Calvino"],
                "isbns": ["0-8044-2957-X"],
                "materialType": "BOOK",
                "language": "ita",
                "published": "2011",
            },
            {
                "id": "sentiero",
                "title": "Il sentiero dei nidi di ragno",
                "authors": ["Italo Calvino"],
                "materialType": "BOOK",
                "language": "ita",
                "published": "1993",
            },
            {
                "id": "citta",
                "title": "Le città invisibili",
                "authors": ["Italo Calvino"],
                "materialType": "AUDIOBOOK",
                "language": "ita",
                "published": "2020",
            },
            {
                "id": "baron",
                "title": "The Baron in the Trees",
                "authors": ["Italo Calvino"],
                "materialType": "BOOK",
                "language": "eng",
                "published": "2017",
            },
            # A catalogued title with no copy anywhere.
            {
                "id": "lezioni",
                "title": "Lezioni americane",
                "authors": ["Italo Calvino"],
                "isbns": ["9788800000017"],
                "materialType": "BOOK",
                "language": "ita",
                "published": "2012",
            },
            # Published six months ago: under the 18-month embargo on audiovisual material.
            {
                "id": "freccia",
                "title": "La freccia azzurra",
                "authors": ["Gianni Rodari"],
                "materialType": "AUDIOVISUAL",
                "language": "ita",
                "published": "2026-05",
                "section": "CHILDREN",
            },
            {
                "id": "rivista",
                "title": "Internazionale n. 1590",
                "materialType": "PERIODICAL",
                "language": "ita",
                "published": "2026-11",
                "latestIssue": True,
            },
            {
                "id": "atlante",
                "title": "Atlante storico",
                "materialType": "BOOK",
                "language": "ita",
                "published": "2001",
            },
            *guides,
        ],
        "items": [
            {
                "barcode": "PAV01-B1",
                "recordId": "barone",
                "libraryId": "PAV01",
                "callNumber": "853.914 CAL",
            },
            {"barcode": "PAV02-B1", "recordId": "barone", "libraryId": "PAV02"},
            {"barcode": "MIL01-B1", "recordId": "barone", "libraryId": "MIL01"},
            {"barcode": "PAV02-C1", "recordId": "cavaliere", "libraryId": "PAV02"},
            {"barcode": "MIL01-C1", "recordId": "cavaliere", "libraryId": "MIL01"},
            {"barcode": "MIL01-S1", "recordId": "sentiero", "libraryId": "MIL01"},
            {"barcode": "PAV02-S1", "recordId": "sentiero", "libraryId": "PAV02"},
            {"barcode": "MIL01-L1", "recordId": "citta", "libraryId": "MIL01"},
            {"barcode": "MIL01-E1", "recordId": "baron", "libraryId": "MIL01"},
            {"barcode": "PAV01-F1", "recordId": "freccia", "libraryId": "PAV01"},
            {"barcode": "PAV01-R1", "recordId": "rivista", "libraryId": "PAV01"},
            {"barcode": "PAV01-A1", "recordId": "atlante", "libraryId": "PAV01", "loanable": False},
            *guide_copies,
        ],
        "patrons": [
            {
                "cardNumber": f"C000{n}",
                "pin": "1357",
                "name": f"Lettore {n}",
                "homeLibraryId": "PAV01",
            }
            for n in range(1, 5)
        ],
    }


def _policy(tmp_path: Path) -> circulation.Policy:
    """CUBI with two rules of other networks that the statuses need: a 3-day quarantine of
    returned copies and the 18-month embargo on new audiovisual material."""
    cubi = Path(circulation.__file__).parent / "policies" / "cubi.toml"
    path = tmp_path / "cubi-quarantine-embargo.toml"
    path.write_text(
        "quarantine_days = 3\n"
        + cubi.read_text(encoding="utf-8")
        + '\n[embargo]\nmaterial_types = ["AUDIOVISUAL"]\nmonths = 18\n',
        encoding="utf-8",
    )
    return load_policy(path)


@dataclass
class CatalogNetwork:
    """The network the tests ask about, and a way to ask."""

    services: Services
    clock: ManualClock
    circulation: Circulation
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    due_date: date

    async def execute(
        self, text: str, variables: dict[str, Any] | None = None, *, language: Language = "it"
    ) -> ExecutionResult:
        return await schema.execute(
            text,
            variable_values=variables,
            context_value=Context(
                services=self.services,
                language=language,
                address="127.0.0.1",
                bearer_token=None,
            ),
        )

    async def data(
        self, text: str, variables: dict[str, Any] | None = None, *, language: Language = "it"
    ) -> dict[str, Any]:
        result = await self.execute(text, variables, language=language)
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data


async def _patron_id(sessions: async_sessionmaker[AsyncSession], card_number: str) -> int:
    async with sessions() as session:
        patron_id = await session.scalar(select(Patron.id).where(Patron.card_number == card_number))
    assert patron_id is not None
    return patron_id


@pytest.fixture
async def catalog_network(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[CatalogNetwork]:
    """The dataset above, its copies moved by the circulation operations, and the index."""
    clock = ManualClock(NOW)
    network = Circulation(_policy(tmp_path), clock, sessions)
    async with transaction(sessions) as session:
        await load_dataset(session, parse_dataset(_dataset()), now=NOW)

    lent = await checkout(network, card_number="C0001", barcode="PAV02-B1", library_id="PAV02")
    assert lent.value is not None
    # Ready at the Scienze with its own copy; in transit from Milan to the Bonetta; waiting.
    for card_number, pickup in (("C0002", "PAV01"), ("C0003", "PAV02"), ("C0004", "PAV01")):
        held = await place_hold(
            network,
            patron_id=await _patron_id(sessions, card_number),
            record_id="barone",
            pickup_library_id=pickup,
        )
        assert held.ok, held.refusal
    # Back from a loan: three days of quarantine.
    assert (await checkout(network, card_number="C0001", barcode="PAV02-C1", library_id="PAV02")).ok
    assert (await checkin(network, barcode="PAV02-C1", library_id="PAV02")).ok
    for volume in (1, 2, 3):
        outcome = await checkout(
            network, card_number="C0002", barcode=f"PAV01-G{volume:02d}", library_id="PAV01"
        )
        assert outcome.ok, outcome.refusal
    # No operation marks a copy lost (staff do it in the library system).
    async with transaction(sessions) as session:
        await session.execute(
            update(Item).where(Item.barcode == "MIL01-C1").values(status=ItemStatus.LOST)
        )

    backend = EmbeddedSearch(tmp_path / "search.db")
    await backend.start()
    await SearchIndexer(backend, sessions, network).catch_up()
    services = Services(
        sessions=sessions,
        circulation=network,
        search=CatalogSearch(backend),
        authenticator=Authenticator(
            sessions,
            AccessTokens(Ed25519PrivateKey.generate(), lifetime=timedelta(minutes=15)),
            clock,
        ),
        vapid_public_key=VAPID_KEY,
        push_allow_loopback=False,
    )
    try:
        yield CatalogNetwork(services, clock, network, engine, sessions, lent.value.due_date)
    finally:
        await backend.close()


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block, on any engine: reads go to db.reading's engine
    on SQLite (SQLite's explicit BEGIN, which PostgreSQL does not send as a statement, left
    out)."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _meters(lat: float, lon: float) -> float:
    return float(round(distance_meters(NEAR["lat"], NEAR["lon"], lat, lon)))


# ---------------------------------------------------------------- SearchCatalog


async def test_search_forgives_a_typo_and_counts_facets(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    found = (await catalog_network.data(contract_operation("SearchCatalog"), {"query": "calvno"}))[
        "search"
    ]
    titles = {edge["node"]["title"] for edge in found["edges"]}
    assert titles == {
        "Il barone rampante",
        "Il cavaliere inesistente",
        "Il sentiero dei nidi di ragno",
        "Le città invisibili",
        "The Baron in the Trees",
        "Lezioni americane",
    }
    assert found["totalCount"] == 6
    facets = {
        facet["name"]: {value["value"]: value["count"] for value in facet["values"]}
        for facet in found["facets"]
    }
    assert [facet["name"] for facet in found["facets"]] == [
        "materialType",
        "language",
        "library",
        "available",
    ]
    assert facets["materialType"] == {"BOOK": 5, "AUDIOBOOK": 1}
    assert facets["language"] == {"ita": 5, "eng": 1}
    # The lost copy in Milan no longer counts.
    assert facets["library"] == {"PAV01": 1, "PAV02": 3, "MIL01": 4}
    assert facets["available"] == {"true": 3, "false": 3}
    assert found["pageInfo"] == {"hasNextPage": False, "endCursor": None}


async def test_search_prefix_finds_the_title_with_live_availability(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    found = (
        await catalog_network.data(contract_operation("SearchCatalog"), {"query": "il barone ramp"})
    )["search"]
    first = found["edges"][0]["node"]
    assert first == {
        "id": "barone",
        "title": "Il barone rampante",
        "authors": ["Italo Calvino"],
        "publicationYear": 2016,
        "materialType": "BOOK",
        "isbns": ["9788804667698"],
        # One copy lent, one on the hold shelf, one travelling to a hold: none on the shelf.
        "availability": {"total": 3, "available": 0, "nearestAvailable": None},
    }


async def test_search_nearest_available_copy(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("SearchCatalog")
    variables = {"query": "sentiero nidi ragno"}
    far = (await catalog_network.data(operation, variables))["search"]["edges"][0]["node"]
    # Without a position: the first library by name that has a copy on the shelf.
    assert far["availability"] == {
        "total": 2,
        "available": 2,
        "nearestAvailable": {
            "library": {"id": "PAV02", "name": "Biblioteca civica Bonetta"},
            "distanceMeters": None,
        },
    }
    near = (await catalog_network.data(operation, variables | {"near": NEAR}))["search"]
    assert near["edges"][0]["node"]["availability"]["nearestAvailable"] == {
        "library": {"id": "PAV02", "name": "Biblioteca civica Bonetta"},
        "distanceMeters": _meters(45.1870, 9.1610),
    }


async def test_search_availability_is_live_from_the_database(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("SearchCatalog")
    variables = {"query": "sentiero nidi ragno"}
    before = (await catalog_network.data(operation, variables))["search"]["edges"][0]["node"]
    assert before["availability"]["available"] == 2
    # Lent at the desk; the index has not caught up yet, the page already shows it.
    lent = await checkout(
        catalog_network.circulation, card_number="C0003", barcode="PAV02-S1", library_id="PAV02"
    )
    assert lent.ok, lent.refusal
    after = (await catalog_network.data(operation, variables))["search"]["edges"][0]["node"]
    assert after["availability"] == {
        "total": 2,
        "available": 1,
        "nearestAvailable": {
            "library": {"id": "MIL01", "name": "Biblioteca Sormani"},
            "distanceMeters": None,
        },
    }


async def test_search_near_puts_copies_on_the_shelf_first(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    found = (
        await catalog_network.data(
            contract_operation("SearchCatalog"), {"query": "calvino", "near": NEAR}
        )
    )["search"]
    available = [edge["node"]["availability"]["available"] for edge in found["edges"]]
    assert len(available) == 6
    assert all(count > 0 for count in available[:3])
    assert available[3:] == [0, 0, 0]


async def test_search_filters(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("SearchCatalog")

    async def ids(catalog_filter: dict[str, Any], query: str = "calvino") -> set[str]:
        found = await catalog_network.data(operation, {"query": query, "filter": catalog_filter})
        return {edge["node"]["id"] for edge in found["search"]["edges"]}

    assert await ids({"materialTypes": ["AUDIOBOOK"]}) == {"citta"}
    assert await ids({"languages": ["eng"]}) == {"baron"}
    assert await ids({"libraryIds": ["PAV01"]}) == {"barone"}
    assert await ids({"availableOnly": True}) == {"sentiero", "citta", "baron"}
    # Milan's copy of the Cavaliere is lost: it no longer counts as held there.
    assert await ids({"materialTypes": ["BOOK"], "libraryIds": ["MIL01"]}) == {
        "barone",
        "sentiero",
        "baron",
    }
    assert await ids({"materialTypes": ["AUDIOVISUAL"]}, query="freccia") == {"freccia"}


async def test_search_pages_with_cursors(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("SearchCatalog")
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        page = (
            await catalog_network.data(
                operation, {"query": "guida pavia", "first": 10, "after": after}
            )
        )["search"]
        pages += 1
        assert page["totalCount"] == GUIDE_VOLUMES
        seen += [edge["node"]["id"] for edge in page["edges"]]
        cursors = [edge["cursor"] for edge in page["edges"]]
        # Only the last edge says where the next page starts.
        assert cursors == [None] * (len(cursors) - 1) + [page["pageInfo"]["endCursor"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert sorted(seen) == [f"guida{volume:02d}" for volume in range(1, GUIDE_VOLUMES + 1)]


async def test_search_page_size_defaults_to_20_and_stops_at_50(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("SearchCatalog")
    default = (await catalog_network.data(operation, {"query": "guida"}))["search"]
    assert len(default["edges"]) == 20
    assert default["pageInfo"]["hasNextPage"] is True
    most = (await catalog_network.data(operation, {"query": "guida", "first": 500}))["search"]
    assert len(most["edges"]) == GUIDE_VOLUMES


@pytest.mark.parametrize("typed", ["978-88-04-66769-8", "9788804667698", "88-04-66769-9"])
async def test_search_an_isbn_typed_in_the_box(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str], typed: str
) -> None:
    found = (await catalog_network.data(contract_operation("SearchCatalog"), {"query": typed}))[
        "search"
    ]
    assert found["edges"][0]["node"]["id"] == "barone"


async def test_search_isbn10_typed_in_the_box(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    found = (
        await catalog_network.data(contract_operation("SearchCatalog"), {"query": "0-8044-2957-x"})
    )["search"]
    assert [edge["node"]["id"] for edge in found["edges"]] == ["cavaliere"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"after": "not-a-cursor"}, "the cursor is not one this server gave"),
        ({"first": 0}, "first must be between 1 and 50"),
        ({"near": {"lat": 91, "lon": 9}}, "near.lat must be between -90 and 90"),
        ({"near": {"lat": 45, "lon": -181}}, "near.lon must be between -180 and 180"),
    ],
)
async def test_search_refuses_bad_arguments_as_graphql_errors(
    catalog_network: CatalogNetwork,
    contract_operation: Callable[[str], str],
    variables: dict[str, Any],
    message: str,
) -> None:
    result = await catalog_network.execute(
        contract_operation("SearchCatalog"), {"query": "calvino"} | variables
    )
    assert result.errors is not None
    [error] = result.errors
    assert message in error.message
    assert error.extensions == {"code": "BAD_USER_INPUT"}


# ---------------------------------------------------------------- ScanIsbn


async def test_scan_ean13_with_hyphens_shows_the_holdings_nearest_first(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    scanned = (
        await catalog_network.data(
            contract_operation("ScanIsbn"), {"code": "978-88-04-66769-8", "near": NEAR}
        )
    )["scan"]
    assert scanned["__typename"] == "Record"
    assert scanned["id"] == "barone"
    assert scanned["holdQueueLength"] == 1
    assert scanned["holdable"] is True
    assert scanned["holdings"] == [
        {
            "barcode": "PAV01-B1",
            "callNumber": "853.914 CAL",
            "status": "ON_HOLD_SHELF",
            "dueDate": None,
            "availableFrom": None,
            "library": {"id": "PAV01", "name": "Biblioteca delle Scienze"},
            "distanceMeters": _meters(45.1987, 9.1396),
        },
        {
            "barcode": "PAV02-B1",
            "callNumber": None,
            "status": "ON_LOAN",
            "dueDate": catalog_network.due_date.isoformat(),
            "availableFrom": None,
            "library": {"id": "PAV02", "name": "Biblioteca civica Bonetta"},
            "distanceMeters": _meters(45.1870, 9.1610),
        },
        {
            "barcode": "MIL01-B1",
            "callNumber": None,
            "status": "IN_TRANSIT",
            "dueDate": None,
            "availableFrom": None,
            "library": {"id": "MIL01", "name": "Biblioteca Sormani"},
            "distanceMeters": _meters(45.4597, 9.1995),
        },
    ]


@pytest.mark.parametrize(
    ("code", "record_id"),
    [
        ("0-8044-2957-x", "cavaliere"),
        ("978-88-04-66769-8 51299", "barone"),
        ("9788804667698 05", "barone"),
        ("  978 88 0466 7698 ", "barone"),
    ],
)
async def test_scan_reads_isbn10_and_ean_add_ons(
    catalog_network: CatalogNetwork,
    contract_operation: Callable[[str], str],
    code: str,
    record_id: str,
) -> None:
    scanned = (await catalog_network.data(contract_operation("ScanIsbn"), {"code": code}))["scan"]
    assert (scanned["__typename"], scanned["id"]) == ("Record", record_id)


async def test_scan_statuses_of_copies_that_do_not_lend_now(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    scanned = (await catalog_network.data(contract_operation("ScanIsbn"), {"code": "080442957X"}))[
        "scan"
    ]
    # Without a position: by library name.
    assert [
        (holding["barcode"], holding["status"], holding["availableFrom"], holding["distanceMeters"])
        for holding in scanned["holdings"]
    ] == [
        ("PAV02-C1", "IN_QUARANTINE", (NOW.date() + timedelta(days=3)).isoformat(), None),
        ("MIL01-C1", "LOST", None, None),
    ]
    # The quarantined copy lends again, so a hold may be placed.
    assert scanned["holdable"] is True


async def test_scan_a_valid_isbn_not_in_the_catalogue(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    scanned = (
        await catalog_network.data(contract_operation("ScanIsbn"), {"code": "0-306-40615-2"})
    )["scan"]
    assert scanned == {"__typename": "NotInCatalog", "isbn13": "9780306406157"}


async def test_scan_a_record_without_copies(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    scanned = (
        await catalog_network.data(contract_operation("ScanIsbn"), {"code": "978-88-00-00001-7"})
    )["scan"]
    assert scanned["__typename"] == "Record"
    assert scanned["id"] == "lezioni"
    assert scanned["holdings"] == []
    assert scanned["holdable"] is False
    assert scanned["holdQueueLength"] == 0


@pytest.mark.parametrize(
    ("code", "italian", "english"),
    [
        (
            "12345",
            "Questo non è un ISBN: un ISBN ha 10 o 13 caratteri, non 5.",
            "This is not an ISBN: an ISBN has 10 or 13 characters, not 5.",
        ),
        (
            "9788804667699",
            "Questo non è un ISBN: la cifra di controllo è sbagliata.",
            "This is not an ISBN: the check digit is wrong.",
        ),
        (
            "4006381333931",
            "Questo non è un ISBN: un ISBN-13 comincia con 978 o 979.",
            "This is not an ISBN: an ISBN-13 starts with 978 or 979.",
        ),
        (
            "979-0-2300-0000-0",
            "Questo non è un ISBN: 979-0 è un ISMN (musica a stampa), non un libro.",
            "This is not an ISBN: 979-0 is an ISMN (printed music), not a book.",
        ),
        (
            "97888046676A8",
            "Questo non è un ISBN: un ISBN ha solo cifre (e la X come ultima di dieci).",
            "This is not an ISBN: an ISBN has only digits (and X as the last of ten).",
        ),
    ],
)
async def test_scan_says_why_a_code_is_not_an_isbn(
    catalog_network: CatalogNetwork,
    contract_operation: Callable[[str], str],
    code: str,
    italian: str,
    english: str,
) -> None:
    operation = contract_operation("ScanIsbn")
    answers: tuple[tuple[Language, str], ...] = (("it", italian), ("en", english))
    for language, message in answers:
        scanned = (await catalog_network.data(operation, {"code": code}, language=language))["scan"]
        assert scanned == {"__typename": "InvalidCode", "message": message}


# ---------------------------------------------------------------- Record


async def test_record_with_near(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    # The operation declares $near without passing it to `record`: the variable is used.
    record = (
        await catalog_network.data(contract_operation("Record"), {"id": "barone", "near": NEAR})
    )["record"]
    assert [holding["library"]["id"] for holding in record["holdings"]] == [
        "PAV01",
        "PAV02",
        "MIL01",
    ]
    distances = [holding["distanceMeters"] for holding in record["holdings"]]
    assert distances == sorted(distances)
    assert distances[0] < 100


async def test_record_statuses_under_the_rules(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("Record")

    async def detail(record_id: str) -> dict[str, Any]:
        record: dict[str, Any] = (await catalog_network.data(operation, {"id": record_id}))[
            "record"
        ]
        return record

    film = await detail("freccia")
    # 18 months from May 2026.
    assert [(h["status"], h["availableFrom"]) for h in film["holdings"]] == [
        ("EMBARGOED", "2027-11-01")
    ]
    assert film["holdable"] is True

    latest_issue = await detail("rivista")
    assert [h["status"] for h in latest_issue["holdings"]] == ["NOT_FOR_LOAN"]
    assert latest_issue["holdable"] is False

    reference = await detail("atlante")
    assert [h["status"] for h in reference["holdings"]] == ["NOT_FOR_LOAN"]
    assert reference["holdable"] is False

    guide = await detail("guida01")
    assert [(h["barcode"], h["status"]) for h in guide["holdings"]] == [
        ("PAV02-G01", "AVAILABLE"),
        ("PAV01-G01", "ON_LOAN"),
    ]
    assert (await catalog_network.data(operation, {"id": "no-such-record"}))["record"] is None


# ---------------------------------------------------------------- Libraries


async def test_libraries_nearest_first_and_open_now(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("Libraries")
    libraries = (await catalog_network.data(operation, {"near": NEAR}))["libraries"]
    assert [library["id"] for library in libraries] == ["PAV01", "PAV02", "MIL01", "ARC01"]
    assert [library["distanceMeters"] for library in libraries] == [
        _meters(45.1987, 9.1396),
        _meters(45.1870, 9.1610),
        _meters(45.4597, 9.1995),
        None,
    ]
    scienze = libraries[0]
    assert scienze | {"openingHours": None} == {
        "id": "PAV01",
        "name": "Biblioteca delle Scienze",
        "address": "Via Ferrata 1, 27100 Pavia",
        "location": {"lat": 45.1987, "lon": 9.1396},
        "distanceMeters": _meters(45.1987, 9.1396),
        "openNow": True,
        "openingHours": None,
        "phone": "+39 0382 985000",
        "email": "scienze@example.org",
    }
    assert scienze["openingHours"] == [
        {"weekday": weekday, "opens": "09:00", "closes": "18:00"}
        for weekday in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
    ] + [{"weekday": "SATURDAY", "opens": "09:00", "closes": "12:30"}]
    assert libraries[3]["location"] is None
    # Tuesday 10:30: the Bonetta is in its morning hours; Milan is closed for the day; the
    # archive's hours are not known.
    assert [library["openNow"] for library in libraries] == [True, True, False, None]

    catalog_network.clock.set(datetime.combine(NOW.date(), time(13, 0), LIBRARY_TIME_ZONE))
    at_lunch = (await catalog_network.data(operation, {"near": NEAR}))["libraries"]
    assert [library["openNow"] for library in at_lunch] == [True, False, False, None]

    # 8 December, a Tuesday, is a national holiday.
    catalog_network.clock.set(datetime(2026, 12, 8, 10, 30, tzinfo=LIBRARY_TIME_ZONE))
    holiday = (await catalog_network.data(operation, {"near": NEAR}))["libraries"]
    assert [library["openNow"] for library in holiday] == [False, False, False, None]


async def test_libraries_without_near(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    libraries = (await catalog_network.data(contract_operation("Libraries")))["libraries"]
    assert {library["id"] for library in libraries} == {"PAV01", "PAV02", "MIL01", "ARC01"}
    assert {library["distanceMeters"] for library in libraries} == {None}


# ---------------------------------------------------------------- PushPublicKey


async def test_push_public_key(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    assert await catalog_network.data(contract_operation("PushPublicKey")) == {
        "pushPublicKey": VAPID_KEY
    }


# ---------------------------------------------------------------- no N+1


async def test_search_statements_do_not_grow_with_the_page(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("SearchCatalog")
    variables = {"query": "guida pavia", "near": NEAR}
    # The first search reads where the libraries are into the circulation's cache.
    await catalog_network.data(operation, variables | {"first": 1})
    counts = []
    for first in (5, 20):
        with counting_statements() as statements:
            page = await catalog_network.data(operation, variables | {"first": first})
        assert len(page["search"]["edges"]) == first
        counts.append(len(statements))
    # records, their ISBNs, their copies, the libraries with a copy on the shelf.
    assert counts == [4, 4]


async def test_scan_statements_do_not_grow_with_the_copies(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("ScanIsbn")
    counts = []
    # Two copies in two libraries, then three copies in three libraries.
    for code in (_isbn13("978880001001"), "9788804667698"):
        with counting_statements() as statements:
            await catalog_network.data(operation, {"code": code, "near": NEAR})
        counts.append(len(statements))
    # the record by ISBN, its ISBNs, its copies, the hold queue, the libraries, the open loans.
    assert counts == [6, 6]


async def test_libraries_statements_do_not_grow_with_the_network(
    catalog_network: CatalogNetwork, contract_operation: Callable[[str], str]
) -> None:
    operation = contract_operation("Libraries")
    with counting_statements() as statements:
        few = await catalog_network.data(operation, {"near": NEAR})
    counts = [len(statements)]
    async with transaction(catalog_network.sessions) as session:
        for number in range(10):
            session.add(
                Library(
                    id=f"NEW{number}",
                    name=f"Biblioteca nuova {number}",
                    lat=45.0 + number / 100,
                    lon=9.0,
                    hours=[LibraryHours(weekday=0, opens=time(9), closes=time(12))],
                    closures=[LibraryClosure(day=date(2026, 12, 24))],
                )
            )
    with counting_statements() as statements:
        many = await catalog_network.data(operation, {"near": NEAR})
    counts.append(len(statements))
    assert (len(few["libraries"]), len(many["libraries"])) == (4, 14)
    # the libraries, their hours, their closures.
    assert counts == [3, 3]


def test_material_types_match_the_stored_vocabulary() -> None:
    assert [kind.value for kind in MaterialType] == [kind.value for kind in StoredMaterialType]
