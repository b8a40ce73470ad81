"""Persisted operations: the operations the PWA sends are known in advance (`operations.graphql`
beside this file, a copy of the contract's), so a client may send an operation's SHA-256 instead of
its text, and a server may accept nothing else.

The protocol is Apollo's automatic persisted queries, without the registering half:

    POST /graphql
    {"operationName": "Me", "variables": {...},
     "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<64 hex digits>"}}}

(or the same as GET parameters, for queries: `?operationName=Me&variables=...&extensions=...`).
The hash is the SHA-256, in hex, of the operation's registered text: the operation followed by the
fragments it uses (depth first, in the order they are spread), as graphql-core's `print_ast`
prints them.
`GET /graphql/persisted-operations` lists them: `{"<hash>": "<operation name>", ...}`.

- A hash that is not registered, sent without the text: the GraphQL error `PersistedQueryNotFound`
  (extensions.code PERSISTED_QUERY_NOT_FOUND), as Apollo clients expect.
- A hash sent with a text: the text runs when the hash is the SHA-256 of that text.
- With TESSERA_PERSISTED_ONLY=1 only registered operations run: by hash, or as a text that is a
  registered operation once comments and layout are set aside (extensions.code
  PERSISTED_QUERY_NOT_IN_LIST otherwise).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
)
from strawberry.extensions import SchemaExtension

__all__ = [
    "OPERATIONS_FILE",
    "PersistedOperation",
    "PersistedOperations",
    "PersistedQueries",
    "canonical_text",
]

OPERATIONS_FILE = Path(__file__).resolve().parent / "operations.graphql"

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PersistedOperation:
    name: str
    sha256: str
    text: str


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            yield selection.name.value
        else:
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                yield from _spreads(inner)


def _operation_document(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> DocumentNode | None:
    """The operation and the fragments it uses, depth first in the order they are spread; None
    when it uses a fragment that the document lacks."""
    used: dict[str, FragmentDefinitionNode] = {}
    pending = list(_spreads(operation.selection_set))
    pending.reverse()
    while pending:
        name = pending.pop()
        if name in used:
            continue
        fragment = fragments.get(name)
        if fragment is None:
            return None
        used[name] = fragment
        pending.extend(reversed(list(_spreads(fragment.selection_set))))
    return DocumentNode(definitions=(operation, *used.values()))


def canonical_text(document: DocumentNode, operation_name: str | None) -> str | None:
    """The text an operation of a document is registered by (None: no such operation)."""
    operations = [
        definition
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    if operation_name is None:
        if len(operations) != 1:
            return None
        operation = operations[0]
    else:
        named = [op for op in operations if op.name and op.name.value == operation_name]
        if len(named) != 1:
            return None
        operation = named[0]
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    selected = _operation_document(operation, fragments)
    return print_ast(selected) if selected is not None else None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PersistedOperations:
    """The registry: registered operations by the SHA-256 of their text."""

    def __init__(self, operations: list[PersistedOperation]) -> None:
        self._by_hash = {operation.sha256: operation for operation in operations}

    @classmethod
    def from_source(cls, source: str) -> PersistedOperations:
        """Every named operation of a document (fragments may be shared)."""
        document = parse(source)
        operations = []
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                text = canonical_text(document, definition.name.value)
                if text is None:
                    raise ValueError(f"operation {definition.name.value} uses a missing fragment")
                operations.append(PersistedOperation(definition.name.value, _sha256(text), text))
        return cls(operations)

    @classmethod
    def load(cls, path: Path = OPERATIONS_FILE) -> PersistedOperations:
        return cls.from_source(path.read_text(encoding="utf-8"))

    def __len__(self) -> int:
        return len(self._by_hash)

    def __iter__(self) -> Iterator[PersistedOperation]:
        return iter(self._by_hash.values())

    def get(self, sha256: str) -> PersistedOperation | None:
        return self._by_hash.get(sha256)

    def names(self) -> dict[str, str]:
        """Hash → operation name, for clients."""
        return {sha256: operation.name for sha256, operation in self._by_hash.items()}

    def is_registered(self, document: DocumentNode, operation_name: str | None) -> bool:
        text = canonical_text(document, operation_name)
        return text is not None and _sha256(text) in self._by_hash


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class PersistedQueries(SchemaExtension):
    """Resolves `extensions.persistedQuery` to the registered text, and in allowlist mode refuses
    any other operation. Must come first among the schema's extensions: it refuses by raising
    before the others have started."""

    def __init__(self, registry: PersistedOperations, *, only: bool) -> None:
        super().__init__()
        self.registry = registry
        self.only = only
        self._registered = False

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        requested: Any = (context.operation_extensions or {}).get("persistedQuery")
        if requested is not None:
            self._registered = self._resolve(requested)
        yield

    def _resolve(self, requested: Any) -> bool:
        """Fills in the text of a registered hash; True when the operation is a registered one."""
        context = self.execution_context
        if not isinstance(requested, dict) or requested.get("version", 1) != 1:
            raise _error(
                'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<hex>"}.',
                "INVALID_PERSISTED_QUERY",
            )
        sha256 = requested.get("sha256Hash")
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower()):
            raise _error(
                "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits.",
                "INVALID_PERSISTED_QUERY",
            )
        sha256 = sha256.lower()
        if context.query:
            if _sha256(context.query) != sha256:
                raise _error(
                    "The provided sha256Hash is not the SHA-256 of the query.",
                    "INVALID_PERSISTED_QUERY",
                )
            return self.registry.get(sha256) is not None
        operation = self.registry.get(sha256)
        if operation is None:
            raise _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        context.query = operation.text
        return True

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.only and not self._registered:
            document = context.graphql_document
            if document is None or not self.registry.is_registered(
                document, context.operation_name
            ):
                raise _error(
                    "This server accepts only its registered operations"
                    " (GET /graphql/persisted-operations lists them).",
                    "PERSISTED_QUERY_NOT_IN_LIST",
                )
        yield
