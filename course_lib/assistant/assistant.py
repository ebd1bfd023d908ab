"""The Handbook Assistant, joining retrieval, packing, a versioned prompt, the client and tracing.

A question travels one way, with no back-and-forth: retrieval (access control inside the
query) -> packing into the model's context budget -> the prompt version the environment
serves to this user -> the model client under its reliability policy. Every step can be traced;
the answer carries everything needed to log, bill and audit it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from course_lib.llm import LLMClient, Usage
from course_lib.observability import (
    Tracing,
    disabled_tracing,
    trace_packing,
    trace_retrieval,
    trace_workflow,
    traced_chat,
)
from course_lib.prompts import PromptRegistry
from course_lib.rag import SearchMode, context_budget, pack_context, search

if TYPE_CHECKING:
    from course_lib.rag import HandbookIndex, PackedContext, Retrieved, User

__all__ = ["AssistantAnswer", "Citation", "HandbookAssistant"]

_CITE = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_.:#/-]{0,120})\]")


@dataclass(frozen=True)
class Citation:
    """A passage the answer cites: its citation id and where it comes from."""

    cite_id: str
    chunk_id: str
    doc_id: str
    section: str


@dataclass(frozen=True)
class AssistantAnswer:
    """An answer and its provenance: what was retrieved, which prompt, what it cost."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    retrieved_chunk_ids: tuple[str, ...]
    packed_chunk_ids: tuple[str, ...]
    usage: Usage
    cost_usd: float
    latency_ms: float
    model: str
    prompt_ref: str
    trace_id: str | None

    @property
    def cited_doc_ids(self) -> tuple[str, ...]:
        """The distinct documents the answer cites, in the order it cites them."""
        return tuple(dict.fromkeys(c.doc_id for c in self.citations))


class HandbookAssistant:
    """Answers handbook questions for a reader, citing the passages it used.

    Args:
        index: the handbook index (see :class:`course_lib.rag.HandbookIndex`).
        client: the model client; the settings' provider by default.
        prompts: the prompt registry; the bundled prompt library by default.
        tracing: an OpenTelemetry set-up (:func:`course_lib.observability.setup_tracing`);
            None traces nothing (:func:`~course_lib.observability.disabled_tracing`).
        prompt_name: the prompt to use; the environment's alias picks its version per call.
        environment: which alias serves (``dev``, ``staging`` or ``production``).
        k: passages to retrieve; ``mode``: ``dense``, ``bm25``, ``hybrid`` or ``reranked``
            (the default: hybrid plus the sentence re-ranker, the best on the golden dev split
            overall; see ``docs/benchmarks.md``).
        model: a model role overriding the one the prompt version names.
    """

    def __init__(
        self,
        index: HandbookIndex,
        *,
        client: LLMClient | None = None,
        prompts: PromptRegistry | None = None,
        tracing: Tracing | None = None,
        prompt_name: str = "handbook-answer",
        environment: str = "production",
        k: int = 5,
        mode: SearchMode = "reranked",
        model: str | None = None,
    ) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}.")
        self.index = index
        self.client = client or LLMClient.from_settings()
        self.prompts = prompts or PromptRegistry()
        self.tracing = tracing or disabled_tracing()
        self.prompt_name = prompt_name
        self.environment = environment
        self.k = k
        self.mode = mode
        self.model = model

    def __repr__(self) -> str:
        return (
            f"HandbookAssistant(prompt={self.prompt_name!r}, environment={self.environment!r}, "
            f"k={self.k}, mode={self.mode!r})"
        )

    def _retrieve(self, question: str, user: User) -> list[Retrieved]:
        with trace_retrieval(self.tracing, query=question, k=self.k, mode=self.mode) as step:
            hits = search(self.index, question, user=user, k=self.k, mode=self.mode)
            step.record_results([h.chunk.id for h in hits], [h.score for h in hits])
        return hits

    def _pack(self, hits: list[Retrieved], model_role: str) -> PackedContext:
        budget = context_budget(model_role)
        with trace_packing(self.tracing, candidates=len(hits), budget_tokens=budget) as step:
            packed = pack_context(hits, budget_tokens=budget)
            step.record([c.id for c in packed.chunks], tokens=packed.used_tokens)
        return packed

    def ask(self, question: str, *, user: User) -> AssistantAnswer:
        """Answer ``question`` for ``user`` from the passages ``user`` may read.

        Raises:
            ValueError: the question is empty.
            course_lib.errors.LLMError: the model call failed after the client's policy.
        """
        if not question or not question.strip():
            raise ValueError("The question is empty; ask something about the handbook.")
        started = time.perf_counter()
        attributes = {"course.user.team": user.team}
        with trace_workflow(self.tracing, attributes=attributes) as workflow:
            version = self.prompts.resolve(
                self.prompt_name, environment=self.environment, user_id=user.id
            )
            model_role = self.model or version.model_role
            hits = self._retrieve(question, user)
            packed = self._pack(hits, model_role)
            passages = [
                {"id": cite_id, "text": chunk.text}
                for cite_id, chunk in zip(packed.citations, packed.chunks, strict=True)
            ]
            rendered = version.render(passages=passages, question=question)
            kwargs = rendered.chat_kwargs()
            kwargs["model"] = model_role
            result = traced_chat(self.client, self.tracing, **kwargs)
            context = workflow.span.get_span_context()
            trace_id = format(context.trace_id, "032x") if context.is_valid else None
        by_cite = dict(zip(packed.citations, packed.chunks, strict=True))
        cited = []
        for cite_id in dict.fromkeys(_CITE.findall(result.content or "")):
            chunk = by_cite.get(cite_id)
            if chunk is not None:
                cited.append(Citation(cite_id, chunk.id, chunk.doc_id, chunk.section))
        return AssistantAnswer(
            question=question,
            text=result.content or "",
            citations=tuple(cited),
            retrieved_chunk_ids=tuple(h.chunk.id for h in hits),
            packed_chunk_ids=tuple(c.id for c in packed.chunks),
            usage=result.usage,
            cost_usd=result.cost_usd,
            latency_ms=(time.perf_counter() - started) * 1000,
            model=result.model,
            prompt_ref=rendered.ref,
            trace_id=trace_id,
        )
