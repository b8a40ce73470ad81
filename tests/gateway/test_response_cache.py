"""Answers to ScanIsbn and Record are kept in memory and dropped when the outbox says their record
changed: a change made anywhere (another process, the desk) is seen after the cache catches up,
a change made through this gateway is seen by the very next read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from catalog import load_dataset, parse_dataset
from circulation import checkin, checkout
from db import Item, ItemStatus, OutboxEvent, transaction
from gateway._persisted import PersistedOperations
from gateway._response_cache import (
    FOLLOW_INTERVAL_SECONDS,
    FRESH_SECONDS,
    KEEP_SECONDS,
    KeptAnswer,
    ResponseCache,
)
from gateway._runtime import Runtime
from gateway.app import create_app
from gateway.settings import Settings
from tests.factories import dataset_document

OPERATIONS = {operation.name: operation for operation in PersistedOperations.load()}
ISBN = "9788804667698"  # r1, two copies: PAV01-000001 and PAV02-000001
PAVIA = {"lat": 45.1847, "lon": 9.1582}


@dataclass
class Gateway:
    client: httpx.AsyncClient
    runtime: Runtime
    cache: ResponseCache

    async def post(self, name: str, variables: dict[str, Any], **headers: str) -> Any:
        response = await self.client.post(
            "/graphql",
            json={"query": OPERATIONS[name].text, "variables": variables},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def scan(self) -> dict[str, Any]:
        answer = await self.post("ScanIsbn", {"code": ISBN, "near": PAVIA})
        assert "errors" not in answer, answer
        return dict(answer["data"]["scan"])

    async def lend(self, barcode: str, library_id: str) -> None:
        """A desk lends the copy to Mario Rossi (not through this gateway)."""
        lent = await checkout(
            self.runtime.circulation,
            card_number="RSSMRA85T10A562S",
            barcode=barcode,
            library_id=library_id,
        )
        assert lent.refusal is None

    async def statuses(self) -> dict[str, str]:
        holdings = (await self.scan())["holdings"]
        return {holding["barcode"]: holding["status"] for holding in holdings}


async def _gateway(
    tmp_path: Path,
    database_url: str,
    *,
    follow_interval: float | None = FOLLOW_INTERVAL_SECONDS,
    **settings: Any,
) -> AsyncIterator[Gateway]:
    runtime = Runtime.from_settings(
        Settings(var_dir=tmp_path / "var", database_url=database_url, **settings)
    )
    app = create_app(runtime, worker=False, follow_interval=follow_interval)
    async with app.router.lifespan_context(app):
        async with transaction(runtime.sessions) as session:
            await load_dataset(session, parse_dataset(dataset_document()), now=runtime.clock.now())
        runtime.circulation.forget_libraries()
        # The load's own events, applied now rather than by the follower in mid-test.
        await app.state.response_cache.catch_up()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Gateway(client, runtime, app.state.response_cache)


@pytest.fixture
async def gateway(tmp_path: Path, database_url: str, engine: AsyncEngine) -> AsyncIterator[Gateway]:
    """The app on each database (emptied afterwards by `engine`), with the test dataset."""
    async for made in _gateway(tmp_path, database_url):
        yield made


async def _lose_quietly(runtime: Runtime, barcode: str) -> None:
    """A change that writes no outbox event, which no cache can know of."""
    async with transaction(runtime.sessions) as session:
        await session.execute(
            update(Item).where(Item.barcode == barcode).values(status=ItemStatus.LOST)
        )


async def test_an_answer_is_kept_until_the_outbox_names_its_record(gateway: Gateway) -> None:
    assert await gateway.statuses() == {"PAV01-000001": "AVAILABLE", "PAV02-000001": "AVAILABLE"}
    await _lose_quietly(gateway.runtime, "PAV02-000001")
    # Served from memory: the change behind the outbox's back does not show.
    assert (await gateway.statuses())["PAV02-000001"] == "AVAILABLE"

    await gateway.lend("PAV01-000001", "PAV01")
    await gateway.cache.catch_up()

    assert await gateway.statuses() == {"PAV01-000001": "ON_LOAN", "PAV02-000001": "LOST"}


async def test_the_persisted_hash_and_the_text_share_an_answer(gateway: Gateway) -> None:
    first = await gateway.scan()
    await _lose_quietly(gateway.runtime, "PAV02-000001")
    scan = OPERATIONS["ScanIsbn"]
    response = await gateway.client.get(
        "/graphql",
        params={
            # The variables in another order: the same answer.
            "variables": json.dumps({"near": PAVIA, "code": ISBN}),
            "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": scan.sha256}}),
        },
    )

    assert response.json()["data"]["scan"] == first


async def test_a_change_made_through_the_gateway_shows_in_the_next_read(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    async for gateway in _gateway(tmp_path, database_url, follow_interval=None):
        await _reads_its_own_write(gateway)


async def _reads_its_own_write(gateway: Gateway) -> None:
    # No follower runs: only the mutation's own wait can drop the kept answer.
    circulation = gateway.runtime.circulation
    await gateway.lend("PAV01-000001", "PAV01")
    await gateway.lend("PAV02-000001", "PAV02")
    await gateway.cache.catch_up()
    assert (await gateway.scan())["holdQueueLength"] == 0
    login = await gateway.post("Login", {"cardNumber": "C0001", "pin": "1234"})
    token = login["data"]["login"]["accessToken"]

    placed = await gateway.post("PlaceHold", {"recordId": "r1"}, authorization=f"Bearer {token}")
    assert placed["data"]["placeHold"]["hold"]["status"] == "WAITING", placed
    # No catch_up here: the mutation waited for the cache before answering.
    assert (await gateway.scan())["holdQueueLength"] == 1

    returned = await checkin(circulation, barcode="PAV01-000001", library_id="PAV01")
    assert returned.refusal is None
    await gateway.cache.catch_up()
    after = await gateway.scan()
    assert after["holdQueueLength"] == 0
    assert {holding["status"] for holding in after["holdings"]} == {"ON_HOLD_SHELF", "ON_LOAN"}


async def test_answers_are_kept_per_language_and_only_about_a_record(gateway: Gateway) -> None:
    await gateway.scan()
    variables = {"code": ISBN, "near": PAVIA}
    english = await gateway.post("ScanIsbn", variables, **{"accept-language": "en"})
    assert english["data"]["scan"]["id"] == "r1"
    assert len(gateway.cache) == 2

    invalid = await gateway.post("ScanIsbn", {"code": "12345"})
    assert invalid["data"]["scan"]["__typename"] == "InvalidCode"
    absent = await gateway.post("ScanIsbn", {"code": "9780000000002"})
    assert absent["data"]["scan"]["__typename"] == "NotInCatalog"
    missing_variable = await gateway.post("ScanIsbn", {})
    assert missing_variable["errors"]
    too_long = await gateway.post("ScanIsbn", {"code": "9" * 2000})
    assert too_long["data"]["scan"]["__typename"] == "InvalidCode"
    assert len(gateway.cache) == 2


async def test_the_key_holds_only_the_declared_variables(gateway: Gateway) -> None:
    for junk in range(3):
        answer = await gateway.post(
            "ScanIsbn", {"code": ISBN, "near": PAVIA, "junk": "x" * 500 * junk}
        )
        assert answer["data"]["scan"]["id"] == "r1"
    assert len(gateway.cache) == 1


async def test_a_registered_text_in_another_layout_shares_the_answer(gateway: Gateway) -> None:
    await gateway.scan()
    await _lose_quietly(gateway.runtime, "PAV02-000001")
    # As the PWA writes it (pwa/js/api/operations.js): its own line breaks, with a comment.
    text = OPERATIONS["ScanIsbn"].text.replace("\n", "\n\n  # the PWA's copy\n", 1)
    response = await gateway.client.post(
        "/graphql", json={"query": text, "variables": {"code": ISBN, "near": PAVIA}}
    )

    holdings = response.json()["data"]["scan"]["holdings"]
    assert {holding["status"] for holding in holdings} == {"AVAILABLE"}


async def test_the_record_operation_is_kept_and_dropped(gateway: Gateway) -> None:
    async def statuses() -> set[str]:
        answer = await gateway.post("Record", {"id": "r1", "near": PAVIA})
        return {holding["status"] for holding in answer["data"]["record"]["holdings"]}

    assert await statuses() == {"AVAILABLE"}
    await _lose_quietly(gateway.runtime, "PAV02-000001")
    assert await statuses() == {"AVAILABLE"}
    await gateway.lend("PAV01-000001", "PAV01")
    await gateway.cache.catch_up()

    assert await statuses() == {"ON_LOAN", "LOST"}


async def test_a_kept_answer_carries_no_header_of_the_request_that_made_it(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    origin = "https://pwa.example.org"
    async for gateway in _gateway(tmp_path, database_url, pwa_origin=origin):
        body = {"query": OPERATIONS["ScanIsbn"].text, "variables": {"code": ISBN, "near": PAVIA}}
        first = await gateway.client.post(
            "/graphql", json=body, headers={"origin": origin, "x-request-id": "first"}
        )
        second = await gateway.client.post("/graphql", json=body, headers={"x-request-id": "2"})

        assert first.headers["access-control-allow-origin"] == origin
        assert "access-control-allow-origin" not in second.headers
        assert second.headers.get_list("x-request-id") == ["2"]
        assert second.content == first.content
        assert len(gateway.cache) == 1


@pytest.mark.parametrize(
    "query_string",
    [
        "operationName=&variables={}",
        "operationName=ScanIsbn&operationName=ScanIsbn",
        "query=x&query=y",
    ],
)
async def test_odd_get_requests_are_judged_by_the_app(gateway: Gateway, query_string: str) -> None:
    scan = OPERATIONS["ScanIsbn"]
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": scan.sha256}})
    variables = json.dumps({"code": ISBN, "near": PAVIA})
    plain = f"variables={variables}&extensions={extensions}"
    kept = await gateway.client.get(f"/graphql?{plain}")
    assert kept.json()["data"]["scan"]["id"] == "r1"
    await _lose_quietly(gateway.runtime, "PAV02-000001")

    odd = await gateway.client.get(f"/graphql?{plain}&{query_string}")

    # The app's own answer (refused, or read afresh), never the one kept.
    assert odd.status_code == 400 or "errors" in odd.json() or "LOST" in odd.text, odd.text


async def test_an_operation_name_that_is_no_string_is_a_bad_request(gateway: Gateway) -> None:
    await gateway.scan()
    response = await gateway.client.post(
        "/graphql",
        json={
            "query": OPERATIONS["ScanIsbn"].text,
            "variables": {"code": ISBN, "near": PAVIA},
            "operationName": ["ScanIsbn"],
        },
    )

    assert response.status_code == 400


async def test_another_writers_change_is_seen_without_asking(gateway: Gateway) -> None:
    assert (await gateway.statuses())["PAV01-000001"] == "AVAILABLE"
    await gateway.lend("PAV01-000001", "PAV01")

    # The follower runs every FOLLOW_INTERVAL_SECONDS: no one calls catch_up here.
    for _ in range(100):
        if (await gateway.statuses())["PAV01-000001"] == "ON_LOAN":
            break
        await asyncio.sleep(FOLLOW_INTERVAL_SECONDS)
    else:
        pytest.fail("the follower did not drop the answer")


async def test_a_catalogue_change_drops_every_answer(gateway: Gateway) -> None:
    await gateway.scan()
    await gateway.post("Record", {"id": "r2", "near": None})
    assert len(gateway.cache) == 2
    document = dataset_document()
    document["records"][1]["title"] = "La freccia azzurra (nuova edizione)"
    async with transaction(gateway.runtime.sessions) as session:
        await load_dataset(session, parse_dataset(document), now=gateway.runtime.clock.now())
    await gateway.cache.catch_up()

    assert len(gateway.cache) == 0


async def test_with_a_size_of_zero_nothing_is_kept(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    async for gateway in _gateway(tmp_path, database_url, response_cache_size=0):
        await gateway.scan()
        await _lose_quietly(gateway.runtime, "PAV02-000001")
        assert (await gateway.statuses())["PAV02-000001"] == "LOST"
        assert len(gateway.cache) == 0


# ---------------------------------------------------------------- the cache alone

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _answer(record_id: str) -> KeptAnswer:
    return KeptAnswer([], b"{}", record_id)


class Timer:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _event(event_type: str, payload: dict[str, Any]) -> OutboxEvent:
    return OutboxEvent(event_type=event_type, payload=payload, occurred_at=AT)


async def _following(gateway: Gateway, timer: Timer | None = None) -> ResponseCache:
    cache = ResponseCache(gateway.runtime.sessions, size=2, timer=timer or Timer())
    await cache.catch_up()
    return cache


async def test_an_answer_computed_while_its_record_changed_is_not_kept(gateway: Gateway) -> None:
    cache = await _following(gateway)
    mark = cache.begin()
    other = cache.begin()
    cache.apply([_event("ITEM_STATUS_CHANGED", {"itemId": 1, "recordId": "r1"})])

    cache.keep(mark, ("r1",), _answer("r1"))
    cache.keep(other, ("r2",), _answer("r2"))

    assert cache.get(("r1",)) is None
    assert cache.get(("r2",)) is not None


async def test_events_drop_their_record_all_or_nothing(gateway: Gateway) -> None:
    cache = await _following(gateway)
    for key in ("r1", "r2"):
        cache.keep(cache.begin(), (key,), _answer(key))

    cache.apply([_event("OVERDUE", {"patronId": 1, "loans": []})])
    cache.apply([_event("HOLD_PICKUP_REMINDER", {"holdId": 1, "recordId": "r1"})])
    assert len(cache) == 2
    cache.apply([_event("LOAN_RENEWED", {"loanId": 1, "recordId": "r1"})])
    assert cache.get(("r1",)) is None
    assert cache.get(("r2",)) is not None
    cache.apply([_event("SOMETHING_NEW", {"what": "unknown"})])
    assert len(cache) == 0


async def test_the_least_recently_used_answer_goes_first(gateway: Gateway) -> None:
    cache = await _following(gateway)
    for key in ("r1", "r2"):
        cache.keep(cache.begin(), (key,), _answer(key))
    cache.get(("r1",))
    cache.keep(cache.begin(), ("r3",), _answer("r3"))

    assert cache.get(("r2",)) is None
    assert cache.get(("r1",)) is not None
    assert cache.get(("r3",)) is not None


async def test_nothing_is_kept_before_the_cache_follows_the_outbox(gateway: Gateway) -> None:
    cache = ResponseCache(gateway.runtime.sessions, size=2)
    cache.keep(cache.begin(), ("r1",), _answer("r1"))

    assert len(cache) == 0


async def test_nothing_is_served_when_the_outbox_was_not_read_lately(gateway: Gateway) -> None:
    timer = Timer()
    cache = await _following(gateway, timer)
    cache.keep(cache.begin(), ("r1",), _answer("r1"))
    timer.now += FRESH_SECONDS
    assert cache.get(("r1",)) is not None

    timer.now += 0.01
    assert cache.get(("r1",)) is None
    await cache.catch_up()
    assert cache.get(("r1",)) is not None


async def test_an_answer_is_kept_for_a_limited_time(gateway: Gateway) -> None:
    timer = Timer()
    cache = await _following(gateway, timer)
    cache.keep(cache.begin(), ("r1",), _answer("r1"))
    timer.now += KEEP_SECONDS + 0.01
    await cache.catch_up()

    assert cache.get(("r1",)) is None
    assert len(cache) == 0
