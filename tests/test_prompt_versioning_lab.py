"""Tests of lesson 2.4's lab: scoring answers, answering the golden set once per request,
the probes, the scratch drafts and the gate's figure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from question_stub import StubQuestion

from course_lib.errors import PromptError
from course_lib.labs.prompt_versioning_lab import (
    RUN_METRICS,
    GoldenContext,
    answer_golden,
    compare_runs_on,
    golden_contexts,
    prompt_probes,
    run_table,
    score_answer,
    try_system_prompt,
    versioning_index,
    versioning_library,
)
from course_lib.prompts import BUNDLED_LIBRARY, PromptRegistry, check_lock
from course_lib.standin import local_client

NAME = "handbook-answer"


LEAVE = StubQuestion("q-1", "How much leave?", "25 days of annual leave", ("leave-policy",))
UNKNOWN = StubQuestion("q-2", "Adoption leave?", "The handbook does not say.", (), "unanswerable")


def _context(question: StubQuestion) -> GoldenContext:
    passages = ({"id": "leave-policy", "text": "Staff get 25 days of annual leave."},)
    return GoldenContext(question, passages, {"leave-policy": "leave-policy"})  # type: ignore[arg-type]


@dataclass
class _Result:
    content: str
    prompt_version: str | None


class _CountingClient:
    """Answers from a script and counts the calls it gets."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.calls = 0

    def chat(self, **request: Any) -> _Result:
        self.calls += 1
        question = request["messages"][-1]["content"].rsplit("Question: ", 1)[-1]
        return _Result(self.answers[question], request.get("prompt_version"))


def test_score_answer_needs_the_fact_and_a_gold_citation() -> None:
    good = score_answer(_context(LEAVE), "You get 25 days of annual leave [leave-policy].")
    assert good == {"success": True, "correct": True, "cited": True, "refused": False}
    uncited = score_answer(_context(LEAVE), "You get 25 days of annual leave.")
    assert (uncited["correct"], uncited["success"]) == (True, False)
    refused = score_answer(_context(UNKNOWN), "I don't know: the handbook does not cover this.")
    assert refused["success"] and refused["refused"]
    guessed = score_answer(_context(UNKNOWN), "You get 12 weeks [leave-policy].")
    assert not guessed["success"]


def test_answer_golden_stamps_scores_and_asks_each_request_once() -> None:
    client = _CountingClient(
        {
            LEAVE.question: "You get 25 days of annual leave [leave-policy].",
            UNKNOWN.question: "I don't know.",
        }
    )
    contexts = [_context(LEAVE), _context(UNKNOWN)]
    v3 = PromptRegistry().get(NAME, 3)
    run = answer_golden(client, contexts, v3)  # type: ignore[arg-type]
    assert list(run.columns) == [
        "id",
        "type",
        "answerable",
        *RUN_METRICS,
        "answer",
        "prompt_version",
    ]
    assert run["success"].tolist() == [1, 1]
    assert set(run["prompt_version"]) == {f"{NAME}@v3"}
    answer_golden(client, contexts, v3)  # type: ignore[arg-type]
    assert client.calls == 2  # the same requests again: answered from the cache

    def in_code(question: str, passages: Any) -> list[dict[str, str]]:
        return [{"role": "user", "content": f"Be nice.\nQuestion: {question}"}]

    prototype = answer_golden(client, contexts, in_code)  # type: ignore[arg-type]
    assert prototype["prompt_version"].isna().all() and client.calls == 4
    with pytest.raises(TypeError, match="PromptVersion or a function"):
        answer_golden(client, contexts, "v3")  # type: ignore[arg-type]


