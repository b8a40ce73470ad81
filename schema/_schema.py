"""The GraphQL schema: the domains' queries and mutations merged into one."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from .account import AccountMutation, AccountQuery
from .catalog import CatalogQuery
from .staff import StaffMutation

__all__ = ["schema"]

Query = merge_types("Query", (CatalogQuery, AccountQuery))
Mutation = merge_types("Mutation", (AccountMutation, StaffMutation))

schema = strawberry.Schema(query=Query, mutation=Mutation)
