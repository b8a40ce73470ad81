"""The embedded backend: SQLite FTS5 in a file under the var dir, no server needed.

Text is matched with FTS5 (bm25, title first); typos are forgiven with a SymSpell index of
the vocabulary (one edit: insertion, deletion, substitution or a swap of neighbours); the
last word of a query is a prefix. Availability lives beside the text in plain columns, so a
checkin updates a row without touching the full-text index.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ._text import MIN_TYPO_LENGTH, clean_query, deletes, tokenize, within_one_typo
from ._types import CatalogDocument, FacetValue, SearchPage, SearchRequest

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
    available INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_material_type ON docs(material_type);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    title, authors, subjects, series,
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
# Title matters most, then authors, subjects, series.
_RANKING = "bm25(10.0, 5.0, 2.0, 1.0)"
_TEXT_COLUMNS = ("title", "authors", "subjects", "series")
# At most this many spellings stand in for a word that is not in the catalogue.
_MAX_CORRECTIONS = 8


def _texts(document: CatalogDocument) -> tuple[str, str, str, str]:
    return (
        document.title,
        " ; ".join(document.authors),
        " ; ".join(document.subjects),
        document.series or "",
    )


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class EmbeddedSearch:
    """A search index in one SQLite file; calls run on a small thread pool."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search")
        self._write_lock = threading.Lock()

    # -- plumbing

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
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

        await self._run(locked)

    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)

        def create(connection: sqlite3.Connection) -> None:
            # executescript runs its own transaction (every statement is idempotent).
            with self._write_lock:
                connection.executescript(_SCHEMA)
                connection.execute(
                    "INSERT INTO docs_fts(docs_fts, rank) VALUES ('rank', ?)", (_RANKING,)
                )

        await self._run(create)

    async def close(self) -> None:
        self._pool.shutdown(wait=True)

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
            row = connection.execute(
                "SELECT rowid, title, authors, subjects, series FROM docs WHERE record_id = ?",
                (document.record_id,),
            ).fetchone()
            values = (
                *texts,
                document.material_type,
                document.language,
                document.year,
                document.copies,
                document.available,
            )
            if row is None:
                rowid = connection.execute(
                    "INSERT INTO docs(record_id, title, authors, subjects, series, material_type,"
                    " language, year, copies, available) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (document.record_id, *values),
                ).lastrowid
                assert rowid is not None
                connection.execute(
                    "INSERT INTO docs_fts(rowid, title, authors, subjects, series)"
                    " VALUES (?,?,?,?,?)",
                    (rowid, *texts),
                )
                new_terms.update(token for text in texts for token in tokenize(text))
            else:
                rowid, *old_texts = row
                connection.execute(
                    "UPDATE docs SET title=?, authors=?, subjects=?, series=?, material_type=?,"
                    " language=?, year=?, copies=?, available=? WHERE rowid=?",
                    (*values, rowid),
                )
                # Availability alone changes often; the full-text index only when text does.
                if tuple(old_texts) != texts:
                    connection.execute(
                        "INSERT INTO docs_fts(docs_fts, rowid, title, authors, subjects, series)"
                        " VALUES ('delete',?,?,?,?,?)",
                        (rowid, *old_texts),
                    )
                    connection.execute(
                        "INSERT INTO docs_fts(rowid, title, authors, subjects, series)"
                        " VALUES (?,?,?,?,?)",
                        (rowid, *texts),
                    )
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

    async def delete(self, record_ids: Sequence[str]) -> None:
        def remove(connection: sqlite3.Connection) -> None:
            for record_id in record_ids:
                row = connection.execute(
                    "SELECT rowid, title, authors, subjects, series FROM docs WHERE record_id = ?",
                    (record_id,),
                ).fetchone()
                if row is None:
                    continue
                connection.execute(
                    "INSERT INTO docs_fts(docs_fts, rowid, title, authors, subjects, series)"
                    " VALUES ('delete',?,?,?,?,?)",
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
        return await self._run(
            lambda connection: [self._search(connection, request) for request in requests]
        )

    def _spellings(self, connection: sqlite3.Connection, word: str, *, last: bool) -> list[str]:
        """FTS5 terms for one typed word: itself (as a prefix when it is the last), else the
        catalogue's words one typo away."""
        if last and len(word) >= 2:
            upper = word[:-1] + chr(ord(word[-1]) + 1)
            if connection.execute(
                "SELECT 1 FROM terms WHERE term >= ? AND term < ? LIMIT 1", (word, upper)
            ).fetchone():
                return [_quoted(word) + "*"]
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

    def _match_expression(self, connection: sqlite3.Connection, words: list[str]) -> str:
        groups = []
        for index, word in enumerate(words):
            spellings = self._spellings(connection, word, last=index == len(words) - 1)
            groups.append(
                spellings[0] if len(spellings) == 1 else "(" + " OR ".join(spellings) + ")"
            )
        return " AND ".join(groups)

    @staticmethod
    def _filters(request: SearchRequest) -> tuple[list[str], list[Any]]:
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
        if request.available_at:
            clauses.append(
                "d.rowid IN (SELECT rowid FROM doc_libraries WHERE available = 1"
                " AND library_id IN (SELECT value FROM json_each(?)))"
            )
            parameters.append(json.dumps(list(request.available_at)))
        if request.not_available_at:
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
            page = self._search_words(connection, request, words)
            if page.total or len(words) <= 1:
                return page
            words = words[:-1]

    def _search_words(
        self, connection: sqlite3.Connection, request: SearchRequest, words: list[str]
    ) -> SearchPage:
        clauses, parameters = self._filters(request)
        if words:
            source = "docs_fts f JOIN docs d ON d.rowid = f.rowid"
            clauses.insert(0, "docs_fts MATCH ?")
            parameters.insert(0, self._match_expression(connection, words))
            order = "f.rank, d.rowid"
        else:
            source = "docs d"
            order = "d.available > 0 DESC, d.year DESC, d.rowid"
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        matched = (
            "SELECT d.rowid AS rowid, d.material_type, d.language, d.available"
            f" FROM {source}{where}"
        )
        record_ids = [
            record_id
            for (record_id,) in connection.execute(
                f"SELECT d.record_id FROM {source}{where} ORDER BY {order} LIMIT ? OFFSET ?",
                (*parameters, request.limit, request.offset),
            )
        ]
        total = connection.execute(f"SELECT count(*) FROM {source}{where}", parameters).fetchone()[
            0
        ]
        facets: dict[str, list[FacetValue]] = {}
        if request.with_facets and total:
            facets = self._facets(connection, matched, parameters)
        return SearchPage(total=total, record_ids=record_ids, facets=facets)

    @staticmethod
    def _facets(
        connection: sqlite3.Connection, matched: str, parameters: list[Any]
    ) -> dict[str, list[FacetValue]]:
        counts: dict[str, dict[str, int]] = {
            name: {} for name in ("materialType", "language", "library", "available")
        }
        for material_type, language, available, count in connection.execute(
            f"SELECT material_type, coalesce(language, ''), available > 0, count(*)"
            f" FROM ({matched}) GROUP BY 1, 2, 3",
            parameters,
        ):
            for name, value in (
                ("materialType", material_type),
                ("language", language),
                ("available", "true" if available else "false"),
            ):
                if value:
                    counts[name][value] = counts[name].get(value, 0) + count
        for library_id, count in connection.execute(
            f"SELECT l.library_id, count(*) FROM ({matched}) m"
            " JOIN doc_libraries l ON l.rowid = m.rowid GROUP BY l.library_id",
            parameters,
        ):
            counts["library"][library_id] = count
        return {
            name: [
                FacetValue(value, count)
                for value, count in sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))
            ]
            for name, values in counts.items()
        }