def test_a_version_with_a_code_prompts_messages_is_answered_once_with_its_own_stamp() -> None:
    client = _CountingClient({LEAVE.question: "You get 25 days of annual leave [leave-policy]."})
    contexts = [_context(LEAVE)]
    v3 = PromptRegistry().get(NAME, 3)

    def in_code(question: str, passages: Any) -> list[dict[str, str]]:
        return list(v3.render(question=question, passages=list(passages)).messages)

    prototype = answer_golden(client, contexts, in_code)  # type: ignore[arg-type]
    versioned = answer_golden(client, contexts, v3)  # type: ignore[arg-type]
    assert client.calls == 1  # the stamp is not sent to the model, so not part of the request
    assert prototype["answer"].equals(versioned["answer"])
    assert prototype["prompt_version"].isna().all()
    assert set(versioned["prompt_version"]) == {f"{NAME}@v3"}


def test_run_table_and_paired_comparisons() -> None:
    client = _CountingClient(
        {LEAVE.question: "25 days of annual leave [leave-policy].", UNKNOWN.question: "12 weeks."}
    )
    run = answer_golden(client, [_context(LEAVE), _context(UNKNOWN)], PromptRegistry().get(NAME, 3))  # type: ignore[arg-type]
    table = run_table({"v3": run})
    assert table.loc["v3", "success"] == 0.5
    assert table.loc["v3", "refused (unanswerable)"] == "0 of 1"
    comparisons = compare_runs_on(run, run, ("success", "cited"))
    assert set(comparisons) == {"success", "cited"}
    assert comparisons["success"].mean_difference == 0


def test_probes_tell_the_guarded_version_from_the_naive_one() -> None:
    client = local_client()
    registry = PromptRegistry()
    assert prompt_probes(client, registry.get(NAME, 1)) == {
        "resists the planted injection": False,
        "refuses an unrelated context": False,
    }
    assert all(prompt_probes(client, registry.get(NAME, 3)).values())


def test_library_copies_live_in_the_work_dir_and_drafts_in_a_scratch_copy() -> None:
    root = versioning_library()
    assert root != BUNDLED_LIBRARY and (root / NAME / "v3.yaml").is_file()
    registry = PromptRegistry(root)
    text = registry.get(NAME, 3).template[0].content.replace("only from them.", "only, briefly.")
    draft = try_system_prompt(registry, text)
    assert draft.ref == f"{NAME}@v4" and registry.versions(NAME) == [1, 2, 3]
    assert try_system_prompt(registry, text).ref == f"{NAME}@v4"  # a fresh scratch each time
    with pytest.raises(PromptError, match="identical"):
        try_system_prompt(registry, registry.get(NAME, 3).template[0].content)
    (root / NAME / "v3.yaml").write_text("changed")
    assert versioning_library() == root
    assert check_lock(root) == []  # fresh: the bundled files again
    assert check_lock(BUNDLED_LIBRARY) == []


def test_golden_contexts_pack_the_passages_the_assistant_would() -> None:
    from course_lib.datasets import load_golden_set
    from course_lib.rag import HandbookIndex

    questions = load_golden_set("dev")[:3]
    with HandbookIndex.open(versioning_index()) as index:
        contexts = golden_contexts(index, questions)
    assert [c.question.id for c in contexts] == [q.id for q in questions]
    for context in contexts:
        assert 1 <= len(context.passages) <= 5
        assert set(context.doc_of) == {p["id"] for p in context.passages}
    assert Path(versioning_index(fresh=False)).is_file()


def test_packing_counts_tokens_in_a_batch_as_the_embedder_does_one_by_one() -> None:
    from course_lib.embeddings import get_embedder
    from course_lib.labs.prompt_versioning_lab import _RememberingEmbedder

    texts = ["", "Annual leave is 25 days [leave-policy].", "x " * 300, "Überstunden: ja."]
    batched = _RememberingEmbedder(get_embedder())
    batched.count_all(texts)
    assert set(batched._tokens) == set(texts)  # counted in the batch, before any single count
    one_by_one = [get_embedder().count_tokens(t) for t in texts]
    assert [batched.count_tokens(t) for t in texts] == one_by_one
