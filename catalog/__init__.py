"""The catalogue: libraries, bibliographic records and copies, and the ways they come in."""

from ._dataset import (
    Dataset,
    DatasetEntryError,
    InvalidDataset,
    ItemEntry,
    LibraryEntry,
    PatronEntry,
    RecordEntry,
    parse_dataset,
    parse_published,
    read_dataset,
)
from ._geo import distance_meters
from ._isbn import InvalidIsbn, normalize_isbn
from ._loader import LIBRARY_CHANGED, RECORD_CHANGED, LoadReport, SectionCounts, load_dataset
from ._queries import list_libraries

__all__ = [
    "LIBRARY_CHANGED",
    "RECORD_CHANGED",
    "Dataset",
    "DatasetEntryError",
    "InvalidDataset",
    "InvalidIsbn",
    "ItemEntry",
    "LibraryEntry",
    "LoadReport",
    "PatronEntry",
    "RecordEntry",
    "SectionCounts",
    "distance_meters",
    "list_libraries",
    "load_dataset",
    "normalize_isbn",
    "parse_dataset",
    "parse_published",
    "read_dataset",
]
