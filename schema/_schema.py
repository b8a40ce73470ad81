"""The GraphQL schema: the domains' queries and mutations merged into one, with the limits that
every request is held to.

Limits (checked while validating, so an operation over them is refused before anything runs, with
a GraphQL error and extensions.code):
- depth (QUERY_TOO_DEEP): at most MAX_DEPTH fields nested in one another (`{ me { loans { id } } }`
  is 3 deep);
- cost (QUERY_TOO_COSTLY): every field costs 1, and the fields under a paginated field (one that
  takes `first` or `last`) count once per item of the page: `first: 10` multiplies them by 10; a
  variable counts as its default or, without one, as MAX_PAGE_SIZE (the most a page holds); an
  omitted `first` counts as the argument's default or DEFAULT_PAGE_SIZE. Aliases and repeated
  fragments count every time they appear. Lists without pagination (a patron's loans, the
  network's libraries) are bounded by the data and count once. At most MAX_COST;
- size: at most MAX_TOKENS tokens in a document (graphql-core stops parsing there).
Introspection fields (`__schema`, `__type`, `__typename`) count for neither depth nor cost.

Validation is graphql-core's specified rules and these limits, less NoUnusedVariablesRule: the
contract's `Record` operation declares `$near` without using it, and a variable that is declared
and not used is harmless.

Both depth and cost are measured in one pass with each fragment measured once, so the work is
linear in the document: strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment again
at every spread, which is exponential in a document of fragments that spread the next one several
times.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.validation import (
    ASTValidationRule,
    NoSchemaIntrospectionCustomRule,
    NoUnusedVariablesRule,
    specified_rules,
)
from strawberry.extensions import (
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from .account import AccountMutation, AccountQuery
from .catalog import CatalogQuery
from .staff import StaffMutation

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_COST",
    "MAX_DEPTH",
    "MAX_PAGE_SIZE",
    "MAX_TOKENS",
    "ExtensionFactory",
    "OperationLimits",
    "build_schema",
    "schema",
    "validation_rules",
]

Query = merge_types("Query", (CatalogQuery, AccountQuery))
Mutation = merge_types("Mutation", (AccountMutation, StaffMutation))

MAX_DEPTH = 10
MAX_COST = 5000
MAX_TOKENS = 2000
MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 20
# Distinct documents whose parse and validation are kept (the PWA sends a few dozen).
CACHE_SIZE = 512

ExtensionFactory = Callable[[], SchemaExtension]

log = logging.getLogger("tessera.graphql")


@dataclass
class _Measure:
    """Depth and cost of the operations of one document, each fragment measured once."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variable_defaults: Mapping[str, int] = field(default_factory=dict)
    _fragment_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    _measuring: set[str] = field(default_factory=set)

    def selection_set(
        self, parent: GraphQLNamedType | None, selection_set: SelectionSetNode
    ) -> tuple[int, int]:
        depth = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field_depth, field_cost = self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                field_depth, field_cost = self.selection_set(scope, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                field_depth, field_cost = self.fragment(selection.name.value)
            else:  # pragma: no cover - graphql-core has no other selections
                continue
            depth = max(depth, field_depth)
            cost += field_cost
        return depth, cost

    def field(self, parent: GraphQLNamedType | None, node: FieldNode) -> tuple[int, int]:
        if node.name.value.startswith("__"):
            return 0, 0
        definition: GraphQLField | None = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        if node.selection_set is None:
            return 1, 1
        child = get_named_type(definition.type) if definition is not None else None
        depth, cost = self.selection_set(child, node.selection_set)
        return 1 + depth, 1 + self.page_size(node, definition) * cost

    def fragment(self, name: str) -> tuple[int, int]:
        known = self._fragment_sizes.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self._measuring:
            # Unknown fragments and cycles are reported by graphql-core's own rules.
            return 0, 0
        self._measuring.add(name)
        scope = self.schema.get_type(definition.type_condition.name.value)
        size = self.selection_set(scope, definition.selection_set)
        self._measuring.discard(name)
        self._fragment_sizes[name] = size
        return size

    def page_size(self, node: FieldNode, definition: GraphQLField | None) -> int:
        """How many items a paginated field returns at most (1 for any other field)."""
        if definition is None:
            return 1
        arguments = [name for name in ("first", "last") if name in definition.args]
        if not arguments:
            return 1
        sizes: list[int] = []
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in arguments:
            value = given.get(name)
            if isinstance(value, IntValueNode):
                sizes.append(max(0, int(value.value)))
            elif isinstance(value, VariableNode):
                sizes.append(self.variable_defaults.get(value.name.value, MAX_PAGE_SIZE))
            else:
                default = definition.args[name].default_value
                sizes.append(default if isinstance(default, int) else DEFAULT_PAGE_SIZE)
        return max(sizes)


def _variable_defaults(operation: OperationDefinitionNode) -> dict[str, int]:
    defaults: dict[str, int] = {}
    for variable in operation.variable_definitions or ():
        if isinstance(variable.default_value, IntValueNode):
            defaults[variable.variable.name.value] = max(0, int(variable.default_value.value))
    return defaults


class OperationLimits(ValidationRule):
    """Refuses operations deeper than MAX_DEPTH or costlier than MAX_COST (see the module)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        document = context.document
        fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        for operation in document.definitions:
            if isinstance(operation, OperationDefinitionNode):
                self._check(context, operation, fragments)

    @staticmethod
    def _check(
        context: ValidationContext,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        name = operation.name.value if operation.name else "anonymous"
        measure = _Measure(context.schema, fragments, _variable_defaults(operation))
        try:
            depth, cost = measure.selection_set(
                context.schema.get_root_type(operation.operation), operation.selection_set
            )
        except RecursionError:
            depth, cost = MAX_DEPTH + 1, MAX_COST + 1
        if depth > MAX_DEPTH:
            context.report_error(
                GraphQLError(
                    f"Operation '{name}' is {depth} fields deep; at most {MAX_DEPTH} are allowed.",
                    operation,
                    extensions={"code": "QUERY_TOO_DEEP"},
                )
            )
        if cost > MAX_COST:
            context.report_error(
                GraphQLError(
                    f"Operation '{name}' costs {cost}; at most {MAX_COST} is allowed"
                    " (every field counts, once per item of a page).",
                    operation,
                    extensions={"code": "QUERY_TOO_COSTLY"},
                )
            )


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Faults are logged without their messages or the request's variables (they may carry
        PINs, tokens or personal data); refused requests and expected errors (those with an
        extensions.code, such as UNAUTHENTICATED) are the client's business and are not logged."""
        for error in errors:
            original = error.original_error
            if original is None or isinstance(getattr(original, "extensions", None), dict):
                continue
            log.error(
                "fault in a resolver",
                extra={
                    "fields": {
                        "path": [str(part) for part in error.path or ()],
                        "error": type(original).__name__,
                        "traceback": "".join(traceback.format_tb(original.__traceback__)),
                    }
                },
            )


def validation_rules(*, introspection: bool = True) -> tuple[type[ASTValidationRule], ...]:
    """The rules every operation is validated with (see the module)."""
    rules = [rule for rule in specified_rules if rule is not NoUnusedVariablesRule]
    rules.append(OperationLimits)
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


class _ValidationRules(SchemaExtension):
    def __init__(self, rules: tuple[type[ASTValidationRule], ...]) -> None:
        super().__init__()
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        self.execution_context.validation_rules = self.rules
        yield


def build_schema(
    *,
    introspection: bool = True,
    extensions: Sequence[ExtensionFactory] = (),
    caches: bool = True,
) -> strawberry.Schema:
    """The schema with its limits and caches; `introspection=False` refuses `__schema` and
    `__type` (not `__typename`); `extensions` run before the schema's own; `caches=False`
    parses and validates every request anew (to measure what the caches save)."""
    # The same tuple for every request: the validation cache keys on the rules too.
    rules = validation_rules(introspection=introspection)
    own: list[ExtensionFactory] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: _ValidationRules(rules),
    ]
    if caches:
        own += [
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
        ]
    return _Schema(query=Query, mutation=Mutation, extensions=[*extensions, *own])


# For tools and tests (the SDL export, direct execution); the gateway builds its own from the
# settings.
schema = build_schema()
