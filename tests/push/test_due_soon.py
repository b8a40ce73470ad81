"""The due-soon digest: one message per patron and day for all the loans coming due, saying
which can be renewed now and from when the others can (circulation's loan views, read when
the message is built)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import circulation
from circulation import Circulation, ManualClock, checkout, format_day, load_policy, place_hold
from db import MaterialType
from tests.circulation.world import START, World, ok
from tests.push.scene import MOBILE, notifier, patron, rename, subscribe
from tests.push.services import LocalPushService, LocalSmsGateway

# CUBI, but books renew only in the 2 days before they are due (audiobooks keep 7 days), so
# that a digest sent 3 days ahead has a loan renewable now, one later, and one never.
_BOOKS_CUBI = """material_types = ["BOOK", "AUDIOBOOK"]
period_days = 30
renewals = 1
renewal_days = 30
renewal_from = "due_date"
renew_days_before = 7"""


def _policy(tmp_path: Path) -> Path:
    cubi = Path(circulation.__file__).with_name("policies") / "cubi.toml"
    text = cubi.read_text(encoding="utf-8")
    assert _BOOKS_CUBI in text
    changed = text.replace(
        _BOOKS_CUBI,
        _BOOKS_CUBI.replace('"BOOK", "AUDIOBOOK"', '"AUDIOBOOK"')
        + "\nhold_queue_blocks_renewal = true\ntolerance_days = 7\n\n[[loan_rules]]\n"
        + _BOOKS_CUBI.replace('"BOOK", "AUDIOBOOK"', '"BOOK"').replace("= 7", "= 2"),
    )
    path = tmp_path / "cubi_short_renewals.toml"
    path.write_text(changed, encoding="utf-8")
    return path


async def test_one_digest_says_what_renews_now_later_or_never(
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    push_service: LocalPushService,
    sms_gateway: LocalSmsGateway,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    clock = ManualClock(START)
    world = World(Circulation(load_policy(_policy(tmp_path)), clock, sessions), clock, sessions)
    library = await world.library("PV1")
    maria = await patron(world, library, notify_sms=True, phone=MOBILE)
    browser = push_service.browser()
    await subscribe(world, maria, browser)
    other = await patron(world, library)
    wanted = await world.record()
    later = await world.record()
    now = await world.record(material=MaterialType.AUDIOBOOK)
    for record, title in ((wanted, "Il visconte dimezzato"), (later, "Palomar"), (now, "Lezioni")):
        await rename(world, record, title)
        barcode = await world.item(record, library)
        ok(
            await checkout(
                world.circulation,
                card_number=maria.card_number,
                barcode=barcode,
                library_id=library,
            )
        )
    # Someone waits for the first title: it cannot be renewed.
    ok(await place_hold(world.circulation, patron_id=other.id, record_id=wanted))

    async with notifier(world, vapid_key=vapid_key, push=push_service, sms=sms_gateway) as sender:
        await world.advance(days=26)
        assert not (await sender.deliver_due()).sent
        await world.advance(days=1)  # three days before the due date
        report = await sender.deliver_due()
        await world.advance(days=1)
        next_day = await sender.deliver_due()

    assert (report.events, report.sent) == (1, 2)
    assert not next_day.sent
    due = format_day(world.today + timedelta(days=2), "it")
    renewable_from = format_day(world.today, "it")
    [message] = push_service.for_browser(browser)
    assert message.payload["title"] == "3 prestiti in scadenza"
    assert message.payload["body"].splitlines() == [
        f"«Il visconte dimezzato» entro il {due}: non rinnovabile",
        f"«Palomar» entro il {due}: rinnovabile dal {renewable_from}",
        f"«Lezioni» entro il {due}: rinnovabile ora",
    ]
    assert (message.payload["url"], message.urgency) == ("/#/loans", "normal")
    [sms] = sms_gateway.requests
    assert sms["text"] == (
        f"3 prestiti in scadenza dal {due}: 1 rinnovabile ora, 1 dal {renewable_from},"
        " 1 non rinnovabile. Dettagli nell'app."
    )
