"""The files of lesson 3.2's scratch project: its prototype, the package it becomes (sources,
tests, ``pyproject.toml`` with import contracts) and the infrastructure folder.

They are text the lab writes into a throwaway repository, kept apart from the code that drives
the lesson (:mod:`course_lib.labs.structure_lab`).
"""

from __future__ import annotations

_GITIGNORE = """\
# the handbook and the golden questions: copied in, never committed
data/
# what runs and builds leave behind
results.json
build/
dist/
*.egg-info/
__pycache__/
.venv/
"""

_PROTOTYPE = """\
# The Handbook Assistant, exported from one notebook cell.
import json
import re
from pathlib import Path

HANDBOOK = Path("data/handbook")
GOLDEN = Path("data/golden.jsonl")
TOP_K = 3

docs = {}
for path in sorted(HANDBOOK.glob("*.md")):
    text = path.read_text(encoding="utf-8")
    docs[path.stem] = text.split("\\n---\\n", 1)[1] if text.startswith("---\\n") else text
print(f"loaded {len(docs)} documents")


def chunk(doc_id, text):
    return [(doc_id, p.strip()) for p in text.split("\\n\\n") if p.strip()]


passages = [p for doc_id, text in docs.items() for p in chunk(doc_id, text)]
print(f"{len(passages)} passages")


def words(text):
    return set(re.findall(r"[a-z0-9]+", text.lower()))


passage_words = [words(text) for _, text in passages]


def retrieve(question):
    q = words(question)
    order = sorted(range(len(passages)), key=lambda i: -len(q & passage_words[i]))
    return [passages[i] for i in order[:TOP_K]]


def answer(question):
    hits = retrieve(question)
    prompt = "Answer from these passages only.\\n\\n"
    prompt += "\\n\\n".join(f"[{d}] {t}" for d, t in hits) + f"\\n\\nQuestion: {question}"
    sentences = re.split(r"(?<=[.!?])\\s+", hits[0][1])
    best = max(sentences, key=lambda s: len(words(question) & words(s)))
    return f"{best} [{hits[0][0]}]"


print(answer("Are partial on-call weeks paid?"))

golden = [json.loads(line) for line in GOLDEN.read_text().splitlines()]
found = sum(any(d in q["doc_ids"] for d, _ in retrieve(q["question"])) for q in golden)
print(f"recall@{TOP_K} on {len(golden)} questions: {found / len(golden):.3f}")
Path("results.json").write_text(json.dumps({"recall": found / len(golden)}))
"""

_PROTOTYPE_TEST = """\
from prototype import chunk


def test_chunk_keeps_the_document_id():
    assert chunk("faq", "One.\\n\\nTwo.") == [("faq", "One."), ("faq", "Two.")]
"""

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "handbook-assistant"
version = "0.1.0"
description = "Answers questions from the company handbook, with citations."
requires-python = ">=3.10"
dependencies = []

[project.scripts]
handbook-assistant = "handbook_assistant.cli:main"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["src"]
"""

_CONTRACTS = """
[tool.importlinter]
root_package = "handbook_assistant"

[[tool.importlinter.contracts]]
name = "The question's path: the app over retrieval over data"
type = "layers"
layers = [
    "handbook_assistant.app",
    "handbook_assistant.retrieval",
    "handbook_assistant.data",
]
"""

_SOURCES = {
    "__init__.py": '"""The Handbook Assistant: answers questions from the handbook."""\n',
    "__main__.py": """\
from handbook_assistant.cli import main

raise SystemExit(main())
""",
    "data/__init__.py": '''\
"""Loading the handbook and the golden questions, and cutting documents into passages."""

from handbook_assistant.data.chunking import Passage, chunk
from handbook_assistant.data.loading import load_golden, load_handbook

__all__ = ["Passage", "chunk", "load_golden", "load_handbook"]
''',
    "data/loading.py": '''\
import json
from pathlib import Path


def strip_front_matter(text: str) -> str:
    """The Markdown body of a handbook page, without its YAML front matter."""
    return text.split("\\n---\\n", 1)[1] if text.startswith("---\\n") else text


def load_handbook(folder: Path) -> dict[str, str]:
    """Each page's id (its file name) and body; fails loudly on an empty or missing folder."""
    pages = sorted(Path(folder).glob("*.md"))
    if not pages:
        raise FileNotFoundError(f"No handbook pages (*.md) in {folder}; pass --handbook.")
    return {p.stem: strip_front_matter(p.read_text(encoding="utf-8")) for p in pages}


