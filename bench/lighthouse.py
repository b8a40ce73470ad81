"""Lighthouse scores of the PWA, and Chromium's own verdict on whether it can be installed.

Starts a real `tessera serve` on the demo dataset (a temporary var dir), then runs Lighthouse
(bench/node_modules, `make bench-tools`) with Debian's Chromium (CHROME_PATH=/usr/bin/chromium),
headless, in its default mobile emulation (a mid-range phone on a throttled 4G connection,
simulated), and prints the performance, accessibility, best-practices and SEO scores and the
bytes transferred. The baseline, measured in the same run with the same settings, is the bare
index.html without the app's script (same stylesheet, icons and manifest, served as static
files): what the shell costs before any of the app runs. Last, a Chromium with a persistent
profile opens the app and asks DevTools (Page.getInstallabilityErrors) whether it is
installable.

    .venv/bin/python bench/lighthouse.py [--url-path /#/search] [--json report.json]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
PWA = REPO / "pwa"
DATASET = REPO / "demo" / "dataset.json"
LIGHTHOUSE = REPO / "bench" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = Path(os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
# Headless, and nothing that calls home on a machine without internet.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def tessera_serve(var_dir: Path) -> Iterator[str]:
    """`tessera serve` with the demo dataset loaded; yields its base URL."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")
    }
    environment["TESSERA_VAR_DIR"] = str(var_dir)
    subprocess.run(
        [sys.executable, "-m", "gateway.cli", "load", str(DATASET)],
        env=environment,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=environment,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
                raise SystemExit("tessera serve did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def bare_copy(folder: Path) -> Path:
    """The baseline: index.html without the app's script and module preloads, beside the same
    stylesheet, icons and manifest."""
    folder.mkdir()
    index = (PWA / "index.html").read_text(encoding="utf-8")
    index = re.sub(r'\s*<link rel="modulepreload"[^>]*>', "", index)
    index = re.sub(r'\s*<script type="module"[^>]*></script>', "", index)
    (folder / "index.html").write_text(index, encoding="utf-8")
    shutil.copytree(PWA / "css", folder / "css")
    shutil.copytree(PWA / "icons", folder / "icons")
    shutil.copy(PWA / "manifest.webmanifest", folder / "manifest.webmanifest")
    return folder


@contextmanager
def static_server(folder: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def lighthouse(url: str, output: Path) -> dict[str, Any]:
    """One Lighthouse run; its JSON report."""
    environment = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    subprocess.run(
        [
            "node",
            str(LIGHTHOUSE),
            url,
            "--output=json",
            f"--output-path={output}",
            "--quiet",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={' '.join(CHROMIUM_FLAGS)}",
        ],
        env=environment,
        check=True,
        timeout=300,
    )
    report: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return report


def summary(report: dict[str, Any]) -> dict[str, Any]:
    scores = {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}
    audits = report["audits"]
    failing = [
        f"{category}: {reference['id']} ({audits[reference['id']]['score']})"
        for category in CATEGORIES
        for reference in report["categories"][category]["auditRefs"]
        if reference["weight"] > 0
        and audits[reference["id"]]["score"] is not None
        and audits[reference["id"]]["score"] < 1
    ]
    return {
        "scores": scores,
        "bytes": int(audits["total-byte-weight"]["numericValue"]),
        "requests": len(audits["network-requests"]["details"]["items"]),
        "first_contentful_paint_ms": round(audits["first-contentful-paint"]["numericValue"]),
        "largest_contentful_paint_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "below_full_marks": failing,
        "lighthouse": report["lighthouseVersion"],
        "user_agent": report["environment"]["hostUserAgent"],
    }


def installability(url: str, profile: Path) -> dict[str, Any]:
    """Chromium's verdict (Page.getInstallabilityErrors) in a persistent profile, once the
    service worker controls the page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS[1:],
        )
        try:
            page = context.new_page()
            page.goto(url)
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            session = context.new_cdp_session(page)
            errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
            manifest = session.send("Page.getAppManifest")
            return {
                "installability_errors": errors,
                "manifest_errors": manifest.get("errors", []),
                "manifest_url": manifest.get("url"),
            }
        finally:
            context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url-path", default="/#/search", help="the app's page to audit")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    arguments = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is not installed: run `npm ci --prefix bench` first")
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        with (
            tessera_serve(folder / "var") as base,
            static_server(bare_copy(folder / "bare")) as bare,
        ):
            app = summary(lighthouse(base + arguments.url_path, folder / "app.json"))
            baseline = summary(lighthouse(bare + "/", folder / "bare.json"))
            install = installability(base + "/", folder / "profile")

    print(f"Lighthouse {app['lighthouse']}, mobile emulation (simulated throttling), {CHROMIUM}")
    header = ["perf", "a11y", "b-p", "seo", "bytes", "requests", "LCP ms"]
    print(f"{'':<28}" + "".join(f"{name:>9}" for name in header))
    rows = ((f"app {arguments.url_path}", app), ("baseline: bare index.html", baseline))
    for label, figures in rows:
        cells = [figures["scores"][name] for name in CATEGORIES]
        cells += [
            f"{figures['bytes']:,}",
            figures["requests"],
            figures["largest_contentful_paint_ms"],
        ]
        print(f"{label:<28}" + "".join(f"{cell:>9}" for cell in cells))
    print(
        f"app / baseline bytes: {app['bytes'] / baseline['bytes']:.2f}x "
        "(what the app's modules and data add to the bare shell)"
    )
    for label, figures in (("app", app), ("baseline", baseline)):
        for item in figures["below_full_marks"]:
            print(f"  {label} below full marks: {item}")
    verdict = install["installability_errors"]
    print(
        "installability (Chromium, Page.getInstallabilityErrors): "
        + ("installable, no errors" if not verdict else json.dumps(verdict))
    )
    if install["manifest_errors"]:
        print(f"manifest errors: {json.dumps(install['manifest_errors'])}")
    if arguments.json:
        arguments.json.write_text(
            json.dumps({"app": app, "baseline": baseline, "installability": install}, indent=2),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
