"""Benchmark of the two vector stores: sqlite-vec (embedded) and Postgres with pgvector.

Run from the repository root (the engines extra installed: ``./run setup full``)::

    .venv/bin/python benchmarks/vector_stores.py            # print the figures
    .venv/bin/python benchmarks/vector_stores.py --write    # also record them in docs/benchmarks.md

Two sizes:

* **the handbook** (about 670 chunks): the real :class:`~course_lib.rag.HandbookIndex` on each
  side, built from the handbook, queried with the golden dev questions as an employee (the
  access filter inside the query);
* **100,000 chunks**, synthetic and deterministic: seeded blends of two of the handbook's
  vectors, with access levels drawn at random; the same tables and filtered KNN query
  as the index, written directly so that loading takes seconds.

Measured: build (load) time, size on disk, query latency p50/p95, and recall@5 against exact
search. pgvector is measured exact (a scan, like sqlite-vec) and through an HNSW index with
iterative scans, which keep a filtered query at k results. A private Postgres is started in
the course work directory and stopped afterwards. Timings depend on the machine: compare
ratios measured in one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
from recording import percentiles, record_section

LEVELS = ("public", "internal", "restricted")
READABLE = ("public", "internal")  # an employee's clearance
K = 5


def _timed(samples: list[float], call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = call()
    samples.append((time.perf_counter() - started) * 1000)
    return result


def _recall(found: Sequence[Sequence[int]], exact: Sequence[Sequence[int]]) -> float:
    hits = sum(len(set(f) & set(e)) for f, e in zip(found, exact, strict=True))
    return hits / sum(len(e) for e in exact)


def handbook_size(url: str, queries: list[str]) -> list[dict[str, Any]]:
    """The real index on each side, built from the handbook and searched with dev questions."""
    from course_lib.datasets import load_handbook
    from course_lib.rag import HandbookIndex, User
    from course_lib.workdir import work_path

    docs = load_handbook()
    reader = User.employee("bench", team="sre")
    places = {
        "sqlite-vec": {"path": work_path("benchmarks", "vector-stores.sqlite")},
        "pgvector, exact": {"path": url, "name": "benchmark"},
    }
    rows, results = [], {}
    for label, place in places.items():
        started = time.perf_counter()
        index = HandbookIndex.build(docs, rebuild=True, **place)
        build_s = time.perf_counter() - started
        for query in queries[:5]:  # warm caches and connections
            index.dense_candidates(query, user=reader, limit=K)
        search = index.dense_candidates
        samples: list[float] = []
        found = [
            [c.id for c, _ in _timed(samples, lambda q=q, s=search: s(q, user=reader, limit=K))]
            for q in queries
        ]
        results[label] = found
        p50, p95 = percentiles(samples)
        rows.append(
            {"store": label, "chunks": len(index), "build_s": build_s, "p50": p50, "p95": p95}
        )
        index.close()
    exact = results["sqlite-vec"]
    for row in rows:
        row["recall"] = _recall(results[row["store"]], exact)
    return rows


def _synthetic(size: int, seed: int = 0) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``size`` unit vectors among the handbook's own, their access levels, and 200 queries."""
    from course_lib.datasets import load_golden_set, load_handbook
    from course_lib.embeddings import get_embedder
    from course_lib.rag import chunk_documents

    embedder = get_embedder()
    base = embedder.embed([c.indexed_text for c in chunk_documents(load_handbook())])
    rng = np.random.default_rng(seed)
    # A blend of two chunks plus a little noise: a continuum of texts "between" the handbook's,
    # not clusters of near-copies (which would make exact top-5 a coin toss among ties).
    first, second = rng.integers(0, len(base), size), rng.integers(0, len(base), size)
    weight = rng.uniform(0.0, 1.0, (size, 1)).astype(np.float32)
    vectors = weight * base[first] + (1 - weight) * base[second]
    vectors += rng.normal(0.0, 0.01, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    access = [LEVELS[i] for i in rng.choice(3, size, p=[0.4, 0.4, 0.2])]
    questions = [q.question for q in load_golden_set("dev")][:200]
    queries = embedder.embed(questions).astype(np.float32)
    return vectors.astype(np.float32), access, queries


def _vector_text(vector: np.ndarray) -> str:
    return "[" + ",".join(repr(float(v)) for v in vector) + "]"


def large_size(url: str, size: int) -> list[dict[str, Any]]:
    """sqlite-vec and pgvector (exact and HNSW) on ``size`` synthetic chunks, filtered KNN."""
    import psycopg

    from course_lib.sqlite_db import connect_with_vec
    from course_lib.workdir import work_path

    vectors, access, queries = _synthetic(size)
    dimension = vectors.shape[1]
    rows = []

    path = work_path("benchmarks", "vector-stores-large.sqlite")
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    sqlite, _ = connect_with_vec(path)
    started = time.perf_counter()
    sqlite.execute(
        f"CREATE VIRTUAL TABLE v USING vec0(id INTEGER PRIMARY KEY, "
        f"embedding float[{dimension}] distance_metric=cosine, access TEXT)"
    )
    with sqlite:
        sqlite.executemany(
            "INSERT INTO v (id, embedding, access) VALUES (?, ?, ?)",
            ((i + 1, vectors[i].tobytes(), access[i]) for i in range(size)),
        )
    load_s = time.perf_counter() - started
    knn = (
        "SELECT id FROM v WHERE embedding MATCH ? AND k = ? AND access IN (?, ?) ORDER BY distance"
    )
    samples: list[float] = []
    exact = [
        [
            r[0]
            for r in _timed(
                samples, lambda q=q: sqlite.execute(knn, (q.tobytes(), K, *READABLE)).fetchall()
            )
        ]
        for q in queries
    ]
    sqlite.close()
    p50, p95 = percentiles(samples)
    rows.append(
        {
            "store": "sqlite-vec",
            "chunks": size,
            "build_s": load_s,
            "p50": p50,
            "p95": p95,
            "recall": 1.0,
            "mb": path.stat().st_size / 1e6,
        }
    )

    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("CREATE EXTENSION IF NOT EXISTS vector")
        pg.execute("DROP TABLE IF EXISTS bench_vectors")
        pg.execute(
            "CREATE TABLE bench_vectors "
            f"(id BIGINT PRIMARY KEY, embedding vector({dimension}), access TEXT)"
        )
        started = time.perf_counter()
        with (
            pg.cursor() as cursor,
            cursor.copy("COPY bench_vectors (id, embedding, access) FROM STDIN") as copy,
        ):
            for i in range(size):
                copy.write_row((i + 1, _vector_text(vectors[i]), access[i]))
        pg.execute("ANALYZE bench_vectors")
        load_s = time.perf_counter() - started
        query_sql = (
            "SELECT id FROM bench_vectors WHERE access IN (%s, %s) "
            "ORDER BY embedding <=> %s::vector LIMIT %s"
        )

        def measure(label: str, build_s: float, relation: str) -> None:
            samples: list[float] = []
            found = [
                [
                    r[0]
                    for r in _timed(
                        samples,
                        lambda q=q: pg.execute(
                            query_sql, (*READABLE, _vector_text(q), K)
                        ).fetchall(),
                    )
                ]
                for q in queries
            ]
            (mb,) = pg.execute("SELECT pg_total_relation_size(%s) / 1e6", (relation,)).fetchone()
            p50, p95 = percentiles(samples)
            rows.append(
                {
                    "store": label,
                    "chunks": size,
                    "build_s": build_s,
                    "p50": p50,
                    "p95": p95,
                    "recall": _recall(found, exact),
                    "mb": float(mb),
                }
            )

        measure("pgvector, exact", load_s, "bench_vectors")
        pg.execute("SET maintenance_work_mem = '256MB'")
        started = time.perf_counter()
        pg.execute(
            "CREATE INDEX bench_hnsw ON bench_vectors USING hnsw (embedding vector_cosine_ops)"
        )
        hnsw_s = time.perf_counter() - started
        pg.execute("SET hnsw.iterative_scan = strict_order")
        measure("pgvector, HNSW, ef_search 40 (+ index build)", hnsw_s, "bench_vectors")
        pg.execute("SET hnsw.ef_search = 200")
        measure("pgvector, HNSW, ef_search 200", hnsw_s, "bench_vectors")
        pg.execute("DROP TABLE bench_vectors")
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| store | chunks | build / load | size on disk | query p50 | query p95 "
        "| recall@5 vs exact |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        size = f"{r['mb']:.0f} MB" if "mb" in r else "-"
        lines.append(
            f"| {r['store']} | {r['chunks']:,} | {r['build_s']:.1f} s | {size} | {r['p50']:.2f} ms "
            f"| {r['p95']:.2f} ms | {r['recall']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="synthetic chunks")
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args()

    from course_lib.datasets import load_golden_set
    from course_lib.services.postgres import start_postgres
    from course_lib.services.process import stop_process
    from course_lib.workdir import work_path

    folder = work_path("benchmarks", "postgres")
    url, pid = start_postgres(folder)
    try:
        queries = [q.question for q in load_golden_set("dev")]
        small = handbook_size(url, queries)
        large = large_size(url, args.size)
    finally:
        stop_process(pid, first=signal.SIGINT)
        shutil.rmtree(folder, ignore_errors=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    report = (
        f"Measured {date.today().isoformat()} on {machine}, by `benchmarks/vector_stores.py`.\n\n"
        f"**The handbook**, the real index on each side, {len(queries)} dev questions as an "
        "employee (access filter in the query):\n\n"
        f"{_table(small)}\n\n"
        f"**{args.size:,} synthetic chunks** (seeded blends of two handbook vectors; 20% "
        "restricted), 200 dev questions, the same filtered KNN:\n\n"
        f"{_table(large)}"
    )
    print(report)
    if args.write:
        record_section(
            "vector-stores",
            report,
            heading="Vector stores: sqlite-vec and pgvector",
            intro="The embedded default and its production counterpart, on the same queries.",
        )


if __name__ == "__main__":
    sys.exit(main())