def load_golden(path: Path) -> list[dict]:
    """The golden questions: one JSON object per line, with "question" and "doc_ids"."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
''',
    "data/chunking.py": '''\
from typing import NamedTuple


class Passage(NamedTuple):
    doc_id: str
    text: str


def chunk(doc_id: str, text: str) -> list[Passage]:
    """One passage per paragraph, each keeping its document's id."""
    return [Passage(doc_id, p.strip()) for p in text.split("\\n\\n") if p.strip()]
''',
    "retrieval/__init__.py": '''\
"""Finding the passages that answer a question."""

from handbook_assistant.retrieval.search import rank_passages, words

__all__ = ["rank_passages", "words"]
''',
    "retrieval/search.py": '''\
import re
from functools import cache

from handbook_assistant.data import Passage


@cache
def words(text: str) -> frozenset[str]:
    """Lower-cased runs of letters and digits (cached: each passage is split once)."""
    return frozenset(re.findall(r"[a-z0-9]+", text.lower()))


def rank_passages(question: str, passages: list[Passage], k: int) -> list[Passage]:
    """The k passages sharing most words with the question; ties keep their order."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    q = words(question)
    order = sorted(range(len(passages)), key=lambda i: -len(q & words(passages[i][1])))
    return [passages[i] for i in order[:k]]
''',
    "app/__init__.py": '''\
"""The assistant: prompt, answer, citation."""

from handbook_assistant.app.answering import answer, build_prompt

__all__ = ["answer", "build_prompt"]
''',
    "app/answering.py": '''\
import re

from handbook_assistant.data import Passage
from handbook_assistant.retrieval import rank_passages, words


def build_prompt(question: str, hits: list[Passage]) -> str:
    context = "\\n\\n".join(f"[{p.doc_id}] {p.text}" for p in hits)
    return f"Answer from these passages only.\\n\\n{context}\\n\\nQuestion: {question}"


def answer(question: str, passages: list[Passage], top_k: int = 3) -> str:
    """The top passage's best sentence, quoted with its citation."""
    hits = rank_passages(question, passages, top_k)
    sentences = re.split(r"(?<=[.!?])\\s+", hits[0].text)
    best = max(sentences, key=lambda s: len(words(question) & words(s)))
    return f"{best} [{hits[0].doc_id}]"
''',
    "evaluation/__init__.py": '''\
"""Scoring retrieval and answers on the golden questions."""

from handbook_assistant.evaluation.metrics import citation_rate, recall_at_k

__all__ = ["citation_rate", "recall_at_k"]
''',
    "evaluation/metrics.py": '''\
from handbook_assistant.app import answer
from handbook_assistant.data import Passage
from handbook_assistant.retrieval import rank_passages


def citation_rate(golden: list[dict], passages: list[Passage], k: int) -> float:
    """Share of questions whose answer cites one of the golden documents."""
    cited = [answer(q["question"], passages, k).rsplit("[", 1)[-1].rstrip("]") for q in golden]
    return sum(c in q["doc_ids"] for c, q in zip(cited, golden)) / len(golden)


def recall_at_k(golden: list[dict], passages: list[Passage], k: int) -> float:
    """Share of questions with a cited document among the top k passages."""
    found = sum(
        any(p.doc_id in q["doc_ids"] for p in rank_passages(q["question"], passages, k))
        for q in golden
    )
    return found / len(golden)
''',
    "cli.py": '''\
"""The command line: `handbook-assistant ask "..."` and `handbook-assistant evaluate`."""

import argparse
import os
from pathlib import Path

from handbook_assistant.app import answer
from handbook_assistant.data import chunk, load_golden, load_handbook
from handbook_assistant.evaluation import recall_at_k


class Commands:
    """What the command line calls, built from the data folders (the only place paths live)."""

    def __init__(self, handbook: Path, golden: Path) -> None:
        docs = load_handbook(handbook)
        self.passages = [p for doc_id, text in docs.items() for p in chunk(doc_id, text)]
        self.golden = golden

    def ask(self, question: str, top_k: int) -> str:
        return answer(question, self.passages, top_k)

    def evaluate(self, top_k: int) -> float:
        return recall_at_k(load_golden(self.golden), self.passages, top_k)


