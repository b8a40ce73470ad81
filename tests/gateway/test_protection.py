"""What the gateway refuses and what it adds: limits on operations and bodies, introspection and
GraphiQL only when enabled, CORS for the PWA's origin only, security headers, 400 (never 5xx) for
requests that are not GraphQL, persisted operations, and logs free of secrets."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from graphql import OperationDefinitionNode, parse, validate

from catalog import load_dataset, read_dataset
from db import transaction
from gateway._logging import JsonFormatter
from gateway._persisted import OPERATIONS_FILE, PersistedOperations
from gateway._runtime import Runtime
from gateway.app import CONTENT_SECURITY_POLICY, MAX_BODY_BYTES, create_app
from gateway.settings import Settings
from schema import schema
from schema._schema import MAX_COST, MAX_DEPTH, MAX_TOKENS, OperationLimits
from tests.factories import dataset_document

PIN = "975310"
PWA_ORIGIN = "https://pwa.example.org"
REGISTRY = PersistedOperations.load()


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "var_dir": tmp_path / "var",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'tessera.db'}",
        "search": "embedded",
        "graphiql": False,
        "pwa_origin": None,
        "persisted_only": False,
        "test_clock": False,
    }
    values.update(overrides)
    return Settings(**values)


def _dataset(tmp_path: Path) -> Path:
    document = dataset_document()
    document["patrons"][0]["pin"] = PIN
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@asynccontextmanager
async def _client(
    tmp_path: Path, *, base_url: str = "http://testserver", dataset: bool = False, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    runtime = Runtime.from_settings(_settings(tmp_path, **settings))
    app = create_app(runtime, worker=False)
    async with app.router.lifespan_context(app):
        if dataset:
            async with transaction(runtime.sessions) as session:
                await load_dataset(
                    session, read_dataset(_dataset(tmp_path)), now=runtime.clock.now()
                )
            runtime.circulation.forget_libraries()
            await runtime.indexer.catch_up()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@pytest.fixture(scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """An app with the default settings and the test dataset, shared by the module's tests."""
    async with _client(tmp_path_factory.mktemp("gateway"), dataset=True) as client:
        yield client


def _codes(response: httpx.Response) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in response.json()["errors"]]


# ---------------------------------------------------------------- depth and cost


def _nested(levels: int) -> str:
    query = "id"
    for level in range(levels - 1):
        query = f"f{level} {{ {query} }}"
    return f"{{ {query} }}"


async def test_an_operation_deeper_than_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": _nested(MAX_DEPTH + 1)})

    assert response.status_code == 200
    assert response.json()["data"] is None
    assert "QUERY_TOO_DEEP" in _codes(response)


async def test_an_operation_over_the_cost_limit_is_refused_before_it_runs(
    client: httpx.AsyncClient,
) -> None:
    costly = '{ search(query: "calvino", first: 1000) { edges { node { id title authors } } } }'
    response = await client.post("/graphql", json={"query": costly})

    assert response.status_code == 200
    assert response.json()["data"] is None
    assert _codes(response) == ["QUERY_TOO_COSTLY"]
    assert f"at most {MAX_COST}" in response.json()["errors"][0]["message"]


async def test_aliases_count_towards_the_cost(client: httpx.AsyncClient) -> None:
    page = 'search(query: "x", first: 50) { edges { node { id title authors isbns } } }'
    aliased = "{ " + " ".join(f"a{n}: {page}" for n in range(30)) + " }"
    response = await client.post("/graphql", json={"query": aliased})

    assert _codes(response) == ["QUERY_TOO_COSTLY"]


def test_every_contract_operation_is_within_the_limits() -> None:
    for operation in REGISTRY:
        errors = validate(schema._schema, parse(operation.text), [OperationLimits])
        assert errors == [], (operation.name, errors)


async def test_a_document_of_too_many_tokens_is_not_even_parsed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ " + "__typename " * (MAX_TOKENS + 1) + "}"}
    )

    assert response.status_code == 200
    assert response.json()["data"] is None
    assert f"more than {MAX_TOKENS} tokens" in response.json()["errors"][0]["message"]


async def test_a_full_page_of_search_results_runs(client: httpx.AsyncClient) -> None:
    search = next(operation.text for operation in REGISTRY if operation.name == "SearchCatalog")
    response = await client.post(
        "/graphql", json={"query": search, "variables": {"query": "calvino", "first": 50}}
    )

    assert response.status_code == 200
    assert "errors" not in response.json(), response.json()
    assert response.json()["data"]["search"]["totalCount"] == 1


