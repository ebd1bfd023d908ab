"""Benchmark of retrieval: index build time, query latency, and quality on the golden set.

Run from the repository root::

    .venv/bin/python benchmarks/rag.py            # print the dev-split numbers
    .venv/bin/python benchmarks/rag.py --write    # add the test split, record in docs/benchmarks.md

Every choice (stemming, fusion weights, candidates, the re-ranker) is made on the dev split,
overall and on its ``paraphrase`` slice (questions in everyday words). The test split is
measured only with ``--write`` (or ``--test``): once, after the choices, to report, never to
choose. Indexes are built under the course work directory (``benchmarks/``) and deleted
afterwards. Quality numbers are deterministic; timings depend on the machine: compare ratios
measured in one run, not numbers across machines.
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
MODES = ("dense", "bm25", "hybrid", "reranked")
SLICE = "paraphrase"
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


def bench_latency(docs: list[Any], rounds: int = 3) -> dict[str, tuple[float, float, float]]:
    """Per mode: milliseconds of the first search on a freshly opened index (BM25 built for the
    reader's clearance, sentences embedded for the re-ranker), then p50 and p95 per search over
    the dev questions (k = 5) once every cache is warm."""
    from course_lib.datasets import load_golden_set
    from course_lib.rag import HandbookIndex, User, search

    questions = [q.question for q in load_golden_set("dev")]
    reader = User.employee("benchmark", team="sre")
    result = {}
    with _index("latency", "headings", {}, docs) as built:
        for mode in MODES:
            with HandbookIndex.open(built.path) as index:
                started = time.perf_counter()
                search(index, questions[0], user=reader, k=5, mode=mode)
                first = (time.perf_counter() - started) * 1000
                for question in questions:  # warm: every candidate's sentences embedded once
                    search(index, question, user=reader, k=5, mode=mode)
                samples = []
                for question in questions * rounds:
                    started = time.perf_counter()
                    search(index, question, user=reader, k=5, mode=mode)
                    samples.append((time.perf_counter() - started) * 1000)
            result[mode] = (first, *percentiles(samples))
    return result


def _answerable(split: str, tag: str | None = None) -> list[Any]:
    from course_lib.datasets import load_golden_set

    questions = load_golden_set(split, tag=tag) if tag else load_golden_set(split)
    return [q for q in questions if q.answerable]


def _summaries(frame: Any, sliced: set[str]) -> dict[str, Any]:
    """Per-mode summaries (with bootstrap intervals) over all questions and over the slice."""
    from course_lib.rag import summarise_retrieval

    part = frame[frame["question_id"].isin(sliced)]
    return {
        "all": summarise_retrieval(frame).set_index("mode"),
        SLICE: summarise_retrieval(part).set_index("mode"),
        "questions": frame["question_id"].nunique(),
        "sliced": part["question_id"].nunique(),
    }


def _paired(frame: Any, pairs: tuple[tuple[str, str], ...], ids: set[str] | None = None) -> dict:
    """Paired bootstrap of recall@5 per question for each ``(A, B)`` pair of modes."""
    from course_lib.evaluation import paired_bootstrap

    if ids is not None:
        frame = frame[frame["question_id"].isin(ids)]
    recall = {m: frame[frame["mode"] == m].sort_values("question_id")["recall"] for m in MODES}
    return {pair: paired_bootstrap(recall[pair[0]], recall[pair[1]]) for pair in pairs}


PAIRS = (("dense", "hybrid"), ("bm25", "hybrid"), ("hybrid", "reranked"), ("dense", "reranked"))


def bench_quality(docs: list[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """On the dev split: every mode with intervals, overall and on the paraphrase slice, and
    paired comparisons (default chunking); recall@5 per chunking and mode, and hybrid at other
    candidate depths."""
    from course_lib.rag import evaluate_retrieval

    questions = _answerable("dev")
    sliced = {q.id for q in _answerable("dev", SLICE)}
    rows: list[dict[str, Any]] = []
    default: dict[str, Any] = {}
    for label, strategy, options in CHUNKINGS:
        with _index("quality", strategy, options, docs) as index:
            frame = evaluate_retrieval(index, questions, modes=MODES, candidates=50)
            row: dict[str, Any] = {"chunking": label, "chunks": len(index)}
            for mode in MODES:
                part = frame[frame["mode"] == mode]
                row[mode] = (part["recall"].mean(), part["mrr"].mean())
                row[f"{mode}/{SLICE}"] = part[part["question_id"].isin(sliced)]["recall"].mean()
            for depth in CANDIDATES:
                other = (
                    frame
                    if depth == 50
                    else evaluate_retrieval(index, questions, modes=("hybrid",), candidates=depth)
                )
                row[f"hybrid@{depth}"] = other[other["mode"] == "hybrid"]["recall"].mean()
            rows.append(row)
            if not default:
                default = _summaries(frame, sliced)
                default["paired"] = _paired(frame, PAIRS)
                default["paired_slice"] = _paired(frame, PAIRS, sliced)
                default["variants"] = _variants(index, questions, sliced)
    return rows, default


# Fusion settings compared with the defaults on the dev split: (label, mode, search arguments).
VARIANTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("hybrid: RRF k = 60, equal weights (default)", "hybrid", {}),
    ("hybrid, BM25 weighted 0.5", "hybrid", {"weights": {"bm25": 0.5}}),
    ("hybrid, RRF k = 20", "hybrid", {"rrf_k": 20}),
    ("hybrid, 100 candidates per retriever", "hybrid", {"candidates": 100}),
    ("hybrid, each retriever's first pick kept in the top 2", "hybrid", {"first_picks": True}),
    ("reranked without first picks kept", "reranked", {"first_picks": False}),
    ("reranked, sentences weighted 0.25", "reranked", {"weights": {"sentences": 0.25}}),
    ("reranked: sentences weighted 0.5, first picks kept (default)", "reranked", {}),
    ("reranked, sentences weighted 1", "reranked", {"weights": {"sentences": 1.0}}),
    (
        "reranked, BM25 weighted 0.5",
        "reranked",
        {"weights": {"bm25": 0.5, "sentences": 0.5}},
    ),
)


def _variants(index: Any, questions: list[Any], sliced: set[str]) -> list[tuple[str, float, float]]:
    """Recall@5 of each fusion variant on the dev split: overall and on the slice."""
    from course_lib.rag import evaluate_retrieval

    result = []
    for label, mode, arguments in VARIANTS:
        frame = evaluate_retrieval(index, questions, modes=(mode,), **arguments)
        part = frame[frame["question_id"].isin(sliced)]
        result.append((label, frame["recall"].mean(), part["recall"].mean()))
    return result


def bench_stemming(docs: list[Any]) -> dict[str, tuple[float, float]]:
    """Dev recall@5 (overall, slice) of the BM25 modes with the stemmer switched off: the
    evidence for stemming, measured on the same index."""
    import course_lib.rag.bm25 as bm25
    from course_lib.rag import evaluate_retrieval

    questions = _answerable("dev")
    sliced = {q.id for q in _answerable("dev", SLICE)}
    kept = bm25._stemmer
    result = {}
    with _index("stemming", "headings", {}, docs) as index:
        try:
            bm25._stemmer = lambda: None  # bm25s then leaves words as they are
            frame = evaluate_retrieval(index, questions, modes=("bm25", "hybrid", "reranked"))
        finally:
            bm25._stemmer = kept
    for mode, part in frame.groupby("mode", sort=False):
        result[str(mode)] = (
            part["recall"].mean(),
            part[part["question_id"].isin(sliced)]["recall"].mean(),
        )
    return result


def bench_test(docs: list[Any]) -> dict[str, Any]:
    """The once-only measurement: every mode on the test split, overall and on its slice."""
    from course_lib.rag import evaluate_retrieval

    questions = _answerable("test")
    sliced = {q.id for q in _answerable("test", SLICE)}
    with _index("test", "headings", {}, docs) as index:
        frame = evaluate_retrieval(index, questions, modes=MODES, candidates=50)
    summary = _summaries(frame, sliced)
    summary["paired"] = _paired(frame, PAIRS)
    return summary


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


def _cell(summary: Any, metric: str) -> str:
    low, high = summary[f"{metric}_low"], summary[f"{metric}_high"]
    return f"{summary[metric]:.3f} ({low:.2f} to {high:.2f})"


def _quality_table(summaries: dict[str, Any]) -> list[str]:
    """Recall@5, MRR and nDCG@5 per mode with intervals, overall and on the slice."""
    lines = [
        f"| mode | recall@5, all {summaries['questions']} | MRR, all | nDCG@5, all | "
        f"recall@5, {SLICE} {summaries['sliced']} | MRR, {SLICE} |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode in MODES:
        every, part = summaries["all"].loc[mode], summaries[SLICE].loc[mode]
        cells = [_cell(every, m) for m in ("recall", "mrr", "ndcg")]
        cells += [_cell(part, m) for m in ("recall", "mrr")]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return lines


def _paired_lines(paired: dict[tuple[str, str], Any], where: str) -> list[str]:
    return [
        f"- {b} vs {a}, recall@5 per question, {where}: {result}"
        for (a, b), result in paired.items()
    ]


def _latency_lines(latency: dict[str, tuple[float, float, float]]) -> list[str]:
    lines = [
        "**Query latency** over the golden dev questions, k = 5, a reader cleared for public "
        "and internal documents (fused modes: 50 candidates from each retriever); the first "
        "search on a freshly opened index builds BM25 for the reader's clearance and embeds "
        "the re-ranker's sentences of its candidates, later ones reuse them:",
        "",
        "| mode | first search (ms) | p50 (ms) | p95 (ms) |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {m} | {latency[m][0]:.1f} | {latency[m][1]:.2f} | {latency[m][2]:.2f} |" for m in MODES
    ]
    return lines


def _choices_lines(default: dict[str, Any], stemming: dict[str, tuple[float, float]]) -> list[str]:
    """What the defaults were chosen among, on the dev split only."""
    every, part = default["all"], default[SLICE]
    lines = [
        f"**Choices** (dev split only; recall@5 overall and on the {SLICE} slice). Stemming "
        "(Snowball English, PyStemmer) against bm25s's words as they are:",
        "",
        "| mode | without stemming | with stemming (default) |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {mode} | {stemming[mode][0]:.3f} / {stemming[mode][1]:.3f} | "
        f"{every.loc[mode, 'recall']:.3f} / {part.loc[mode, 'recall']:.3f} |"
        for mode in stemming
    ]
    lines += ["", "Fusion settings, default chunking:", "", "| setting | recall@5 | on the slice |"]
    lines += ["|---|---:|---:|"]
    lines += [f"| {label} | {a:.3f} | {b:.3f} |" for label, a, b in default["variants"]]
    return lines


def report(
    build: dict[str, float],
    latency: dict[str, tuple[float, float, float]],
    quality: list[dict[str, Any]],
    default: dict[str, Any],
    stemming: dict[str, tuple[float, float]],
    test: dict[str, Any] | None = None,
    assistant: dict[str, float] | None = None,
) -> str:
    lines = [
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.machine()} (load average "
        f"{build['load']:.1f} at the start: timings on a busy machine spread out); SQLite with "
        "sqlite-vec (exact search) and bm25s (stemmed), default embedder (WordLlama, 256 "
        "dimensions). Modes: `dense`, `bm25`, `hybrid` (RRF of both) and `reranked` (hybrid "
        "plus the candidates ordered by their best sentence, a third ranking weighted 0.5, "
        "and each ranking's first pick kept in the top 3).",
        "",
        f"**Build** of the whole current handbook (120 documents, {build['chunks']:.0f} chunks, "
        f"default chunking): {build['build_s']:.2f} s from scratch (chunking, embedding, "
        f"writing); {build['upsert_s']:.2f} s to upsert it again unchanged (nothing embedded).",
        "",
        *_latency_lines(latency),
        "",
        f"**Quality** on the golden dev split ({default['questions']} answerable questions, "
        f"{default['sliced']} of them in the `{SLICE}` slice; a chunk is relevant when its "
        "document is cited; 95% bootstrap intervals in brackets), default chunking:",
        "",
        *_quality_table(default),
        "",
        *_paired_lines(default["paired"], "all"),
        *_paired_lines(default["paired_slice"], SLICE),
        "",
        *_choices_lines(default, stemming),
        "",
        "Recall@5 (MRR) by chunking strategy on the dev split, then reranked recall@5 on the "
        "slice; the last two columns are hybrid recall@5 with 10 and 20 candidates per "
        "retriever instead of 50:",
        "",
        f"| chunking | chunks | dense | BM25 | hybrid | reranked | reranked, {SLICE} | "
        "hybrid, 10 | hybrid, 20 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in quality:
        cells = [f"{row[m][0]:.3f} ({row[m][1]:.3f})" for m in MODES]
        cells.append(f"{row[f'reranked/{SLICE}']:.3f}")
        cells += [f"{row[f'hybrid@{d}']:.3f}" for d in CANDIDATES if d != 50]
        lines.append(f"| {row['chunking']} | {row['chunks']} | " + " | ".join(cells) + " |")
    if test:
        lines += [
            "",
            f"**Test split, measured once** after every choice above was made on dev "
            f"({test['questions']} answerable questions, {test['sliced']} in the `{SLICE}` "
            "slice), default chunking:",
            "",
            *_quality_table(test),
            "",
            *_paired_lines(test["paired"], "test, all"),
        ]
    if assistant:
        lines += [
            "",
            "**End to end** in process (`HandbookAssistant.ask`: its default retrieval, "
            "`reranked`, then packing, the production prompt version, the local model), golden "
            f"dev questions asked in turn: {assistant['untraced']:.0f} answers/s untraced, "
            f"{assistant['traced']:.0f} answers/s with OpenTelemetry spans kept in memory.",
        ]
    return "\n".join(lines)


INTRO = (
    "`benchmarks/rag.py`: the Handbook index (`course_lib.rag`) built from the whole handbook, "
    "search\nlatency per mode, and recall, MRR and nDCG on the golden dev set (overall and on "
    "its\n`paraphrase` slice) for each chunking strategy; the test split is measured once, "
    "with `--write`."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="measure the test split, record in docs/benchmarks.md"
    )
    parser.add_argument(
        "--test", action="store_true", help="measure the test split (once, after choosing)"
    )
    args = parser.parse_args(argv)
    from course_lib.datasets import load_handbook

    docs = load_handbook()
    build = bench_build(docs)
    latency = bench_latency(docs)
    quality, default = bench_quality(docs)
    stemming = bench_stemming(docs)
    test = bench_test(docs) if args.write or args.test else None
    section = report(build, latency, quality, default, stemming, test, bench_assistant(docs))
    print(section)
    if args.write:
        recorded = record_section("rag", section, heading="Retrieval", intro=INTRO)
        print(f"\nRecorded in {recorded.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
