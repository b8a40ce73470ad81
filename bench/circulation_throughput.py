"""Circulation throughput: place-hold, renew and checkin on SQLite and PostgreSQL.

Loads 100k items (50k records) and 10k patrons, then runs each operation from 16 concurrent
clients and prints operations/s with p50/p99 latency and this process's CPU time per operation
(steadier than operations/s when other work shares the machine), beside a baseline measured in
the same run: a bare transaction that inserts one hold row, with none of the rules. After the
run the limits are checked to be exact (no patron above the hold limit, no item lent twice).

    .venv/bin/python bench/circulation_throughput.py [--operations 3000] [--concurrency 16]
        [--skip-sqlite] [--skip-postgres]
PostgreSQL is found at TESSERA_BENCH_POSTGRES_URL (default: the local server).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import tempfile
import time as timer
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from pathlib import Path

from _postgres import temporary_database
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from auth import hash_pin
from circulation import (
    LIBRARY_TIME_ZONE,
    Circulation,
    ManualClock,
    checkin,
    checkout,
    load_policy,
    place_hold,
    renew_loan,
)
from db import (
    Hold,
    HoldStatus,
    Item,
    Library,
    LibraryHours,
    Loan,
    MaterialType,
    Patron,
    Record,
    create_engine,
    create_session_factory,
    transaction,
    upgrade,
)

LIBRARIES = 20
RECORDS = 50_000
ITEMS_PER_RECORD = 2
PATRONS = 10_000
START = datetime(2026, 3, 2, 10, 0, tzinfo=LIBRARY_TIME_ZONE)


@dataclass(frozen=True)
class Figures:
    name: str
    operations: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds

    def line(self, baseline: Figures | None = None) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        ratio = f"  {self.per_second / baseline.per_second:5.2f}x baseline" if baseline else ""
        cpu = self.cpu_seconds / self.operations * 1000
        return (
            f"  {self.name:<22} {self.per_second:8.0f} ops/s   p50 {p50:6.2f} ms   "
            f"p99 {p99:7.2f} ms   cpu {cpu:5.2f} ms/op{ratio}"
        )


async def _populate(engine: AsyncEngine) -> None:
    """The catalogue and patrons, written in bulk (setup, not measured)."""
    rng = random.Random(7)
    pin_hash = hash_pin("2468")
    async with engine.begin() as connection:
        await connection.execute(
            insert(Library),
            [
                {"id": f"L{n:02d}", "name": f"Library {n}", "lat": 45 + n / 100, "lon": 9 + n / 100}
                for n in range(LIBRARIES)
            ],
        )
        await connection.execute(
            insert(LibraryHours),
            [
                {"library_id": f"L{n:02d}", "weekday": day, "opens": time(9), "closes": time(18)}
                for n in range(LIBRARIES)
                for day in range(6)
            ],
        )
        for start in range(0, RECORDS, 5000):
            await connection.execute(
                insert(Record),
                [
                    {
                        "id": f"r{n}",
                        "title": f"Record {n}",
                        "authors": [],
                        "subjects": [],
                        "material_type": MaterialType.BOOK,
                        "section": "ADULT",
                        "latest_issue": False,
                    }
                    for n in range(start, start + 5000)
                ],
            )
        for start in range(0, RECORDS, 5000):
            await connection.execute(
                insert(Item),
                [
                    {
                        "barcode": f"B{n}-{copy}",
                        "record_id": f"r{n}",
                        "library_id": (library := f"L{rng.randrange(LIBRARIES):02d}"),
                        "location_library_id": library,
                        "loanable": True,
                        "loan_type": "ORDINARY",
                        "status": "AVAILABLE",
                    }
                    for n in range(start, start + 5000)
                    for copy in range(ITEMS_PER_RECORD)
                ],
            )
        await connection.execute(
            insert(Patron),
            [
                {
                    "card_number": f"P{n:05d}",
                    "pin_hash": pin_hash,
                    "name": f"Patron {n}",
                    "category": "ADULT",
                    "home_library_id": f"L{n % LIBRARIES:02d}",
                    "role": "PATRON",
                    "standing": "OK",
                    "notify_push": True,
                    "notify_sms": False,
                    "language": "it",
                }
                for n in range(PATRONS)
            ],
        )


async def _measure(
    name: str, calls: Sequence[Callable[[], Awaitable[object]]], concurrency: int
) -> Figures:
    queue = list(calls)
    latencies: list[float] = []

    async def client() -> None:
        while queue:
            call = queue.pop()
            started = timer.perf_counter()
            await call()
            latencies.append(timer.perf_counter() - started)

    started, cpu_started = timer.perf_counter(), timer.process_time()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Figures(
        name,
        len(latencies),
        timer.perf_counter() - started,
        latencies,
        timer.process_time() - cpu_started,
    )


async def _run(url: str, label: str, operations: int, concurrency: int) -> None:
    engine = create_engine(url, pool_size=concurrency)
    await upgrade(engine)
    started = timer.perf_counter()
    await _populate(engine)
    print(
        f"{label}: loaded {RECORDS * ITEMS_PER_RECORD:,} items, {PATRONS:,} patrons in "
        f"{timer.perf_counter() - started:.1f} s"
    )
    sessions = create_session_factory(engine)
    clock = ManualClock(START - timedelta(days=25))
    circulation = Circulation(load_policy("cubi"), clock, sessions)
    async with sessions() as session:
        patron_ids = list(await session.scalars(select(Patron.id).order_by(Patron.id)))
    rng = random.Random(11)

    # Renew and checkin: loans made 25 days ago are inside the renewal window today.
    lenders = rng.sample(patron_ids, operations // 10 + 1)
    loan_items = [f"B{n}-1" for n in rng.sample(range(RECORDS // 2, RECORDS), operations)]
    async with sessions() as session:
        cards = dict((await session.execute(select(Patron.id, Patron.card_number))).all())
    for index, barcode in enumerate(loan_items):
        await checkout(
            circulation,
            card_number=cards[lenders[index % len(lenders)]],
            barcode=barcode,
            library_id="L00",
        )
    clock.set(START)

    # As `tessera serve` does before serving: what exists now is kept out of the collector's walks.
    gc.collect()
    gc.freeze()

    # Baseline: one bare transaction per operation, inserting a hold row with no rules.
    baseline_records = rng.sample(range(RECORDS // 2, RECORDS), operations)

    async def bare_insert(record: int, patron_id: int) -> None:
        async with transaction(sessions) as session:
            await session.execute(
                insert(Hold).values(
                    patron_id=patron_id,
                    record_id=f"r{record}",
                    pickup_library_id="L00",
                    status=HoldStatus.CANCELLED,
                    placed_at=START,
                )
            )

    baseline_pairs = [(record, rng.choice(patron_ids)) for record in baseline_records]
    baseline = await _measure(
        "baseline (bare insert)",
        [partial(bare_insert, record, patron) for record, patron in baseline_pairs],
        concurrency,
    )

    # Place-hold: random patrons on random records (some copies on the shelf are set aside).
    hold_pairs = [
        (record, rng.choice(patron_ids)) for record in rng.sample(range(RECORDS // 2), operations)
    ]
    holds = await _measure(
        "place-hold",
        [
            partial(place_hold, circulation, patron_id=patron, record_id=f"r{record}")
            for record, patron in hold_pairs
        ],
        concurrency,
    )

    async with sessions() as session:
        loans = list((await session.execute(select(Loan.id, Loan.patron_id))).all())
    renewals = await _measure(
        "renew",
        [
            partial(renew_loan, circulation, loan_id=loan_id, patron_id=patron_id)
            for loan_id, patron_id in loans
        ],
        concurrency,
    )
    checkins = await _measure(
        "checkin",
        [partial(checkin, circulation, barcode=b, library_id="L00") for b in loan_items],
        concurrency,
    )

    print(f"{label}: {operations} operations each, {concurrency} concurrent clients")
    print(baseline.line())
    for figures in (holds, renewals, checkins):
        print(figures.line(baseline))

    async with sessions() as session:
        active = Hold.status.in_([HoldStatus.WAITING, HoldStatus.IN_TRANSIT, HoldStatus.READY])
        most_holds = await session.scalar(
            select(func.max(text("n"))).select_from(
                select(func.count().label("n")).where(active).group_by(Hold.patron_id).subquery()
            )
        )
        open_loans = await session.scalar(
            select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))
        )
    limit = circulation.policy.limits.holds
    print(
        f"  limits: most active holds of a patron {most_holds} (limit {limit}); "
        f"open loans left {open_loans}"
    )
    assert most_holds is not None
    assert most_holds <= limit, "hold limit exceeded"
    assert open_loans == 0, "every loan was checked in"
    await engine.dispose()
    gc.unfreeze()  # the next database's run starts with this one's objects collectable


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    arguments = parser.parse_args()
    if not arguments.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            await _run(url, "SQLite", arguments.operations, arguments.concurrency)
    if not arguments.skip_postgres:
        url, drop = await temporary_database()
        try:
            await _run(url, "PostgreSQL", arguments.operations, arguments.concurrency)
        finally:
            await drop()


if __name__ == "__main__":
    asyncio.run(main())
