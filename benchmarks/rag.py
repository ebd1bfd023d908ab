"""Benchmark of retrieval: index build time, query latency, and quality on the golden dev set.

Run from the repository root::

    .venv/bin/python benchmarks/rag.py            # print the numbers
    .venv/bin/python benchmarks/rag.py --write    # also record them in docs/benchmarks.md

Indexes are built under the course work directory (``benchmarks/``) and deleted afterwards.
Quality numbers are deterministic; timings depend on the machine: compare ratios measured in
one run, not numbers across machines.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from recording import percentiles, record_section

from course_lib.standin import local_client

ROOT = Path(__file__).resolve().parents[1]
MODES = ("dense", "bm25", "hybrid")
# (label, strategy, options): the default first, then the alternatives it was chosen among.
CHUNKINGS: tuple[tuple[str, str, dict[str, int]], ...] = (
    ("headings, sections under 192 tokens joined (default)", "headings", {}),
    ("headings, one chunk per section", "headings", {"min_tokens": 0}),
    ("fixed, 256 tokens, 32 overlap", "fixed", {"size": 256, "overlap": 32}),
    ("fixed, 128 tokens, 16 overlap", "fixed", {"size": 128, "overlap": 16}),
    ("semantic (WordLlama), 1,024 characters", "semantic", {"target_size": 1024}),
)
CANDIDATES = (10, 20, 50)


@contextmanager
def _index(label: str, strategy: str, options: dict[str, int], docs: list[Any]) -> Iterator[Any]:
    """A fresh index in the work directory, removed afterwards."""
    from course_lib.rag import HandbookIndex
    from course_lib.workdir import work_path

    suffix = "-".join(f"{key}{value}" for key, value in sorted(options.items()))
    path = work_path("benchmarks", f"rag-{label}-{strategy}-{suffix or 'defaults'}.sqlite")
    index = HandbookIndex.build(docs, path=path, strategy=strategy, rebuild=True, **options)
    try:
        yield index
    finally:
        index.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def bench_build(docs: list[Any], repeats: int = 3) -> dict[str, float]:
    """Seconds to build the whole handbook from scratch (median of ``repeats``), and to upsert
    it again unchanged; chunk count."""
    from course_lib.embeddings import get_embedder

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    get_embedder().embed(["warm-up"])  # load the model outside the timings
    fresh, again, chunks = [], [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        with _index("build", "headings", {}, docs) as index:
            fresh.append(time.perf_counter() - started)
            started = time.perf_counter()
            index.upsert(docs)
            again.append(time.perf_counter() - started)
            chunks = len(index)
    return {
        "build_s": statistics.median(fresh),
        "upsert_s": statistics.median(again),
        "chunks": chunks,
        "load": load,
    }


def bench_latency(docs: list[Any], rounds: int = 3) -> dict[str, tuple[float, float]]:
    """p50 and p95 milliseconds per search, each mode, over the dev questions (k = 5)."""
    from course_lib.datasets import load_golden_set
    from course_lib.rag import User, search

    questions = [q.question for q in load_golden_set("dev")] * rounds
    reader = User.employee("benchmark", team="sre")
    result = {}
    with _index("latency", "headings", {}, docs) as index:
        for mode in MODES:
            search(index, questions[0], user=reader, mode=mode)  # warm caches (BM25 per clearance)
            samples = []
            for question in questions:
                started = time.perf_counter()
                search(index, question, user=reader, k=5, mode=mode)
                samples.append((time.perf_counter() - started) * 1000)
            result[mode] = percentiles(samples)
    return result


def bench_quality(docs: list[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Recall@5 and MRR per chunking and mode on the dev split; hybrid at several candidate
    depths; and the paired comparison of hybrid with each single retriever (default chunking)."""
    from course_lib.datasets import load_golden_set
    from course_lib.evaluation import paired_bootstrap
    from course_lib.rag import evaluate_retrieval, summarise_retrieval

    rows: list[dict[str, Any]] = []
    comparison: dict[str, Any] = {}
    for label, strategy, options in CHUNKINGS:
        with _index("quality", strategy, options, docs) as index:
            frame = evaluate_retrieval(index, load_golden_set("dev"), modes=MODES, candidates=50)
            summary = summarise_retrieval(frame).set_index("mode")
            row: dict[str, Any] = {"chunking": label, "chunks": len(index)}
            for mode in MODES:
                row[mode] = summary.loc[mode]
            for depth in CANDIDATES:
                if depth == 50:
                    row["hybrid@50"] = summary.loc["hybrid", "recall"]
                    continue
                other = evaluate_retrieval(
                    index, load_golden_set("dev"), modes=("hybrid",), candidates=depth
                )
                row[f"hybrid@{depth}"] = other["recall"].mean()
            rows.append(row)
            if not comparison:
                per_mode = {m: frame[frame["mode"] == m]["recall"].to_numpy() for m in MODES}
                comparison = {
                    single: paired_bootstrap(per_mode[single], per_mode["hybrid"])
                    for single in ("dense", "bm25")
                }
                comparison["questions"] = len(per_mode["hybrid"])
    return rows, comparison


