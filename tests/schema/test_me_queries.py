"""`Me` reads each relation once, however many loans and holds the patron has."""

from __future__ import annotations

from dataclasses import replace

from circulation import Circulation, checkout, load_policy
from db import Item, MaterialType, Record, transaction
from tests.schema.conftest import AccountNetwork
from tests.schema.test_catalog import counting_statements


async def _lend_books(network: AccountNetwork, circulation: Circulation, count: int) -> None:
    """`count` more books on loan to C0001 at PAV01, through the desk."""
    async with transaction(network.sessions) as session:
        start = len((await session.execute(Record.__table__.select())).all())
        for number in range(start, start + count):
            session.add(
                Record(id=f"q{number}", title=f"Book {number}", material_type=MaterialType.BOOK)
            )
        await session.flush()
        for number in range(start, start + count):
            session.add(
                Item(
                    barcode=f"Q{number}",
                    record_id=f"q{number}",
                    library_id="PAV01",
                    location_library_id="PAV01",
                )
            )
    for number in range(start, start + count):
        outcome = await checkout(
            circulation, card_number="C0001", barcode=f"Q{number}", library_id="PAV01"
        )
        assert outcome.refusal is None, outcome.refusal


async def test_me_reads_the_same_number_of_statements_for_5_and_40_loans(
    account_network: AccountNetwork,
) -> None:
    # CUBI with room for 40 loans (it stops at 15).
    cubi = load_policy("cubi")
    roomy = cubi.model_copy(update={"limits": cubi.limits.model_copy(update={"loans": 50})})
    circulation = Circulation(roomy, account_network.clock, account_network.sessions)
    services = replace(account_network.services, circulation=circulation)
    token, _ = await account_network.login("C0001")

    await _lend_books(account_network, circulation, 5)
    with counting_statements() as few:
        answer = await account_network.data("Me", token=token, services=services)
    assert len(answer["me"]["loans"]) >= 5

    await _lend_books(account_network, circulation, 35 - (len(answer["me"]["loans"]) - 5))
    with counting_statements() as many:
        answer = await account_network.data("Me", token=token, services=services)
    assert len(answer["me"]["loans"]) == 40

    assert len(few) > 3  # the patron, the session check, loans, holds, fees, ...
    assert len(many) == len(few), "\n".join(many)
