"""Where a GraphQL request's time goes: the contract's ScanIsbn, SearchCatalog and Me executed by
the schema in this process (no HTTP), one after the other under cProfile, on the demo dataset as
`make run` stages it.

Each operation runs twice: on a schema that parses and validates every request anew (strawberry
as it comes: the "before"), then on the schema the gateway serves, with its parser and
validation caches (the "after"). For each it prints the time per operation and the share of
the profiled time spent in each package (graphql-core's parser and validator, strawberry's
execution, SQLAlchemy, the database driver, our own code).

    .venv/bin/python bench/graphql_profile.py [--runs 300]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import tempfile
import time
from collections import defaultdict
from typing import Any

from graphql_gateway import ME_CARD, PAVIA, SEARCH_QUERY, demo_pin, inputs, services_of, stage

from gateway._persisted import PersistedOperations
from gateway._runtime import Runtime
from gateway.settings import Settings
from schema import Context, Services
from schema._schema import build_schema

# The first path part after site-packages (or the project's folder) names the package.
_PROJECT = ("auth", "catalog", "circulation", "db", "gateway", "push", "schema", "search")


def _package(filename: str) -> str:
    parts = filename.replace("\\", "/").split("/")
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    for part in parts:
        if part in _PROJECT:
            return f"tessera:{part}"
    return "stdlib" if "python3" in filename else "other"


def _shares(profile: cProfile.Profile) -> list[tuple[str, float]]:
    """Each package's share of the time spent in its own functions (not those it calls)."""
    own: defaultdict[str, float] = defaultdict(float)
    for entry in profile.getstats():
        # Built-in functions have a description in place of a code object.
        code = entry.code
        package = "built-ins" if isinstance(code, str) else _package(code.co_filename)
        own[package] += entry.inlinetime
    total = sum(own.values()) or 1.0
    ranked = sorted(own.items(), key=lambda pair: -pair[1])[:8]
    return [(package, seconds / total) for package, seconds in ranked]


async def measure(
    services: Services, token: str, isbn: str, runs: int, *, caches: bool
) -> dict[str, tuple[float, list[tuple[str, float]]]]:
    schema = build_schema(caches=caches)
    texts = {operation.name: operation.text for operation in PersistedOperations.load()}
    requests: dict[str, dict[str, Any]] = {
        "ScanIsbn": {"code": isbn, "near": PAVIA},
        "SearchCatalog": {"query": SEARCH_QUERY, "near": PAVIA, "first": 20},
        "Me": {},
    }
    found = {}
    for name, variables in requests.items():

        async def run(name: str = name, variables: dict[str, Any] = variables) -> None:
            context = Context(services=services, language="it", address="bench", bearer_token=token)
            result = await schema.execute(
                texts[name], variable_values=variables, operation_name=name, context_value=context
            )
            if result.errors:
                raise SystemExit(f"{name} failed: {result.errors}")

        for _ in range(20):
            await run()
        profile = cProfile.Profile()
        began = time.perf_counter()
        profile.enable()
        for _ in range(runs):
            await run()
        profile.disable()
        elapsed = time.perf_counter() - began
        found[name] = (elapsed / runs * 1000, _shares(profile))
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        os.environ["TESSERA_VAR_DIR"] = var_dir
        stage(dict(os.environ))
        runtime = Runtime.from_settings(Settings())
        await runtime.start()
        try:
            isbn, _ = await inputs(runtime)
            services = services_of(runtime)
            signed_in = await runtime.authenticator.sign_in(
                card_number=ME_CARD, pin=demo_pin(ME_CARD), address="bench"
            )
            if isinstance(signed_in, str):
                raise SystemExit(f"{ME_CARD} cannot sign in: {signed_in}")
            token = signed_in.access_token
            print(f"{arguments.runs} runs of each operation, in process, under cProfile")
            before = await measure(services, token, isbn, arguments.runs, caches=False)
            after = await measure(services, token, isbn, arguments.runs, caches=True)
        finally:
            await runtime.close()
    for name in before:
        print(f"{name}: {before[name][0]:.2f} ms without the caches, {after[name][0]:.2f} ms with")
        for label, (_, shares) in (("before", before[name]), ("after", after[name])):
            parts = "  ".join(f"{package} {share:.0%}" for package, share in shares)
            print(f"  {label:<7}{parts}")


if __name__ == "__main__":
    asyncio.run(main())
