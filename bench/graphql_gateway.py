"""The GraphQL gateway under load: wrk on loopback against `tessera serve` (one uvicorn worker,
the demo dataset staged as `make run` stages it), beside the same work done without it.

For ScanIsbn, SearchCatalog and Me (and ScanIsbn sent as a persisted query, by hash), wrk runs
at concurrency 32 for 30 s and prints requests/s and p50/p95/p99; every response is checked
(HTTP 200, no GraphQL errors). ScanIsbn's answers are kept by the gateway until the outbox says
the record changed (gateway/_response_cache.py); it is measured again on a second server that
keeps none (TESSERA_RESPONSE_CACHE_SIZE=0), where every request reads the database.
Measured in the same run:
- direct: the operation's domain calls (the same reads and rules, through the same DataLoaders
  and circulation views) made in this process by 32 tasks for the same time, building the same
  data as plain dicts: the gateway's overhead is the ratio of times per request;
- floor: a plain FastAPI route (`GET /scan/{code}`, in a uvicorn worker of its own) returning the
  ScanIsbn data as JSON from those direct calls, and the same route answering from an answer it
  keeps (what HTTP and FastAPI alone allow on this machine).
Aim: ScanIsbn at 2,000 requests/s or more on one worker, at most 3x the floor's time per request
(the gateway keeping answers against the floor keeping its answer; the gateway keeping none
against the floor computing each).

    .venv/bin/python bench/graphql_gateway.py [--duration 30] [--connections 32]
Needs wrk (Debian package `wrk`; `make bench-tools` installs it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from _postgres import temporary_database
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

import db
from catalog import InvalidIsbn, normalize_isbn, record_with_isbn
from circulation import GeoPoint, fee_summary, hold_views, loan_views
from gateway._persisted import PersistedOperations
from gateway._runtime import Runtime
from gateway.settings import Settings
from schema import Context, Services
from schema._loaders import (
    due_dates_by_item,
    hold_queue_lengths,
    isbns_by_record,
    items_by_record,
    libraries_by_id,
    records_by_id,
)
from schema.catalog.search import libraries_by_distance
from schema.catalog.types import holding_status
from search import SearchRequest, on_the_shelf

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATASET = ROOT / "demo" / "dataset.json"
PAVIA = {"lat": 45.1847, "lon": 9.1582}
PAVIA_POINT = GeoPoint(lat=PAVIA["lat"], lon=PAVIA["lon"])
ME_CARD = "C0001"  # the demo patron with loans and a hold (demo/activity.py)
SEARCH_QUERY = "new zealand"  # two words, 518 of the demo records


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _operation_text(name: str) -> tuple[str, str]:
    """The registered text of a contract operation and its SHA-256."""
    operation = next(found for found in PersistedOperations.load() if found.name == name)
    return operation.text, operation.sha256


# -- the same work without GraphQL


def services_of(runtime: Runtime) -> Services:
    return Services(
        sessions=runtime.sessions,
        circulation=runtime.circulation,
        search=runtime.search,
        authenticator=runtime.authenticator,
        vapid_public_key="",
        push_allow_loopback=False,
        test_clock=None,
    )


def _library(row: db.Library | None) -> dict[str, str] | None:
    return None if row is None else {"id": row.id, "name": row.name}


async def scan_data(services: Services, code: str) -> dict[str, Any]:
    """ScanIsbn's data: the record of the ISBN with its holdings, as the resolvers read it."""
    context = Context(services=services, language="it", address="bench", bearer_token=None)
    circulation = services.circulation
    try:
        isbn13 = normalize_isbn(code, allow_addon=True)
    except InvalidIsbn as error:
        return {"__typename": "InvalidCode", "message": error.reason}
    async with db.reading(services.sessions) as session:
        row = await record_with_isbn(session, isbn13)
    if row is None:
        return {"__typename": "NotInCatalog", "isbn13": isbn13}
    isbns, queue, copies = await asyncio.gather(
        isbns_by_record(context).load(row.id),
        hold_queue_lengths(context).load(row.id),
        items_by_record(context).load(row.id),
    )
    lent = [copy.id for copy in copies if copy.status is db.ItemStatus.ON_LOAN]
    libraries, due_dates = await asyncio.gather(
        libraries_by_id(context).load_many([copy.library_id for copy in copies]),
        due_dates_by_item(context).load_many(lent),
    )
    due = dict(zip(lent, due_dates, strict=True))
    holdings = []
    for copy, library in zip(copies, libraries, strict=True):
        status, available_from = holding_status(circulation, copy, row)
        holdings.append(
            {
                "barcode": copy.barcode,
                "callNumber": copy.call_number,
                "status": status.value,
                "dueDate": str(due[copy.id]) if copy.id in due else None,
                "availableFrom": str(available_from) if available_from else None,
                "library": _library(library),
            }
        )
    return {
        "__typename": "Record",
        "id": row.id,
        "title": row.title,
        "authors": list(row.authors),
        "publicationYear": row.published_on.year if row.published_on else None,
        "materialType": row.material_type.value,
        "isbns": isbns,
        "holdQueueLength": queue,
        "holdable": circulation.not_holdable(row, copies) is None,
        "holdings": holdings,
    }


