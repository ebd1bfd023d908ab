"""Benchmark of the model stack: the local model in process and over HTTP, and the embedder.

Run from the repository root::

    .venv/bin/python benchmarks/llm_stack.py            # print the numbers
    .venv/bin/python benchmarks/llm_stack.py --write    # also record them in docs/benchmarks.md

Numbers depend on the machine; compare ratios measured in one run, not numbers across machines.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

from recording import percentiles, record_section

from course_lib.standin import local_client

ROOT = Path(__file__).resolve().parents[1]


def _prompts(n: int) -> list[str]:
    """Grounded prompts: golden questions with the sections that answer them as context."""
    from course_lib.datasets import load_golden_set, load_handbook

    docs = {d.id: d for d in load_handbook()}
    prompts = []
    for question in load_golden_set("dev"):
        passages = []
        for source in question.sources[:2]:
            for section in docs[source.doc_id].sections:
                if section.heading == source.section:
                    passages.append(f"[{source.doc_id}] {section.text}")
        context = "\n\n".join(passages) or "[none] No documents matched."
        prompts.append(
            "Answer from the sources and cite them. If they do not answer the question, say "
            f"you don't know.\n\n{context}\n\nQuestion: {question.question}"
        )
    return (prompts * (n // max(len(prompts), 1) + 1))[:n]


def bench_chat(n: int) -> list[tuple[str, str, float, float, float]]:
    """(path, model, answers/s, p50 ms, p95 ms) for each path and model."""
    from course_lib.llm import LLMClient
    from course_lib.standin import serve_model

    prompts = _prompts(n)
    rows = []
    with serve_model() as server:
        clients = {
            "in process": local_client(),
            "HTTP (openai SDK)": LLMClient.for_server(server.base_url),
        }
        for path, client in clients.items():
            for role in ("chat-small", "chat-large"):
                client.chat(prompts[0], model=role)  # warm up: models and memory load once
                samples = []
                started = time.perf_counter()
                for prompt in prompts:
                    t0 = time.perf_counter()
                    client.chat(prompt, model=role)
                    samples.append((time.perf_counter() - t0) * 1000)
                elapsed = time.perf_counter() - started
                p50, p95 = percentiles(samples)
                model = client.registry.resolve(role).id
                rows.append((path, model, len(prompts) / elapsed, p50, p95))
    return rows


def bench_embeddings() -> list[tuple[int, float]]:
    """(batch size, texts/s) of the default embedder over the handbook's paragraphs."""
    from course_lib.datasets import load_handbook
    from course_lib.embeddings import get_embedder

    paragraphs = [
        p.strip() for d in load_handbook() for p in d.text.split("\n\n") if len(p.strip()) > 40
    ]
    embedder = get_embedder("embed")
    embedder.embed(paragraphs[:64])
    rows = []
    for batch in (16, 64, 256):
        started = time.perf_counter()
        embedder.embed(paragraphs, batch_size=batch)
        rows.append((batch, len(paragraphs) / (time.perf_counter() - started)))
    return rows


def report(chat: list[tuple[str, str, float, float, float]], emb: list[tuple[int, float]]) -> str:
    lines = [
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.machine()}. The local "
        "model answers at once (no simulated latency); HTTP calls are sequential, through "
        "`LLMClient.for_server` and the official SDK.",
        "",
        "| path | model | answers/s | p50 latency (ms) | p95 latency (ms) |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [
        f"| {path} | {model} | {rate:.0f} | {p50:.1f} | {p95:.1f} |"
        for path, model, rate, p50, p95 in chat
    ]
    lines += [
        "",
        "Default embedder (WordLlama, 256 dimensions) over the handbook's paragraphs:",
        "",
        "| batch size | texts/s |",
        "|---:|---:|",
    ]
    lines += [f"| {batch} | {rate:,.0f} |" for batch, rate in emb]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    parser.add_argument("-n", type=int, default=300, help="chat calls per path and model")
    args = parser.parse_args(argv)
    section = report(bench_chat(args.n), bench_embeddings())
    print(section)
    if args.write:
        recorded = record_section("llm-stack", section, heading="The model stack")
        print(f"\nRecorded in {recorded.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
