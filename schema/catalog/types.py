"""The public catalogue's GraphQL types. `Record.from_row` and `Library.from_row` turn database
rows into them from any resolver; their relations load through the request's DataLoaders."""

from __future__ import annotations

import asyncio
from datetime import date
from enum import Enum
from typing import Annotated

import strawberry
from graphql import GraphQLError

import db
from catalog import distance_meters
from circulation import LIBRARY_TIME_ZONE, Circulation, GeoPoint, LibraryCalendar
from search import on_the_shelf

from .._context import GraphQLInfo
from .._loaders import (
    closures_by_library,
    due_dates_by_item,
    hold_queue_lengths,
    hours_by_library,
    isbns_by_record,
    items_by_record,
    libraries_by_id,
)

__all__ = [
    "Availability",
    "CatalogFilter",
    "Facet",
    "FacetValue",
    "GeoPointInput",
    "Holding",
    "HoldingStatus",
    "InvalidCode",
    "Library",
    "Location",
    "MaterialType",
    "NearestAvailable",
    "NotInCatalog",
    "OpeningHours",
    "PageInfo",
    "Record",
    "ScanResult",
    "SearchConnection",
    "SearchEdge",
    "Weekday",
    "holding_status",
    "nearest_first",
    "point_of",
]


@strawberry.enum(description="The kind of material a record describes.")
class MaterialType(Enum):
    BOOK = "BOOK"
    AUDIOBOOK = "AUDIOBOOK"
    PERIODICAL = "PERIODICAL"
    AUDIOVISUAL = "AUDIOVISUAL"
    EBOOK = "EBOOK"
    KIT = "KIT"
    OTHER = "OTHER"


@strawberry.enum(description="What a patron can do with a copy now.")
class HoldingStatus(Enum):
    AVAILABLE = "AVAILABLE"
    ON_LOAN = "ON_LOAN"
    IN_TRANSIT = "IN_TRANSIT"
    ON_HOLD_SHELF = "ON_HOLD_SHELF"
    NOT_FOR_LOAN = "NOT_FOR_LOAN"
    EMBARGOED = "EMBARGOED"
    IN_QUARANTINE = "IN_QUARANTINE"
    LOST = "LOST"


@strawberry.enum(description="A day of the week.")
class Weekday(Enum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


@strawberry.input(description="A position on the Earth (WGS84 degrees).")
class GeoPointInput:
    lat: float
    lon: float

    def point(self) -> GeoPoint:
        """The position, or a GraphQL error when it is off the globe."""
        if not -90 <= self.lat <= 90:
            raise GraphQLError(
                f"near.lat must be between -90 and 90, not {self.lat}",
                extensions={"code": "BAD_USER_INPUT"},
            )
        if not -180 <= self.lon <= 180:
            raise GraphQLError(
                f"near.lon must be between -180 and 180, not {self.lon}",
                extensions={"code": "BAD_USER_INPUT"},
            )
        return GeoPoint(lat=self.lat, lon=self.lon)


def point_of(near: GeoPointInput | None) -> GeoPoint | None:
    """The validated position of an optional `near` argument."""
    return near.point() if near is not None else None


@strawberry.input(description="Narrows a search; every given condition must hold.")
class CatalogFilter:
    material_types: list[MaterialType] | None = None
    library_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Records with a copy at one of these libraries."
    )
    available_only: bool | None = strawberry.field(
        default=False, description="Only records with a copy on the shelf now."
    )
    languages: list[str] | None = strawberry.field(
        default=None, description="MARC language codes, e.g. ita, eng."
    )


@strawberry.type(name="GeoPoint", description="A position on the Earth (WGS84 degrees).")
class Location:
    lat: float
    lon: float


@strawberry.type(description="One opening period of a weekday, in Europe/Rome time.")
class OpeningHours:
    weekday: Weekday
    opens: str = strawberry.field(description='"HH:MM"')
    closes: str = strawberry.field(description='"HH:MM"')


def _distance(near: GeoPoint | None, lat: float | None, lon: float | None) -> float | None:
    """Whole metres from `near`, None when either end is unknown."""
    if near is None or lat is None or lon is None:
        return None
    return float(round(distance_meters(near.lat, near.lon, lat, lon)))


