"""Push throughput, and the due-soon scan over a million loans.

1. N notifications (half HOLD_READY, half DUE_SOON, each to a subscription of its own, really
   encrypted and VAPID-signed) to a local push service that answers every request after 50 ms
   (a process of its own, on 127.0.0.1), sent by push's WebPushSender through one pooled
   client; then by pywebpush's `webpush_async` on one shared aiohttp session with the same
   concurrency (the alternative measured); then by pywebpush's own synchronous `webpush()`, one
   at a time, as the baseline (on a few hundred, and extrapolated to N).
2. Circulation's due-soon step (`_due_soon`) over 1,000,000 open loans on PostgreSQL, in a
   temporary database bulk-loaded with COPY and dropped at the end.

    .venv/bin/python bench/push_throughput.py [--notifications 10000] [--concurrency 300]
        [--alternative 2000] [--baseline 200] [--loans 1000000] [--skip-scan]
PostgreSQL is found at TESSERA_BENCH_POSTGRES_URL (default: the local server).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import uvloop
from _postgres import asyncpg_dsn, temporary_database
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import webpush, webpush_async
from sqlalchemy import func, select, text

from circulation import LIBRARY_TIME_ZONE, Circulation, ManualClock, WorkReport, load_policy
from circulation._scheduler import _due_soon
from db import Library, Loan, Record, create_engine, create_session_factory, transaction, upgrade
from push._messages import DueLoan, Message, due_soon, hold_ready
from push._notifier import Notifier
from push._webpush import PushTarget, WebPushSender

SUBJECT = "mailto:bench@example.org"
RESPONSE_DELAY = 0.05
START = datetime(2026, 3, 2, 10, 0, tzinfo=LIBRARY_TIME_ZONE)


# -- the local push service (run as `--serve PORTFILE` in a process of its own) --------------


async def _serve(port_file: str) -> None:
    received = 0

    async def push(request: web.Request) -> web.Response:
        nonlocal received
        await request.read()
        await asyncio.sleep(RESPONSE_DELAY)
        received += 1
        return web.Response(status=201)

    async def count(_: web.Request) -> web.Response:
        return web.json_response({"received": received})

    app = web.Application()
    app.router.add_post("/push/{token}", push)
    app.router.add_get("/count", count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    await web.SockSite(runner, sock).start()
    _write(port_file, str(sock.getsockname()[1]))
    await asyncio.Event().wait()


def _write(path: str, text: str) -> None:
    Path(path).write_text(text)


def _start_service() -> tuple[subprocess.Popen[bytes], str]:
    folder = tempfile.mkdtemp()
    port_file = Path(folder) / "port"
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file)])
    for _ in range(200):
        if port_file.exists() and port_file.read_text():
            return process, f"http://127.0.0.1:{port_file.read_text()}"
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the local push service did not start")


async def _received(origin: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{origin}/count") as response:
        return int((await response.json())["received"])


# -- the notifications ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Notification:
    target: PushTarget
    message: Message

    @property
    def payload(self) -> bytes:
        return json.dumps(self.message.push_payload(), ensure_ascii=False).encode()


def _notifications(origin: str, count: int) -> list[Notification]:
    made = []
    for number in range(count):
        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        point = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        target = PushTarget(f"{origin}/push/{number}", _b64(point), _b64(os.urandom(16)))
        if number % 2:
            message = hold_ready(
                language="it",
                hold_id=number,
                title="Il barone rampante",
                library="Biblioteca delle Scienze",
                deadline=date(2026, 3, 9),
            )
        else:
            loans = [DueLoan("Marcovaldo", date(2026, 3, 5), True, None)] * 2
            message = due_soon(language="it", event_id=number, loans=loans)
        made.append(Notification(target, message))
    return made


async def _ours(
    key: ec.EllipticCurvePrivateKey, batch: list[Notification], concurrency: int
) -> float:
    sender = WebPushSender(
        private_key=key, subject=SUBJECT, allow_loopback=True, concurrency=concurrency
    )
    try:
        began = time.perf_counter()
        results = await asyncio.gather(
            *(
                sender.send(
                    n.target,
                    n.payload,
                    ttl=n.message.ttl,
                    urgency=n.message.urgency,
                    topic=n.message.tag,
                )
                for n in batch
            )
        )
        elapsed = time.perf_counter() - began
    finally:
        await sender.close()
    failed = [r for r in results if r.outcome != "sent"]
    if failed:
        raise RuntimeError(f"{len(failed)} not sent, e.g. {failed[0]}")
    return elapsed


def _subscription(n: Notification) -> dict[str, str | bytes | dict[str, str | bytes]]:
    return {
        "endpoint": n.target.endpoint,
        "keys": {"p256dh": n.target.p256dh, "auth": n.target.auth},
    }


def _headers(n: Notification) -> dict[str, str | int | float]:
    return {"Urgency": n.message.urgency, "Topic": n.message.tag}


async def _webpush_async(
    key: ec.EllipticCurvePrivateKey, batch: list[Notification], concurrency: int
) -> float:
    vapid = Vapid02(private_key=key)
    slots = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: Notification) -> None:
            async with slots:
                await webpush_async(
                    _subscription(n),
                    n.payload.decode(),
                    vapid_private_key=vapid,
                    # webpush mutates the claims it is given: a fresh dict for every call.
                    vapid_claims={"sub": SUBJECT},
                    ttl=n.message.ttl,
                    headers=_headers(n),
                    aiohttp_session=session,
                )

        began = time.perf_counter()
        await asyncio.gather(*(one(n) for n in batch))
        return time.perf_counter() - began


def _webpush_sync(key: ec.EllipticCurvePrivateKey, batch: list[Notification]) -> float:
    vapid = Vapid02(private_key=key)
    began = time.perf_counter()
    for n in batch:
        webpush(
            _subscription(n),
            n.payload.decode(),
            vapid_private_key=vapid,
            vapid_claims={"sub": SUBJECT},
            ttl=n.message.ttl,
            headers=_headers(n),
        )
    return time.perf_counter() - began


async def push_throughput(arguments: argparse.Namespace) -> None:
    process, origin = _start_service()
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        count = arguments.notifications
        batch = _notifications(origin, count)
        print(f"push: {count} notifications (HOLD_READY and DUE_SOON), service answers in 50 ms")
        ours = await _ours(key, batch, arguments.concurrency)
        ours_rate = count / ours
        print(
            f"  WebPushSender, pooled aiohttp, VAPID cached, concurrency {arguments.concurrency}:"
            f" {count} in {ours:.2f} s = {ours_rate:,.0f}/s"
        )
        alternative = batch[: arguments.alternative]
        elapsed = await _webpush_async(key, alternative, arguments.concurrency)
        print(
            f"  pywebpush webpush_async, one shared session, same concurrency:"
            f" {len(alternative)} in {elapsed:.2f} s = {len(alternative) / elapsed:,.0f}/s"
        )
        sample = batch[: arguments.baseline]
        elapsed = await asyncio.to_thread(_webpush_sync, key, sample)
        each = elapsed / len(sample)
        print(
            f"  baseline pywebpush webpush(), synchronous, one at a time: {len(sample)} in"
            f" {elapsed:.2f} s = {1 / each:,.1f}/s; measured on {len(sample)}, extrapolated:"
            f" {count} would take {each * count:,.0f} s"
        )
        print(f"  ratio: {ours_rate * each:,.0f}x the baseline")
        expected = count + len(alternative) + len(sample)
        received = await _received(origin)
        assert received == expected, f"the service received {received}, expected {expected}"
    finally:
        process.terminate()
        process.wait()


# -- the whole notifier, end to end -------------------------------------------------------


async def _copy_patrons(connection: asyncpg.Connection, card_numbers: Iterable[str]) -> None:
    """Adult patrons of library L1, reached by push only, one per card number."""
    await connection.copy_records_to_table(
        "patrons",
        columns=[
            "card_number",
            "pin_hash",
            "name",
            "category",
            "home_library_id",
            "role",
            "standing",
            "notify_push",
            "notify_sms",
            "language",
        ],
        records=(
            (card, "x", "Patron", "ADULT", "L1", "PATRON", "OK", True, False, "it")
            for card in card_numbers
        ),
    )


async def _load_notifications(dsn: str, origin: str, patrons: int) -> None:
    """`patrons` patrons with a device each, a READY hold each (HOLD_READY) and a loan due in
    three days each (DUE_SOON): 2 x `patrons` events in the outbox."""
    connection = await asyncpg.connect(dsn)
    today = START.date()
    try:
        await connection.execute("INSERT INTO libraries (id, name) VALUES ('L1', 'Biblioteca')")
        await connection.copy_records_to_table(
            "records",
            columns=[
                "id",
                "title",
                "authors",
                "material_type",
                "section",
                "subjects",
                "latest_issue",
            ],
            records=(
                (f"r{n}", f"Title {n}", "[]", "BOOK", "ADULT", "[]", False)
                for n in range(2 * patrons)
            ),
        )
        await connection.copy_records_to_table(
            "items",
            columns=[
                "barcode",
                "record_id",
                "library_id",
                "location_library_id",
                "loanable",
                "loan_type",
                "status",
            ],
            records=(
                (
                    f"B{n}",
                    f"r{n}",
                    "L1",
                    "L1",
                    True,
                    "ORDINARY",
                    "ON_HOLD_SHELF" if n < patrons else "ON_LOAN",
                )
                for n in range(2 * patrons)
            ),
        )
        await _copy_patrons(connection, (f"C{n}" for n in range(patrons)))
        deadline = today + timedelta(days=7)
        await connection.copy_records_to_table(
            "holds",
            columns=[
                "patron_id",
                "record_id",
                "pickup_library_id",
                "status",
                "placed_at",
                "item_id",
                "ready_at",
                "pickup_deadline",
                "pickup_reminder_sent",
            ],
            records=(
                (n + 1, f"r{n}", "L1", "READY", START, n + 1, START, deadline, False)
                for n in range(patrons)
            ),
        )
        due = today + timedelta(days=3)
        await connection.copy_records_to_table(
            "loans",
            columns=[
                "item_id",
                "patron_id",
                "library_id",
                "loaned_at",
                "due_date",
                "renewals_used",
                "overdue_reminders_sent",
                "due_soon_notice_for",
            ],
            records=((patrons + n + 1, n + 1, "L1", START, due, 0, 0, due) for n in range(patrons)),
        )
        await connection.copy_records_to_table(
            "push_subscriptions",
            columns=["patron_id", "endpoint", "p256dh", "auth", "created_at"],
            records=(
                (n + 1, f"{origin}/push/{n}", *_browser_keys(), START) for n in range(patrons)
            ),
        )
        events = []
        for n in range(patrons):
            events.append(
                (
                    "HOLD_READY",
                    json.dumps(
                        {
                            "holdId": n + 1,
                            "patronId": n + 1,
                            "recordId": f"r{n}",
                            "pickupLibraryId": "L1",
                            "pickupDeadline": deadline.isoformat(),
                        }
                    ),
                    START,
                )
            )
            events.append(
                (
                    "DUE_SOON",
                    json.dumps(
                        {
                            "patronId": n + 1,
                            "loans": [{"loanId": n + 1, "dueDate": due.isoformat()}],
                        }
                    ),
                    START,
                )
            )
        await connection.copy_records_to_table(
            "outbox", columns=["event_type", "payload", "occurred_at"], records=events
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _browser_keys() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64(point), _b64(os.urandom(16))


async def end_to_end(arguments: argparse.Namespace) -> None:
    process, origin = _start_service()
    url, drop = await temporary_database()
    dsn = asyncpg_dsn(url)
    try:
        engine = create_engine(url)
        await upgrade(engine)
        patrons = arguments.notifications // 2
        await _load_notifications(dsn, origin, patrons)
        sessions = create_session_factory(engine)
        circulation = Circulation(load_policy("cubi"), ManualClock(START), sessions)
        async with Notifier(
            circulation=circulation,
            vapid_private_key=ec.generate_private_key(ec.SECP256R1()),
            vapid_subject=SUBJECT,
            allow_loopback=True,
            concurrency=arguments.concurrency,
            batch_size=1000,
        ) as notifier:
            began = time.perf_counter()
            report = await notifier.deliver_due()
            elapsed = time.perf_counter() - began
        await engine.dispose()
        assert report.sent == 2 * patrons, report
        print(
            f"notifier end to end on PostgreSQL (outbox -> deliveries -> claim, build the text"
            f" with loan views -> send -> mark): {report.sent:,} in {elapsed:.2f} s ="
            f" {report.sent / elapsed:,.0f}/s"
        )
    finally:
        process.terminate()
        process.wait()
        await drop()


# -- the due-soon scan ---------------------------------------------------------------------


async def _load_loans(url: str, dsn: str, loans: int, today: date) -> None:
    """`loans` open loans of 100,000 patrons, due from 5 days ago to 29 days ahead (a month's
    lending), one copy each: COPY, as a migration or an import would."""
    engine = create_engine(url)
    await upgrade(engine)
    async with transaction(create_session_factory(engine)) as session:
        session.add(Library(id="L1", name="Biblioteca"))
        session.add_all(
            Record(id=f"r{n}", title=f"Title {n}", material_type="BOOK") for n in range(1000)
        )
    await engine.dispose()
    patrons = 100_000
    connection = await asyncpg.connect(dsn)
    try:
        await _copy_patrons(connection, (f"C{n:07d}" for n in range(patrons)))
        await connection.copy_records_to_table(
            "items",
            columns=[
                "barcode",
                "record_id",
                "library_id",
                "location_library_id",
                "loanable",
                "loan_type",
                "status",
            ],
            records=(
                (f"B{n:08d}", f"r{n % 1000}", "L1", "L1", True, "ORDINARY", "ON_LOAN")
                for n in range(loans)
            ),
        )
        loaned_at = datetime.combine(today, datetime.min.time(), tzinfo=LIBRARY_TIME_ZONE)
        await connection.copy_records_to_table(
            "loans",
            columns=[
                "item_id",
                "patron_id",
                "library_id",
                "loaned_at",
                "due_date",
                "renewals_used",
                "overdue_reminders_sent",
            ],
            records=(
                (n + 1, n % patrons + 1, "L1", loaned_at, today + timedelta(days=n % 35 - 5), 0, 0)
                for n in range(loans)
            ),
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


_SET_BASED = text(
    """
    WITH marked AS (
        UPDATE loans SET due_soon_notice_for = due_date
        WHERE returned_at IS NULL AND due_date >= :today AND due_date <= :horizon
          AND (due_soon_notice_for IS NULL OR due_soon_notice_for <> due_date)
        RETURNING id, patron_id, due_date
    )
    INSERT INTO outbox (event_type, payload, occurred_at)
    SELECT 'DUE_SOON',
           json_build_object('patronId', patron_id, 'loans', json_agg(
               json_build_object('loanId', id, 'dueDate', due_date) ORDER BY due_date, id)),
           :now
    FROM marked GROUP BY patron_id ORDER BY patron_id
    RETURNING id
    """
)


def _bounds(today: date, horizon: date) -> dict[str, object]:
    return {"today": today, "horizon": horizon, "now": START}


async def _timed_step(circulation: Circulation) -> tuple[float, int]:
    """Circulation's own due-soon step in its transaction: seconds, and digests written."""
    report = WorkReport()
    began = time.perf_counter()
    async with transaction(circulation.sessions) as session:
        await _due_soon(circulation, session, report)
    return time.perf_counter() - began, report.due_soon_notices


