"""The public catalogue (no sign-in): search, scan, records, libraries, the push key."""

from __future__ import annotations

import strawberry

from .lookups import resolve_libraries, resolve_push_public_key, resolve_record
from .scan import resolve_scan
from .search import resolve_search
from .types import Library, Record, ScanResult, SearchConnection

__all__ = ["CatalogQuery"]


@strawberry.type
class CatalogQuery:
    search: SearchConnection = strawberry.field(
        resolver=resolve_search,
        description="Free-text search, typo tolerant, with facets; records on the shelf"
        " nearest to `near` come first.",
    )
    scan: ScanResult = strawberry.field(
        resolver=resolve_scan, description="What the camera read: an EAN-13 or an ISBN."
    )
    record: Record | None = strawberry.field(
        resolver=resolve_record, description="One record; holdings nearest first with `near`."
    )
    libraries: list[Library] = strawberry.field(
        resolver=resolve_libraries,
        description="The libraries of the network: by name, or nearest first with `near`.",
    )
    push_public_key: str = strawberry.field(
        resolver=resolve_push_public_key,
        description="The VAPID application server key (base64url) for pushManager.subscribe.",
    )
