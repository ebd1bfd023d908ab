"""The Handbook Assistant's answer as a workflow: rewrite, retrieve, answer, verify, deliver.

Each step is a plain function of the state (:class:`AnswerState`), so the same steps run in a
loop, in the course's engine (:class:`~course_lib.orchestration.Workflow`) or in LangGraph
(:class:`~course_lib.orchestration.LangGraphWorkflow`)::

    steps = HandbookSteps(index, client=client, outbox=outbox)
    workflow = steps.workflow(store=CheckpointStore(path))
    result = workflow.run("ops-001", AnswerState.ask(question, user))

* **rewrite** turns the message into a search query: greetings and sign-offs dropped,
  whitespace collapsed, secrets redacted, length capped. (With a real model this step is often
  a model call, e.g. making a follow-up question standalone; the orchestration is the same.)
* **retrieve** searches with the reader's clearance and packs the passages into the prompt's
  budget; the passages go into the state, so a resumed run answers from the same ones.
* **answer** renders the production prompt and calls the model: the one step that costs money.
* **verify** checks that each cited passage supports the sentence citing it.
* **deliver** sends the answer to the asker through a :class:`MessageSender`, with an
  idempotency key, so a retry or a resume never sends it twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from course_lib.errors import WorkflowDefinitionError
from course_lib.observability import Tracing, disabled_tracing, trace_retrieval, traced_chat
from course_lib.orchestration.engine import Workflow
from course_lib.orchestration.steps import Step, StepContext, StepFunction, StepPolicy
from course_lib.rag import User, context_budget, pack_context, search
from course_lib.redaction import redact

if TYPE_CHECKING:
    from course_lib.llm import LLMClient
    from course_lib.orchestration.store import CheckpointStore
    from course_lib.prompts import PromptRegistry, PromptVersion
    from course_lib.rag import HandbookIndex, SearchMode

__all__ = [
    "DEFAULT_POLICIES",
    "MAX_QUERY_CHARS",
    "UNVERIFIED_NOTE",
    "AnswerState",
    "HandbookSteps",
    "MessageSender",
    "answer_from_passages",
    "deliver_answer",
    "delivery_key",
    "retrieve_passages",
    "rewrite_query",
    "verify_answer",
]

MAX_QUERY_CHARS = 500
"""Longest search query: a pasted log or stack trace is cut, not sent whole to the index."""

UNVERIFIED_NOTE = "(Check this answer: a cited passage does not support it.)"
"""What deliver appends to an answer whose citations did not pass verification."""

SUPPORT_THRESHOLD = 0.5
"""The share of a claim's content words its cited passage must hold (as ``contains_fact``)."""

DEFAULT_POLICIES: Mapping[str, StepPolicy] = {
    "answer": StepPolicy(timeout_s=30.0, max_attempts=3, backoff_s=0.5, max_backoff_s=8.0),
    "deliver": StepPolicy(max_attempts=3, backoff_s=0.2),
}
"""Per-step policies of :meth:`HandbookSteps.workflow` for a hosted model; other steps get one
attempt without a timeout. A lesson or service overrides them by name."""

_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))\b[^.!?,:\n]{0,30}[,!.:]?\s*",
    re.I,
)
_SIGN_OFF = re.compile(
    r"[\s,.!]*(?:thanks|thank you|thx|cheers|many thanks)\b[^.!?\n]{0,30}[.!]*\s*$", re.I
)
_CITE = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_.:#/-]{0,120})\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class AnswerState:
    """Everything one question's run knows; each field is a JSON value, so it checkpoints.

    The reader (``user_id``, ``team``, ``clearance``) travels with the state: a resumed run
    searches with the same permissions as the first attempt.
    """

    question: str
    user_id: str
    clearance: list[str] = field(default_factory=lambda: ["public", "internal"])
    team: str | None = None
    query: str = ""
    passages: list[dict[str, str]] = field(default_factory=list)
    answer: str = ""
    prompt_ref: str = ""
    cited: list[str] = field(default_factory=list)
    verified: bool = False
    unsupported: list[str] = field(default_factory=list)
    message_id: str | None = None

    @classmethod
    def ask(cls, question: str, user: User) -> AnswerState:
        """The initial state of ``user`` asking ``question``."""
        return cls(
            question=question,
            user_id=user.id,
            clearance=list(user.readable_levels),
            team=user.team,
        )

    @property
    def reader(self) -> User:
        """The asker, with the clearance the run searches with."""
        return User(self.user_id, team=self.team, clearance=frozenset(self.clearance))


