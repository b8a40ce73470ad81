"""The patron's journeys through the PWA, in headless Chromium against a real `tessera serve` on
the demo dataset: search, sign in, hold and undo, cancel, renew with a refusal, scan an EAN-13
from the camera, a push notification, offline loans, libraries by distance, the card's barcode.
Each journey leaves a screenshot in test-output/pwa/."""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.pwa.conftest import (
    CHROMIUM_FLAGS,
    PLACE_HOLD,
    REPO,
    SCANNED_ISBN,
    STAFF_CARD,
    STAFF_PIN,
    PageFactory,
    dataset,
    graphql,
    lend,
    login,
    screenshot,
    token_for,
    wait_for_service_worker,
)

PATRONS = {patron["cardNumber"]: patron["pin"] for patron in dataset()["patrons"]}


def _books(copies: int) -> list[dict[str, Any]]:
    """Books of the demo dataset with exactly `copies` copies, all loanable (stable order)."""
    per_record = Counter(item["recordId"] for item in dataset()["items"])
    unloanable = {item["recordId"] for item in dataset()["items"] if not item["loanable"]}
    return [
        record
        for record in dataset()["records"]
        if record["materialType"] == "BOOK"
        and not record["latestIssue"]
        and per_record[record["id"]] == copies
        and record["id"] not in unloanable
    ]


def _distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


# Piazza della Vittoria, Pavia.
PAVIA = {"latitude": 45.1863, "longitude": 9.1580}


def test_search_as_you_type_shows_availability_and_distance(page_factory: PageFactory) -> None:
    page = page_factory(geolocation=PAVIA, permissions=["geolocation"])
    searches: list[str] = []
    page.on(
        "request",
        lambda request: (
            searches.append(request.post_data or "")
            if request.url.endswith("/graphql") and "SearchCatalog" in (request.post_data or "")
            else None
        ),
    )
    page.goto("/#/search")
    box = page.get_by_label("Titolo, autore, argomento o ISBN")
    box.press_sequentially("toyota cor", delay=40)

    results = page.locator("#results > li")
    results.first.wait_for()
    assert page.locator("#search-status").inner_text() == "2 risultati"
    assert "Toyota Corolla Spacio" in results.first.inner_text()
    # The copy on the shelf nearest to the patron, with its distance.
    assert re.search(r"la più vicina: .+, a [\d,]+ (km|m)", page.locator("#results").inner_text())
    # Debounced: far fewer requests than keystrokes, and the address keeps the query.
    assert len(searches) <= 3
    assert page.url.endswith("#/search?q=toyota+cor")
    screenshot(page, "search")


def test_the_material_type_facet_filters_the_results(page_factory: PageFactory) -> None:
    page = page_factory()
    page.goto("/#/search?q=zealand")
    page.locator("#results > li").first.wait_for()
    everything = page.locator("#search-status").inner_text()
    kinds = page.locator("#material-type option").all_inner_texts()
    assert kinds[0] == "Tutti i tipi"
    assert len(kinds) > 2
    periodicals = next(kind for kind in kinds if kind.startswith("Periodico ("))
    expected = int(periodicals.rsplit("(", 1)[1].rstrip(")"))

    page.get_by_label("Tipo di documento").select_option(label=periodicals)
    page.locator("#search-status", has_text=f"{expected} risultat").wait_for()
    assert page.locator("#search-status").inner_text() != everything
    types = page.locator("#results > li p.meta").all_inner_texts()
    assert types
    assert all(text.startswith("Periodico") for text in types[:10])
    assert "type=PERIODICAL" in page.url
    screenshot(page, "facets")


