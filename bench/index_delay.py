"""How long a copy returned at the desk takes to show as on the shelf in search results.

Loads the demo dataset into a temporary SQLite database, runs the index loop as `tessera
serve` does, then for a number of copies: lends one (so search says no copy on the shelf at
its library), checks it in, and measures the time until a search for its record filtered to
that library's shelf finds it. The baseline, measured in the same run, is rebuilding the whole
index (what a system without the outbox would do to show the change).

    .venv/bin/python bench/index_delay.py [--copies 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from catalog import load_dataset, read_dataset
from circulation import checkin, checkout
from db import Item, ItemStatus, Patron, Record, transaction
from gateway._runtime import Runtime
from gateway.settings import Settings
from search import SearchRequest

DATASET = Path(__file__).resolve().parents[1] / "demo" / "dataset.json"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=20)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ.pop("TESSERA_DATABASE_URL", None)
        runtime = Runtime.from_settings(Settings(var_dir=Path(folder)))
        await runtime.start()
        async with transaction(runtime.sessions) as session:
            await load_dataset(session, read_dataset(DATASET), now=runtime.clock.now())
        started = time.perf_counter()
        await runtime.indexer.rebuild()
        rebuild = time.perf_counter() - started
        async with runtime.sessions() as session:
            card = await session.scalar(select(Patron.card_number).where(Patron.role == "PATRON"))
            copies = (
                await session.execute(
                    select(Item.barcode, Item.library_id, Record.title)
                    .join(Record, Record.id == Item.record_id)
                    .where(Item.status == ItemStatus.AVAILABLE, Item.loanable.is_(True))
                    .order_by(Item.barcode)
                    .limit(arguments.copies)
                )
            ).all()
        assert card is not None
        worker = asyncio.create_task(runtime.work_forever(schedule_interval=3600))
        delays: list[float] = []
        for barcode, library_id, title in copies:
            lent = await checkout(
                runtime.circulation, card_number=card, barcode=barcode, library_id=library_id
            )
            if lent.refusal is not None:
                continue
            request = SearchRequest(query=title, available_at=(library_id,), limit=50)
            await runtime.indexer.catch_up()
            returned_at = time.perf_counter()
            await checkin(runtime.circulation, barcode=barcode, library_id=library_id)
            # As the gateway does after every mutation it serves.
            runtime.nudge_index()
            while True:
                page = await runtime.search_backend.search(request)
                if await _shelved(runtime, barcode, page.record_ids):
                    break
                await asyncio.sleep(0.01)
            delays.append(time.perf_counter() - returned_at)
        worker.cancel()
        await runtime.close()
    median = statistics.median(delays)
    print(f"checkin to search result on the shelf, {len(delays)} copies:")
    print(f"  median {median * 1000:.0f} ms, worst {max(delays) * 1000:.0f} ms")
    print(
        f"  baseline (rebuild the whole index): {rebuild * 1000:.0f} ms "
        f"-> {rebuild / median:.1f}x slower than following the outbox"
    )


async def _shelved(runtime: Runtime, barcode: str, found: list[str]) -> bool:
    async with runtime.sessions() as session:
        record_id = await session.scalar(select(Item.record_id).where(Item.barcode == barcode))
    return record_id in found


if __name__ == "__main__":
    asyncio.run(main())
