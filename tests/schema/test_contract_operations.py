"""The schema keeps the contract: every operation the PWA sends validates against it, and the
committed SDL (schema.graphql, written by `tessera export-schema schema.graphql`) is the schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from graphql import parse, validate

from gateway._persisted import OPERATIONS_FILE, PersistedOperation, PersistedOperations
from schema import schema
from schema._schema import validation_rules

REPO = Path(__file__).resolve().parents[2]
SDL_FILE = REPO / "schema.graphql"
CONTRACT_OPERATIONS = REPO.parent / "shared" / "contract" / "operations.graphql"
OPERATIONS = list(PersistedOperations.load())


def test_the_gateway_serves_the_contracts_operations() -> None:
    """gateway/operations.graphql (the persisted operations) is the contract's file, copied."""
    if not CONTRACT_OPERATIONS.is_file():
        message = f"{CONTRACT_OPERATIONS} is missing"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    assert OPERATIONS_FILE.read_text(encoding="utf-8") == CONTRACT_OPERATIONS.read_text(
        encoding="utf-8"
    ), "copy ../shared/contract/operations.graphql to gateway/operations.graphql"


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.name for operation in OPERATIONS])
def test_the_operation_validates_against_the_schema(operation: PersistedOperation) -> None:
    # The rules the server validates with: graphql-core's, less NoUnusedVariablesRule (the
    # contract's Record declares $near without using it), with the depth and cost limits.
    errors = validate(schema._schema, parse(operation.text), validation_rules())

    assert [error.message for error in errors] == []


def test_the_committed_sdl_is_the_schema() -> None:
    assert SDL_FILE.read_text(encoding="utf-8") == f"{schema}\n", (
        "regenerate it: .venv/bin/tessera export-schema schema.graphql"
    )


def test_the_export_command_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"

    subprocess.run(
        [sys.executable, "-m", "gateway.cli", "export-schema", str(target)],
        check=True,
        capture_output=True,
        cwd=REPO,
    )

    assert target.read_text(encoding="utf-8") == f"{schema}\n"
