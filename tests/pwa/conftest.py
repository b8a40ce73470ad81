"""The PWA's end-to-end tests: a real `tessera serve` on the demo dataset, driven by headless
Chromium (Debian's /usr/bin/chromium) through Playwright.

Without /usr/bin/chromium these tests are skipped, except in CI (CI set), where they must run
and so fail. Screenshots of each journey go to test-output/pwa/.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pwa.barcodes import barcode_image, write_y4m

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "demo" / "dataset.json"
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = bool(os.environ.get("CI"))
SCREENSHOTS = REPO / "test-output" / "pwa"
# Headless on a machine without internet: these keep Chromium from calling home.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The record the fake camera shows: "Taupo", ISBN 9780473105013, in the demo dataset.
SCANNED_ISBN = "9780473105013"
# A 360 px wide phone.
PHONE = {"width": 360, "height": 740}

STAFF_CARD, STAFF_PIN = "STAFF01", "9021"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests are marked so that they can be told apart (-m browser / not browser)."""
    for item in items:
        if "page_factory" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium against tessera serve")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="package")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing: CI must run the PWA's browser tests")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


def _environment(var_dir: Path) -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")
    }
    environment.update(
        TESSERA_VAR_DIR=str(var_dir),
        TESSERA_TEST_CLOCK="1",
        TESSERA_PUSH_ALLOW_LOOPBACK="1",
    )
    return environment


@pytest.fixture(scope="package")
def server(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tessera serve` on the demo dataset, for the whole session; its base URL."""
    var_dir = tmp_path_factory.mktemp("tessera-var")
    environment = _environment(var_dir)
    subprocess.run(
        [sys.executable, "-m", "gateway.cli", "load", str(DATASET)],
        env=environment,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = _free_port()
    log_path = var_dir / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
            env=environment,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tessera serve did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="package")
def fake_camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Y4M video of the EAN-13 of SCANNED_ISBN, for Chromium's fake camera."""
    path = tmp_path_factory.mktemp("camera") / "isbn.y4m"
    write_y4m(path, barcode_image(SCANNED_ISBN, width=640, height=480, module=4), frames=15)
    return path


@pytest.fixture(scope="package")
def playwright(chromium: Path) -> Iterator[Any]:
    """Playwright, once for the session (its sync API allows one instance at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="package")
def browser(playwright: Any, chromium: Path, fake_camera: Path) -> Iterator[Any]:
    instance = playwright.chromium.launch(
        executable_path=str(chromium),
        headless=True,
        args=[
            *CHROMIUM_FLAGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={fake_camera}",
        ],
    )
    try:
        yield instance
    finally:
        instance.close()


PageFactory = Callable[..., Any]


@pytest.fixture
def page_factory(browser: Any, server: str) -> Iterator[PageFactory]:
    """Opens pages in fresh browser contexts (a phone-sized window, Italian, no storage); every
    page's console errors and uncaught exceptions fail the test."""
    contexts: list[Any] = []
    problems: list[str] = []

    def open_page(**options: Any) -> Any:
        settings: dict[str, Any] = {
            "viewport": PHONE,
            "locale": "it-IT",
            "base_url": server,
            "service_workers": "allow",
        }
        settings.update(options)
        context = browser.new_context(**settings)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"console {message.type}: {message.text}")
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


def screenshot(page: Any, journey: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{journey}.png"), full_page=True)


def wait_for_service_worker(page: Any) -> None:
    """Until the service worker controls the page (so it sees and caches the app's requests)."""
    # A function, not a string: the page's CSP forbids eval, which a string predicate needs.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def login(page: Any, card: str, pin: str) -> None:
    page.goto("/#/login")
    page.get_by_label("Numero di tessera o codice fiscale").fill(card)
    page.get_by_label("PIN", exact=True).fill(pin)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url("**/#/loans")


def graphql(
    server: str, document: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    """Sends one GraphQL operation (the tests' own set-up, as a desk would)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{server}/graphql",
        json={"query": document, "variables": variables or {}},
        headers=headers,
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, json.dumps(body)
    data: dict[str, Any] = body["data"]
    return data


LOGIN = """mutation Login($cardNumber: String!, $pin: String!) {
  login(input: { cardNumber: $cardNumber, pin: $pin }) {
    accessToken refreshToken expiresIn
    errors { code message }
  }
}"""

CHECKOUT = """mutation Checkout($cardNumber: String!, $itemBarcode: String!, $libraryId: ID!) {
  checkout(input: { cardNumber: $cardNumber, itemBarcode: $itemBarcode, libraryId: $libraryId }) {
    loan { id dueDate }
    errors { code message }
  }
}"""

PLACE_HOLD = """mutation PlaceHold($recordId: ID!, $pickupLibraryId: ID, $near: GeoPointInput, $clientMutationId: String) {
  placeHold(input: { recordId: $recordId, pickupLibraryId: $pickupLibraryId, near: $near, clientMutationId: $clientMutationId }) {
    hold { id status position pickupLibrary { id name } }
    errors { code message }
  }
}"""  # noqa: E501


def token_for(server: str, card: str, pin: str) -> str:
    payload = graphql(server, LOGIN, {"cardNumber": card, "pin": pin})["login"]
    assert payload["errors"] == [], payload
    token: str = payload["accessToken"]
    return token


def dataset() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DATASET.read_text(encoding="utf-8"))
    return document


def lend(server: str, card: str, record_id: str) -> dict[str, Any]:
    """A desk lends `card` a copy of the record (the first loanable copy that it accepts)."""
    staff = token_for(server, STAFF_CARD, STAFF_PIN)
    for item in dataset()["items"]:
        if item["recordId"] != record_id or not item["loanable"]:
            continue
        variables = {
            "cardNumber": card,
            "itemBarcode": item["barcode"],
            "libraryId": item["libraryId"],
        }
        payload = graphql(server, CHECKOUT, variables, staff)["checkout"]
        if not payload["errors"]:
            loan: dict[str, Any] = payload["loan"]
            return loan
    raise AssertionError(f"no copy of {record_id} could be lent")
