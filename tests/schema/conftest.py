"""Shared by the schema tests: the contract's operations, run as clients send them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from graphql import (
    DefinitionNode,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    OperationDefinitionNode,
    parse,
    print_ast,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import ExecutionResult

from auth import AccessTokens, Authenticator
from catalog import load_dataset, parse_dataset
from circulation import (
    LIBRARY_TIME_ZONE,
    Circulation,
    Language,
    ManualClock,
    SystemClock,
    load_policy,
    run_scheduled_work,
)
from db import Patron, transaction
from schema import Context, Services, schema
from search import CatalogSearch, EmbeddedSearch

CONTRACT_OPERATIONS = (
    Path(__file__).resolve().parents[3] / "shared" / "contract" / "operations.graphql"
)


def _spreads(node: Node) -> set[str]:
    """The names of the fragments spread anywhere inside `node`."""
    found: set[str] = set()
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FragmentSpreadNode):
            found.add(current.name.value)
        for key in current.keys:
            value = getattr(current, key, None)
            children = value if isinstance(value, tuple | list) else (value,)
            stack.extend(child for child in children if isinstance(child, Node))
    return found


@pytest.fixture(scope="session")
def contract_operation() -> Callable[[str], str]:
    """The text of one named operation of the contract with the fragments it uses. Executing
    the whole file would validate every operation, including those other parts of the schema
    have not built yet."""
    if not CONTRACT_OPERATIONS.is_file():
        pytest.fail(f"{CONTRACT_OPERATIONS} is missing")
    document = parse(CONTRACT_OPERATIONS.read_text(encoding="utf-8"))
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }

    def operation(name: str) -> str:
        [chosen] = [
            definition
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
            and definition.name is not None
            and definition.name.value == name
        ]
        needed: list[DefinitionNode] = [chosen]
        pending = _spreads(chosen)
        seen: set[str] = set()
        while pending:
            fragment = fragments[pending.pop()]
            seen.add(fragment.name.value)
            needed.append(fragment)
            pending |= _spreads(fragment) - seen
        return print_ast(DocumentNode(definitions=tuple(needed)))

    return operation


# ---------------------------------------------------------------- the patron's account and the desk

# A Monday morning in Pavia, far from holidays.
ACCOUNT_START = datetime(2026, 3, 2, 10, 0, tzinfo=LIBRARY_TIME_ZONE)
ACCOUNT_PINS = {"C0001": "1234", "C0002": "4321", "STAFF01": "9876"}


def _account_dataset() -> dict[str, Any]:
    hours = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
    books = ("barone", "visconte", "cavaliere", "marcovaldo", "citta", "lezioni")
    return {
        "libraries": [
            {
                "id": "PAV01",
                "name": "Biblioteca delle Scienze",
                "lat": 45.1987,
                "lon": 9.1396,
                "hours": hours,
            },
            {
                "id": "PAV02",
                "name": "Biblioteca civica Bonetta",
                "lat": 45.1870,
                "lon": 9.1610,
                "hours": hours,
            },
            {
                "id": "MIL01",
                "name": "Biblioteca Sormani",
                "lat": 45.4603,
                "lon": 9.1960,
                "hours": hours,
            },
        ],
        "records": [
            {
                "id": record_id,
                "title": record_id.capitalize(),
                "authors": ["Italo Calvino"],
                "materialType": "BOOK",
                "published": "1990",
            }
            for record_id in books
        ]
        + [
            {"id": "rivista", "title": "Rivista", "materialType": "PERIODICAL", "published": "2020"}
        ],
        "items": [
            {"barcode": f"PAV01-{record_id}", "recordId": record_id, "libraryId": "PAV01"}
            for record_id in (*books, "rivista")
        ]
        + [{"barcode": "PAV02-barone", "recordId": "barone", "libraryId": "PAV02"}],
        "patrons": [
            {
                "cardNumber": "C0001",
                "pin": ACCOUNT_PINS["C0001"],
                "name": "Maria Rossi",
                "homeLibraryId": "PAV01",
                "email": "maria@example.org",
                "phone": "+393331234567",
            },
            {
                "cardNumber": "C0002",
                "pin": ACCOUNT_PINS["C0002"],
                "name": "Luca Bianchi",
                "homeLibraryId": "PAV02",
            },
            {
                "cardNumber": "STAFF01",
                "pin": ACCOUNT_PINS["STAFF01"],
                "name": "Banco prestiti",
                "homeLibraryId": "PAV01",
                "role": "staff",
            },
        ],
    }


def codes(payload: dict[str, Any]) -> list[str]:
    """The codes of a payload's errors."""
    return [error["code"] for error in payload["errors"]]