async def search_data(services: Services, query: str) -> dict[str, Any]:
    """SearchCatalog's data: a page of 20 with availability, nearest first from Pavia."""
    context = Context(services=services, language="it", address="bench", bearer_token=None)
    circulation = services.circulation
    nearest = await libraries_by_distance(context, PAVIA_POINT)
    results = await services.search.search(SearchRequest(query=query), nearest_libraries=nearest)
    found = await records_by_id(context).load_many(results.record_ids)
    records = [record for record in found if record is not None]
    # All at once, as GraphQL resolves the page's fields: each loader reads once for the page.
    isbn_lists, copy_lists = await asyncio.gather(
        isbns_by_record(context).load_many([record.id for record in records]),
        items_by_record(context).load_many([record.id for record in records]),
    )
    shelves = [
        [copy for copy in copies if on_the_shelf(circulation, copy, record)]
        for record, copies in zip(records, copy_lists, strict=True)
    ]
    library_lists = await asyncio.gather(
        *(
            libraries_by_id(context).load_many(
                sorted({copy.location_library_id or copy.library_id for copy in shelved})
            )
            for shelved in shelves
        )
    )
    nodes = [
        {
            "id": record.id,
            "title": record.title,
            "isbns": isbns,
            "availability": {
                "total": len(copies),
                "available": len(shelved),
                "nearestAvailable": _library(libraries[0]) if libraries else None,
            },
        }
        for record, isbns, copies, shelved, libraries in zip(
            records, isbn_lists, copy_lists, shelves, library_lists, strict=True
        )
    ]
    return {"totalCount": results.total, "edges": nodes, "endCursor": results.next_cursor}


async def me_data(services: Services, patron_id: int) -> dict[str, Any]:
    """Me's data: standing, loans, holds and fees of one patron."""
    circulation = services.circulation
    async with db.reading(services.sessions) as session:
        patron = await session.get(db.Patron, patron_id)
    assert patron is not None

    async def standing() -> object:
        async with db.reading(services.sessions) as session:
            return await circulation.standing(session, patron)

    async def loans() -> list[Any]:
        async with db.reading(services.sessions) as session:
            return await loan_views(circulation, session, patron)

    async def holds() -> list[Any]:
        async with db.reading(services.sessions) as session:
            return await hold_views(circulation, session, patron)

    async def fees() -> object:
        async with db.reading(services.sessions) as session:
            return await fee_summary(circulation, session, patron)

    standing_now, loan_list, hold_list, fee_list = await asyncio.gather(
        standing(), loans(), holds(), fees()
    )
    return {
        "id": patron.id,
        "standing": repr(standing_now),
        "loans": [
            {"id": view.loan.id, "dueDate": str(view.loan.due_date), "title": view.record.title}
            for view in loan_list
        ],
        "holds": [{"id": view.hold.id, "position": view.position} for view in hold_list],
        "fees": repr(fee_list),
    }


# -- load


@dataclass(frozen=True)
class Figures:
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failures: int

    @property
    def ms_per_request(self) -> float:
        return 1000 / self.requests_per_second

    def line(self, label: str) -> str:
        return (
            f"  {label:<34} {self.requests_per_second:9.0f} req/s   p50 {self.p50_ms:6.2f} ms"
            f"   p95 {self.p95_ms:6.2f} ms   p99 {self.p99_ms:6.2f} ms   failures {self.failures}"
        )


_WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = [==[{body}]==]
{headers}
failures = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then failures = failures + 1 end
end
local threads = {{}}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("failures") end
  failed = failed + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), failed))