@strawberry.type
class _Node:
    id: strawberry.ID

    @strawberry.field
    def child(self) -> _Node:
        return _Node(id=strawberry.ID("child"))

    @strawberry.field
    def children(self, first: int | None = None) -> list[_Node]:
        return []


@strawberry.type
class _Query:
    @strawberry.field
    def node(self) -> _Node:
        return _Node(id=strawberry.ID("root"))


_CYCLIC = strawberry.Schema(query=_Query)


def _limit_errors(query: str) -> list[str]:
    errors = validate(_CYCLIC._schema, parse(query), [OperationLimits])
    return [str((error.extensions or {}).get("code")) for error in errors]


def _children(levels: int, inner: str = "id") -> str:
    return "child { " * levels + inner + " }" * levels


def test_depth_counts_every_nested_field_fragments_included() -> None:
    # node + (MAX_DEPTH - 2) children + id: MAX_DEPTH fields deep.
    assert _limit_errors(f"{{ node {{ {_children(MAX_DEPTH - 2)} }} }}") == []
    over = f"query Q {{ node {{ ...F }} }} fragment F on _Node {{ {_children(MAX_DEPTH - 1)} }}"
    assert _limit_errors(over) == ["QUERY_TOO_DEEP"]
    inline = f"{{ node {{ ... on _Node {{ {_children(MAX_DEPTH - 1)} }} }} }}"
    assert _limit_errors(inline) == ["QUERY_TOO_DEEP"]
    # Introspection fields count for nothing.
    assert _limit_errors(f"{{ __typename node {{ {_children(MAX_DEPTH - 2)} __typename }} }}") == []


def test_cost_counts_every_field_once_per_item_of_a_page() -> None:
    # node 1 + children 1 + 2000 x id 1 = 2002.
    assert _limit_errors("{ node { children(first: 2000) { id } } }") == []
    assert _limit_errors("{ node { children(first: 5000) { id } } }") == ["QUERY_TOO_COSTLY"]
    # A variable counts as a full page (50), or as its default.
    inner = "children(first: $n) { children(first: $n) { id child { id } } }"
    assert _limit_errors(f"query Q($n: Int) {{ node {{ {inner} }} }}") == ["QUERY_TOO_COSTLY"]
    assert _limit_errors(f"query Q($n: Int = 5) {{ node {{ {inner} }} }}") == []
    # An omitted `first` is a page of 20 (the argument's default is null).
    assert _limit_errors("{ node { children { children { id child { id } } } } }") == []


def test_fragments_spread_many_times_are_measured_once() -> None:
    levels, width = 12, 10
    parts = ["query Q { node { ...F0 } }"]
    for level in range(levels):
        body = " ".join([f"...F{level + 1}"] * width) if level < levels - 1 else "id"
        parts.append(f"fragment F{level} on _Node {{ {body} }}")
    started = time.monotonic()

    errors = _limit_errors("\n".join(parts))

    assert time.monotonic() - started < 1.0
    assert errors == ["QUERY_TOO_COSTLY"]  # 10^11 ids, had they been run


# ---------------------------------------------------------------- requests that are not GraphQL


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b'"a string"',
        b"42",
        b"null",
        b"[]",
        b'{"query": 1}',
        b'{"query": "{ pushPublicKey }", "variables": []}',
        b'{"query": "{ pushPublicKey }", "operationName": 7}',
        b'{"query": "{ pushPublicKey }", "extensions": "x"}',
        b"[" * 5000,
        b'{"variables": ' + b'{"a": ' * 3000 + b"1" + b"}" * 3001,
    ],
)
async def test_a_request_that_is_not_graphql_is_400_not_500(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    ["{", "query { pushPublicKey", "{ noSuchField }", "query Q { ...Missing }", "{ search }"],
)
async def test_a_document_that_does_not_parse_or_validate_is_an_error_not_500(
    client: httpx.AsyncClient, query: str
) -> None:
    response = await client.post("/graphql", json={"query": query})

    assert response.status_code in (200, 400)
    assert response.json()["errors"]


async def test_mutations_are_refused_over_get(client: httpx.AsyncClient) -> None:
    login = next(operation.text for operation in REGISTRY if operation.name == "Login")
    response = await client.get(
        "/graphql",
        params={"query": login, "variables": json.dumps({"cardNumber": "C0001", "pin": PIN})},
    )
    query = await client.get("/graphql", params={"query": "{ pushPublicKey }"})

    assert response.status_code == 400
    assert "mutations are not allowed" in response.text
    assert query.status_code == 200
    assert query.json()["data"]["pushPublicKey"]