async def due_soon_scan(loans: int) -> None:
    url, drop = await temporary_database()
    dsn = asyncpg_dsn(url)
    try:
        today = START.date()
        began = time.perf_counter()
        await _load_loans(url, dsn, loans, today)
        loaded = time.perf_counter() - began
        print(f"due-soon scan: {loans:,} open loans loaded (COPY) in {loaded:.1f} s")
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        circulation = Circulation(load_policy("cubi"), ManualClock(START), sessions)
        days = circulation.policy.notices.due_soon_days
        horizon = today + timedelta(days=days)
        async with sessions() as session:
            began = time.perf_counter()
            due = await session.scalar(
                select(func.count())
                .select_from(Loan)
                .where(Loan.returned_at.is_(None), Loan.due_date >= today, Loan.due_date <= horizon)
            )
            query = time.perf_counter() - began
        cold = await _timed_step(circulation)
        print(
            f"  the index finds the {due:,} loans due by {horizon} in {query:.2f} s"
            f"\n  circulation's _due_soon, first run (every loan of the {days + 1} days unmarked):"
            f" {cold[1]:,} digests in {cold[0]:.2f} s"
        )
        async with transaction(sessions) as session:
            await session.execute(text("UPDATE loans SET due_soon_notice_for = NULL"))
        async with sessions() as session, session.begin():
            began = time.perf_counter()
            digests = len((await session.execute(_SET_BASED, _bounds(today, horizon))).all())
            equivalent = time.perf_counter() - began
            await session.rollback()
        print(
            f"  the equivalent set-based statement (UPDATE ... RETURNING into one INSERT):"
            f" {digests:,} digests in {equivalent:.2f} s"
        )
        async with transaction(sessions) as session:
            await session.execute(
                text(
                    "UPDATE loans SET due_soon_notice_for = due_date"
                    " WHERE returned_at IS NULL AND due_date < :horizon"
                ),
                {"horizon": horizon},
            )
        daily = await _timed_step(circulation)
        await engine.dispose()
        print(
            f"  _due_soon in steady state (only the day newly within the horizon):"
            f" {daily[1]:,} digests in {daily[0]:.2f} s (aim: under 5 s)"
        )
    finally:
        await drop()
        print("  temporary database dropped")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=300)
    parser.add_argument("--alternative", type=int, default=2000)
    parser.add_argument("--baseline", type=int, default=200)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--skip-scan", action="store_true")
    parser.add_argument("--skip-push", action="store_true")
    parser.add_argument("--skip-end-to-end", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        await _serve(arguments.serve)
        return
    cores, load = os.cpu_count(), os.getloadavg()[0]
    # Figures on a shared machine move with what else runs on it: say how busy it was.
    print(f"{cores} cores, load average {load:.1f} at the start")
    if not arguments.skip_push:
        await push_throughput(arguments)
    if not arguments.skip_end_to_end:
        await end_to_end(arguments)
    if not arguments.skip_scan:
        await due_soon_scan(arguments.loans)


if __name__ == "__main__":
    # The event loop the server runs on (uvicorn takes uvloop when it is installed).
    uvloop.run(main())