def bench_assistant(docs: list[Any], questions: int = 200) -> dict[str, float]:
    """End to end in process: HandbookAssistant.ask answers per second, untraced and traced."""
    from course_lib.assistant import HandbookAssistant
    from course_lib.datasets import load_golden_set
    from course_lib.observability import setup_tracing
    from course_lib.rag import User

    asked = [q.question for q in load_golden_set("dev")]
    asked = (asked * (questions // len(asked) + 1))[:questions]
    reader = User("bench", team="sre", clearance={"public", "internal"})
    rates: dict[str, float] = {}
    with _index("assistant", "headings", {}, docs) as index:
        for label, tracing in (("untraced", None), ("traced", setup_tracing("memory"))):
            assistant = HandbookAssistant(index, client=local_client(), tracing=tracing)
            assistant.ask(asked[0], user=reader)  # warm up: models and memory load once
            best = 0.0
            for _ in range(3):  # the best of three rounds: a busy machine only slows a round
                started = time.perf_counter()
                for question in asked:
                    assistant.ask(question, user=reader)
                best = max(best, len(asked) / (time.perf_counter() - started))
            rates[label] = best
    return rates


def report(
    build: dict[str, float],
    latency: dict[str, tuple[float, float]],
    quality: list[dict[str, Any]],
    comparison: dict[str, Any],
    assistant: dict[str, float] | None = None,
) -> str:
    def cell(summary: Any, metric: str) -> str:
        low, high = summary[f"{metric}_low"], summary[f"{metric}_high"]
        return f"{summary[metric]:.3f} ({low:.2f} to {high:.2f})"

    default = quality[0]
    lines = [
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.machine()} (load average "
        f"{build['load']:.1f} at the start: timings on a busy machine spread out); SQLite with "
        "sqlite-vec (exact search) and bm25s, default embedder (WordLlama, 256 dimensions).",
        "",
        f"**Build** of the whole current handbook (120 documents, {build['chunks']:.0f} chunks, "
        f"default chunking): {build['build_s']:.2f} s from scratch (chunking, embedding, "
        f"writing); {build['upsert_s']:.2f} s to upsert it again unchanged (nothing embedded).",
        "",
        "**Query latency** over the golden dev questions, k = 5, a reader cleared for public "
        "and internal documents (hybrid: 50 candidates from each retriever):",
        "",
        "| mode | p50 (ms) | p95 (ms) |",
        "|---|---:|---:|",
    ]
    lines += [f"| {mode} | {latency[mode][0]:.2f} | {latency[mode][1]:.2f} |" for mode in MODES]
    lines += [
        "",
        f"**Quality** on the golden dev split ({comparison['questions']} answerable questions; "
        "a chunk is relevant when its document is cited; 95% bootstrap intervals in brackets), "
        "default chunking:",
        "",
        "| mode | recall@5 | MRR | nDCG@5 |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {mode} | {cell(default[mode], 'recall')} | {cell(default[mode], 'mrr')} | "
        f"{cell(default[mode], 'ndcg')} |"
        for mode in MODES
    ]
    lines += [""]
    for single in ("dense", "bm25"):
        lines.append(f"- hybrid vs {single}, recall@5 per question: {comparison[single]}")
    lines += [
        "",
        "Recall@5 (MRR) by chunking strategy; the last two columns are hybrid recall@5 with 10 "
        "and 20 candidates per retriever instead of 50:",
        "",
        "| chunking | chunks | dense | BM25 | hybrid | hybrid, 10 | hybrid, 20 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in quality:
        cells = [f"{row[m]['recall']:.3f} ({row[m]['mrr']:.3f})" for m in MODES] + [
            f"{row[f'hybrid@{d}']:.3f}" for d in CANDIDATES if d != 50
        ]
        lines.append(f"| {row['chunking']} | {row['chunks']} | " + " | ".join(cells) + " |")
    if assistant:
        lines += [
            "",
            "**End to end** in process (`HandbookAssistant.ask`: hybrid retrieval, packing, the "
            "production prompt version, the local model), golden dev questions asked in turn: "
            f"{assistant['untraced']:.0f} answers/s untraced, {assistant['traced']:.0f} answers/s "
            "with OpenTelemetry spans kept in memory.",
        ]
    return "\n".join(lines)


INTRO = (
    "`benchmarks/rag.py`: the Handbook index (`course_lib.rag`) built from the whole handbook, "
    "search\nlatency per mode, and recall, MRR and nDCG on the golden dev set for each chunking "
    "strategy."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args(argv)
    from course_lib.datasets import load_handbook

    docs = load_handbook()
    build = bench_build(docs)
    latency = bench_latency(docs)
    quality, comparison = bench_quality(docs)
    section = report(build, latency, quality, comparison, bench_assistant(docs))
    print(section)
    if args.write:
        recorded = record_section(
            "rag",
            section,
            heading="Retrieval",
            intro=INTRO,
        )
        print(f"\nRecorded in {recorded.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
