"""The embedded backend: SQLite FTS5 in a file under the var dir, no server needed.

Text is matched with FTS5 (bm25, title first); typos are forgiven with a SymSpell index of
the vocabulary (one edit: insertion, deletion, substitution or a swap of neighbours); the
last word of a query is a prefix. Availability lives beside the text in plain columns, so a
checkin updates a row without touching the full-text index.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ._text import MIN_TYPO_LENGTH, clean_query, deletes, tokenize, within_one_typo
from ._types import FACETS, CatalogDocument, FacetValue, SearchPage, SearchRequest

__all__ = ["EmbeddedSearch"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs(
    rowid INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    authors TEXT NOT NULL,
    subjects TEXT NOT NULL,
    series TEXT NOT NULL,
    material_type TEXT NOT NULL,
    language TEXT,
    year INTEGER,
    copies INTEGER NOT NULL,
    available INTEGER NOT NULL,
    library_ids TEXT NOT NULL,
    available_ids TEXT NOT NULL,
    shelf TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_material_type ON docs(material_type);
CREATE INDEX IF NOT EXISTS docs_available ON docs(available);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    title, authors, subjects, series, shelf,
    content='docs', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE TABLE IF NOT EXISTS doc_libraries(
    library_id TEXT NOT NULL,
    rowid INTEGER NOT NULL,
    available INTEGER NOT NULL,
    PRIMARY KEY (library_id, rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_libraries_rowid ON doc_libraries(rowid);
CREATE TABLE IF NOT EXISTS doc_isbns(
    isbn13 TEXT NOT NULL,
    rowid INTEGER NOT NULL,
    PRIMARY KEY (isbn13, rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_isbns_rowid ON doc_isbns(rowid);
CREATE TABLE IF NOT EXISTS terms(term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS typo_index(
    variant TEXT NOT NULL,
    term TEXT NOT NULL,
    PRIMARY KEY (variant, term)
) WITHOUT ROWID;
"""
_SCHEMA_VERSION = 3
_DROP = """
DROP TABLE IF EXISTS docs_fts;
DROP TABLE IF EXISTS docs;
DROP TABLE IF EXISTS doc_libraries;
DROP TABLE IF EXISTS doc_isbns;
DROP TABLE IF EXISTS terms;
DROP TABLE IF EXISTS typo_index;
"""
# Title matters most, then authors, subjects, series; the shelf column (a token per library
# with a copy on the shelf) only lets "on the shelf near me" be part of a full-text match.
_RANKING = "bm25(10.0, 5.0, 2.0, 1.0, 0.0)"
_TEXT = "{title authors subjects series}"
# At most this many spellings stand in for a word that is not in the catalogue, and at most
# this many words complete a last word typed in part before the prefix index takes over.
_MAX_CORRECTIONS = 8
_MAX_COMPLETIONS = 12
# A spelling no shelf token ("l" and hex digits, see _shelf_token) can match, exactly or as a
# prefix: one token of ASCII letters and digits (as FTS5 reads it too) that is not "l" and hex.
_TEXT_ONLY = re.compile(r'"(?!l[0-9a-f]*")[0-9a-z]+"\*?')
# The prefix lengths docs_fts indexes (its prefix= option).
_INDEXED_PREFIXES = (2, 3)
# Searches matching more records than this are "broad" (see _broad_search): their facets and
# filtered totals are counted on a sample of _SAMPLE/2 to 2 x _SAMPLE of them, every n-th by
# rowid, taken in the walk that counts them. Each search thread remembers its last matches.
BROAD_MATCHES = 2000
_SAMPLE = 500
_CACHED_MATCHES = 128
# At most this much of the index file is memory-mapped (100k records take about 85 MB).
_MAP_BYTES = 1 << 30


# What filters and facets read of a document: record id, material type, language, copies on
# the shelf, and the libraries holding a copy and having one on the shelf, each as " a b c ".
# Plain tuples of strings: the cyclic garbage collector stops tracking those, which matters
# with many cached matches (sets here cost pauses of a tenth of a second).
Row = tuple[str, str, str | None, int, str, str]

_ROW_COLUMNS = (
    "d.record_id, d.material_type, d.language, d.available,"
    " ' ' || d.library_ids || ' ', ' ' || d.available_ids || ' '"
)


def _any_of(libraries: tuple[str, ...], padded: str) -> bool:
    return any(f" {library} " in padded for library in libraries)


