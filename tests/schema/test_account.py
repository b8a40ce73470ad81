"""The patron through the real schema: sessions, the account, holds, renewals, notification
settings and push subscriptions, with the contract's own operations, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import dataclasses
import os
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select, update

from circulation import checkin, checkout, place_hold
from db import Hold, Patron, PushSubscription, StandingCode, StandingSource, transaction
from tests.schema.conftest import AccountNetwork, bad_user_input, codes, unauthenticated


async def lend(network: AccountNetwork, card_number: str, record_id: str) -> int:
    """The PAV01 copy of the record lent to the card at PAV01 today; the loan's id."""
    outcome = await checkout(
        network.circulation,
        card_number=card_number,
        barcode=f"PAV01-{record_id}",
        library_id="PAV01",
    )
    assert outcome.value is not None, outcome.refusal
    return outcome.value.id


async def give_back(network: AccountNetwork, record_id: str) -> None:
    outcome = await checkin(network.circulation, barcode=f"PAV01-{record_id}", library_id="PAV01")
    assert outcome.ok, outcome.refusal


async def hold(network: AccountNetwork, card_number: str, record_id: str, pickup: str) -> int:
    outcome = await place_hold(
        network.circulation,
        patron_id=await network.patron_id(card_number),
        record_id=record_id,
        pickup_library_id=pickup,
    )
    assert outcome.value is not None, outcome.refusal
    return outcome.value.id


