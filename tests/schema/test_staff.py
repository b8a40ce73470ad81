"""The desk through the real schema: checkout, checkin, transits, standings, payments and the
test clock, with the contract's own operations, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from circulation import checkout, place_hold
from db import Item, ItemStatus
from tests.schema.conftest import AccountNetwork, codes, unauthenticated

STAFF_OPERATIONS: dict[str, dict[str, Any]] = {
    "Checkout": {"cardNumber": "C0001", "itemBarcode": "PAV01-visconte", "libraryId": "PAV01"},
    "Checkin": {"itemBarcode": "PAV01-visconte", "libraryId": "PAV01"},
    "ReceiveTransit": {"itemBarcode": "PAV01-visconte", "libraryId": "PAV01"},
    "SetPatronStanding": {"cardNumber": "C0002", "code": "REVOKED", "note": "PAV01-visconte"},
    "PayFees": {"cardNumber": "C0001", "amount": "0.50"},
    "SetClock": {"now": "2026-04-01T10:00:00+02:00"},
}


async def lend(network: AccountNetwork, card_number: str, record_id: str) -> None:
    outcome = await checkout(
        network.circulation,
        card_number=card_number,
        barcode=f"PAV01-{record_id}",
        library_id="PAV01",
    )
    assert outcome.ok, outcome.refusal


async def test_desk_operations_need_a_staff_token(account_network: AccountNetwork) -> None:
    network = account_network
    enabled = dataclasses.replace(network.services, test_clock=network.clock)
    patron, _ = await network.login("C0001")
    for operation, variables in STAFF_OPERATIONS.items():
        answer = await network.data(
            operation, variables, token=patron, language="en", services=enabled
        )
        [payload] = answer.values()
        assert payload["errors"] == [
            {"code": "FORBIDDEN", "message": "Only library staff may do this."}
        ], operation
        assert unauthenticated(await network.run(operation, variables, services=enabled))
    # Nothing happened.
    assert (await network.data("Me", token=patron))["me"]["loans"] == []
    assert network.clock.now().isoformat() == "2026-03-02T10:00:00+01:00"
    luca, _ = await network.login("C0002")
    assert (await network.data("Me", token=luca))["me"]["standing"]["code"] == "OK"


async def test_checkout_and_a_late_checkin_that_serves_the_next_hold(
    account_network: AccountNetwork,
) -> None:
    network = account_network
    staff, _ = await network.login("STAFF01")
    lent = await network.data(
        "Checkout",
        # As typed at the desk: lower case, a space.
        {"cardNumber": " c0001", "itemBarcode": "PAV01-visconte", "libraryId": "PAV01"},
        token=staff,
    )
    loan = lent["checkout"]["loan"]
    assert lent["checkout"] == {"loan": {"id": loan["id"], "dueDate": "2026-04-01"}, "errors": []}
    for card_number, barcode, code in (
        ("C0002", "PAV01-visconte", "ITEM_NOT_AVAILABLE"),
        ("C9999", "PAV01-barone", "NOT_FOUND"),
        ("not a card!", "PAV01-barone", "NOT_FOUND"),
        ("C0002", "NOPE", "NOT_FOUND"),
    ):
        refused = await network.data(
            "Checkout",
            {"cardNumber": card_number, "itemBarcode": barcode, "libraryId": "PAV01"},
            token=staff,
        )
        assert refused["checkout"]["loan"] is None
        assert codes(refused["checkout"]) == [code], card_number
    maria = (await network.data("Me", token=(await network.login("C0001"))[0]))["me"]
    assert [entry["id"] for entry in maria["loans"]] == [loan["id"]]

    luca, _ = await network.login("C0002")
    placed = await network.data(
        "PlaceHold", {"recordId": "visconte", "pickupLibraryId": "PAV01"}, token=luca
    )
    assert placed["placeHold"]["hold"]["status"] == "WAITING"
    await network.advance(days=40)  # ten days late
    returned = await network.data(
        "Checkin", {"itemBarcode": "PAV01-visconte", "libraryId": "PAV01"}, token=staff
    )
    assert returned["checkin"] == {
        "feeCharged": "0.60",
        "trappedHold": {
            "id": placed["placeHold"]["hold"]["id"],
            "status": "READY",
            "pickupLibrary": {"id": "PAV01"},
        },
        "errors": [],
    }
    again = await network.data(
        "Checkin", {"itemBarcode": "PAV01-visconte", "libraryId": "PAV01"}, token=staff
    )
    assert again["checkin"]["feeCharged"] is None
    assert codes(again["checkin"]) == ["NOT_ON_LOAN"]

    await lend(network, "C0002", "barone")
    on_time = await network.data(
        "Checkin", {"itemBarcode": "PAV01-barone", "libraryId": "PAV01"}, token=staff
    )
    assert on_time["checkin"] == {"feeCharged": "0.00", "trappedHold": None, "errors": []}


async def test_receive_transit_makes_the_hold_ready(account_network: AccountNetwork) -> None:
    network = account_network
    staff, _ = await network.login("STAFF01")
    await lend(network, "C0001", "visconte")
    held = await place_hold(
        network.circulation,
        patron_id=await network.patron_id("C0002"),
        record_id="visconte",
        pickup_library_id="PAV02",
    )
    assert held.value is not None
    hold_id = str(held.value.id)

    returned = await network.data(
        "Checkin", {"itemBarcode": "PAV01-visconte", "libraryId": "PAV01"}, token=staff
    )
    assert returned["checkin"]["trappedHold"] == {
        "id": hold_id,
        "status": "IN_TRANSIT",
        "pickupLibrary": {"id": "PAV02"},
    }
    elsewhere = await network.data(
        "ReceiveTransit", {"itemBarcode": "PAV01-visconte", "libraryId": "PAV01"}, token=staff
    )
    assert codes(elsewhere["receiveTransit"]) == ["INVALID_PICKUP_LIBRARY"]
    await network.advance(days=1)
    arrived = await network.data(
        "ReceiveTransit", {"itemBarcode": "PAV01-visconte", "libraryId": "PAV02"}, token=staff
    )
    assert arrived["receiveTransit"] == {
        "hold": {"id": hold_id, "status": "READY", "pickupDeadline": "2026-03-10"},
        "errors": [],
    }
    twice = await network.data(
        "ReceiveTransit", {"itemBarcode": "PAV01-visconte", "libraryId": "PAV02"}, token=staff
    )
    assert codes(twice["receiveTransit"]) == ["ITEM_NOT_AVAILABLE"]


async def test_patron_standing_set_by_staff_never_shows_the_note(
    account_network: AccountNetwork,
) -> None:
    network = account_network
    staff, _ = await network.login("STAFF01")
    patron, _ = await network.login("C0002")
    note = "Danni al volume PAV01-visconte, Biblioteca delle Scienze"

    async def set_standing(code: str, card_number: str = "C0002") -> list[str]:
        answer = await network.data(
            "SetPatronStanding",
            {"cardNumber": card_number, "code": code, "note": note},
            token=staff,
        )
        return codes(answer["setPatronStanding"])

    async def standing(language: Any = "it") -> dict[str, Any]:
        me = (await network.data("Me", token=patron, language=language))["me"]
        return dict(me["standing"])

    assert await set_standing("SUSPENDED") == []
    assert await standing() == {
        "code": "SUSPENDED",
        "message": "La tessera è sospesa dalla biblioteca. Rivolgiti al banco prestiti per"
        " riattivarla.",
        "blockedUntil": None,
    }
    placed = await network.data("PlaceHold", {"recordId": "barone"}, token=patron, language="en")
    assert placed["placeHold"]["errors"] == [
        {
            "code": "PATRON_BLOCKED",
            "message": "Your card has been suspended by the library. Ask at the loans desk to"
            " re-enable it.",
        }
    ]
    assert await set_standing("REVOKED") == []
    revoked = await standing("en")
    assert revoked["code"] == "REVOKED"
    assert "PAV01-visconte" not in revoked["message"]
    assert revoked["blockedUntil"] is None
    assert await set_standing("OK") == []
    assert (await standing())["code"] == "OK"
    assert await set_standing("EXPIRED") == []
    assert await standing("en") == {
        "code": "EXPIRED",
        "message": "Your registration expired on 1 Mar 2026. Renew it at the library to keep"
        " using the services.",
        "blockedUntil": None,
    }
    assert await set_standing("SUSPENDED", card_number="C9999") == ["NOT_FOUND"]


async def test_pay_fees_takes_euro_amounts_up_to_the_payable_total(
    account_network: AccountNetwork,
) -> None:
    network = account_network
    staff, _ = await network.login("STAFF01")
    patron, _ = await network.login("C0001")
    for record_id in ("visconte", "barone"):
        await lend(network, "C0001", record_id)
    await network.advance(days=60)  # thirty days late: five started weeks at EUR 0.30 each
    for record_id in ("visconte", "barone"):
        answer = await network.data(
            "Checkin", {"itemBarcode": f"PAV01-{record_id}", "libraryId": "PAV01"}, token=staff
        )
        assert answer["checkin"]["feeCharged"] == "1.50"
    me = (await network.data("Me", token=patron))["me"]
    assert me["fees"]["total"] == "3.00"
    # More than 28 days late: suspended until the fees are paid.
    assert me["standing"]["code"] == "SUSPENDED"

    async def pay(amount: str) -> dict[str, Any]:
        answer = await network.data(
            "PayFees", {"cardNumber": "C0001", "amount": amount}, token=staff, language="en"
        )
        return dict(answer["payFees"])

    for refused in ("abc", "", "0", "0.00", "-1.00", "3.50", "1.25", "1.234", "1e2"):
        assert await pay(refused) == {
            "charged": None,
            "remaining": None,
            "errors": [
                {
                    "code": "INVALID_AMOUNT",
                    "message": "You can pay EUR 3.00 now, or a part of it: a multiple of EUR"
                    " 0.50, at least EUR 0.50.",
                }
            ],
        }, refused
    assert await pay("1,50") == {"charged": "1.50", "remaining": "1.50", "errors": []}
    assert await pay("1.5") == {"charged": "1.50", "remaining": "0.00", "errors": []}
    me = (await network.data("Me", token=patron))["me"]
    assert me["fees"] == {"total": "0.00", "items": []}
    assert me["standing"]["code"] == "OK"
    unknown = await network.data("PayFees", {"cardNumber": "C9999", "amount": "1.00"}, token=staff)
    assert codes(unknown["payFees"]) == ["NOT_FOUND"]


async def test_set_clock_is_refused_without_the_test_clock(
    account_network: AccountNetwork,
) -> None:
    staff, _ = await account_network.login("STAFF01")
    answer = await account_network.data(
        "SetClock", {"now": "2026-04-01T10:00:00+02:00"}, token=staff, language="en"
    )
    assert answer["setClock"] == {
        "now": None,
        "errors": [
            {
                "code": "TEST_CLOCK_DISABLED",
                "message": "The test clock is not enabled on this server.",
            }
        ],
    }
    assert account_network.clock.now().isoformat() == "2026-03-02T10:00:00+01:00"


async def test_set_clock_moves_time_and_ready_holds_expire(account_network: AccountNetwork) -> None:
    network = account_network
    enabled = dataclasses.replace(network.services, test_clock=network.clock)
    staff, _ = await network.login("STAFF01")
    patron, _ = await network.login("C0001")
    placed = await network.data("PlaceHold", {"recordId": "barone"}, token=patron)
    assert placed["placeHold"]["hold"]["status"] == "READY"

    async def set_clock(now: str) -> dict[str, Any]:
        answer = await network.data("SetClock", {"now": now}, token=staff, services=enabled)
        return dict(answer["setClock"])

    # The last day to collect it: still READY.
    assert await set_clock("2026-03-09T18:00:00+01:00") == {
        "now": "2026-03-09T18:00:00+01:00",
        "errors": [],
    }
    [ready] = (await network.data("Me", token=patron))["me"]["holds"]
    assert (ready["status"], ready["pickupDeadline"]) == ("READY", "2026-03-09")

    # The day after, in UTC as given: the hold expired, and the copy is back on the shelf.
    assert await set_clock("2026-03-09T23:30:00Z") == {
        "now": "2026-03-10T00:30:00+01:00",
        "errors": [],
    }
    [expired] = (await network.data("Me", token=patron))["me"]["holds"]
    assert expired["status"] == "EXPIRED"
    async with network.sessions() as session:
        copy = await session.scalar(select(Item).where(Item.barcode == "PAV01-barone"))
    assert copy is not None
    assert copy.status is ItemStatus.AVAILABLE

    for refused in ("2026-03-09T10:00:00+01:00", "2026-03-11T10:00:00", "tomorrow"):
        answer = await set_clock(refused)
        assert answer["now"] is None
        assert codes(answer) == ["INVALID_TIME"], refused
    assert network.clock.now().isoformat() == "2026-03-09T23:30:00+00:00"
