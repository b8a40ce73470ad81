"""The PWA's files, without a browser: the app shell's weight, the service worker's list of shell
files, the manifest and its icons, the strings of both languages, and the GraphQL operations,
which must be the contract's."""

from __future__ import annotations

import gzip
import json
import os
import re
import struct
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, print_ast

REPO = Path(__file__).resolve().parents[2]
PWA = REPO / "pwa"
SHELL_BUDGET_BYTES = 100 * 1024
CONTRACTS = [
    REPO.parent / "shared" / "contract" / "operations.graphql",
    REPO / "gateway" / "operations.graphql",  # the gateway's copy of the contract
]
# The one knowing difference from the contract (see pwa/js/api/operations.js): its Record
# declares $near without passing it to record(...), which GraphQL validation refuses.
KNOWN_DIFFERENCES = {"Record"}


def _service_worker_shell() -> list[str]:
    source = (PWA / "sw.js").read_text(encoding="utf-8")
    block = re.search(r"const SHELL = \[(.*?)\];", source, re.S)
    assert block, "sw.js has no SHELL list"
    return re.findall(r"'([^']+)'", block.group(1))


def _shell_files() -> list[Path]:
    """index.html, the service worker and everything it caches as the shell."""
    paths = [PWA / "index.html", PWA / "sw.js"]
    paths += [PWA / entry.lstrip("/") for entry in _service_worker_shell() if entry != "/"]
    return paths


def test_the_app_shell_is_under_100_kb_gzipped() -> None:
    sizes = {
        path: len(gzip.compress(path.read_bytes(), compresslevel=6)) for path in _shell_files()
    }
    total = sum(sizes.values())
    raw = sum(path.stat().st_size for path in sizes)
    print(f"app shell: {len(sizes)} files, {raw} bytes, {total} bytes gzipped")
    assert total < SHELL_BUDGET_BYTES, f"the app shell is {total} bytes gzipped"


def test_the_service_worker_caches_every_shell_file_and_only_those() -> None:
    listed = set(_service_worker_shell())
    on_disk = {"/", "/manifest.webmanifest"}
    for folder in ("css", "js", "icons"):
        on_disk |= {
            "/" + path.relative_to(PWA).as_posix()
            for path in (PWA / folder).rglob("*")
            if path.is_file()
        }
    assert listed == on_disk
    for entry in listed - {"/"}:
        assert (PWA / entry.lstrip("/")).is_file(), entry


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_makes_the_app_installable() -> None:
    manifest = json.loads((PWA / "manifest.webmanifest").read_text(encoding="utf-8"))

    assert manifest["name"]
    assert manifest["short_name"]
    assert manifest["display"] == "standalone"
    assert manifest["start_url"].startswith(manifest["scope"])
    sizes = set()
    for icon in manifest["icons"]:
        path = PWA / icon["src"].lstrip("/")
        assert path.is_file(), icon["src"]
        if icon["type"] == "image/png":
            width, height = _png_size(path)
            assert icon["sizes"] == f"{width}x{height}"
            sizes.add((width, icon.get("purpose", "any")))
    assert {(192, "any"), (512, "any"), (512, "maskable")} <= sizes
    assert any(icon["type"] == "image/svg+xml" for icon in manifest["icons"])


def test_index_links_the_manifest_and_loads_the_app_as_a_module() -> None:
    index = (PWA / "index.html").read_text(encoding="utf-8")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in index
    assert '<script type="module" src="/js/app.js"></script>' in index
    assert '<html lang="it">' in index
    for landmark in ("<header", "<nav", "<main"):
        assert landmark in index


def test_nothing_is_loaded_from_another_site() -> None:
    """Only the directions link points elsewhere, and it is a plain link."""
    allowed = {"https://www.openstreetmap.org/directions", "http://www.w3.org/2000/svg"}
    for path in PWA.rglob("*"):
        if path.suffix not in {".js", ".html", ".css", ".webmanifest", ".svg"}:
            continue
        if any(part in {"vendor", "node_modules"} for part in path.parts):
            continue
        for url in re.findall(r"https?://[^\s'\"`)<]+", path.read_text(encoding="utf-8")):
            assert any(url.startswith(prefix) for prefix in allowed), f"{path}: {url}"


