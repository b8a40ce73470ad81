"""Embedded search at catalogue scale: 100k records and 300k copies made by varying the real
NLNZ MARC records, then 1,000 realistic queries of six kinds.

Prints indexing time, index size, p50/p95/p99 per query kind, one-typo recall, and the same
queries run as a plain SQL LIKE scan over the same records in the same run (the baseline),
with the ratio. Goal on a 2-core machine: p95 at most 10 ms for every kind, recall >= 90%.

    .venv/bin/python bench/search_embedded.py [--records 100000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from stdnum import ean
from stdnum import isbn as stdnum_isbn

from catalog._marc import read_marc_file, record_from_marc
from search import CatalogDocument, CatalogSearch, EmbeddedSearch, SearchRequest
from search._text import tokenize

MARC = Path(__file__).resolve().parents[2] / "shared" / "data" / "marc" / "nlnz_pubsnz_1001.mrc"
LIBRARIES = [f"IT-PV{n:04d}" for n in range(1, 239)]
COPIES_PER_RECORD = 3
KINDS = ("words", "typo", "prefix", "isbn", "filter+facets", "near-sort")


def _base_records() -> list[dict[str, object]]:
    records = []
    for marc in read_marc_file(MARC):
        if marc is not None:
            records.append(record_from_marc(marc, id_prefix="nlnz-").record)
    return records


def _isbn13(rng: random.Random) -> str:
    body = "978" + "".join(rng.choice("0123456789") for _ in range(9))
    return body + ean.calc_check_digit(body)


def generate(count: int, rng: random.Random) -> list[CatalogDocument]:
    """`count` documents: each a real record, its title varied with a word of another
    record and a volume number, its copies spread over the Pavia libraries."""
    bases = _base_records()
    vocabulary = sorted(
        {word for base in bases for word in str(base["title"]).split() if len(word) > 3}
    )
    documents = []
    for number in range(count):
        base = bases[number % len(bases)]
        title = f"{base['title']} {rng.choice(vocabulary)} {number // len(bases) + 1}"
        held = rng.sample(LIBRARIES, COPIES_PER_RECORD)
        shelved = tuple(sorted(library for library in held if rng.random() < 0.6))
        year = str(base.get("published") or "")[:4]
        documents.append(
            CatalogDocument(
                record_id=f"r{number}",
                title=title,
                authors=tuple(base["authors"]),  # type: ignore[arg-type]
                subjects=tuple(base["subjects"]),  # type: ignore[arg-type]
                series=base["series"],  # type: ignore[arg-type]
                isbns=(_isbn13(rng),),
                material_type=str(base["materialType"]),
                language=base["language"],  # type: ignore[arg-type]
                year=int(year) if year.isdigit() else None,
                libraries=tuple(sorted(held)),
                available_libraries=shelved,
                copies=COPIES_PER_RECORD,
                available=len(shelved),
            )
        )
    return documents


def _typo(word: str, rng: random.Random) -> str:
    position = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("substitute", "delete", "insert", "swap"))
    letter = rng.choice("abcdefghilmnoprstuvz")
    if edit == "substitute":
        return word[:position] + letter + word[position + 1 :]
    if edit == "delete":
        return word[:position] + word[position + 1 :]
    if edit == "insert":
        return word[:position] + letter + word[position:]
    return word[: position - 1] + word[position] + word[position - 1] + word[position + 1 :]


def make_queries(
    documents: list[CatalogDocument], total: int, rng: random.Random
) -> list[tuple[str, SearchRequest, str | None]]:
    """(kind, request, the correctly spelt query for typo queries)."""
    queries: list[tuple[str, SearchRequest, str | None]] = []
    for index in range(total):
        kind = KINDS[index % len(KINDS)]
        document = rng.choice(documents)
        words = [
            word
            for word in tokenize(document.title + " " + " ".join(document.authors))
            if len(word) > 2
        ]
        picked = rng.sample(words, min(len(words), rng.randint(1, 3)))
        if kind == "typo":
            long_words = [word for word in words if len(word) >= 5]
            if not long_words:
                continue
            target = rng.choice(long_words)
            correct = " ".join([target, *picked[:1]] if picked[0] != target else [target])
            typed = correct.replace(target, _typo(target, rng), 1)
            queries.append((kind, SearchRequest(query=typed), correct))
        elif kind == "prefix":
            last = picked[-1]
            text = " ".join([*picked[:-1], last[: max(3, len(last) // 2)]])
            queries.append((kind, SearchRequest(query=text), None))
        elif kind == "isbn":
            code = document.isbns[0]
            typed = rng.choice((code, stdnum_isbn.format(code), f"ISBN {code}"))
            queries.append((kind, SearchRequest(query=typed), None))
        elif kind == "filter+facets":
            request = SearchRequest(
                query=picked[0], material_types=(document.material_type,), available_only=True
            )
            queries.append((kind, request, None))
        else:
            queries.append((kind, SearchRequest(query=" ".join(picked)), None))
    return queries


def _like_baseline(
    documents: list[CatalogDocument], folder: Path
) -> Callable[[SearchRequest], int]:
    """The same records in a plain table, searched with LIKE on every word (no index)."""
    connection = sqlite3.connect(folder / "like.db")
    connection.execute(
        "CREATE TABLE docs(record_id TEXT, text TEXT, isbns TEXT, material_type TEXT,"
        " available INT)"
    )
    connection.executemany(
        "INSERT INTO docs VALUES (?,?,?,?,?)",
        [
            (
                d.record_id,
                " ".join([d.title, *d.authors, *d.subjects, d.series or ""]).lower(),
                " ".join(d.isbns),
                d.material_type,
                d.available,
            )
            for d in documents
        ],
    )
    connection.commit()

    def run(request: SearchRequest) -> int:
        words = tokenize(request.query)
        clauses = ["(text LIKE ? OR isbns LIKE ?)"] * len(words)
        parameters: list[object] = [f"%{word}%" for word in words for _ in (0, 1)]
        if request.material_types:
            clauses.append("material_type = ?")
            parameters.append(request.material_types[0])
        if request.available_only:
            clauses.append("available > 0")
        where = " AND ".join(clauses) or "1"
        rows = connection.execute(
            f"SELECT record_id FROM docs WHERE {where} LIMIT 20", parameters
        ).fetchall()
        connection.execute(f"SELECT count(*) FROM docs WHERE {where}", parameters).fetchone()
        return len(rows)

    return run


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

    return statistics.median(ordered) * 1000, at(0.95), at(0.99)


def _size_of(folder: Path) -> int:
    return sum(file.stat().st_size for file in folder.glob("search.db*"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    arguments = parser.parse_args()
    rng = random.Random(2026)
    documents = generate(arguments.records, rng)
    queries = make_queries(documents, arguments.queries, rng)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "search.db"
        backend = EmbeddedSearch(path)
        await backend.start()
        started = time.perf_counter()
        for start in range(0, len(documents), 2000):
            await backend.upsert(documents[start : start + 2000])
        await backend.optimize()
        indexing = time.perf_counter() - started
        size = _size_of(Path(folder))
        print(
            f"indexed {len(documents):,} records ({len(documents) * COPIES_PER_RECORD:,} copies)"
            f" in {indexing:.1f} s; index {size / 1e6:.1f} MB"
        )

        service = CatalogSearch(backend)
        nearest = LIBRARIES[:]
        rng.shuffle(nearest)
        timings: dict[str, list[float]] = defaultdict(list)
        recall_hits = recall_total = 0
        for kind, request, correct in queries:
            started = time.perf_counter()
            if kind == "near-sort":
                results = await service.search(request, nearest_libraries=nearest)
            else:
                results = await service.search(request)
            timings[kind].append(time.perf_counter() - started)
            if correct is not None:
                expected = await service.search(replace(request, query=correct), first=1)
                recall_total += 1
                recall_hits += (
                    bool(expected.record_ids) and expected.record_ids[0] in results.record_ids
                )

        baseline = _like_baseline(documents, Path(folder))
        baseline_timings: dict[str, list[float]] = defaultdict(list)
        for kind, request, _ in queries:
            started = time.perf_counter()
            baseline(request)
            baseline_timings[kind].append(time.perf_counter() - started)

        print(
            f"{'kind':<15} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
            f" {'LIKE p50':>9} {'LIKE p95':>9} {'speed-up p50':>12}"
        )
        for kind in KINDS:
            p50, p95, p99 = _percentiles(timings[kind])
            b50, b95, _ = _percentiles(baseline_timings[kind])
            print(
                f"{kind:<15} {len(timings[kind]):>4} {p50:8.2f} {p95:8.2f} {p99:8.2f}"
                f" {b50:9.2f} {b95:9.2f} {b50 / p50:11.1f}x"
            )
        print(
            f"one-typo recall: {recall_hits}/{recall_total} = {recall_hits / recall_total:.1%}"
            " (the correctly spelt query's first hit on the typo query's first page)"
        )
        await backend.close()


if __name__ == "__main__":
    asyncio.run(main())