# ---------------------------------------------------------------- body size


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    padding = " " * MAX_BODY_BYTES
    declared = await client.post(
        "/graphql",
        content=json.dumps({"query": "{ pushPublicKey }" + padding}),
        headers={"content-type": "application/json"},
    )

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ pushPublicKey }'
        for _ in range(MAX_BODY_BYTES // 1024 + 1):
            yield b" " * 1024
        yield b'"}'

    streamed = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    within = await client.post("/graphql", json={"query": "{ pushPublicKey }" + " " * 60_000})

    assert declared.status_code == 413
    assert "content-length" not in streamed.request.headers  # sent chunked: counted as it came
    assert streamed.status_code == 413
    assert declared.json()["errors"][0]["message"].startswith("The request body is larger")
    assert within.status_code == 200


# ---------------------------------------------------------------- introspection and GraphiQL

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_and_graphiql_are_off_by_default(client: httpx.AsyncClient) -> None:
    introspection = await client.post("/graphql", json={"query": INTROSPECTION})
    by_type = await client.post("/graphql", json={"query": '{ __type(name: "Query") { name } }'})
    typename = await client.post("/graphql", json={"query": "{ __typename }"})
    graphiql = await client.get("/graphql", headers={"accept": "text/html"})

    assert introspection.json()["data"] is None
    assert "introspection has been disabled" in introspection.json()["errors"][0]["message"]
    assert by_type.json()["data"] is None
    assert typename.json() == {"data": {"__typename": "Query"}}
    assert graphiql.status_code == 404


async def test_the_graphiql_setting_turns_on_introspection_and_graphiql(tmp_path: Path) -> None:
    async with _client(tmp_path, graphiql=True) as client:
        introspection = await client.post("/graphql", json={"query": INTROSPECTION})
        graphiql = await client.get("/graphql", headers={"accept": "text/html"})

    assert introspection.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert graphiql.status_code == 200
    assert "graphiql" in graphiql.text.lower()
    # GraphiQL's page loads its scripts from unpkg: its own CSP, still no framing.
    policy = graphiql.headers["content-security-policy"]
    assert "https://unpkg.com" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_graphiql_setting_is_read_from_tessera_graphiql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GRAPHIQL", "PWA_ORIGIN", "PERSISTED_ONLY"):
        monkeypatch.delenv(f"TESSERA_{name}", raising=False)
    defaults = Settings()
    monkeypatch.setenv("TESSERA_GRAPHIQL", "1")
    monkeypatch.setenv("TESSERA_PWA_ORIGIN", "HTTPS://PWA.example.org/")
    monkeypatch.setenv("TESSERA_PERSISTED_ONLY", "1")
    configured = Settings()

    assert (defaults.graphiql, defaults.pwa_origin, defaults.persisted_only) == (False, None, False)
    assert (configured.graphiql, configured.pwa_origin, configured.persisted_only) == (
        True,
        PWA_ORIGIN,
        True,
    )
    monkeypatch.setenv("TESSERA_PWA_ORIGIN", "https://pwa.example.org/app")
    with pytest.raises(ValueError, match="origin"):
        Settings()


# ---------------------------------------------------------------- CORS


async def test_cors_allows_the_pwa_origin_only(tmp_path: Path) -> None:
    preflight = {"access-control-request-method": "POST"}
    preflight["access-control-request-headers"] = "authorization, content-type"
    async with _client(tmp_path, pwa_origin=PWA_ORIGIN) as client:
        allowed = await client.options("/graphql", headers={"origin": PWA_ORIGIN, **preflight})
        refused = await client.options(
            "/graphql", headers={"origin": "https://evil.example", **preflight}
        )
        simple_allowed = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": PWA_ORIGIN}
        )
        simple_other = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://evil.example"}
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PWA_ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in refused.headers
    assert simple_allowed.headers["access-control-allow-origin"] == PWA_ORIGIN
    assert "x-request-id" in simple_allowed.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in simple_other.headers


async def test_without_a_pwa_origin_no_other_origin_gets_cors_headers(
    client: httpx.AsyncClient,
) -> None:
    preflight = await client.options(
        "/graphql",
        headers={"origin": PWA_ORIGIN, "access-control-request-method": "POST"},
    )
    simple = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": PWA_ORIGIN}
    )

    assert not any(name.startswith("access-control-") for name in preflight.headers)
    assert not any(name.startswith("access-control-") for name in simple.headers)