@dataclass(frozen=True)
class Match:
    """What a query's words match: how many records; for a narrow match every one of them,
    ranked (rowids), and for a broad match an even sample of their rows (by rowid)."""

    # The words as FTS5 sees them (None: no words); restrict to a column with "{col} : words".
    words: str | None
    # The words as matched in the text columns (see _match_expression).
    expression: str | None
    breadth: int
    broad: bool
    rows: list[Row]
    ranked: list[int]
    # For a narrow match: of the records on the shelf at some libraries (the key), those on
    # the shelf at each of them (library -> rowids, a tuple the collector stops tracking); it
    # answers for any of those libraries. The nearest-first walk's rings all ask for some of
    # the nearest fifteen.
    shelved: dict[frozenset[str], dict[str, tuple[int, ...]]] = field(default_factory=dict)


def _keeps(request: SearchRequest) -> Callable[[Row], bool]:
    """The request's filters as a test of one row (the same as _filters says in SQL)."""

    def keep(row: Row) -> bool:
        _, material_type, language, available, held, shelved = row
        return (
            (not request.material_types or material_type in request.material_types)
            and (not request.languages or language in request.languages)
            and (not request.available_only or available > 0)
            and (not request.library_ids or _any_of(request.library_ids, held))
            and (not request.available_at or _any_of(request.available_at, shelved))
            and not _any_of(request.not_available_at, shelved)
        )

    return keep


def _texts(document: CatalogDocument) -> tuple[str, str, str, str]:
    return (
        document.title,
        " ; ".join(document.authors),
        " ; ".join(document.subjects),
        document.series or "",
    )


def _shelf_token(library_id: str) -> str:
    # Library ids hold any characters; a hex spelling is one token and no word a patron types.
    return "l" + library_id.encode().hex()


def _shelf(library_ids: Sequence[str]) -> str:
    return " ".join(_shelf_token(library_id) for library_id in library_ids)


def _on_shelves(library_ids: Sequence[str]) -> str:
    return "{shelf} : (" + " OR ".join(_quoted(_shelf_token(i)) for i in library_ids) + ")"


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _ranked(connection: sqlite3.Connection, expression: str | None) -> list[int]:
    """Every rowid of a narrow match, best first (bm25; ties in catalogue order), or with no
    words, copies on the shelf first and the newest first."""
    if expression is not None:
        ranks = connection.execute(
            "SELECT rank, rowid FROM docs_fts WHERE docs_fts MATCH ?", (expression,)
        ).fetchall()
        return [rowid for _, rowid in sorted(ranks)]
    return [
        rowid
        for (rowid,) in connection.execute(
            "SELECT rowid FROM docs ORDER BY available DESC, rowid DESC"
        )
    ]