class MessageSender(Protocol):
    """Anything that delivers a message and honours idempotency keys (Slack, e-mail, tickets).

    A send whose key the service has already seen delivers nothing and returns the first
    message's id, as payment APIs do with an ``Idempotency-Key`` header.
    """

    def send(self, to: str, text: str, *, idempotency_key: str | None = None) -> str: ...


# -- the steps as plain functions ------------------------------------------------------------


def rewrite_query(message: str) -> str:
    """A search query from a reader's message.

    Drops a leading greeting and a trailing thank-you, collapses whitespace, redacts keys and
    tokens (they must reach neither the index nor a trace) and cuts to :data:`MAX_QUERY_CHARS`.

    Raises:
        ValueError: nothing is left to search for.

    Example:
        >>> rewrite_query("Hi team,  how long is the deploy freeze?  Thanks!")
        'how long is the deploy freeze?'
    """
    text = " ".join(str(message).split())
    text = _GREETING.sub("", text, count=1)
    text = _SIGN_OFF.sub("", text, count=1).strip()
    text = redact(text)[:MAX_QUERY_CHARS].strip()
    if not text:
        raise ValueError(
            f"The message {message[:60]!r} holds no question once greetings are removed; "
            "ask something about the handbook."
        )
    return text


def retrieve_passages(
    index: HandbookIndex,
    query: str,
    user: User,
    *,
    k: int = 5,
    mode: SearchMode = "reranked",
    model_role: str = "chat-small",
    tracing: Tracing | None = None,
) -> list[dict[str, str]]:
    """The passages ``user`` may read that best match ``query``, packed into the prompt budget
    of ``model_role``: ``{"cite_id", "chunk_id", "doc_id", "text"}`` each, in prompt order."""
    tracing = tracing or disabled_tracing()
    with trace_retrieval(tracing, query=query, k=k, mode=mode) as span:
        hits = search(index, query, user=user, k=k, mode=mode)
        span.record_results([h.chunk.id for h in hits], [h.score for h in hits])
    packed = pack_context(hits, budget_tokens=context_budget(model_role))
    return [
        {"cite_id": cite_id, "chunk_id": chunk.id, "doc_id": chunk.doc_id, "text": chunk.text}
        for cite_id, chunk in zip(packed.citations, packed.chunks, strict=True)
    ]


def answer_from_passages(
    client: LLMClient,
    question: str,
    passages: list[dict[str, str]],
    prompt: PromptVersion,
    *,
    tracing: Tracing | None = None,
) -> dict[str, Any]:
    """The model's answer to ``question`` from ``passages`` with ``prompt``: ``{"answer",
    "prompt_ref"}``. The one step that calls (and pays for) the model."""
    rendered = prompt.render(
        passages=[{"id": p["cite_id"], "text": p["text"]} for p in passages], question=question
    )
    result = traced_chat(client, tracing or disabled_tracing(), **rendered.chat_kwargs())
    return {"answer": result.content or "", "prompt_ref": rendered.ref}


def verify_answer(answer: str, passages: list[dict[str, str]]) -> dict[str, Any]:
    """Whether each passage the answer cites supports the sentences citing it.

    A citation is supported when its id is one of ``passages`` and every sentence citing it
    shares at least half its content words with the passage (Snowball stems, as
    :func:`~course_lib.evaluation.fact_recall` counts them). Returns ``{"cited", "verified",
    "unsupported"}``: verified means at least one citation and none unsupported.
    """
    from course_lib.evaluation import fact_recall

    texts = {p["cite_id"]: p["text"] for p in passages}
    supported: dict[str, bool] = {}
    for sentence in _SENTENCE_END.split(answer):
        claim = " ".join(_CITE.sub(" ", sentence).split())
        for cite_id in dict.fromkeys(_CITE.findall(sentence)):
            passage = texts.get(cite_id)
            ok = passage is not None and fact_recall(passage, claim) >= SUPPORT_THRESHOLD
            supported[cite_id] = supported.get(cite_id, True) and ok
    unsupported = [cite_id for cite_id, ok in supported.items() if not ok]
    return {
        "cited": list(supported),
        "verified": bool(supported) and not unsupported,
        "unsupported": unsupported,
    }


def delivery_key(context: StepContext) -> str:
    """The idempotency key of a side effect: one per workflow, run and step.

    The same for every attempt and every resume of that step (so a repeat is recognised), and
    different for every other run (so no one else's message is taken for it).
    """
    return f"{context.workflow}:{context.run_id}:{context.step}"


