"""The GraphQL layer: types and thin resolvers over the domain packages."""

from ._context import Context
from ._schema import schema

__all__ = ["Context", "schema"]
