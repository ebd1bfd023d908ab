"""Helpers that only lessons use: experiments, benchmarks and practice worlds.

None of this is production code to lift into a service; it sets up what a lesson measures.
No production package imports it.

* :mod:`~course_lib.labs.reliability`: many model calls under a policy, and what they cost
  (lesson 1.1);
* :mod:`~course_lib.labs.embedding_benchmark`: retrievers compared on quality, size, latency
  and throughput (lesson 1.3);
* :mod:`~course_lib.labs.agent_world` and :mod:`~course_lib.labs.agent_tasks`: the agent's
  practice world over fake company data, and a suite of tool-use tasks (lesson 1.5);
* :mod:`~course_lib.labs.baselines`: the datasheet's retrieval baselines on the golden set.

Importing this package is cheap: each name loads its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.labs.agent_tasks import (
        OUTCOMES,
        TASKS,
        TUTORIAL_SCHEMAS,
        AgentTask,
        CallCapReachedError,
        CappedClient,
        Check,
        all_of,
        mentions,
        opened_ticket,
        paged_nobody,
        run_suite,
    )
    from course_lib.labs.agent_world import (
        CURRENCIES,
        PARCELS,
        READ_ONLY_TOOLS,
        SERVICES,
        TICKET_CATEGORIES,
        HandbookWorld,
        Page,
        Ticket,
    )
    from course_lib.labs.baselines import (
        DATASHEET,
        DEPTH,
        END_MARKER,
        METHODS,
        START_MARKER,
        K,
        RetrievalUnit,
        baseline_table,
        bm25_rankings,
        datasheet_table,
        dense_rankings,
        rankings,
        retrieval_baselines,
        retrieval_units,
        write_table,
    )
    from course_lib.labs.embedding_benchmark import (
        DEFAULT_BATCH_SIZES,
        BM25Retriever,
        EmbeddingRetriever,
        IndexFootprint,
        LatencySummary,
        Retriever,
        compare_throughput,
        comparison_table,
        declared_licence,
        evaluate_retriever,
        latency_table,
        measure_latency,
        measure_throughput,
        plot_throughput,
    )
    from course_lib.labs.reliability import (
        CALL_COLUMNS,
        handbook_prompts,
        outcome_summary,
        price_table,
        run_calls,
        simulate_success_rate,
    )

_EXPORTS = {
    "CALL_COLUMNS": "course_lib.labs.reliability",
    "handbook_prompts": "course_lib.labs.reliability",
    "outcome_summary": "course_lib.labs.reliability",
    "price_table": "course_lib.labs.reliability",
    "run_calls": "course_lib.labs.reliability",
    "simulate_success_rate": "course_lib.labs.reliability",
    "DEFAULT_BATCH_SIZES": "course_lib.labs.embedding_benchmark",
    "BM25Retriever": "course_lib.labs.embedding_benchmark",
    "EmbeddingRetriever": "course_lib.labs.embedding_benchmark",
    "IndexFootprint": "course_lib.labs.embedding_benchmark",
    "LatencySummary": "course_lib.labs.embedding_benchmark",
    "Retriever": "course_lib.labs.embedding_benchmark",
    "compare_throughput": "course_lib.labs.embedding_benchmark",
    "comparison_table": "course_lib.labs.embedding_benchmark",
    "declared_licence": "course_lib.labs.embedding_benchmark",
    "evaluate_retriever": "course_lib.labs.embedding_benchmark",
    "latency_table": "course_lib.labs.embedding_benchmark",
    "measure_latency": "course_lib.labs.embedding_benchmark",
    "measure_throughput": "course_lib.labs.embedding_benchmark",
    "plot_throughput": "course_lib.labs.embedding_benchmark",
    "CURRENCIES": "course_lib.labs.agent_world",
    "PARCELS": "course_lib.labs.agent_world",
    "READ_ONLY_TOOLS": "course_lib.labs.agent_world",
    "SERVICES": "course_lib.labs.agent_world",
    "TICKET_CATEGORIES": "course_lib.labs.agent_world",
    "HandbookWorld": "course_lib.labs.agent_world",
    "Page": "course_lib.labs.agent_world",
    "Ticket": "course_lib.labs.agent_world",
    "OUTCOMES": "course_lib.labs.agent_tasks",
    "TASKS": "course_lib.labs.agent_tasks",
    "TUTORIAL_SCHEMAS": "course_lib.labs.agent_tasks",
    "AgentTask": "course_lib.labs.agent_tasks",
    "CallCapReachedError": "course_lib.labs.agent_tasks",
    "CappedClient": "course_lib.labs.agent_tasks",
    "Check": "course_lib.labs.agent_tasks",
    "all_of": "course_lib.labs.agent_tasks",
    "mentions": "course_lib.labs.agent_tasks",
    "opened_ticket": "course_lib.labs.agent_tasks",
    "paged_nobody": "course_lib.labs.agent_tasks",
    "run_suite": "course_lib.labs.agent_tasks",
    "DATASHEET": "course_lib.labs.baselines",
    "DEPTH": "course_lib.labs.baselines",
    "END_MARKER": "course_lib.labs.baselines",
    "METHODS": "course_lib.labs.baselines",
    "START_MARKER": "course_lib.labs.baselines",
    "K": "course_lib.labs.baselines",
    "RetrievalUnit": "course_lib.labs.baselines",
    "baseline_table": "course_lib.labs.baselines",
    "bm25_rankings": "course_lib.labs.baselines",
    "datasheet_table": "course_lib.labs.baselines",
    "dense_rankings": "course_lib.labs.baselines",
    "rankings": "course_lib.labs.baselines",
    "retrieval_baselines": "course_lib.labs.baselines",
    "retrieval_units": "course_lib.labs.baselines",
    "write_table": "course_lib.labs.baselines",
}

__all__ = [
    "CALL_COLUMNS",
    "CURRENCIES",
    "DATASHEET",
    "DEFAULT_BATCH_SIZES",
    "DEPTH",
    "END_MARKER",
    "METHODS",
    "OUTCOMES",
    "PARCELS",
    "READ_ONLY_TOOLS",
    "SERVICES",
    "START_MARKER",
    "TASKS",
    "TICKET_CATEGORIES",
    "TUTORIAL_SCHEMAS",
    "AgentTask",
    "BM25Retriever",
    "CallCapReachedError",
    "CappedClient",
    "Check",
    "EmbeddingRetriever",
    "HandbookWorld",
    "IndexFootprint",
    "K",
    "LatencySummary",
    "Page",
    "RetrievalUnit",
    "Retriever",
    "Ticket",
    "all_of",
    "baseline_table",
    "bm25_rankings",
    "compare_throughput",
    "comparison_table",
    "datasheet_table",
    "declared_licence",
    "dense_rankings",
    "evaluate_retriever",
    "handbook_prompts",
    "latency_table",
    "measure_latency",
    "measure_throughput",
    "mentions",
    "opened_ticket",
    "outcome_summary",
    "paged_nobody",
    "plot_throughput",
    "price_table",
    "rankings",
    "retrieval_baselines",
    "retrieval_units",
    "run_calls",
    "run_suite",
    "simulate_success_rate",
    "write_table",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