def base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def browser_keys() -> dict[str, str]:
    """The keys a browser's PushSubscription carries: a P-256 point and a 16-byte secret."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return {"p256dh": base64url(point), "auth": base64url(os.urandom(16))}


# ---------------------------------------------------------------- sessions


async def test_login_with_the_right_and_a_wrong_pin(account_network: AccountNetwork) -> None:
    right = await account_network.data("Login", {"cardNumber": "C0001", "pin": "1234"})
    assert right["login"]["errors"] == []
    assert right["login"]["accessToken"]
    assert right["login"]["refreshToken"]
    assert right["login"]["expiresIn"] == 15 * 60

    wrong = await account_network.data("Login", {"cardNumber": "C0001", "pin": "9999"})
    assert wrong["login"] == {
        "accessToken": None,
        "refreshToken": None,
        "expiresIn": None,
        "errors": [
            {"code": "INVALID_CREDENTIALS", "message": "Numero di tessera o PIN non corretti."}
        ],
    }
    english = await account_network.data(
        "Login", {"cardNumber": "C0001", "pin": "9999"}, language="en"
    )
    assert english["login"]["errors"][0]["message"] == "The card number or the PIN is not right."


async def test_the_tenth_wrong_pin_locks_the_card(account_network: AccountNetwork) -> None:
    for _ in range(10):
        wrong = await account_network.data("Login", {"cardNumber": "C0001", "pin": "0000"})
        assert codes(wrong["login"]) == ["INVALID_CREDENTIALS"]
    locked = await account_network.data("Login", {"cardNumber": "C0001", "pin": "1234"})
    assert codes(locked["login"]) == ["TOO_MANY_ATTEMPTS"]
    assert locked["login"]["accessToken"] is None
    # Another card is not locked by it.
    assert (
        codes(
            (await account_network.data("Login", {"cardNumber": "C0002", "pin": "4321"}))["login"]
        )
        == []
    )


async def test_an_unknown_card_answers_like_a_wrong_pin(account_network: AccountNetwork) -> None:
    for _ in range(10):
        unknown = await account_network.data("Login", {"cardNumber": "C9999", "pin": "1234"})
        assert unknown["login"]["errors"] == [
            {"code": "INVALID_CREDENTIALS", "message": "Numero di tessera o PIN non corretti."}
        ]
    locked = await account_network.data("Login", {"cardNumber": "C9999", "pin": "1234"})
    assert codes(locked["login"]) == ["TOO_MANY_ATTEMPTS"]


async def test_refresh_rotates_and_a_reused_token_signs_the_session_out(
    account_network: AccountNetwork,
) -> None:
    access, first_refresh = await account_network.login("C0001")
    rotated = (await account_network.data("RefreshSession", {"refreshToken": first_refresh}))[
        "refreshSession"
    ]
    assert rotated["errors"] == []
    assert rotated["refreshToken"] != first_refresh
    assert (await account_network.data("Me", token=rotated["accessToken"]))["me"][
        "cardNumber"
    ] == "C0001"

    # The rotated token used again was copied: the whole session family is signed out.
    reused = await account_network.data("RefreshSession", {"refreshToken": first_refresh})
    assert codes(reused["refreshSession"]) == ["INVALID_TOKEN"]
    latest = await account_network.data("RefreshSession", {"refreshToken": rotated["refreshToken"]})
    assert codes(latest["refreshSession"]) == ["INVALID_TOKEN"]
    assert unauthenticated(await account_network.run("Me", token=access))
    assert unauthenticated(await account_network.run("Me", token=rotated["accessToken"]))


async def test_logout_ends_the_session(account_network: AccountNetwork) -> None:
    access, refresh = await account_network.login("C0001")
    other_device, _ = await account_network.login("C0001")
    assert (await account_network.data("Logout", {"refreshToken": refresh}))["logout"] == {
        "errors": []
    }
    assert unauthenticated(await account_network.run("Me", token=access))
    assert codes(
        (await account_network.data("RefreshSession", {"refreshToken": refresh}))["refreshSession"]
    ) == ["INVALID_TOKEN"]
    assert codes(
        (await account_network.data("Logout", {"refreshToken": "nonsense"}))["logout"]
    ) == ["INVALID_TOKEN"]
    # A session on another device is another session.
    assert (await account_network.data("Me", token=other_device))["me"]["cardNumber"] == "C0001"


async def test_change_pin_signs_the_other_sessions_out(account_network: AccountNetwork) -> None:
    here, _ = await account_network.login("C0001")
    elsewhere, elsewhere_refresh = await account_network.login("C0001")

    async def change(current: str, new: str) -> list[str]:
        answer = await account_network.data(
            "ChangePin", {"currentPin": current, "newPin": new}, token=here
        )
        return codes(answer["changePin"])

    # Under 4 digits, all one digit, the card's last 4 digits (C0001).
    for weak in ("123", "1111", "0001"):
        assert await change("1234", weak) == ["WEAK_PIN"]
    assert await change("9999", "2580") == ["INVALID_CREDENTIALS"]
    assert unauthenticated(
        await account_network.run("ChangePin", {"currentPin": "1234", "newPin": "2580"})
    )
    assert (await account_network.data("Me", token=elsewhere))["me"] is not None

    assert await change("1234", "2580") == []
    assert (await account_network.data("Me", token=here))["me"]["cardNumber"] == "C0001"
    assert unauthenticated(await account_network.run("Me", token=elsewhere))
    assert codes(
        (await account_network.data("RefreshSession", {"refreshToken": elsewhere_refresh}))[
            "refreshSession"
        ]
    ) == ["INVALID_TOKEN"]
    old = await account_network.data("Login", {"cardNumber": "C0001", "pin": "1234"})
    assert codes(old["login"]) == ["INVALID_CREDENTIALS"]
    new = await account_network.data("Login", {"cardNumber": "C0001", "pin": "2580"})
    assert codes(new["login"]) == []


async def test_me_needs_a_valid_token(account_network: AccountNetwork) -> None:
    assert unauthenticated(await account_network.run("Me"))
    assert unauthenticated(await account_network.run("Me", token="not-a-token"))
    assert unauthenticated(await account_network.run("History", {"first": 5}))


# ---------------------------------------------------------------- me


async def test_me_shows_loans_holds_fees_and_standing(account_network: AccountNetwork) -> None:
    network = account_network
    cavaliere = await lend(network, "C0001", "cavaliere")
    await network.advance(days=40)  # 2026-04-11: ten days late
    await give_back(network, "cavaliere")
    visconte = await lend(network, "C0001", "visconte")
    await lend(network, "C0002", "lezioni")
    ready = await hold(network, "C0001", "barone", "PAV01")
    waiting = await hold(network, "C0001", "lezioni", "PAV01")
    token, _ = await network.login("C0001")

    me = (await network.data("Me", token=token))["me"]
    assert me["id"] == str(await network.patron_id("C0001"))
    assert (me["name"], me["cardNumber"]) == ("Maria Rossi", "C0001")
    assert me["preferredPickupLibrary"] is None
    assert me["standing"] == {"code": "OK", "message": "Tessera in regola.", "blockedUntil": None}
    assert me["loans"] == [
        {
            "id": str(visconte),
            "dueDate": "2026-05-11",
            "loanedAt": "2026-04-11T10:00:00+02:00",
            "renewalsUsed": 0,
            "renewalsLeft": 1,
            "overdueDays": 0,
            "renewable": False,
            "renewBlockedBy": "TOO_EARLY",
            "renewableFrom": "2026-05-04",
            "record": {"id": "visconte", "title": "Visconte", "materialType": "BOOK"},
            "item": {"barcode": "PAV01-visconte"},
            "library": {"id": "PAV01", "name": "Biblioteca delle Scienze"},
        }
    ]
    assert me["holds"] == [
        {
            "id": str(ready),
            "status": "READY",
            "position": None,
            "placedAt": "2026-04-11T10:00:00+02:00",
            "pickupDeadline": "2026-04-18",
            "suspendedUntil": None,
            "estimatedReadyDate": None,
            "record": {"id": "barone", "title": "Barone"},
            "pickupLibrary": {"id": "PAV01", "name": "Biblioteca delle Scienze"},
        },
        {
            "id": str(waiting),
            "status": "WAITING",
            "position": 1,
            "placedAt": "2026-04-11T10:00:00+02:00",
            "pickupDeadline": None,
            "suspendedUntil": None,
            "estimatedReadyDate": "2026-05-11",
            "record": {"id": "lezioni", "title": "Lezioni"},
            "pickupLibrary": {"id": "PAV01", "name": "Biblioteca delle Scienze"},
        },
    ]
    # 10 days late: two started weeks at EUR 0.30; paid now rounded to EUR 0.50.
    assert me["fees"] == {
        "total": "0.50",
        "items": [
            {"loanId": str(cavaliere), "amount": "0.60", "description": "Cavaliere (10 days late)"}
        ],
    }
    assert me["notificationPreferences"] == {
        "push": True,
        "sms": False,
        "email": True,
        "quietHoursStart": "21:00",
        "quietHoursEnd": "08:00",
        "language": "it",
        "phone": "+393331234567",
    }


async def test_standing_speaks_the_request_language(account_network: AccountNetwork) -> None:
    network = account_network
    await lend(network, "C0001", "visconte")
    # What a late return leaves under a network that suspends for days: blocked to a day.
    async with transaction(network.sessions) as session:
        await session.execute(
            update(Patron)
            .where(Patron.card_number == "C0001")
            .values(
                standing=StandingCode.SUSPENDED,
                standing_source=StandingSource.AUTOMATIC,
                standing_until=date(2026, 3, 20),
            )
        )
    token, _ = await network.login("C0001")

    italian = (await network.data("Me", token=token))["me"]
    assert italian["standing"] == {
        "code": "SUSPENDED",
        "message": "La tessera è sospesa fino al 20/03/2026 per una restituzione in ritardo.",
        "blockedUntil": "2026-03-20",
    }
    assert italian["loans"][0]["renewBlockedBy"] == "PATRON_BLOCKED"
    english = (await network.data("Me", token=token, language="en"))["me"]
    assert english["standing"] == {
        "code": "SUSPENDED",
        "message": "Your card is suspended until 20 Mar 2026 because of a late return.",
        "blockedUntil": "2026-03-20",
    }
    renewal = await network.data(
        "RenewLoan", {"loanId": english["loans"][0]["id"]}, token=token, language="en"
    )
    assert renewal["renewLoan"]["errors"] == [
        {
            "code": "PATRON_BLOCKED",
            "message": "Your card is suspended until 20 Mar 2026 because of a late return.",
        }
    ]


async def test_history_pages_through_returned_loans_latest_first(
    account_network: AccountNetwork,
) -> None:
    network = account_network
    for record_id in ("barone", "visconte", "citta"):
        await lend(network, "C0001", record_id)
        await network.advance(days=1)
        await give_back(network, record_id)
    await lend(network, "C0001", "lezioni")  # still out: not history
    token, _ = await network.login("C0001")

    first = (await network.data("History", {"first": 2}, token=token))["me"]["history"]
    assert [edge["node"]["record"]["id"] for edge in first["edges"]] == ["citta", "visconte"]
    assert first["edges"][0]["node"] == {
        "record": {"id": "citta", "title": "Citta"},
        "loanedAt": "2026-03-04T10:00:00+01:00",
        "returnedAt": "2026-03-05T10:00:00+01:00",
        "library": {"id": "PAV01", "name": "Biblioteca delle Scienze"},
    }
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (
        await network.data(
            "History", {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=token
        )
    )["me"]["history"]
    assert [edge["node"]["record"]["id"] for edge in rest["edges"]] == ["barone"]
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": rest["pageInfo"]["endCursor"]}
    everything = (await network.data("History", {}, token=token))["me"]["history"]
    assert len(everything["edges"]) == 3

    bad = await network.run("History", {"after": "not a cursor"}, token=token)
    assert bad_user_input(bad)


# ---------------------------------------------------------------- holds


async def test_place_hold_once_per_client_mutation_id(account_network: AccountNetwork) -> None:
    network = account_network
    token, _ = await network.login("C0001")
    tap = {"recordId": "barone", "clientMutationId": "tap-1"}

    first = (await network.data("PlaceHold", tap, token=token))["placeHold"]
    again = (await network.data("PlaceHold", tap, token=token))["placeHold"]
    # A copy on the shelf of the home library (no preferred one): ready at once.
    assert first == {
        "hold": {
            "id": first["hold"]["id"],
            "status": "READY",
            "position": None,
            "pickupLibrary": {"id": "PAV01", "name": "Biblioteca delle Scienze"},
        },
        "errors": [],
    }
    assert again == first
    async with network.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Hold)) == 1
    twice = (await network.data("PlaceHold", {"recordId": "barone"}, token=token))["placeHold"]
    assert twice["hold"] is None
    assert codes(twice) == ["ALREADY_HOLDING"]
    # A retry long after: still that one hold, as it is now (it ended out of the list's sight).
    await network.data("CancelHold", {"holdId": first["hold"]["id"]}, token=token)
    await network.advance(days=15)
    late_retry = (await network.data("PlaceHold", tap, token=token))["placeHold"]
    assert late_retry["hold"] == {**first["hold"], "status": "CANCELLED"}
    assert (await network.data("Me", token=token))["me"]["holds"] == []

    too_long = await network.run(
        "PlaceHold", {"recordId": "visconte", "clientMutationId": "x" * 65}, token=token
    )
    assert bad_user_input(too_long)
    assert unauthenticated(await network.run("PlaceHold", {"recordId": "visconte"}))


async def test_place_hold_near_picks_the_nearest_library(account_network: AccountNetwork) -> None:
    network = account_network
    token, _ = await network.login("C0002")
    near_milan = {"lat": 45.4640, "lon": 9.1900}
    placed = (
        await network.data("PlaceHold", {"recordId": "visconte", "near": near_milan}, token=token)
    )["placeHold"]
    # The only copy is in Pavia: it travels to Milan.
    assert placed["hold"]["status"] == "IN_TRANSIT"
    assert placed["hold"]["pickupLibrary"]["id"] == "MIL01"

    chosen = await network.data("SetPreferredPickupLibrary", {"libraryId": "PAV02"}, token=token)
    assert chosen["setPreferredPickupLibrary"] == {
        "library": {"id": "PAV02", "name": "Biblioteca civica Bonetta"},
        "errors": [],
    }
    preferred = (
        await network.data("PlaceHold", {"recordId": "citta", "near": near_milan}, token=token)
    )["placeHold"]
    assert preferred["hold"]["pickupLibrary"]["id"] == "PAV02"
    me = (await network.data("Me", token=token))["me"]
    assert me["preferredPickupLibrary"] == {"id": "PAV02", "name": "Biblioteca civica Bonetta"}

    nowhere = await network.data("SetPreferredPickupLibrary", {"libraryId": "NOPE"}, token=token)
    assert nowhere["setPreferredPickupLibrary"]["library"] is None
    assert codes(nowhere["setPreferredPickupLibrary"]) == ["INVALID_PICKUP_LIBRARY"]


async def test_suspend_change_pickup_and_cancel_a_hold(account_network: AccountNetwork) -> None:
    network = account_network
    await lend(network, "C0002", "lezioni")
    token, _ = await network.login("C0001")
    placed = (await network.data("PlaceHold", {"recordId": "lezioni"}, token=token))["placeHold"]
    hold_id = placed["hold"]["id"]
    assert (placed["hold"]["status"], placed["hold"]["position"]) == ("WAITING", 1)

    async def suspend(until: str | None) -> dict[str, Any]:
        answer = await network.data("SuspendHold", {"holdId": hold_id, "until": until}, token=token)
        return dict(answer["suspendHold"])

    assert await suspend("2026-03-20") == {
        "hold": {"id": hold_id, "status": "WAITING", "suspendedUntil": "2026-03-20"},
        "errors": [],
    }
    assert codes(await suspend("20/03/2026")) == ["INVALID_TIME"]
    assert codes(await suspend("2026-03-01")) == ["INVALID_TIME"]
    assert (await suspend(None))["hold"]["suspendedUntil"] is None

    moved = await network.data(
        "ChangeHoldPickup", {"holdId": hold_id, "pickupLibraryId": "PAV02"}, token=token
    )
    assert moved["changeHoldPickup"] == {
        "hold": {
            "id": hold_id,
            "pickupLibrary": {"id": "PAV02", "name": "Biblioteca civica Bonetta"},
        },
        "errors": [],
    }
    nowhere = await network.data(
        "ChangeHoldPickup", {"holdId": hold_id, "pickupLibraryId": "NOPE"}, token=token
    )
    assert codes(nowhere["changeHoldPickup"]) == ["INVALID_PICKUP_LIBRARY"]

    cancelled = await network.data("CancelHold", {"holdId": hold_id}, token=token)
    assert cancelled["cancelHold"] == {"hold": {"id": hold_id, "status": "CANCELLED"}, "errors": []}
    again = await network.data("CancelHold", {"holdId": hold_id}, token=token, language="en")
    assert again["cancelHold"]["errors"] == [
        {
            "code": "HOLD_NOT_CANCELLABLE",
            "message": "This hold cannot be changed now: it was cancelled.",
        }
    ]
    # An ended hold stays in view for two weeks.
    holds = (await network.data("Me", token=token))["me"]["holds"]
    assert [(entry["id"], entry["status"]) for entry in holds] == [(hold_id, "CANCELLED")]
    await network.advance(days=15)
    assert (await network.data("Me", token=token))["me"]["holds"] == []


async def test_someone_elses_loan_or_hold_is_not_found(account_network: AccountNetwork) -> None:
    network = account_network
    loan_id = str(await lend(network, "C0002", "visconte"))
    hold_id = str(await hold(network, "C0002", "barone", "PAV02"))
    token, _ = await network.login("C0001")

    for operation, variables in (
        ("RenewLoan", {"loanId": loan_id}),
        ("CancelHold", {"holdId": hold_id}),
        ("SuspendHold", {"holdId": hold_id, "until": None}),
        ("ChangeHoldPickup", {"holdId": hold_id, "pickupLibraryId": "PAV01"}),
        ("RenewLoan", {"loanId": "not-an-id"}),
        ("CancelHold", {"holdId": "99999999999999999999999"}),
    ):
        answer = await network.data(operation, variables, token=token, language="en")
        [payload] = answer.values()
        assert payload["errors"] == [{"code": "NOT_FOUND", "message": "Not found."}], operation
        assert next(value for key, value in payload.items() if key != "errors") is None
    # Untouched.
    async with network.sessions() as session:
        untouched = await session.get(Hold, int(hold_id))
    assert untouched is not None
    assert untouched.pickup_library_id == "PAV02"


# ---------------------------------------------------------------- renewals


async def test_renewal_too_early_says_from_when(account_network: AccountNetwork) -> None:
    network = account_network
    loan_id = str(await lend(network, "C0001", "citta"))
    token, _ = await network.login("C0001")

    [loan] = (await network.data("Me", token=token))["me"]["loans"]
    assert (loan["renewable"], loan["renewBlockedBy"], loan["renewableFrom"]) == (
        False,
        "TOO_EARLY",
        "2026-03-25",
    )
    early = (await network.data("RenewLoan", {"loanId": loan_id}, token=token))["renewLoan"]
    assert early == {
        "loan": None,
        "errors": [
            {"code": "TOO_EARLY", "message": "È presto per rinnovare: potrai farlo dal 25/03/2026."}
        ],
    }

    await network.advance(days=24)  # 2026-03-26
    [loan] = (await network.data("Me", token=token))["me"]["loans"]
    assert (loan["renewable"], loan["renewBlockedBy"], loan["renewableFrom"]) == (True, None, None)
    renewed = (await network.data("RenewLoan", {"loanId": loan_id}, token=token))["renewLoan"]
    assert renewed == {
        "loan": {"id": loan_id, "dueDate": "2026-05-01", "renewalsUsed": 1, "renewalsLeft": 0},
        "errors": [],
    }
    again = (await network.data("RenewLoan", {"loanId": loan_id}, token=token))["renewLoan"]
    assert codes(again) == ["RENEWAL_LIMIT_REACHED"]


async def test_renew_all_answers_for_every_loan_in_order(account_network: AccountNetwork) -> None:
    network = account_network
    for record_id in ("rivista", "barone", "citta"):
        await lend(network, "C0001", record_id)
    await hold(network, "C0002", "citta", "PAV02")
    await network.advance(days=24)  # 2026-03-26: the books may renew, the periodical never
    token, _ = await network.login("C0001")
    order = [loan["id"] for loan in (await network.data("Me", token=token))["me"]["loans"]]

    results = (await network.data("RenewAll", token=token))["renewAll"]["results"]
    assert [result["loan"]["id"] for result in results] == order
    assert [codes(result) for result in results] == [
        ["NOT_RENEWABLE"],
        [],
        ["RESERVED_BY_OTHERS"],
    ]
    assert [result["loan"]["dueDate"] for result in results] == [
        "2026-03-16",
        "2026-05-01",
        "2026-04-01",
    ]


# ---------------------------------------------------------------- notification settings


async def test_notification_preferences_change_only_what_is_given(
    account_network: AccountNetwork,
) -> None:
    network = account_network
    token, _ = await network.login("C0002")

    async def update_preferences(**changes: Any) -> dict[str, Any]:
        answer = await network.data(
            "UpdateNotificationPreferences", {"input": changes}, token=token, language="en"
        )
        return dict(answer["updateNotificationPreferences"])

    # No e-mail address: e-mail is off until chosen.
    defaults = (await network.data("Me", token=token))["me"]["notificationPreferences"]
    assert defaults == {
        "push": True,
        "sms": False,
        "email": False,
        "quietHoursStart": "21:00",
        "quietHoursEnd": "08:00",
        "language": "it",
        "phone": None,
    }
    assert (await update_preferences(sms=True))["errors"] == [
        {"code": "INVALID_PHONE", "message": "Text messages need a phone number."}
    ]
    assert codes(await update_preferences(phone="12345")) == ["INVALID_PHONE"]
    assert codes(await update_preferences(quietHoursStart="25:00")) == ["INVALID_TIME"]
    assert codes(await update_preferences(quietHoursEnd=None)) == ["INVALID_TIME"]

    changed = await update_preferences(
        phone="333 123 4567", sms=True, quietHoursStart="22:30", language="en"
    )
    assert changed == {
        "notificationPreferences": {
            "push": True,
            "sms": True,
            "email": False,
            "quietHoursStart": "22:30",
            "quietHoursEnd": "08:00",
            "language": "en",
            "phone": "+393331234567",
        },
        "errors": [],
    }
    assert codes(await update_preferences(phone=None)) == ["INVALID_PHONE"]
    quiet_off = await update_preferences(
        quietHoursStart=None, quietHoursEnd=None, push=False, sms=False, phone="+41 44 668 18 00"
    )
    assert quiet_off["notificationPreferences"] == {
        "push": False,
        "sms": False,
        "email": False,
        "quietHoursStart": None,
        "quietHoursEnd": None,
        "language": "en",
        "phone": "+41446681800",
    }
    assert (await network.data("Me", token=token))["me"]["notificationPreferences"] == quiet_off[
        "notificationPreferences"
    ]
    bad_language = await network.run(
        "UpdateNotificationPreferences", {"input": {"language": "fr"}}, token=token
    )
    assert bad_language.errors is not None
    assert bad_language.data is None


# ---------------------------------------------------------------- push subscriptions


async def test_subscribe_push_takes_only_public_https_endpoints_and_real_keys(
    account_network: AccountNetwork,
) -> None:
    network = account_network
    token, _ = await network.login("C0001")
    loopback = dataclasses.replace(network.services, push_allow_loopback=True)

    async def subscribe(endpoint: str, keys: dict[str, str], **options: Any) -> list[str]:
        answer = await network.data(
            "SubscribePush", {"endpoint": endpoint, **keys}, token=token, **options
        )
        return codes(answer["subscribePush"])

    keys = browser_keys()
    assert await subscribe("https://fcm.googleapis.com/fcm/send/device-1", keys) == []
    for refused in (
        "http://fcm.googleapis.com/fcm/send/device-1",
        "https://10.0.0.1/push",
        "https://192.168.1.20/push",
        "https://169.254.169.254/latest",
        "https://[::1]/push",
        "https://localhost/push",
        "https://printer.local/push",
        "https://127.0.0.1/push",
        "http://127.0.0.1:8080/push",
        "not a url",
    ):
        assert await subscribe(refused, keys) == ["INVALID_SUBSCRIPTION"], refused
    assert await subscribe("http://127.0.0.1:8080/push", keys, services=loopback) == []
    assert await subscribe("http://localhost:8080/push", keys, services=loopback) == []
    # Loopback, not any private address.
    assert await subscribe("http://10.0.0.1/push", keys, services=loopback) == [
        "INVALID_SUBSCRIPTION"
    ]

    off_the_curve = base64url(b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big"))
    for bad_keys in (
        {"p256dh": off_the_curve, "auth": keys["auth"]},
        {"p256dh": keys["p256dh"][:-4], "auth": keys["auth"]},
        {"p256dh": "not base64url!", "auth": keys["auth"]},
        {"p256dh": keys["p256dh"], "auth": base64url(os.urandom(12))},
    ):
        assert await subscribe("https://fcm.googleapis.com/fcm/send/x", bad_keys) == [
            "INVALID_SUBSCRIPTION"
        ]
    message = await network.data(
        "SubscribePush", {"endpoint": "https://10.0.0.1/", **keys}, token=token, language="en"
    )
    assert message["subscribePush"]["errors"][0]["message"] == (
        "This notification subscription is not valid."
    )
    async with network.sessions() as session:
        endpoints = set(await session.scalars(select(PushSubscription.endpoint)))
    assert endpoints == {
        "https://fcm.googleapis.com/fcm/send/device-1",
        "http://127.0.0.1:8080/push",
        "http://localhost:8080/push",
    }


async def test_a_patron_with_two_devices_has_two_subscriptions(
    account_network: AccountNetwork,
) -> None:
    network = account_network
    maria, _ = await network.login("C0001")
    luca, _ = await network.login("C0002")
    phone = "https://fcm.googleapis.com/fcm/send/phone"
    laptop = "https://updates.push.services.mozilla.com/wpush/v2/laptop"

    async def subscribe(token: str, endpoint: str, keys: dict[str, str]) -> None:
        answer = await network.data("SubscribePush", {"endpoint": endpoint, **keys}, token=token)
        assert answer["subscribePush"]["errors"] == []

    async def subscriptions() -> dict[str, tuple[int, str]]:
        async with network.sessions() as session:
            rows = await session.scalars(select(PushSubscription))
            return {row.endpoint: (row.patron_id, row.p256dh) for row in rows}

    async def subscription_id(endpoint: str) -> int | None:
        async with network.sessions() as session:
            return await session.scalar(
                select(PushSubscription.id).where(PushSubscription.endpoint == endpoint)
            )

    maria_id, luca_id = await network.patron_id("C0001"), await network.patron_id("C0002")
    first_keys, new_keys = browser_keys(), browser_keys()
    await subscribe(maria, phone, first_keys)
    await subscribe(maria, laptop, browser_keys())
    assert {endpoint: owner for endpoint, (owner, _) in (await subscriptions()).items()} == {
        phone: maria_id,
        laptop: maria_id,
    }
    # The same browser subscribing again renews its keys; the same device still.
    phone_id = await subscription_id(phone)
    await subscribe(maria, phone, new_keys)
    assert (await subscriptions())[phone] == (maria_id, new_keys["p256dh"])
    assert await subscription_id(phone) == phone_id
    # Luca signs in on Maria's laptop: the browser now notifies him.
    laptop_keys = browser_keys()
    await subscribe(luca, laptop, laptop_keys)
    assert (await subscriptions())[laptop] == (luca_id, laptop_keys["p256dh"])

    # Unsubscribing removes one's own subscription only; twice is fine.
    for _ in range(2):
        gone = await network.data("UnsubscribePush", {"endpoint": laptop}, token=maria)
        assert gone["unsubscribePush"] == {"errors": []}
    assert set(await subscriptions()) == {phone, laptop}
    await network.data("UnsubscribePush", {"endpoint": phone}, token=maria)
    assert set(await subscriptions()) == {laptop}
    assert unauthenticated(await network.run("UnsubscribePush", {"endpoint": laptop}))