def test_login_with_codice_fiscale_and_messages_in_both_languages(
    page_factory: PageFactory,
) -> None:
    page = page_factory()
    page.goto("/#/loans")
    page.wait_for_url("**/#/login?next=*")
    page.get_by_label("Numero di tessera o codice fiscale").fill("RSSMRA85T10G388I")
    page.get_by_label("PIN", exact=True).fill("0000")
    page.get_by_role("button", name="Accedi").click()
    italian = page.get_by_role("alert").inner_text()

    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("Card number or codice fiscale").fill("RSSMRA85T10G388I")
    page.get_by_label("PIN", exact=True).fill("0000")
    page.get_by_role("button", name="Sign in").click()
    english = page.get_by_role("alert").inner_text()
    # The server's own message, in the interface's language (Accept-Language).
    assert italian
    assert english
    assert italian != english
    assert page.locator("html").get_attribute("lang") == "en"

    page.get_by_label("PIN", exact=True).fill(PATRONS["RSSMRA85T10G388I"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/#/loans")
    page.get_by_role("heading", name="My loans").wait_for()
    # The new screen's heading has the focus.
    assert page.evaluate("document.activeElement.id") == "screen-title"
    screenshot(page, "login")


def test_one_tap_hold_with_undo_then_cancel(page_factory: PageFactory) -> None:
    record = _books(copies=3)[0]
    page = page_factory()
    login(page, "C0004", PATRONS["C0004"])
    page.goto(f"/#/record/{record['id']}")
    page.get_by_role("heading", name=record["title"]).wait_for()
    assert page.locator("#holdings > li").count() == 3

    page.get_by_role("button", name="Prenota").click()
    snackbar = page.locator("#snackbar")
    snackbar.get_by_text("Prenotato: ritiro a").wait_for()
    snackbar.get_by_role("button", name="Annulla").click()
    page.get_by_text("Prenotazione annullata.").first.wait_for()

    page.get_by_role("button", name="Prenota").click()
    snackbar.get_by_text("Prenotato: ritiro a").wait_for()
    screenshot(page, "hold")

    page.goto("/#/holds")
    hold = page.locator("#holds > li", has_text=record["title"])
    hold.wait_for()
    cancel = hold.get_by_role("button", name=re.compile("Annulla prenotazione"))
    cancel.click()
    hold.get_by_role("button", name=re.compile("Tocca di nuovo per confermare")).click()
    page.get_by_text(f"Prenotazione annullata: {record['title']}.").wait_for()
    assert page.locator("#holds > li", has_text=record["title"]).count() == 0
    # Both the undone hold and this one are listed as ended.
    assert page.locator("#ended-holds > li", has_text=record["title"]).count() == 2
    screenshot(page, "cancel")


RENEW_LOAN = """mutation RenewLoan($loanId: ID!) {
  renewLoan(input: { loanId: $loanId }) {
    loan { id dueDate renewalsUsed renewalsLeft }
    errors { code message }
  }
}"""

SET_CLOCK = """mutation SetClock($now: String!) {
  setClock(now: $now) { now errors { code message } }
}"""


def test_renew_all_renews_one_and_shows_the_refusal_of_the_other(
    page_factory: PageFactory, server: str
) -> None:
    card = "C0002"
    waited_for, free = _books(copies=1)[0], _books(copies=1)[1]
    reserved_loan = lend(server, card, waited_for["id"])
    lend(server, card, free["id"])
    # Another patron queues for the only copy of the first book: it cannot be renewed.
    other = token_for(server, "C0005", PATRONS["C0005"])
    queued = graphql(server, PLACE_HOLD, {"recordId": waited_for["id"]}, other)["placeHold"]
    assert queued["errors"] == []
    assert queued["hold"]["status"] == "WAITING"
    # Three weeks and a half later both loans are due within the renewal window.
    staff = token_for(server, STAFF_CARD, STAFF_PIN)
    later = (datetime.now(UTC) + timedelta(days=25)).isoformat()
    assert graphql(server, SET_CLOCK, {"now": later}, staff)["setClock"]["errors"] == []

    page = page_factory()
    login(page, card, PATRONS[card])
    loans = page.locator("#loans > li")
    loans.first.wait_for()
    reserved = page.locator(f"li[data-loan-id='{reserved_loan['id']}']")
    assert "Altre persone lo aspettano" in reserved.inner_text()

    page.get_by_role("button", name="Rinnova tutti").click()
    page.get_by_text("Rinnovati: 1. Non rinnovabili: 1.").wait_for()
    renewed = page.locator("li.loan", has_text=free["title"])
    assert "Rinnovato: nuova scadenza il" in renewed.inner_text()
    # The refusal in the server's words (asking the server the same question gives them).
    patron = token_for(server, card, PATRONS[card])
    refusal = graphql(server, RENEW_LOAN, {"loanId": reserved_loan["id"]}, patron)["renewLoan"]
    assert refusal["errors"][0]["code"] == "RESERVED_BY_OTHERS"
    assert refusal["errors"][0]["message"] in reserved.get_by_role("alert").inner_text()

    reserved.get_by_role("button", name=re.compile("^Rinnova")).click()
    reserved.get_by_role("alert").wait_for()
    assert refusal["errors"][0]["message"] in reserved.get_by_role("alert").inner_text()
    screenshot(page, "renew")


def test_scanning_an_ean13_with_the_camera_opens_the_record(page_factory: PageFactory) -> None:
    vendor = REPO / "pwa" / "vendor" / "barcode-detector" / "ponyfill.js"
    assert vendor.exists(), "the barcode polyfill is not vendored: run `make pwa-vendor`"
    record = next(r for r in dataset()["records"] if SCANNED_ISBN in r["isbns"])
    page = page_factory(permissions=["camera"])
    vendor_requests: list[str] = []
    page.on("request", lambda request: vendor_requests.append(request.url))
    page.goto("/#/search")
    page.get_by_role("button", name="Scansiona ISBN").click()

    page.wait_for_url(f"**/#/record/{record['id']}", timeout=30_000)
    page.get_by_role("heading", name=record["title"]).wait_for()
    assert SCANNED_ISBN in page.locator("dl.facts").inner_text()
    # The polyfill and its wasm came from this server, loaded only when scanning started.
    wasm = [url for url in vendor_requests if url.endswith(".wasm")]
    assert wasm
    assert all(url.startswith(page.url.split("/#")[0]) for url in wasm)
    screenshot(page, "scan")


def test_manual_isbn_entry_says_when_the_isbn_is_not_in_the_catalogue(
    page_factory: PageFactory,
) -> None:
    page = page_factory()
    page.goto("/#/search")
    page.locator("#manual-isbn summary").click()
    page.locator("#isbn").fill("978-88-04-66769-8")
    page.get_by_role("button", name="Cerca ISBN").click()
    page.locator("#scan-output", has_text="9788804667698 non è nel catalogo della rete.").wait_for()
    page.locator("#isbn").fill("12345")
    page.get_by_role("button", name="Cerca ISBN").click()
    page.get_by_role("alert").wait_for()
    screenshot(page, "manual-isbn")


def _subscription_keys() -> tuple[str, str]:
    """A real P-256 public key and auth secret, as PushSubscription.toJSON() gives them."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )

    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return encode(point), encode(b"0123456789abcdef")


NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
}"""

# Headless Chromium cannot reach a push service offline, so pushManager.subscribe() is replaced
# by one that returns this subscription; everything after it (SubscribePush) is real.
FAKE_SUBSCRIBE = """
([endpoint, p256dh, auth]) => {
  const subscription = {
    endpoint, options: { applicationServerKey: null, userVisibleOnly: true },
    toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh, auth } }),
    unsubscribe: async () => true,
  };
  let current = null;
  PushManager.prototype.subscribe = async function (options) {
    window.__subscribedWith = options;
    subscription.options.applicationServerKey = options.applicationServerKey.buffer;
    current = subscription;
    return subscription;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
}
"""


def test_turning_on_push_then_a_push_shows_a_notification(
    page_factory: PageFactory, server: str
) -> None:
    page = page_factory(permissions=["notifications"])
    p256dh, auth = _subscription_keys()
    endpoint = f"{server}/e2e-push-endpoint"
    page.context.add_init_script(f"({FAKE_SUBSCRIBE})({json.dumps([endpoint, p256dh, auth])})")
    page.goto("/")
    wait_for_service_worker(page)
    login(page, "C0003", PATRONS["C0003"])
    page.goto("/#/settings")
    page.get_by_role("button", name="Attiva le notifiche push").click()
    page.locator("#push-result").get_by_text("Notifiche push attivate.").wait_for()
    # subscribe() was given the server's VAPID key.
    key = page.evaluate("Array.from(new Uint8Array(window.__subscribedWith.applicationServerKey))")
    assert len(key) == 65
    assert key[0] == 4

    session = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    session.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    session.send("ServiceWorker.enable")
    page.wait_for_timeout(200)
    registration = next(r for r in registrations if r["scopeURL"] == f"{server}/")
    message = {
        "type": "HOLD_READY",
        "title": "Prenotazione pronta",
        "body": "Taupo ti aspetta alla Biblioteca Universitaria fino al 30 novembre.",
        "url": "/#/holds",
        "tag": "hold-42",
    }
    session.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": f"{server}/",
            "registrationId": registration["registrationId"],
            "data": json.dumps(message),
        },
    )
    shown: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not shown and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        shown = page.evaluate(NOTIFICATIONS)
    assert shown == [
        {
            "title": message["title"],
            "body": message["body"],
            "tag": "hold-42",
            "data": {"url": "/#/holds", "type": "HOLD_READY"},
        }
    ]
    # A tap on it opens the app at the message's screen (here through the worker's own handler
    # code, since headless Chromium has no notification to click).
    worker = next(w for w in page.context.service_workers if w.url.endswith("/sw.js"))
    worker.evaluate(
        """async () => {
          const [shown] = await self.registration.getNotifications();
          await openApp(shown.data.url);
        }"""
    )
    page.wait_for_url("**/#/holds")
    page.get_by_role("heading", name="Le mie prenotazioni").wait_for()
    screenshot(page, "push")


