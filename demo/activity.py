"""Bring the demo library to life: loans (a few due soon, one overdue), holds waiting and one
ready for pickup, all made through the circulation operations over the past weeks.

Run after `tessera load demo/dataset.json` with the same settings; does nothing when the
database already has loans.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from circulation import (
    Circulation,
    ManualClock,
    Outcome,
    SystemClock,
    checkout,
    load_policy,
    place_hold,
    run_scheduled_work,
)
from db import Item, ItemStatus, Loan, MaterialType, Patron, Record
from gateway._runtime import Runtime
from gateway.settings import Settings

DESK = "IT-PV0071"  # Biblioteca civica Carlo Bonetta, Pavia


def _report(what: str, outcome: Outcome[object]) -> None:
    if outcome.refusal is not None:
        print(f"  {what}: refused ({outcome.refusal.code}) {outcome.refusal.message('en')}")
    else:
        print(f"  {what}")


async def stage(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        if await session.scalar(select(func.count()).select_from(Loan)):
            print("The demo library already has loans: nothing to stage.")
            return
        books = list(
            await session.execute(
                select(Item.barcode, Item.record_id)
                .join(Record, Record.id == Item.record_id)
                .where(
                    Item.library_id == DESK,
                    Item.loanable.is_(True),
                    Item.status == ItemStatus.AVAILABLE,
                    Record.material_type == MaterialType.BOOK,
                    Record.latest_issue.is_(False),
                )
                .order_by(Item.barcode)
            )
        )
        patrons = {
            patron.card_number: patron
            for patron in await session.scalars(select(Patron).where(Patron.role == "PATRON"))
        }
    # One copy per title, so that each step below concerns a title of its own.
    first_copy: dict[str, str] = {}
    for barcode, record_id in books:
        first_copy.setdefault(record_id, barcode)
    titles = [(barcode, record_id) for record_id, barcode in first_copy.items()][:8]
    now = SystemClock().now()
    clock = ManualClock(now - timedelta(days=33))
    circulation = Circulation(load_policy(runtime.settings.network), clock, runtime.sessions)

    async def at(days_ago: int) -> None:
        clock.set(now - timedelta(days=days_ago))
        await run_scheduled_work(circulation)

    async def lend(card: str, index: int) -> None:
        barcode, _ = titles[index]
        outcome = await checkout(circulation, card_number=card, barcode=barcode, library_id=DESK)
        _report(f"{card} borrows {barcode}", outcome)

    async def hold(card: str, index: int) -> None:
        _, record_id = titles[index]
        outcome = await place_hold(
            circulation, patron_id=patrons[card].id, record_id=record_id, pickup_library_id=DESK
        )
        _report(f"{card} places a hold on {record_id}", outcome)

    print("Staging the demo library's last weeks:")
    await at(33)
    await lend("C0002", 0)  # due three days ago: overdue
    await at(28)
    for index in (1, 2, 3):
        await lend("C0001", index)  # due in two days
    await at(12)
    await lend("C0003", 4)
    await at(5)
    await hold("C0001", 4)  # waits for C0003's copy: first in the queue
    await hold("C0004", 4)  # second
    await at(1)
    await hold("C0005", 5)  # a copy on the shelf: ready for pickup
    clock.set(now)
    report = await run_scheduled_work(circulation)
    print(f"  scheduled work up to now: {report}")


async def main() -> None:
    runtime = Runtime.from_settings(Settings())
    await runtime.start()
    try:
        await stage(runtime)
    finally:
        await runtime.close()


if __name__ == "__main__":
    asyncio.run(main())
