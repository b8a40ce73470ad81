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
from ._marc_import import (
    ImportProgress,
    InvalidIsbnValue,
    MarcImportReport,
    SkipLog,
    UnknownLibrary,
    UnreadableMarcFile,
    import_marc,
)
from ._queries import list_libraries, record_with_isbn

__all__ = [
    "LIBRARY_CHANGED",
    "RECORD_CHANGED",
    "Dataset",
    "DatasetEntryError",
    "ImportProgress",
    "InvalidDataset",
    "InvalidIsbn",
    "InvalidIsbnValue",
    "ItemEntry",
    "LibraryEntry",
    "LoadReport",
    "MarcImportReport",
    "PatronEntry",
    "RecordEntry",
    "SectionCounts",
    "SkipLog",
    "UnknownLibrary",
    "UnreadableMarcFile",
    "distance_meters",
    "import_marc",
    "list_libraries",
    "load_dataset",
    "normalize_isbn",
    "parse_dataset",
    "parse_published",
    "read_dataset",
    "record_with_isbn",
]