def test_offline_reload_shows_the_cached_loans(page_factory: PageFactory, server: str) -> None:
    card = "C0003"
    book = _books(copies=1)[2]
    lend(server, card, book["id"])
    page = page_factory()
    page.goto("/")
    wait_for_service_worker(page)
    login(page, card, PATRONS[card])
    page.locator("li.loan", has_text=book["title"]).wait_for()

    page.context.set_offline(True)
    page.reload()
    page.locator("li.loan", has_text=book["title"]).wait_for()
    assert "Sei offline" in page.locator("#offline-copy").inner_text()
    assert page.locator("#offline-banner").is_visible()
    # The card too comes from the copy.
    page.locator(".tabbar a[data-route=card]").click()
    page.locator("#card-number").wait_for()
    assert page.locator("#card-number").inner_text() == card
    screenshot(page, "offline")
    page.context.set_offline(False)


def test_libraries_are_ordered_by_distance_from_the_patron(page_factory: PageFactory) -> None:
    here = {"latitude": 45.1125, "longitude": 8.8630}  # Mortara
    located = [lib for lib in dataset()["libraries"] if lib.get("lat") is not None]
    # As the server orders them: by whole metres, then by name.
    nearest = sorted(
        located,
        key=lambda lib: (
            round(_distance(here["latitude"], here["longitude"], lib["lat"], lib["lon"])),
            lib["name"].casefold(),
            lib["id"],
        ),
    )
    page = page_factory(geolocation=here, permissions=["geolocation"])
    page.goto("/#/libraries")
    page.locator("#libraries-status", has_text="biblioteche, dalla più vicina").wait_for()
    names = page.locator("#libraries > li h2").all_inner_texts()
    assert names[:3] == [lib["name"] for lib in nearest[:3]]
    distances = page.locator("#libraries > li .distance").all_inner_texts()
    assert distances[0].endswith(("m", "km"))
    screenshot(page, "libraries")


