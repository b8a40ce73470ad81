"""The GraphQL layer: types and thin resolvers over the domain packages."""

from ._context import Context, GraphQLInfo, Services, Unauthenticated, language_of
from ._errors import UserError, user_error, user_errors
from ._schema import schema

__all__ = [
    "Context",
    "GraphQLInfo",
    "Services",
    "Unauthenticated",
    "UserError",
    "language_of",
    "schema",
    "user_error",
    "user_errors",
]