def unauthenticated(result: ExecutionResult) -> bool:
    """A GraphQL error UNAUTHENTICATED, and nothing answered."""
    found = [error.extensions["code"] for error in result.errors or () if error.extensions]
    return found == ["UNAUTHENTICATED"] and not any((result.data or {}).values())


def bad_user_input(result: ExecutionResult) -> bool:
    return result.errors is not None and result.errors[0].extensions == {"code": "BAD_USER_INPUT"}


@dataclass
class AccountNetwork:
    """A small network in a real database, the schema to ask it through, and sign-in."""

    services: Services
    clock: ManualClock
    circulation: Circulation
    sessions: async_sessionmaker[AsyncSession]
    contract_operation: Callable[[str], str]

    async def run(
        self,
        operation: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        language: Language = "it",
        services: Services | None = None,
    ) -> ExecutionResult:
        """The contract's operation `operation`, as a client sends it."""
        return await schema.execute(
            self.contract_operation(operation),
            variable_values=variables,
            operation_name=operation,
            context_value=Context(
                services=services or self.services,
                language=language,
                address="192.0.2.1",
                bearer_token=token,
            ),
        )

    async def data(
        self,
        operation: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        language: Language = "it",
        services: Services | None = None,
    ) -> dict[str, Any]:
        """The answer of an operation that must not fail as GraphQL."""
        result = await self.run(
            operation, variables, token=token, language=language, services=services
        )
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data

    async def login(self, card_number: str) -> tuple[str, str]:
        """An access token and a refresh token for the card (its dataset PIN)."""
        answer = await self.data(
            "Login", {"cardNumber": card_number, "pin": ACCOUNT_PINS[card_number]}
        )
        assert answer["login"]["errors"] == [], answer
        return answer["login"]["accessToken"], answer["login"]["refreshToken"]

    async def patron_id(self, card_number: str) -> int:
        async with self.sessions() as session:
            patron_id = await session.scalar(
                select(Patron.id).where(Patron.card_number == card_number)
            )
        assert patron_id is not None
        return patron_id

    async def advance(self, *, days: int) -> None:
        """Move circulation time and do the work due by then, as the worker would."""
        self.clock.set(self.clock.now() + timedelta(days=days))
        await run_scheduled_work(self.circulation)


@pytest.fixture
async def account_network(
    sessions: async_sessionmaker[AsyncSession],
    contract_operation: Callable[[str], str],
    tmp_path: Path,
) -> AsyncIterator[AccountNetwork]:
    """The network above under CUBI at ACCOUNT_START; sign-in on the real clock, as served."""
    clock = ManualClock(ACCOUNT_START)
    network = Circulation(load_policy("cubi"), clock, sessions)
    async with transaction(sessions) as session:
        await load_dataset(session, parse_dataset(_account_dataset()), now=ACCOUNT_START)
    backend = EmbeddedSearch(tmp_path / "search.db")
    services = Services(
        sessions=sessions,
        circulation=network,
        search=CatalogSearch(backend),
        authenticator=Authenticator(
            sessions,
            AccessTokens(Ed25519PrivateKey.generate(), lifetime=timedelta(minutes=15)),
            SystemClock(),
        ),
        vapid_public_key="BHx-test-application-server-key",
        push_allow_loopback=False,
    )
    try:
        yield AccountNetwork(services, clock, network, sessions, contract_operation)
    finally:
        await backend.close()