end
"""


def wrk(
    url: str,
    *,
    body: str = "",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    connections: int,
    duration: int,
) -> Figures:
    """wrk (one thread: the server gets the other core) for `duration` seconds."""
    header_lines = "\n".join(
        f'wrk.headers["{name}"] = "{value}"' for name, value in (headers or {}).items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT.format(method=method, body=body, headers=header_lines))
    try:
        output = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(script.name)
    if output.returncode != 0:
        raise RuntimeError(f"wrk failed: {output.stderr or output.stdout}")
    lines = output.stdout.splitlines()
    line = next(line for line in lines if line.startswith("RESULT "))
    requests, micros, p50, p95, p99, failures = (int(part) for part in line.split()[1:])
    return Figures(requests / (micros / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, failures)


async def direct(work: Callable[[], Awaitable[object]], *, tasks: int, duration: int) -> Figures:
    """`work` called by `tasks` tasks at once for `duration` seconds, in this process."""
    latencies: list[float] = []
    deadline = time.perf_counter() + duration

    async def client() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await work()
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(tasks)))
    elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return Figures(len(latencies) / elapsed, cuts[49] * 1e3, cuts[94] * 1e3, cuts[98] * 1e3, 0)


# -- servers


def floor_app(runtime: Runtime) -> FastAPI:
    """A plain FastAPI app: ScanIsbn's data as JSON, no GraphQL."""
    services = services_of(runtime)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        yield
        await runtime.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/scan/{code}")
    async def scan(code: str) -> JSONResponse:
        return JSONResponse({"data": {"scan": await scan_data(services, code)}})

    answers: dict[str, JSONResponse] = {}

    @app.get("/kept/{code}")
    async def scan_once(code: str) -> JSONResponse:
        """The same answer, read once and kept: what HTTP and FastAPI alone cost."""
        if code not in answers:
            answers[code] = await scan(code)
        return answers[code]

    return app


def serve_floor(port: int) -> None:
    runtime = Runtime.from_settings(Settings())
    uvicorn.run(floor_app(runtime), host="127.0.0.1", port=port, log_level="warning")