@strawberry.type(description="A library of the network.")
class Library:
    id: strawberry.ID
    name: str
    address: str | None
    location: Location | None
    distance_meters: float | None = strawberry.field(
        description="Metres from `near`; null without it or when the library has no location."
    )
    phone: str | None
    email: str | None

    @classmethod
    def from_row(cls, row: db.Library, *, near: GeoPoint | None = None) -> Library:
        """The library as clients see it; with `near`, its distance from there."""
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            address=row.address,
            location=None
            if row.lat is None or row.lon is None
            else Location(lat=row.lat, lon=row.lon),
            distance_meters=_distance(near, row.lat, row.lon),
            phone=row.phone,
            email=row.email,
        )

    @strawberry.field(description="The weekly opening hours, Monday first.")
    async def opening_hours(self, info: GraphQLInfo) -> list[OpeningHours]:
        return [
            OpeningHours(
                weekday=Weekday(period.weekday),
                opens=period.opens.strftime("%H:%M"),
                closes=period.closes.strftime("%H:%M"),
            )
            for period in await hours_by_library(info.context).load(self.id)
        ]

    @strawberry.field(
        description="Open at this moment (weekly hours, closures, Italian public holidays);"
        " null when the library's hours are not known."
    )
    async def open_now(self, info: GraphQLInfo) -> bool | None:
        hours, closures = await asyncio.gather(
            hours_by_library(info.context).load(self.id),
            closures_by_library(info.context).load(self.id),
        )
        if not hours:
            return None
        now = info.context.services.circulation.clock.now().astimezone(LIBRARY_TIME_ZONE)
        calendar = LibraryCalendar.of(
            weekdays_with_hours=(period.weekday for period in hours), closures=closures
        )
        return calendar.is_open(now.date()) and any(
            period.weekday == now.weekday() and period.opens <= now.time() < period.closes
            for period in hours
        )


@strawberry.type(description="A copy of a record.")
class Holding:
    barcode: str
    call_number: str | None
    status: HoldingStatus
    due_date: date | None = strawberry.field(description="The open loan's due date (ON_LOAN).")
    available_from: date | None = strawberry.field(
        description="The first day it may circulate (EMBARGOED, IN_QUARANTINE)."
    )
    library: Library = strawberry.field(description="The library the copy belongs to.")

    @strawberry.field(description="Metres from `near` to the copy's library.")
    def distance_meters(self) -> float | None:
        return self.library.distance_meters


# Where the copy is decides its status before any rule does.
_AWAY = {
    db.ItemStatus.ON_LOAN: HoldingStatus.ON_LOAN,
    db.ItemStatus.IN_TRANSIT: HoldingStatus.IN_TRANSIT,
    db.ItemStatus.ON_HOLD_SHELF: HoldingStatus.ON_HOLD_SHELF,
    db.ItemStatus.LOST: HoldingStatus.LOST,
}


def holding_status(
    circulation: Circulation, item: db.Item, record: db.Record
) -> tuple[HoldingStatus, date | None]:
    """A copy's status and, when known, the first day it may circulate. AVAILABLE exactly when
    search.on_the_shelf says so."""
    away = _AWAY.get(item.status)
    if away is not None:
        return away, None
    if circulation.not_loanable(item, record) is not None:
        return HoldingStatus.NOT_FOR_LOAN, None
    quarantined = item.status is db.ItemStatus.IN_QUARANTINE and not (
        item.available_from is not None and item.available_from <= circulation.today()
    )
    embargo = circulation.embargoed_until(record)
    if embargo is not None:
        # Under embargo and in quarantine: the later of the two ends.
        later = item.available_from if quarantined and item.available_from else embargo
        return HoldingStatus.EMBARGOED, max(embargo, later)
    if quarantined:
        return HoldingStatus.IN_QUARANTINE, item.available_from
    return HoldingStatus.AVAILABLE, None


@strawberry.type
class NearestAvailable:
    library: Library
    distance_meters: float | None


@strawberry.type(description="Copies of a record, live from the circulation database.")
class Availability:
    total: int = strawberry.field(description="Copies the network holds (lost ones excluded).")
    available: int = strawberry.field(description="Copies on the shelf that lend today.")
    nearest_available: NearestAvailable | None = strawberry.field(
        description="The library with a copy on the shelf nearest to `near` (without `near`, the"
        " first by name); null when no copy is on the shelf."
    )


def nearest_first(library: Library) -> tuple[bool, float, str, str]:
    """Nearest first, libraries without a known distance last, then by name."""
    distance = library.distance_meters
    return distance is None, distance or 0.0, library.name.casefold(), str(library.id)


