"""What the benchmark scripts share: percentiles, and recording a section of docs/benchmarks.md.

Each script owns one section between ``<!-- name:start -->`` and ``<!-- name:end -->``
markers and rewrites only that, so scripts can be re-run independently.
"""

from __future__ import annotations

import statistics
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    """The median and the 95th percentile (nearest rank) of ``samples_ms``."""
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def record_section(name: str, section: str, *, heading: str, intro: str = "") -> Path:
    """Replace the ``name`` section of docs/benchmarks.md (appending it the first time)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    block = f"{start}\n{section}\n{end}"
    if start in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = f"{text.rstrip()}\n\n## {heading}\n\n{intro + chr(10) * 2 if intro else ''}{block}\n"
    DOC.write_text(text, encoding="utf-8")
    return DOC
