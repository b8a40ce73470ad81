"""schemathesis, in its GraphQL mode, against a real `tessera serve` (introspection on, the test
dataset loaded): every generated request, valid or not, signed in or not, is answered without a
5xx. Bounded: MAX_EXAMPLES per operation for valid requests without a token, fewer for the other
passes (invalid requests; a patron's token; a staff token), and TIME_BUDGET_SECONDS in all."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok

from gateway._persisted import PersistedOperations
from tests.factories import dataset_document

MAX_EXAMPLES = 30
MORE_EXAMPLES = 15
TIME_BUDGET_SECONDS = 60.0
SERVE = (sys.executable, "-m", "gateway.cli", "serve")
LOGIN = next(op.text for op in PersistedOperations.load() if op.name == "Login")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("schemathesis")
    dataset = directory / "dataset.json"
    dataset.write_text(json.dumps(dataset_document()), encoding="utf-8")
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")
    }
    environment["TESSERA_VAR_DIR"] = str(directory / "var")
    environment["TESSERA_GRAPHIQL"] = "1"  # schemathesis reads the schema by introspection
    port = _free_port()
    log_path = directory / "server.log"
    # A file, not a pipe: a pipe nobody reads fills up with log lines and stalls the server.
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [*SERVE, "--port", str(port), "--dataset", str(dataset)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
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
                pytest.fail(f"the server did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _token(base: str, card_number: str, pin: str) -> str:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": LOGIN, "variables": {"cardNumber": card_number, "pin": pin}},
    )
    token = response.json()["data"]["login"]["accessToken"]
    assert isinstance(token, str), response.text
    return token


def _explore(
    operation: APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    *,
    examples: int,
    token: str | None,
    deadline: float,
    answered: set[str],
) -> None:
    """Sends up to `examples` generated requests for one operation (none once past `deadline`)
    and fails on the first 5xx, with a curl command that reproduces it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    shown = {"Authorization": "Bearer <token>"} if token else None

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Case[Any]) -> None:
        if time.monotonic() > deadline:
            return
        response = case.call(headers=headers, timeout=30)
        answered.add(operation.label)
        assert response.status_code < 500, (
            f"{response.status_code} {response.text[:500]}\n{case.as_curl_command(headers=shown)}"
        )

    call()


def test_generated_requests_never_get_a_server_error(server: str) -> None:
    schema = schemathesis.graphql.from_url(f"{server}/graphql")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    patron, staff = _token(server, "C0001", "1234"), _token(server, "STAFF01", "9876")
    passes = [
        (GenerationMode.POSITIVE, None, MAX_EXAMPLES),
        (GenerationMode.NEGATIVE, None, MORE_EXAMPLES),
        (GenerationMode.POSITIVE, patron, MORE_EXAMPLES),
        (GenerationMode.POSITIVE, staff, MORE_EXAMPLES),
    ]
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    answered: set[str] = set()

    for mode, token, examples in passes:
        for operation in operations:
            if time.monotonic() > deadline:
                break
            if token and operation.label == "Mutation.login":
                continue  # the same with a token; and each try costs a PIN hash
            _explore(
                operation,
                mode,
                examples=examples,
                token=token,
                deadline=deadline,
                answered=answered,
            )

    # Within the budget every operation was tried at least once.
    assert answered == {operation.label for operation in operations}
    assert len(operations) >= 20
