"""Lesson 1.4's Handbook Assistant, and a trial of a system prompt against the naive one.

The lesson evaluates one small retrieval-augmented assistant many times, and its exercise
checker evaluates the learner's prompt with the very same assistant on the held-out split, so
the assistant lives here rather than in a notebook cell: one definition, two users.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course_lib.evaluation import compare_runs, contains_fact, is_refusal, run_golden

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.datasets import GoldenQuestion
    from course_lib.evaluation import PairedComparison
    from course_lib.llm import ChatResult, LLMClient

__all__ = [
    "CAREFUL_PROMPT",
    "NAIVE_PROMPT",
    "HandbookAssistant",
    "PromptTrial",
    "fact_score",
    "trial_prompt",
]

NAIVE_PROMPT = "Answer the question using the documents."
"""The tutorial's prompt: it never says what to do when the documents do not answer."""

CAREFUL_PROMPT = (
    "Answer only from the documents and cite the document id of each fact. "
    "If the documents do not answer the question, say that you don't know."
)
"""The obvious improvement: grounded, cited, and allowed to refuse."""


class HandbookAssistant:
    """Dense retrieval over the handbook's sections, then one chat call with the top ``k``.

    Retrieval results are cached per question: the lesson asks the same questions many times,
    and the ranking never changes.
    """

    def __init__(self, client: LLMClient, *, k: int = 3) -> None:
        from course_lib.datasets import load_handbook
        from course_lib.embeddings import get_embedder

        self.client = client
        self.k = k
        self.sections = [(doc.id, s.text) for doc in load_handbook() for s in doc.sections]
        self.embedder = get_embedder()
        self.vectors = self.embedder.embed([text for _, text in self.sections])
        self.retrieve = functools.cache(self._retrieve)

    def _retrieve(self, question: str, k: int | None = None) -> tuple[tuple[str, str], ...]:
        """The (document id, text) of the ``k`` sections most similar to the question."""
        from course_lib.embeddings import top_k

        rows, _ = top_k(self.embedder.embed_one(question), self.vectors, k or self.k)
        return tuple(self.sections[i] for i in rows)

    def ask(
        self,
        question: str,
        *,
        system: str = NAIVE_PROMPT,
        model: str = "chat-small",
        temperature: float | None = None,
        seed: int | None = None,
    ) -> ChatResult:
        """Answer from the top ``k`` sections, given as ``[doc-id] text`` lines."""
        passages = "\n".join(f"[{doc_id}] {text}" for doc_id, text in self.retrieve(question))
        return self.client.chat(
            f"Documents:\n{passages}\n\nQuestion: {question}",
            system=system,
            model=model,
            temperature=temperature,
            seed=seed,
        )


def fact_score(question: Any, answer: str) -> float:
    """1 when the answer states the reference's fact, 0 otherwise; a refusal scores 0 on an
    answerable question and 1 on an unanswerable one."""
    if not question.answerable:
        return float(is_refusal(answer))
    return 0.0 if is_refusal(answer) else float(contains_fact(answer, question.answer))


@dataclass(frozen=True)
class PromptTrial:
    """A prompt against the naive one on the same questions."""

    answerable: PairedComparison  # fact score, prompt - naive, on answerable questions
    refusals: int  # correct refusals of the unanswerable questions
    refused_answerable: int  # answerable questions it refused
    unanswerable: int
    changed: int = 0  # answerable questions whose answer differs from the naive prompt's
    longer: int = 0  # answerable questions answered in more sentences than the naive prompt

    def __str__(self) -> str:
        return (
            f"fact check on answerable questions, yours - naive: {self.answerable}\n"
            f"correct refusals: {self.refusals} of {self.unanswerable} unanswerable; "
            f"answerable questions refused: {self.refused_answerable}"
        )


# A sentence ends with . ! or ? before a space or the end; a "[doc-id]" citation adds none.
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def _sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text.strip())) or 1


def _run(assistant: HandbookAssistant, system: str, questions: Sequence[Any]) -> pd.DataFrame:
    return run_golden(
        lambda q: assistant.ask(q.question, system=system),
        questions,
        scorers={"fact": fact_score},
        run=system[:40],
    )


def trial_prompt(
    assistant: HandbookAssistant,
    system: str,
    questions: Sequence[GoldenQuestion],
    *,
    seed: int = 0,
) -> PromptTrial:
    """Run ``system`` and the naive prompt over ``questions``; compare them, paired."""
    mine, naive = _run(assistant, system, questions), _run(assistant, NAIVE_PROMPT, questions)
    answerable = mine["type"] != "unanswerable"
    mine_answers, naive_answers = mine.loc[answerable, "answer"], naive.loc[answerable, "answer"]
    return PromptTrial(
        answerable=compare_runs(naive[answerable], mine[answerable], "fact", seed=seed),
        refusals=int(mine.loc[~answerable, "fact"].sum()),
        refused_answerable=int(mine_answers.map(is_refusal).sum()),
        unanswerable=int((~answerable).sum()),
        changed=int((mine_answers != naive_answers).sum()),
        longer=int((mine_answers.map(_sentences) > naive_answers.map(_sentences)).sum()),
    )