@contextmanager
def running(command: list[str], *, env: dict[str, str], port: int) -> Iterator[str]:
    """A server process, until it answers on `port`; stopped on the way out."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code in (200, 404):
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{command[0]} did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _substantial(data: dict[str, Any] | None) -> bool:
    """Whether an answer carries what the operation is measured for: a record, a page of
    results, a patron with loans."""
    if not data:
        return False
    if "scan" in data:
        return bool(data["scan"]["__typename"] == "Record")
    if "search" in data:
        return bool(data["search"]["edges"])
    return bool(data["me"] and data["me"]["loans"])


def demo_pin(card_number: str) -> str:
    """The PIN of a demo patron, from the dataset."""
    patrons = json.loads(DATASET.read_text(encoding="utf-8"))["patrons"]
    return str(next(patron["pin"] for patron in patrons if patron["cardNumber"] == card_number))


def stage(env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "tessera"), "load", str(DATASET)], env=env, check=True)
    subprocess.run(
        [str(BIN / "python"), str(ROOT / "demo" / "activity.py")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def inputs(runtime: Runtime) -> tuple[str, int]:
    """The ISBN of the record with most copies, and the id of the Me patron."""
    async with runtime.sessions() as session:
        isbn = await session.scalar(
            select(db.RecordIsbn.isbn13)
            .join(db.Item, db.Item.record_id == db.RecordIsbn.record_id)
            .group_by(db.RecordIsbn.isbn13)
            .order_by(func.count().desc(), db.RecordIsbn.isbn13)
            .limit(1)
        )
        patron_id = await session.scalar(
            select(db.Patron.id).where(db.Patron.card_number == ME_CARD)
        )
    if isbn is None or patron_id is None:
        raise SystemExit(f"the demo dataset has no copy with an ISBN or no patron {ME_CARD}")
    return isbn, patron_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on a temporary PostgreSQL database (TESSERA_BENCH_POSTGRES_URL) instead of SQLite",
    )
    parser.add_argument("--floor-port", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.floor_port is not None:
        serve_floor(arguments.floor_port)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `make bench-tools` (or apt-get install wrk)")
    drop = None
    if arguments.postgres:
        database_url, drop = asyncio.run(temporary_database())
        os.environ["TESSERA_DATABASE_URL"] = database_url
    try:
        with tempfile.TemporaryDirectory() as var_dir:
            os.environ["TESSERA_VAR_DIR"] = var_dir
            run(arguments.duration, arguments.connections)
    finally:
        if drop is not None:
            asyncio.run(drop())


def run(duration: int, connections: int) -> None:
    """The whole comparison, on the settings in the environment."""
    env = dict(os.environ)
    stage(env)

    async def prepare() -> tuple[str, int]:
        runtime = Runtime.from_settings(Settings())
        await runtime.start()
        try:
            return await inputs(runtime)
        finally:
            await runtime.close()

    isbn, patron_id = asyncio.run(prepare())
    pin = demo_pin(ME_CARD)
    port, floor_port = _free_port(), _free_port()
    serve = [str(BIN / "tessera"), "serve", "--port", str(port)]
    floor = [str(BIN / "python"), __file__, "--floor-port", str(floor_port)]
    print(
        f"wrk -t1 -c{connections} -d{duration}s on loopback; one uvicorn worker each;"
        f" demo dataset; ScanIsbn {isbn}, SearchCatalog {SEARCH_QUERY!r}, Me {ME_CARD}"
    )
    gateway: dict[str, Figures] = {}
    scan_text, scan_hash = _operation_text("ScanIsbn")
    scan_variables = {"code": isbn, "near": PAVIA}
    scan_body: dict[str, Any] = {"query": scan_text, "variables": scan_variables}

    def load(base: str, bodies: dict[str, dict[str, Any]], headers: dict[str, str]) -> None:
        for label, body in bodies.items():
            answer = httpx.post(f"{base}/graphql", json=body, headers=headers).json()
            if "errors" in answer or not _substantial(answer.get("data")):
                raise SystemExit(f"{label} does not answer as it should: {answer}")
            gateway[label] = wrk(
                f"{base}/graphql",
                method="POST",
                body=json.dumps(body),
                headers=headers,
                connections=connections,
                duration=duration,
            )
            print(gateway[label].line(f"gateway {label}"), flush=True)

    with running(serve, env=env, port=port) as base:
        login_text, _ = _operation_text("Login")
        login = httpx.post(
            f"{base}/graphql",
            json={"query": login_text, "variables": {"cardNumber": ME_CARD, "pin": pin}},
        ).json()["data"]["login"]
        token = login["accessToken"]
        search_text, _ = _operation_text("SearchCatalog")
        me_text, _ = _operation_text("Me")
        bodies = {
            "ScanIsbn": scan_body,
            "ScanIsbn (persisted hash)": {
                "variables": scan_variables,
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": scan_hash}},
            },
            "SearchCatalog": {
                "query": search_text,
                "variables": {"query": SEARCH_QUERY, "near": PAVIA, "first": 20},
            },
            "Me": {"query": me_text},
        }
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        load(base, bodies, headers)
    nothing_kept = {**env, "TESSERA_RESPONSE_CACHE_SIZE": "0"}
    with running(serve, env=nothing_kept, port=port) as base:
        load(base, {"ScanIsbn (nothing kept)": scan_body}, {"Content-Type": "application/json"})
    with running(floor, env=env, port=floor_port) as base:
        answer = httpx.get(f"{base}/scan/{isbn}").json()
        if answer["data"]["scan"]["__typename"] != "Record":
            raise SystemExit(f"the floor does not answer as it should: {answer}")
        floor_figures = wrk(f"{base}/scan/{isbn}", connections=connections, duration=duration)
        print(floor_figures.line("floor ScanIsbn (FastAPI)"), flush=True)
        kept_figures = wrk(f"{base}/kept/{isbn}", connections=connections, duration=duration)
        print(kept_figures.line("FastAPI, the answer kept"), flush=True)

    async def measure_directly() -> dict[str, Figures]:
        runtime = Runtime.from_settings(Settings())
        await runtime.start()
        services = services_of(runtime)
        try:
            works: dict[str, Callable[[], Awaitable[object]]] = {
                "ScanIsbn": lambda: scan_data(services, isbn),
                "SearchCatalog": lambda: search_data(services, SEARCH_QUERY),
                "Me": lambda: me_data(services, patron_id),
            }
            found = {}
            for label, work in works.items():
                found[label] = await direct(work, tasks=connections, duration=duration)
                print(found[label].line(f"direct {label}"), flush=True)
            return found
        finally:
            await runtime.close()

    direct_figures = asyncio.run(measure_directly())
    print("Time per request, gateway over direct domain calls (the gateway's overhead):")
    for label in ("ScanIsbn (nothing kept)", "SearchCatalog", "Me"):
        plain = direct_figures[label.split(" ")[0]]
        ratio = gateway[label].ms_per_request / plain.ms_per_request
        print(f"  {label:<34} {ratio:6.2f}x")
    comparisons = (
        ("ScanIsbn", kept_figures, "the floor keeping its answer"),
        ("ScanIsbn (persisted hash)", kept_figures, "the floor keeping its answer"),
        ("ScanIsbn (nothing kept)", floor_figures, "the floor computing each answer"),
    )
    for label, against, what in comparisons:
        ratio = gateway[label].ms_per_request / against.ms_per_request
        verdict = "met" if gateway[label].requests_per_second >= 2000 and ratio <= 3 else "missed"
        print(
            f"{label}: {gateway[label].requests_per_second:.0f} req/s, {ratio:.2f}x the time per"
            f" request of {what} (aim: >= 2,000 req/s and <= 3x): {verdict}"
        )


if __name__ == "__main__":
    main()
