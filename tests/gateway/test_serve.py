"""`tessera serve`: a real server process, on a dataset, answering GraphQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import dataset_document


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(tmp_path: Path) -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")
    }
    environment["TESSERA_VAR_DIR"] = str(tmp_path / "var")
    return environment


def _serve(tmp_path: Path, dataset: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "serve",
            "--port",
            str(port),
            "--dataset",
            str(dataset),
        ],
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def dataset_file(tmp_path: Path) -> Path:
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(dataset_document()), encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path, dataset_file: Path) -> Iterator[str]:
    port = _free_port()
    process = _serve(tmp_path, dataset_file, port)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"the server did not start:\n{output}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_loads_the_dataset_and_answers_graphql(server: str, tmp_path: Path) -> None:
    response = httpx.post(f"{server}/graphql", json={"query": "{ libraries { id name } }"})

    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "libraries": [
                {"id": "PAV02", "name": "Biblioteca civica Bonetta"},
                {"id": "PAV01", "name": "Biblioteca delle Scienze"},
            ]
        }
    }
    # The embedded database and the generated keys live in the var dir.
    assert (tmp_path / "var" / "tessera.db").exists()


def test_serve_serves_the_pwa_at_the_root(server: str) -> None:
    response = httpx.get(f"{server}/")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_serve_refuses_an_invalid_dataset_and_serves_nothing(tmp_path: Path) -> None:
    document = dataset_document()
    document["patrons"][0]["birthDate"] = "2001-02-29"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    port = _free_port()

    process = _serve(tmp_path, bad, port)
    output, _ = process.communicate(timeout=30)

    assert process.returncode != 0
    assert "patrons[0] (cardNumber 'C0001'): birthDate:" in output
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz")
