"""SMS encoding and segments, phone numbers, quiet hours and the message texts: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from circulation import LIBRARY_TIME_ZONE
from push._gsm import encode_sms, segments, septets
from push._messages import (
    DueLoan,
    LateLoan,
    account_suspended,
    due_soon,
    fit_sms,
    hold_ready,
    loan_renewed,
    overdue,
)
from push._quiet import quiet_until
from push._sms import normalise_phone


@pytest.mark.parametrize(
    ("text", "encoding", "count"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        # 306 septets would fit two parts, but an escape pair is never split across them.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),
        ("ж" * 70, "UCS-2", 1),
        ("ж" * 71, "UCS-2", 2),
        ("ж" * 134, "UCS-2", 2),
        ("ж" * 135, "UCS-2", 3),
    ],
)
def test_segments(text: str, encoding: str, count: int) -> None:
    assert segments(text, encoding) == count  # type: ignore[arg-type]


def test_italian_stays_in_gsm7_and_other_scripts_switch_to_ucs2() -> None:
    assert encode_sms("Città: è già là, perché più?").encoding == "GSM-7"
    assert septets("{€}") == 6
    # Typography and capital accents are replaced without changing the meaning.
    assert encode_sms("«Il barone» \u2013 È pronto…").text == '"Il barone" - E\' pronto...'
    # Letters are not stripped of their marks: that would change the words.
    assert encode_sms("Dvořák: Sinfonia").encoding == "UCS-2"
    assert encode_sms("Dvořák: Sinfonia").text == "Dvořák: Sinfonia"
    assert encode_sms("Čechov").segments == 1


def test_a_long_title_is_shortened_to_keep_one_segment() -> None:
    title = "Il giardino dei Finzi-Contini, edizione speciale con note e apparati critici " * 2
    text = fit_sms(lambda t: f'Prenotazione pronta: "{t}" ti aspetta presso Biblioteca X.', title)
    assert encode_sms(text).segments == 1
    assert '"Il giardino dei Finzi-Contini' in text
    assert '..." ti aspetta' in text


@pytest.mark.parametrize(
    ("number", "e164"),
    [
        ("333 123 4567", "+393331234567"),
        ("+39 333 1234567", "+393331234567"),
        ("0039 347 1234567", "+393471234567"),
        ("+44 7911 123456", "+447911123456"),
        ("+39 0382 985000", None),  # a landline takes no SMS
        ("12345", None),
        ("not a number", None),
    ],
)
def test_phone_numbers_are_normalised_to_e164(number: str, e164: str | None) -> None:
    assert normalise_phone(number) == e164


def _rome(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LIBRARY_TIME_ZONE)


def test_quiet_hours() -> None:
    night = {"start": time(21), "end": time(8)}
    day = date(2026, 3, 2)
    assert quiet_until(_rome(day, 20, 59), **night) is None
    assert quiet_until(_rome(day, 21), **night) == _rome(date(2026, 3, 3), 8)
    assert quiet_until(_rome(day, 7, 59), **night) == _rome(day, 8)
    assert quiet_until(_rome(day, 8), **night) is None
    lunch = {"start": time(13), "end": time(15)}
    assert quiet_until(_rome(day, 14), **lunch) == _rome(day, 15)
    assert quiet_until(_rome(day, 16), **lunch) is None
    assert quiet_until(_rome(day, 23), start=None, end=None) is None
    # Any time zone in, Europe/Rome hours out (23:30 UTC is 00:30 in Rome in winter).
    assert quiet_until(datetime(2026, 3, 2, 23, 30, tzinfo=UTC), **night) == _rome(
        date(2026, 3, 3), 8
    )
    # The night the clocks go forward (29 March 2026) still ends at 08:00 local time.
    spring = quiet_until(_rome(date(2026, 3, 28), 23), **night)
    assert spring == _rome(date(2026, 3, 29), 8)
    assert spring is not None
    assert spring.utcoffset() is not None
    assert spring.astimezone(UTC).hour == 6


def test_message_texts() -> None:
    ready = hold_ready(
        language="en",
        hold_id=7,
        title="Palomar",
        library="Biblioteca PV1",
        deadline=date(2026, 3, 9),
    )
    assert ready.push_payload() == {
        "type": "HOLD_READY",
        "title": "Your hold is ready",
        "body": "“Palomar” is waiting for you at Biblioteca PV1 until 9 Mar 2026.",
        "url": "/#/holds",
        "tag": "hold-7",
    }
    assert (ready.urgency, ready.sms) == (
        "high",
        'Hold ready: "Palomar" is waiting for you at Biblioteca PV1 until 9 Mar 2026.',
    )
    one = due_soon(
        language="it",
        event_id=3,
        loans=[DueLoan("Palomar", date(2026, 3, 9), False, date(2026, 3, 7))],
    )
    assert (one.title, one.body) == (
        "Prestito in scadenza",
        "«Palomar» entro il 09/03/2026: rinnovabile dal 07/03/2026",
    )
    assert one.sms == 'Restituisci "Palomar" entro il 09/03/2026 (rinnovabile dal 07/03/2026).'
    late = overdue(
        language="en",
        event_id=4,
        loans=[LateLoan("A", date(2026, 3, 1), 2), LateLoan("B", date(2026, 3, 2), 1)],
    )
    assert late.title == "2 overdue loans"
    assert late.sms == "2 loans overdue since 1 Mar 2026: please return them soon."
    renewed = loan_renewed(language="it", event_id=5, title="A", due=date(2026, 4, 1))
    assert (renewed.urgency, renewed.tag) == ("low", "renewed-5")
    blocked = account_suspended(language="it", revoked=False, explanation="La tessera è sospesa.")
    assert (blocked.title, blocked.url, blocked.sms) == (
        "Tessera sospesa",
        "/#/account",
        "La tessera è sospesa.",
    )
    for message in (ready, one, late, renewed, blocked):
        assert encode_sms(message.sms).segments == 1