@strawberry.type(description="A bibliographic record: a title the network catalogues.")
class Record:
    id: strawberry.ID
    title: str
    authors: list[str]
    publication_year: int | None
    material_type: MaterialType
    row: strawberry.Private[db.Record]
    near: strawberry.Private[GeoPoint | None]

    @classmethod
    def from_row(cls, row: db.Record, *, near: GeoPoint | None = None) -> Record:
        """The record as clients see it; with `near`, its holdings and nearest copy on the
        shelf are measured from there."""
        return cls(
            id=strawberry.ID(row.id),
            title=row.title,
            authors=list(row.authors),
            publication_year=row.published_on.year if row.published_on else None,
            material_type=MaterialType(row.material_type.value),
            row=row,
            near=near,
        )

    @strawberry.field(description="ISBN-13s, digits only.")
    async def isbns(self, info: GraphQLInfo) -> list[str]:
        return await isbns_by_record(info.context).load(self.row.id)

    @strawberry.field(description="Holds waiting for a copy; a new hold joins behind them.")
    async def hold_queue_length(self, info: GraphQLInfo) -> int:
        return await hold_queue_lengths(info.context).load(self.row.id)

    @strawberry.field(
        description="Whether a hold may be placed at all (false e.g. for the latest issue of a"
        " periodical, or when no copy lends)."
    )
    async def holdable(self, info: GraphQLInfo) -> bool:
        # The record's own NOT_HOLDABLE: the patron's limits are for the PlaceHold answer.
        copies = await items_by_record(info.context).load(self.row.id)
        return info.context.services.circulation.not_holdable(self.row, copies) is None

    @strawberry.field(
        description="Every copy; nearest first when `near` is given, else by library name."
    )
    async def holdings(self, info: GraphQLInfo) -> list[Holding]:
        context = info.context
        circulation = context.services.circulation
        copies = await items_by_record(context).load(self.row.id)
        lent = [copy.id for copy in copies if copy.status is db.ItemStatus.ON_LOAN]
        libraries, due_dates = await asyncio.gather(
            libraries_by_id(context).load_many([copy.library_id for copy in copies]),
            due_dates_by_item(context).load_many(lent),
        )
        due_by_item = dict(zip(lent, due_dates, strict=True))
        holdings = []
        for copy, library in zip(copies, libraries, strict=True):
            if library is None:  # the foreign key keeps it from happening
                continue
            status, available_from = holding_status(circulation, copy, self.row)
            holdings.append(
                Holding(
                    barcode=copy.barcode,
                    call_number=copy.call_number,
                    status=status,
                    due_date=due_by_item.get(copy.id),
                    available_from=available_from,
                    library=Library.from_row(library, near=self.near),
                )
            )
        holdings.sort(key=lambda holding: (*nearest_first(holding.library), holding.barcode))
        return holdings

    @strawberry.field(description="How many copies there are and where one is on the shelf.")
    async def availability(self, info: GraphQLInfo) -> Availability:
        context = info.context
        circulation = context.services.circulation
        copies = await items_by_record(context).load(self.row.id)
        shelved = [copy for copy in copies if on_the_shelf(circulation, copy, self.row)]
        places = sorted({copy.location_library_id or copy.library_id for copy in shelved})
        libraries = [
            Library.from_row(row, near=self.near)
            for row in await libraries_by_id(context).load_many(places)
            if row is not None
        ]
        nearest = min(libraries, key=nearest_first, default=None)
        return Availability(
            total=sum(1 for copy in copies if copy.status is not db.ItemStatus.LOST),
            available=len(shelved),
            nearest_available=NearestAvailable(
                library=nearest, distance_meters=nearest.distance_meters
            )
            if nearest is not None
            else None,
        )


@strawberry.type(description="A valid ISBN that no record of the catalogue carries.")
class NotInCatalog:
    isbn13: str


@strawberry.type(description="A code that is not an ISBN; the message says why.")
class InvalidCode:
    message: str


ScanResult = Annotated[Record | NotInCatalog | InvalidCode, strawberry.union("ScanResult")]


@strawberry.type
class FacetValue:
    value: str
    count: int


@strawberry.type(description="Counts of the matching records by one property.")
class Facet:
    name: str = strawberry.field(description="materialType, language, library or available.")
    values: list[FacetValue]


@strawberry.type
class SearchEdge:
    cursor: str | None = strawberry.field(
        description="Where the next page starts: set on the page's last edge when there is a"
        " next page (the same as pageInfo.endCursor), null on the others."
    )
    node: Record


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="One page of search results.")
class SearchConnection:
    total_count: int
    facets: list[Facet]
    edges: list[SearchEdge]
    page_info: PageInfo