def deliver_answer(
    state: AnswerState, context: StepContext, outbox: MessageSender
) -> dict[str, Any]:
    """Sends the answer to its asker exactly once per run: ``{"message_id"}``."""
    text = state.answer
    if state.cited and not state.verified:
        text = f"{text}\n\n{UNVERIFIED_NOTE}"
    message_id = outbox.send(state.user_id, text, idempotency_key=delivery_key(context))
    return {"message_id": message_id}


# -- the steps over the state ----------------------------------------------------------------


class HandbookSteps:
    """The answer workflow's steps, bound to an index, a client, a prompt and an outbox.

    Args:
        index: the handbook index.
        client: the model client. Give it no retries of its own
            (``ReliabilityPolicy.bare()``): the workflow's step policies are the retry layer.
        outbox: where answers are delivered; None leaves the deliver step out.
        prompts: the prompt registry (the bundled library by default).
        tracing: spans of retrieval and model calls, nested under the steps' spans.
        k, mode: how many passages to retrieve, and how.
        prompt_name, environment: the prompt and the alias that picks its version.
        deliver: the delivery step's function, ``f(state, context, outbox)``;
            :func:`deliver_answer` by default.
    """

    def __init__(
        self,
        index: HandbookIndex,
        *,
        client: LLMClient,
        outbox: MessageSender | None = None,
        prompts: PromptRegistry | None = None,
        tracing: Tracing | None = None,
        k: int = 5,
        mode: SearchMode = "reranked",
        prompt_name: str = "handbook-answer",
        environment: str = "production",
        deliver: Callable[..., Mapping[str, Any]] | None = None,
    ) -> None:
        from course_lib.prompts import PromptRegistry

        self.index = index
        self.client = client
        self.outbox = outbox
        self.tracing = tracing or disabled_tracing()
        self.k = k
        self.mode = mode
        self.prompt = (prompts or PromptRegistry()).resolve(prompt_name, environment=environment)
        self._deliver = deliver or deliver_answer

    def __repr__(self) -> str:
        return f"HandbookSteps(prompt={self.prompt.ref!r}, k={self.k}, mode={self.mode!r})"

    def rewrite(self, state: AnswerState) -> dict[str, Any]:
        return {"query": rewrite_query(state.question)}

    def retrieve(self, state: AnswerState) -> dict[str, Any]:
        passages = retrieve_passages(
            self.index,
            state.query or state.question,
            state.reader,
            k=self.k,
            mode=self.mode,
            model_role=self.prompt.model_role,
            tracing=self.tracing,
        )
        return {"passages": passages}

    def answer(self, state: AnswerState) -> dict[str, Any]:
        return answer_from_passages(
            self.client, state.question, state.passages, self.prompt, tracing=self.tracing
        )

    def verify(self, state: AnswerState) -> dict[str, Any]:
        return verify_answer(state.answer, state.passages)

    def deliver(self, state: AnswerState, context: StepContext) -> dict[str, Any]:
        if self.outbox is None:
            raise WorkflowDefinitionError(
                "This HandbookSteps has no outbox to deliver to; pass outbox= to send answers."
            )
        output = self._deliver(state, context, self.outbox)
        return dict(output) if isinstance(output, Mapping) else output

    def steps(self, policies: Mapping[str, StepPolicy] | None = None) -> list[Step]:
        """The steps in order, each with its policy: :data:`DEFAULT_POLICIES`, then
        ``policies`` by step name.

        Raises:
            WorkflowDefinitionError: ``policies`` names a step the workflow does not have.
        """
        functions: list[tuple[str, StepFunction]] = [
            ("rewrite", self.rewrite),
            ("retrieve", self.retrieve),
            ("answer", self.answer),
            ("verify", self.verify),
        ]
        if self.outbox is not None:
            functions.append(("deliver", self.deliver))
        chosen = {**DEFAULT_POLICIES, **(policies or {})}
        unknown = sorted(set(policies or {}) - {name for name, _ in functions})
        if unknown:
            raise WorkflowDefinitionError(
                f"No step named {unknown} in this workflow; its steps are "
                f"{[name for name, _ in functions]}."
            )
        return [Step(name, fn, chosen.get(name, StepPolicy())) for name, fn in functions]

    def workflow(
        self,
        *,
        store: CheckpointStore | None = None,
        policies: Mapping[str, StepPolicy] | None = None,
        name: str = "handbook-answer",
        seed: int | None = None,
    ) -> Workflow[AnswerState]:
        """The steps as a :class:`~course_lib.orchestration.Workflow`, traced like the steps."""
        return Workflow(name, self.steps(policies), store=store, tracing=self.tracing, seed=seed)