DECODE_CARD = """async () => {
  const svg = document.querySelector('#card-barcode svg');
  const source = 'data:image/svg+xml;base64,' + btoa(new XMLSerializer().serializeToString(svg));
  const image = new Image();
  image.src = source;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = 900; canvas.height = 200;
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff'; context.fillRect(0, 0, 900, 200);
  context.drawImage(image, 50, 25, 800, 150);
  const vendor = '/vendor/barcode-detector/';
  const { BarcodeDetector, setZXingModuleOverrides } = await import(vendor + 'ponyfill.js');
  setZXingModuleOverrides({ locateFile: (path) => vendor + path });
  const found = await new BarcodeDetector({ formats: ['code_128'] }).detect(canvas);
  return found.map((code) => code.rawValue);
}"""


@pytest.mark.parametrize("card", ["C0005", "RSSMRA85T10G388I"])
def test_the_digital_card_barcode_reads_back_as_the_card_number(
    page_factory: PageFactory, card: str
) -> None:
    page = page_factory()
    login(page, card, PATRONS[card])
    page.locator(".tabbar a[data-route=card]").click()
    page.locator("#card-barcode svg").wait_for()
    assert page.locator("#card-barcode svg").get_attribute("aria-label") == (
        f"Codice a barre della tessera {card}"
    )
    assert page.evaluate(DECODE_CARD) == [card]
    assert page.locator("#standing-code").inner_text() == "Tessera in regola"
    screenshot(page, f"card-{card}")