def parser() -> argparse.ArgumentParser:
    data = Path(os.environ.get("HANDBOOK_DATA", "data"))
    cli = argparse.ArgumentParser(prog="handbook-assistant")
    cli.add_argument("--handbook", type=Path, default=data / "handbook")
    cli.add_argument("--golden", type=Path, default=data / "golden.jsonl")
    commands = cli.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--top-k", type=int, default=3)
    evaluate = commands.add_parser("evaluate", help="recall@k on the golden questions")
    evaluate.add_argument("--top-k", type=int, default=3)
    return cli


def main(argv: list[str] | None = None, app: Commands | None = None) -> int:
    """Run one command; the installed command passes neither argv (sys.argv) nor app (built)."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.top_k < 1:
        return 2
    app = app or Commands(args.handbook, args.golden)
    if args.command == "ask":
        print(app.ask(args.question, top_k=args.top_k))
    else:
        print(f"recall@{args.top_k}: {app.evaluate(top_k=args.top_k):.3f}")
    return 0
''',
}

_TESTS = {
    "tests/test_chunking.py": """\
from handbook_assistant.data import Passage, chunk
from handbook_assistant.data.loading import strip_front_matter


def test_one_passage_per_paragraph_with_the_document_id():
    assert chunk("faq", "One.\\n\\n\\nTwo.") == [Passage("faq", "One."), Passage("faq", "Two.")]


def test_front_matter_is_not_content():
    assert strip_front_matter("---\\nid: faq\\n---\\nBody.") == "Body."
""",
    "tests/test_search.py": """\
import pytest

from handbook_assistant.data import Passage
from handbook_assistant.retrieval import rank_passages

PASSAGES = [Passage("a", "Trains for short trips."), Passage("b", "On-call weeks are paid.")]


def test_the_passage_sharing_most_words_comes_first():
    assert rank_passages("Are on-call weeks paid?", PASSAGES, 1) == [PASSAGES[1]]


def test_k_must_be_positive():
    with pytest.raises(ValueError):
        rank_passages("paid", PASSAGES, 0)
""",
    "tests/test_app.py": """\
from handbook_assistant.app import answer
from handbook_assistant.data import Passage


def test_the_answer_quotes_its_best_sentence_and_cites_it():
    passages = [Passage("oncall", "Rotations are weekly. Partial weeks are paid pro rata.")]
    expected = "Partial weeks are paid pro rata. [oncall]"
    assert answer("Are partial weeks paid?", passages) == expected
""",
    "tests/test_evaluation.py": """\
from handbook_assistant.data import Passage
from handbook_assistant.evaluation import citation_rate, recall_at_k


def test_recall_counts_questions_with_a_cited_document_in_the_top_k():
    passages = [Passage("a", "VPN access."), Passage("b", "Expense claims.")]
    golden = [
        {"question": "VPN?", "doc_ids": ["a"]},
        {"question": "Expense claims?", "doc_ids": ["c"]},
    ]
    assert recall_at_k(golden, passages, 1) == 0.5
    assert citation_rate(golden, passages, 1) == 0.5
""",
    "tests/test_cli.py": """\
from handbook_assistant.cli import main


class FakeApp:
    def ask(self, question, top_k):
        return f"asked {question!r} with top_k={top_k}"

    def evaluate(self, top_k):
        return 0.5


def test_ask_prints_the_answer(capsys):
    assert main(["ask", "Who approves?", "--top-k", "2"], app=FakeApp()) == 0
    assert capsys.readouterr().out == "asked 'Who approves?' with top_k=2\\n"


def test_evaluate_prints_recall(capsys):
    assert main(["evaluate"], app=FakeApp()) == 0
    assert capsys.readouterr().out == "recall@3: 0.500\\n"
""",
}

_INFRA = {
    "infra/Dockerfile": """\
# The service image: the package installed from its wheel, the data mounted at run time.
FROM python:3.12-slim
COPY dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl
ENV HANDBOOK_DATA=/data
ENTRYPOINT ["handbook-assistant"]
""",
}