# ---------------------------------------------------------------- security headers


def _assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["permissions-policy"] == "camera=(self), geolocation=(self)"


async def test_every_response_has_the_security_headers(client: httpx.AsyncClient) -> None:
    responses = [
        await client.get("/"),
        await client.get("/healthz"),
        await client.get("/no-such-page"),
        await client.post("/graphql", json={"query": "{ __typename }"}),
        await client.post("/graphql", content=b"{", headers={"content-type": "application/json"}),
        await client.post("/graphql", content=b"x" * (MAX_BODY_BYTES + 1)),
        await client.put("/graphql"),
    ]

    assert [response.status_code for response in responses] == [200, 200, 404, 200, 400, 413, 405]
    for response in responses:
        _assert_security_headers(response)
        assert "strict-transport-security" not in response.headers  # came over http


def test_the_policy_lets_the_pwa_talk_only_to_its_own_origin() -> None:
    directives = dict(
        directive.strip().split(" ", 1) for directive in CONTENT_SECURITY_POLICY.split(";")
    )

    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"  # no inline code, no eval
    assert directives["img-src"] == "'self' data:"
    assert directives["worker-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


async def test_hsts_is_sent_only_over_https(tmp_path: Path) -> None:
    async with _client(tmp_path, base_url="https://tessera.example.org") as client:
        response = await client.get("/healthz")

    _assert_security_headers(response)
    assert response.headers["strict-transport-security"].startswith("max-age=")


# ---------------------------------------------------------------- persisted operations


def _persisted(name: str) -> str:
    return next(operation.sha256 for operation in REGISTRY if operation.name == name)


def _extensions(sha256: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def test_every_contract_operation_is_registered() -> None:
    document = parse(OPERATIONS_FILE.read_text(encoding="utf-8"))
    names = {
        definition.name.value
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    }

    assert {operation.name for operation in REGISTRY} == names
    assert len(REGISTRY) == len(names) == 27
    for operation in REGISTRY:
        assert hashlib.sha256(operation.text.encode()).hexdigest() == operation.sha256


async def test_a_registered_hash_runs_its_operation(client: httpx.AsyncClient) -> None:
    registry = await client.get("/graphql/persisted-operations")
    sha256 = _persisted("Libraries")
    by_post = await client.post(
        "/graphql", json={"operationName": "Libraries", "extensions": _extensions(sha256)}
    )
    by_get = await client.get(
        "/graphql",
        params={"operationName": "Libraries", "extensions": json.dumps(_extensions(sha256))},
        headers={"accept": "*/*"},
    )
    with_its_text = await client.post(
        "/graphql",
        json={"query": REGISTRY.get(sha256).text, "extensions": _extensions(sha256)},  # type: ignore[union-attr]
    )

    assert registry.json() == {operation.sha256: operation.name for operation in REGISTRY}
    names = {library["name"] for library in by_post.json()["data"]["libraries"]}
    assert names == {"Biblioteca delle Scienze", "Biblioteca civica Bonetta"}
    assert by_get.json() == by_post.json()
    assert with_its_text.json() == by_post.json()


async def test_an_unknown_or_wrong_hash_is_a_clear_error(client: httpx.AsyncClient) -> None:
    unknown = await client.post("/graphql", json={"extensions": _extensions("0" * 64)})
    mismatched = await client.post(
        "/graphql",
        json={"query": "{ pushPublicKey }", "extensions": _extensions(_persisted("Libraries"))},
    )
    malformed = await client.post("/graphql", json={"extensions": _extensions("not-a-hash")})

    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert _codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert _codes(mismatched) == ["INVALID_PERSISTED_QUERY"]
    assert _codes(malformed) == ["INVALID_PERSISTED_QUERY"]


async def test_allowlist_mode_runs_only_registered_operations(tmp_path: Path) -> None:
    libraries = REGISTRY.get(_persisted("Libraries"))
    assert libraries is not None
    relaid = "# the PWA's copy, laid out its own way\n" + " ".join(libraries.text.split())
    async with _client(tmp_path, persisted_only=True) as client:
        ad_hoc = await client.post("/graphql", json={"query": "{ libraries { id } }"})
        by_hash = await client.post(
            "/graphql", json={"extensions": _extensions(_persisted("PushPublicKey"))}
        )
        by_text = await client.post("/graphql", json={"query": relaid})
        introspection = await client.post("/graphql", json={"query": INTROSPECTION})

    assert ad_hoc.json()["data"] is None
    assert _codes(ad_hoc) == ["PERSISTED_QUERY_NOT_IN_LIST"]
    assert by_hash.json()["data"]["pushPublicKey"]
    assert by_text.json() == {"data": {"libraries": []}}
    assert _codes(introspection) == ["PERSISTED_QUERY_NOT_IN_LIST"]


# ---------------------------------------------------------------- request ids and logs


async def test_the_request_id_is_kept_or_made_and_sent_back(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"x-request-id": "pwa-1234.abc_9"})
    replaced = await client.get("/healthz", headers={"x-request-id": "bad id\twith spaces"})
    made = await client.get("/healthz")

    assert kept.headers["x-request-id"] == "pwa-1234.abc_9"
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"
    assert len(made.headers["x-request-id"]) == 32


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    formatter = JsonFormatter()
    return "\n".join(formatter.format(record) for record in caplog.records)


async def test_a_login_leaves_no_pin_token_or_variables_in_the_logs(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    login = next(operation.text for operation in REGISTRY if operation.name == "Login")
    me = next(operation.text for operation in REGISTRY if operation.name == "Me")
    caplog.set_level(logging.INFO, logger="tessera")

    signed_in = await client.post(
        "/graphql",
        json={"query": login, "variables": {"cardNumber": "C0001", "pin": PIN}},
        headers={"x-request-id": "login-test"},
    )
    session = signed_in.json()["data"]["login"]
    assert session["errors"] == [], session
    token, refresh = session["accessToken"], session["refreshToken"]
    profile = await client.post(
        "/graphql", json={"query": me}, headers={"authorization": f"Bearer {token}"}
    )
    # A PIN of the wrong type: graphql-core quotes it in its error.
    mistyped = await client.post(
        "/graphql", json={"query": login, "variables": {"cardNumber": "C0001", "pin": int(PIN)}}
    )
    over_get = await client.get(
        "/graphql",
        params={"query": login, "variables": json.dumps({"cardNumber": "C0001", "pin": PIN})},
        headers={"authorization": f"Bearer {token}"},
    )

    assert profile.json()["data"]["me"]["cardNumber"] == "C0001"
    assert PIN in mistyped.text  # the client is told; the log is not
    assert over_get.status_code == 400
    logged = _logged(caplog)
    for secret in (PIN, token, refresh, "Maria Rossi", "Bearer"):
        assert secret not in logged
    lines = [json.loads(line) for line in logged.splitlines()]
    requests = [line for line in lines if line["logger"] == "tessera.request"]
    assert len(requests) == 4
    first = requests[0]
    assert first["request_id"] == "login-test"
    assert (first["method"], first["path"], first["status"], first["operation"]) == (
        "POST",
        "/graphql",
        200,
        "Login",
    )
    assert isinstance(first["duration_ms"], float)
    assert [line["operation"] for line in requests] == ["Login", "Me", "Login", "Login"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`tessera serve` on the test dataset, in its own process."""
    port = _free_port()
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")
    }
    environment["TESSERA_VAR_DIR"] = str(tmp_path / "var")
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--dataset", str(_dataset(tmp_path)), "--no-worker"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"the server did not start:\n{output}")
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_a_real_server_logs_json_lines_without_secrets(
    live_server: tuple[str, subprocess.Popen[str]],
) -> None:
    base, process = live_server
    login = next(operation.text for operation in REGISTRY if operation.name == "Login")
    variables = {"cardNumber": "C0001", "pin": PIN}

    signed_in = httpx.post(f"{base}/graphql", json={"query": login, "variables": variables})
    token = signed_in.json()["data"]["login"]["accessToken"]
    over_get = httpx.get(
        f"{base}/graphql",
        params={"query": login, "variables": json.dumps(variables)},
        headers={"authorization": f"Bearer {token}"},
    )
    process.terminate()
    output, _ = process.communicate(timeout=10)

    assert token
    assert over_get.status_code == 400
    for secret in (PIN, token, "variables"):
        assert secret not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("logger") == "tessera.request"]
    assert [(line["method"], line["path"], line["status"]) for line in requests[-2:]] == [
        ("POST", "/graphql", 200),
        ("GET", "/graphql", 400),
    ]