def _catalog(language: str) -> dict[str, str]:
    source = (PWA / "js" / "strings" / f"{language}.js").read_text(encoding="utf-8")
    return dict(re.findall(r"^\s*'([^']+)': '((?:[^'\\]|\\.)*)',$", source, re.M))


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_both_languages_have_the_same_strings_and_placeholders() -> None:
    italian, english = _catalog("it"), _catalog("en")
    assert len(italian) > 100
    assert italian.keys() == english.keys()
    for key in italian:
        assert _placeholders(italian[key]) == _placeholders(english[key]), key


# Codes from the contract that the app translates (strings built as `prefix.${code}`).
CODES = {
    "material": ["BOOK", "AUDIOBOOK", "PERIODICAL", "AUDIOVISUAL", "EBOOK", "KIT", "OTHER"],
    "status": ["AVAILABLE", "ON_LOAN", "IN_TRANSIT", "ON_HOLD_SHELF", "NOT_FOR_LOAN",
               "EMBARGOED", "IN_QUARANTINE", "LOST"],
    "holdStatus": ["WAITING", "IN_TRANSIT", "READY", "EXPIRED", "CANCELLED", "FULFILLED"],
    "standing": ["OK", "SUSPENDED", "REVOKED", "EXPIRED"],
    "weekday": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"],
    "renewBlocked": ["RENEWAL_LIMIT_REACHED", "NOT_RENEWABLE", "TOO_EARLY", "TOO_LATE",
                     "RESERVED_BY_OTHERS", "PATRON_BLOCKED"],
}  # fmt: skip


def test_every_string_the_app_asks_for_exists() -> None:
    italian = _catalog("it")
    used: set[str] = set()
    for path in (PWA / "js").rglob("*.js"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\('([\w.]+)'", source))
        used |= set(re.findall(r'data-label="([\w.]+)"', source))
    used |= set(re.findall(r'data-label="([\w.]+)"', (PWA / "index.html").read_text("utf-8")))
    for prefix, codes in CODES.items():
        used |= {f"{prefix}.{code}" for code in codes}
    for key in sorted(used):
        plural = {f"{key}_one", f"{key}_other"}
        assert key in italian or plural <= italian.keys(), f"missing string {key}"


def _pwa_operations() -> dict[str, str]:
    source = (PWA / "js" / "api" / "operations.js").read_text(encoding="utf-8")
    return dict(re.findall(r"^export const (\w+) = `(.*?)`;$", source, re.M | re.S))


def _definitions(document: str) -> dict[str, str]:
    """Each operation and fragment of a document, printed canonically (comments and layout
    set aside)."""
    printed: dict[str, str] = {}
    for definition in parse(document).definitions:
        name = definition.name.value if definition.name else ""  # type: ignore[attr-defined]
        printed[name] = print_ast(definition)
    return printed


def _contract() -> str:
    for path in CONTRACTS:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    if os.environ.get("CI"):
        pytest.fail("the contract's operations.graphql is missing")
    pytest.skip("no copy of the contract's operations.graphql beside the repository")


def test_the_app_sends_the_contract_operations_word_for_word() -> None:
    contract = _definitions(_contract())
    sent = {name: _definitions(text)[name] for name, text in _pwa_operations().items()}
    assert len(sent) >= 18
    for name, text in sent.items():
        assert name in contract, f"{name} is not in the contract"
        if name in KNOWN_DIFFERENCES:
            assert text != contract[name], f"{name} matches the contract now: drop the difference"
            continue
        assert text == contract[name], f"{name} differs from the contract"


def test_the_known_difference_only_passes_near_to_record() -> None:
    contract = _definitions(_contract())["Record"]
    sent = _definitions(_pwa_operations()["Record"])["Record"]
    assert sent == contract.replace("record(id: $id)", "record(id: $id, near: $near)")


def test_every_operation_is_a_single_valid_document() -> None:
    for name, text in _pwa_operations().items():
        document = parse(text)
        kinds = [type(definition).__name__ for definition in document.definitions]
        assert len(kinds) == 1, name
        if isinstance(document.definitions[0], OperationDefinitionNode):
            assert document.definitions[0].name is not None