UNAUTHENTICATED = {
    "data": {"me": None},
    "errors": [{"message": "Sign in first.", "extensions": {"code": "UNAUTHENTICATED"}}],
}


def test_an_expired_access_token_is_refreshed_and_the_request_retried(
    page_factory: PageFactory,
) -> None:
    # Without the service worker, so that the test's route sees the page's own requests.
    page = page_factory(service_workers="block")
    login(page, "C0005", PATRONS["C0005"])
    page.locator(".screen").get_by_text(re.compile(r"prestit[oi]")).first.wait_for()
    page.wait_for_load_state("networkidle")
    first_refresh_token = page.evaluate("() => localStorage.getItem('tessera.refreshToken')")
    operations: list[str] = []
    refused: list[str] = []

    def answer(route: Any) -> None:
        operation = json.loads(route.request.post_data or "{}").get("operationName", "")
        operations.append(operation)
        if operation == "Me" and not refused:
            refused.append(operation)
            route.fulfill(status=200, json=UNAUTHENTICATED)
        else:
            route.continue_()

    page.route("**/graphql", answer)
    page.locator(".tabbar a[data-route=holds]").click()
    page.get_by_role("heading", name="Le mie prenotazioni").wait_for()
    page.locator(".screen").get_by_text(re.compile(r"prenotazion[ei] attiv[ea]")).wait_for()
    assert operations[:3] == ["Me", "RefreshSession", "Me"]
    # The refresh token rotated, and the new one is kept.
    rotated = page.evaluate("() => localStorage.getItem('tessera.refreshToken')")
    assert rotated
    assert rotated != first_refresh_token


def test_chromium_says_the_app_is_installable(
    playwright: Any, chromium: Path, server: str, tmp_path: Path
) -> None:
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS
    )
    try:
        page = context.new_page()
        page.goto(f"{server}/")
        wait_for_service_worker(page)
        session = context.new_cdp_session(page)
        errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
        manifest = session.send("Page.getAppManifest")
    finally:
        context.close()
    assert errors == []
    assert manifest["errors"] == []
    assert manifest["url"] == f"{server}/manifest.webmanifest"


def test_notification_settings_are_saved_and_a_bad_number_is_refused(
    page_factory: PageFactory,
) -> None:
    page = page_factory()
    login(page, "C0004", PATRONS["C0004"])
    page.locator("#settings-link").click()
    form = page.locator("#preferences")
    form.wait_for()
    form.get_by_label("Avvisi per SMS").check()
    form.get_by_label("Numero di cellulare per gli SMS").fill("12")
    form.get_by_role("button", name="Salva").click()
    refusal = form.get_by_role("alert")
    refusal.wait_for()
    assert refusal.inner_text()

    form.get_by_label("Numero di cellulare per gli SMS").fill("+39 347 555 0199")
    form.get_by_label("Dalle", exact=True).fill("22:30")
    form.get_by_label("Alle", exact=True).fill("07:15")
    form.get_by_label("Lingua degli avvisi").select_option("en")
    form.get_by_role("button", name="Salva").click()
    form.get_by_text("Preferenze salvate.").wait_for()

    page.reload()
    form = page.locator("#preferences")
    form.wait_for()
    assert form.get_by_label("Avvisi per SMS").is_checked()
    assert form.get_by_label("Numero di cellulare per gli SMS").input_value() == "+393475550199"
    assert form.get_by_label("Dalle", exact=True).input_value() == "22:30"
    assert form.get_by_label("Alle", exact=True).input_value() == "07:15"
    assert form.get_by_label("Lingua degli avvisi").input_value() == "en"
    screenshot(page, "settings")