def _counted_and_sampled(
    connection: sqlite3.Connection,
    source: str,
    parameters: dict[str, Any],
    *,
    counted: int,
    reached: int,
) -> tuple[int, list[Row]]:
    """A broad match's exact count and an even sample of its rows, in one walk of the match:
    the first `counted` matches reached rowid `reached`, which sets the sample's step."""
    # Two subqueries: SQLite answers min() or max() alone from the b-tree, both at once by a scan.
    lowest, highest = connection.execute(
        "SELECT (SELECT min(rowid) FROM docs), (SELECT max(rowid) FROM docs)"
    ).fetchone()
    estimate = counted * (highest - lowest + 1) / (reached - lowest + 1)

    def walk(step: int) -> tuple[int, list[int]]:
        breadth, sample = connection.execute(
            f"SELECT count(*), json_group_array(rowid) FILTER (WHERE rowid % :step = 0) {source}",
            {**parameters, "step": step},
        ).fetchone()
        return breadth, json.loads(sample)

    breadth, sample = walk(max(1, round(estimate / _SAMPLE)))
    # Matches bunched in a stretch of rowids mislead the estimate: a sample far too small is
    # taken again with the step the exact count gives, one far too large is thinned.
    if len(sample) < _SAMPLE // 2 < breadth:
        breadth, sample = walk(max(1, breadth // _SAMPLE))
    if len(sample) > 2 * _SAMPLE:
        sample = sample[:: len(sample) // _SAMPLE]
    # CROSS JOIN: walk the sample and look documents up, never the other way round.
    rows = connection.execute(
        f"SELECT {_ROW_COLUMNS} FROM json_each(?) s CROSS JOIN docs d ON d.rowid = s.value",
        (json.dumps(sample),),
    ).fetchall()
    return breadth, rows


class EmbeddedSearch:
    """A search index in one SQLite file; calls run on a small thread pool."""

    def __init__(self, path: Path, *, broad_matches: int = BROAD_MATCHES) -> None:
        self._path = path
        self._broad_matches = broad_matches
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search")
        self._write_lock = threading.Lock()
        # Bumped by every write here: PRAGMA data_version only sees other connections' commits.
        self._writes = 0

    # -- plumbing

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA temp_store = MEMORY")
            # Searches look up hundreds of rows of the index at random: reading its pages
            # from a memory map costs half as much as copying them in through read() calls.
            connection.execute(f"PRAGMA mmap_size = {_MAP_BYTES}")
            self._local.connection = connection
        return connection

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, lambda: work(self._connection())
        )

    async def _write(self, work: Callable[[sqlite3.Connection], None]) -> None:
        def locked(connection: sqlite3.Connection) -> None:
            with self._write_lock:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    work(connection)
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
                self._writes += 1

        await self._run(locked)

    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)

        def create(connection: sqlite3.Connection) -> None:
            # executescript runs its own transaction (every statement is idempotent).
            with self._write_lock:
                (version,) = connection.execute("PRAGMA user_version").fetchone()
                if version != _SCHEMA_VERSION:
                    # An index of another layout is dropped; the indexer rebuilds an empty one.
                    connection.executescript(_DROP)
                connection.executescript(_SCHEMA)
                connection.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                connection.execute(
                    "INSERT INTO docs_fts(docs_fts, rank) VALUES ('rank', ?)", (_RANKING,)
                )

        await self._run(create)

    async def close(self) -> None:
        self._pool.shutdown(wait=True)

    async def count(self) -> int:
        return await self._run(lambda c: int(c.execute("SELECT count(*) FROM docs").fetchone()[0]))

    async def healthy(self) -> bool:
        try:
            return await self._run(lambda c: c.execute("SELECT 1").fetchone() == (1,))
        except sqlite3.Error:
            return False

    # -- writing

    async def upsert(self, documents: Sequence[CatalogDocument]) -> None:
        if documents:
            await self._write(lambda connection: self._upsert(connection, documents))

    def _upsert(self, connection: sqlite3.Connection, documents: Sequence[CatalogDocument]) -> None:
        new_terms: set[str] = set()
        for document in documents:
            texts = _texts(document)
            indexed = (*texts, _shelf(document.available_libraries))
            row = connection.execute(
                "SELECT rowid, title, authors, subjects, series, shelf FROM docs"
                " WHERE record_id = ?",
                (document.record_id,),
            ).fetchone()
            values = (
                *indexed,
                document.material_type,
                document.language,
                document.year,
                document.copies,
                document.available,
                " ".join(document.libraries),
                " ".join(document.available_libraries),
            )
            if row is None:
                rowid = connection.execute(
                    "INSERT INTO docs(record_id, title, authors, subjects, series, shelf,"
                    " material_type, language, year, copies, available, library_ids,"
                    " available_ids) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (document.record_id, *values),
                ).lastrowid
                assert rowid is not None
                connection.execute(
                    "INSERT INTO docs_fts(rowid, title, authors, subjects, series, shelf)"
                    " VALUES (?,?,?,?,?,?)",
                    (rowid, *indexed),
                )
                new_terms.update(token for text in texts for token in tokenize(text))
            else:
                rowid, *old_indexed = row
                connection.execute(
                    "UPDATE docs SET title=?, authors=?, subjects=?, series=?, shelf=?,"
                    " material_type=?, language=?, year=?, copies=?, available=?,"
                    " library_ids=?, available_ids=? WHERE rowid=?",
                    (*values, rowid),
                )
                # A document unchanged in text and shelves leaves the full-text index alone.
                if tuple(old_indexed) != indexed:
                    connection.execute(
                        "INSERT INTO docs_fts(docs_fts, rowid, title, authors, subjects, series,"
                        " shelf) VALUES ('delete',?,?,?,?,?,?)",
                        (rowid, *old_indexed),
                    )
                    connection.execute(
                        "INSERT INTO docs_fts(rowid, title, authors, subjects, series, shelf)"
                        " VALUES (?,?,?,?,?,?)",
                        (rowid, *indexed),
                    )
                if tuple(old_indexed[:4]) != texts:
                    new_terms.update(token for text in texts for token in tokenize(text))
                connection.execute("DELETE FROM doc_libraries WHERE rowid = ?", (rowid,))
                connection.execute("DELETE FROM doc_isbns WHERE rowid = ?", (rowid,))
            available = set(document.available_libraries)
            connection.executemany(
                "INSERT OR REPLACE INTO doc_libraries(library_id, rowid, available) VALUES (?,?,?)",
                [
                    (library, rowid, int(library in available))
                    for library in set(document.libraries) | available
                ],
            )
            connection.executemany(
                "INSERT OR IGNORE INTO doc_isbns(isbn13, rowid) VALUES (?, ?)",
                [(isbn, rowid) for isbn in document.isbns],
            )
        self._add_terms(connection, new_terms)

    @staticmethod
    def _add_terms(connection: sqlite3.Connection, terms: set[str]) -> None:
        known = {
            term
            for (term,) in connection.execute(
                "SELECT term FROM terms WHERE term IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(terms)),),
            )
        }
        fresh = sorted(terms - known)
        connection.executemany("INSERT INTO terms(term) VALUES (?)", [(term,) for term in fresh])
        connection.executemany(
            "INSERT OR IGNORE INTO typo_index(variant, term) VALUES (?, ?)",
            [
                (variant, term)
                for term in fresh
                if len(term) >= MIN_TYPO_LENGTH
                for variant in deletes(term) | {term}
            ],
        )

    async def optimize(self) -> None:
        """Merge the full-text index into one segment: after a bulk load, queries read one
        b-tree instead of dozens (counts over common words run about twice as fast)."""
        await self._write(
            lambda connection: connection.execute(
                "INSERT INTO docs_fts(docs_fts) VALUES ('optimize')"
            ).close()
        )
        await self._run(lambda connection: connection.execute("PRAGMA wal_checkpoint(TRUNCATE)"))

    async def delete(self, record_ids: Sequence[str]) -> None:
        def remove(connection: sqlite3.Connection) -> None:
            for record_id in record_ids:
                row = connection.execute(
                    "SELECT rowid, title, authors, subjects, series, shelf FROM docs"
                    " WHERE record_id = ?",
                    (record_id,),
                ).fetchone()
                if row is None:
                    continue
                connection.execute(
                    "INSERT INTO docs_fts(docs_fts, rowid, title, authors, subjects, series, shelf)"
                    " VALUES ('delete',?,?,?,?,?,?)",
                    row,
                )
                for table in ("docs", "doc_libraries", "doc_isbns"):
                    connection.execute(f"DELETE FROM {table} WHERE rowid = ?", (row[0],))

        if record_ids:
            await self._write(remove)

    async def clear(self) -> None:
        def wipe(connection: sqlite3.Connection) -> None:
            for table in ("docs", "doc_libraries", "doc_isbns", "terms", "typo_index"):
                connection.execute(f"DELETE FROM {table}")
            connection.execute("INSERT INTO docs_fts(docs_fts) VALUES ('delete-all')")

        await self._write(wipe)

    # -- reading

    async def records_with_isbn(self, isbn13: str) -> list[str]:
        return await self._run(
            lambda connection: [
                record_id
                for (record_id,) in connection.execute(
                    "SELECT d.record_id FROM doc_isbns i JOIN docs d ON d.rowid = i.rowid"
                    " WHERE i.isbn13 = ? ORDER BY d.rowid",
                    (isbn13,),
                )
            ]
        )

    async def search(self, request: SearchRequest) -> SearchPage:
        return await self._run(lambda connection: self._search(connection, request))

    async def search_many(self, requests: Sequence[SearchRequest]) -> list[SearchPage]:
        def search_all(connection: sqlite3.Connection) -> list[SearchPage]:
            # Last first: the later rings of a nearest-first walk cover the libraries of the
            # earlier ones, whose shelves are then picked out of what the match keeps.
            pages = [self._search(connection, request) for request in reversed(requests)]
            return pages[::-1]

        return await self._run(search_all)

    def _spellings(self, connection: sqlite3.Connection, word: str, *, last: bool) -> list[str]:
        """FTS5 terms for one typed word: itself (as a prefix when it is the last), else the
        catalogue's words one typo away."""
        if last and len(word) >= 2:
            upper = word[:-1] + chr(ord(word[-1]) + 1)
            completions = [
                term
                for (term,) in connection.execute(
                    "SELECT term FROM terms WHERE term >= ? AND term < ? LIMIT ?",
                    (word, upper, _MAX_COMPLETIONS + 1),
                )
            ]
            # A prefix as long as the prefix index's keys reads one list of documents there.
            # Longer ones: a few completions are OR-ed (FTS5 streams an OR; a prefix query
            # would first gather every matching document), many go to the prefix query.
            if len(completions) > _MAX_COMPLETIONS or (
                len(completions) > 1 and len(word) in _INDEXED_PREFIXES
            ):
                return [_quoted(word) + "*"]
            if completions:
                return [_quoted(term) for term in completions]
        elif connection.execute("SELECT 1 FROM terms WHERE term = ?", (word,)).fetchone():
            return [_quoted(word)]
        if len(word) < MIN_TYPO_LENGTH:
            return [_quoted(word)]
        variants = sorted(deletes(word) | {word})
        candidates = [
            term
            for (term,) in connection.execute(
                "SELECT DISTINCT term FROM typo_index WHERE variant IN"
                " (SELECT value FROM json_each(?)) ORDER BY term",
                (json.dumps(variants),),
            )
            if within_one_typo(word, term)
        ]
        return [_quoted(term) for term in candidates[:_MAX_CORRECTIONS]] or [_quoted(word)]

    def _match_expression(
        self, connection: sqlite3.Connection, words: list[str]
    ) -> tuple[str, str]:
        """The words as FTS5 sees them, and as matched in the text columns: without a column
        filter when no spelling can be a shelf token. A column filter makes FTS5 read every
        position of every matching document (bm25 ranks a fifth slower, counts a third), and
        without it the scores are the same: the shelf column weighs nothing in bm25, and a
        word it cannot hold is in as many documents with the filter as without."""
        groups = []
        text_only = True
        for index, word in enumerate(words):
            spellings = self._spellings(connection, word, last=index == len(words) - 1)
            text_only = text_only and all(_TEXT_ONLY.fullmatch(s) for s in spellings)
            groups.append(
                spellings[0] if len(spellings) == 1 else "(" + " OR ".join(spellings) + ")"
            )
        matched = "(" + " AND ".join(groups) + ")"
        return matched, matched if text_only else f"{_TEXT} : {matched}"

    @staticmethod
    def _filters(request: SearchRequest, *, shelves: bool = True) -> tuple[list[str], list[Any]]:
        """The request's filters in SQL (`shelves`: with available_at / not_available_at)."""
        clauses: list[str] = []
        parameters: list[Any] = []
        if request.material_types:
            clauses.append("d.material_type IN (SELECT value FROM json_each(?))")
            parameters.append(json.dumps(list(request.material_types)))
        if request.languages:
            clauses.append("d.language IN (SELECT value FROM json_each(?))")
            parameters.append(json.dumps(list(request.languages)))
        if request.available_only:
            clauses.append("d.available > 0")
        if request.library_ids:
            clauses.append(
                "d.rowid IN (SELECT rowid FROM doc_libraries"
                " WHERE library_id IN (SELECT value FROM json_each(?)))"
            )
            parameters.append(json.dumps(list(request.library_ids)))
        if shelves and request.available_at:
            clauses.append(
                "d.rowid IN (SELECT rowid FROM doc_libraries WHERE available = 1"
                " AND library_id IN (SELECT value FROM json_each(?)))"
            )
            parameters.append(json.dumps(list(request.available_at)))
        if shelves and request.not_available_at:
            clauses.append(
                "d.rowid NOT IN (SELECT rowid FROM doc_libraries WHERE available = 1"
                " AND library_id IN (SELECT value FROM json_each(?)))"
            )
            parameters.append(json.dumps(list(request.not_available_at)))
        return clauses, parameters

    def _search(self, connection: sqlite3.Connection, request: SearchRequest) -> SearchPage:
        words = tokenize(clean_query(request.query))
        # Like Meilisearch's "last" matching strategy: with nothing found, drop words from the end.
        while True:
            page = self._search_words(connection, request, self._match(connection, words))
            if page.total or len(words) <= 1:
                return page
            words = words[:-1]

    def _match(self, connection: sqlite3.Connection, words: list[str]) -> Match:
        """The FTS5 expression for the words (None: no words), how many records it matches,
        and for a broad match a sample of its rows, kept until the index changes."""
        (version,) = connection.execute("PRAGMA data_version").fetchone()
        cache: dict[tuple[str, ...], Match] = getattr(self._local, "matches", {})
        if getattr(self._local, "data_version", None) != (version, self._writes):
            cache = {}
            self._local.matches = cache
            self._local.data_version = (version, self._writes)
        key = tuple(words)
        if key in cache:
            return cache[key]
        matched: str | None = None
        expression: str | None = None
        if words:
            matched, expression = self._match_expression(connection, words)
            source = "FROM docs_fts WHERE docs_fts MATCH :expression"
            parameters: dict[str, Any] = {"expression": expression}
        else:
            source, parameters = "FROM docs WHERE 1", {}
        # Counting stops past the threshold; the rowid it reached tells how broad a match is.
        counted, reached = connection.execute(
            f"SELECT count(*), max(rowid) FROM (SELECT rowid {source}"
            f" ORDER BY rowid LIMIT {self._broad_matches + 1})",
            parameters,
        ).fetchone()
        if counted > self._broad_matches:
            breadth, rows = _counted_and_sampled(
                connection, source, parameters, counted=counted, reached=reached
            )
            match = Match(matched, expression, breadth, True, rows, [])
        else:
            match = Match(matched, expression, counted, False, [], _ranked(connection, expression))
        if len(cache) >= _CACHED_MATCHES:
            cache.pop(next(iter(cache)))
        cache[key] = match
        return match

    def _search_words(
        self, connection: sqlite3.Connection, request: SearchRequest, match: Match
    ) -> SearchPage:
        if not match.breadth:
            return SearchPage(total=0, record_ids=[])
        if match.broad:
            return self._broad_search(connection, request, match)
        return self._narrow_search(connection, request, match)

    def _narrow_search(
        self, connection: sqlite3.Connection, request: SearchRequest, match: Match
    ) -> SearchPage:
        """A narrow search: the match is ranked once (and kept); a request's filters and
        shelves are sets of rowids picked out of the ranking, counted and faceted exactly."""
        wanted, unwanted = self._narrowed(connection, request, match)
        kept = [
            rowid
            for rowid in match.ranked
            if (wanted is None or rowid in wanted) and rowid not in unwanted
        ]
        shown = kept[request.offset : request.offset + request.limit]
        record_of = dict(
            connection.execute(
                "SELECT rowid, record_id FROM docs WHERE rowid IN (SELECT value FROM json_each(?))",
                (json.dumps(shown),),
            ).fetchall()
            if shown
            else ()
        )
        # A document the indexer removed since the match was read is left out.
        record_ids = [record_of[rowid] for rowid in shown if rowid in record_of]
        if not (request.with_facets and kept):
            return SearchPage(total=len(kept), record_ids=record_ids)
        groups = connection.execute(
            "SELECT d.material_type, d.language, d.available > 0,"
            " group_concat(d.library_ids, ' '), count(*) FROM json_each(?) j"
            " CROSS JOIN docs d ON d.rowid = j.value GROUP BY 1, 2, 3",
            (json.dumps(kept),),
        )
        return SearchPage(
            total=len(kept), record_ids=record_ids, facets=_facets(_tallied(groups), 1.0)
        )

    def _narrowed(
        self, connection: sqlite3.Connection, request: SearchRequest, match: Match
    ) -> tuple[set[int] | None, set[int]]:
        """The rowids a request keeps (None: all) and those it leaves out."""

        def rowids(sql: str, parameters: list[Any]) -> set[int]:
            return {rowid for (rowid,) in connection.execute(sql, parameters)}

        filters, parameters = self._filters(request, shelves=match.words is None)
        wanted: set[int] | None = None
        if filters:
            where = " AND ".join(filters)
            if match.expression is None:
                wanted = rowids(f"SELECT d.rowid FROM docs d WHERE {where}", parameters)
            else:
                wanted = rowids(
                    "SELECT d.rowid FROM docs_fts f JOIN docs d ON d.rowid = f.rowid"
                    f" WHERE docs_fts MATCH ? AND {where}",
                    [match.expression, *parameters],
                )
        if match.expression is None:
            return wanted, set()
        libraries = frozenset(request.available_at + request.not_available_at)
        if not libraries:
            return wanted, set()
        shelved = next(
            (by_library for covered, by_library in match.shelved.items() if libraries <= covered),
            None,
        )
        if shelved is None:
            # Shelves are part of the full-text match: FTS5 intersects a few libraries'
            # copies on the shelf with the words at once.
            found = connection.execute(
                "SELECT f.rowid, ' ' || d.available_ids || ' ' FROM docs_fts f"
                " JOIN docs d ON d.rowid = f.rowid WHERE docs_fts MATCH ?",
                (f"({match.expression}) AND {_on_shelves(sorted(libraries))}",),
            ).fetchall()
            # Each ring then takes the union of its libraries' rowids: no row is tested again.
            shelved = match.shelved[libraries] = {}
            for library in libraries:
                padded = f" {library} "
                shelved[library] = tuple(rowid for rowid, at in found if padded in at)
        if request.available_at:
            on = set().union(*(shelved[library] for library in request.available_at))
            wanted = on if wanted is None else wanted & on
        unwanted = set().union(*(shelved[library] for library in request.not_available_at))
        return wanted, unwanted

    def _broad_search(
        self, connection: sqlite3.Connection, request: SearchRequest, match: Match
    ) -> SearchPage:
        """A broad search (a common word, or none): title matches first, then the rest, each
        in catalogue order, and counted on the sample: bm25 and exact counts over most of the
        catalogue would cost far more than a patron waits for."""
        # A request asking neither total nor facets (a ring of the nearest-first walk) is its
        # page alone: the sample is not filtered, and a narrowed total is what the page shows.
        counted = request.with_total or request.with_facets
        keep = _keeps(request)
        kept = [row for row in match.rows if keep(row)] if counted else []
        scale = match.breadth / max(len(match.rows), 1)
        filters, filter_parameters = self._filters(request, shelves=match.words is None)
        narrowed = filters or request.available_at or request.not_available_at
        total = round(len(kept) * scale) if narrowed else match.breadth
        groups = ((row[1], row[2], row[3], row[4], 1) for row in kept)
        facets = _facets(_tallied(groups), scale) if request.with_facets and kept else {}
        where = " AND ".join(filters) or "1"
        if match.words is None:
            sql = f"SELECT d.record_id FROM docs d WHERE {where}"
            sql += " ORDER BY d.available DESC, d.rowid DESC"
            parameters = list(filter_parameters)
        else:
            in_title = f"{{title}} : {match.words}"
            source = "FROM docs_fts f JOIN docs d ON d.rowid = f.rowid WHERE docs_fts MATCH ?"
            # UNION ALL streams its parts in order, so nothing is sorted.
            sql = (
                f"SELECT d.record_id {source} AND {where}"
                f" UNION ALL SELECT d.record_id {source} AND {where}"
            )
            parameters = [
                _on_shelves_asked(request, in_title),
                *filter_parameters,
                _on_shelves_asked(request, f"({match.expression}) NOT ({in_title})"),
                *filter_parameters,
            ]
        record_ids = [
            record_id
            for (record_id,) in connection.execute(
                f"{sql} LIMIT ? OFFSET ?", [*parameters, request.limit, request.offset]
            )
        ]
        # A filter the sample barely passes may count none of what the page shows.
        total = max(total, request.offset + len(record_ids))
        return SearchPage(total=total, record_ids=record_ids, facets=facets)


def _on_shelves_asked(request: SearchRequest, expression: str) -> str:
    """The full-text expression narrowed to the shelves the request asks for: FTS5 intersects
    them with the words far faster than a filter run on every matching record."""
    if request.available_at:
        expression = f"({expression}) AND {_on_shelves(request.available_at)}"
    if request.not_available_at:
        expression = f"({expression}) NOT {_on_shelves(request.not_available_at)}"
    return expression


# Records alike in material type, language and availability: the libraries holding a copy of
# each of them (space-separated, a library once per record), and how many records.
Group = tuple[str, str | None, int, str, int]


def _tallied(groups: Iterable[Group]) -> dict[str, Counter[str]]:
    tallies: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for material_type, language, available, held, count in groups:
        tallies["materialType"][material_type] += count
        if language:
            tallies["language"][language] += count
        tallies["available"]["true" if available else "false"] += count
        tallies["library"].update(held.split())
    return tallies


def _facets(tallies: dict[str, Counter[str]], scale: float) -> dict[str, list[FacetValue]]:
    """Facet values, most frequent first, their counts scaled up from a sample's."""
    return {
        name: [
            FacetValue(value, round(count * scale))
            for value, count in sorted(tally.items(), key=lambda pair: (-pair[1], pair[0]))
        ]
        for name, tally in tallies.items()
    }
