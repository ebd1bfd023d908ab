"""Access control in retrieval: no query by an unauthorised reader returns a restricted chunk.

The queries are built from the restricted documents' own words, so they would match those
documents if anything let them through. Restricted document ids come from the handbook files,
not from the index, so a wrong access column in the index would be caught too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from course_lib.datasets import HandbookDocument, load_handbook
from course_lib.rag import MODES, HandbookIndex, User, search

HANDBOOK = load_handbook()
RESTRICTED = [doc for doc in HANDBOOK if doc.access == "restricted"]
RESTRICTED_IDS = frozenset(doc.id for doc in RESTRICTED)
PUBLIC_IDS = frozenset(doc.id for doc in HANDBOOK if doc.access == "public")
WORDS = sorted(
    {
        word
        for doc in RESTRICTED
        for word in re.findall(r"[A-Za-z][A-Za-z0-9_-]{2,}", f"{doc.title} {doc.text}")
    }
)

EMPLOYEE = User("u1", team="sre", clearance={"public", "internal"})
CONTRACTOR = User("c1", team="it", clearance={"public"})
MANAGER = User.manager("m1", team="eng-leadership")
UNAUTHORISED = [EMPLOYEE, CONTRACTOR, User("odd", clearance={"internal"})]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandbookIndex]:
    """The real handbook, every access level, indexed once for the module."""
    path = tmp_path_factory.mktemp("rag-access") / "handbook.sqlite"
    with HandbookIndex.build(HANDBOOK, path=path) as built:
        yield built


def _restricted_query(rng: random.Random) -> str:
    """A query made to hit restricted documents: their words, sometimes their title."""
    if rng.random() < 0.2:
        doc = rng.choice(RESTRICTED)
        return f"{doc.title} {rng.choice(WORDS)}"
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))


_READABLE: dict[frozenset[str], int] = {}


def _readable_count(index: HandbookIndex, user: User) -> int:
    if user.clearance not in _READABLE:
        chunks = index.all_chunks()
        _READABLE[user.clearance] = sum(user.can_read(chunk.access) for chunk in chunks)
    return _READABLE[user.clearance]


def _check(index: HandbookIndex, query: str, user: User, mode: str, k: int = 5) -> int:
    """Asserts every result is readable by ``user``; returns how many came back."""
    hits = search(index, query, user=user, k=k, mode=mode)
    for hit in hits:
        assert hit.chunk.doc_id not in RESTRICTED_IDS, (mode, query, user.id, hit.chunk.id)
        assert user.can_read(hit.chunk.access), (mode, query, user.id, hit.chunk.id)
        if "internal" not in user.clearance:
            assert hit.chunk.doc_id in PUBLIC_IDS
    if mode != "bm25":  # ranked among readable chunks only, so k come back when k exist
        readable = _readable_count(index, user)
        assert len(hits) == min(k, readable), (mode, query, user.id, len(hits))
    return len(hits)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,  # nothing written next to the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=10),
    mode=st.sampled_from(MODES),
    user=st.sampled_from(UNAUTHORISED),
    k=st.integers(min_value=1, max_value=20),
)
def test_generated_queries_never_return_restricted_chunks_to_unauthorised_readers(
    index: HandbookIndex, words: list[str], mode: str, user: User, k: int
) -> None:
    _check(index, " ".join(words), user, mode, k=k)


def test_one_thousand_seeded_queries_in_every_mode_return_no_restricted_chunk(
    index: HandbookIndex,
) -> None:
    """The "done" criterion: 1,000 generated queries, every mode, zero leaks."""
    rng = random.Random(2026)
    queries = [_restricted_query(rng) for _ in range(1000)]
    returned = {mode: 0 for mode in MODES}
    for query in queries:
        for mode in MODES:
            returned[mode] += _check(index, query, EMPLOYEE, mode)
    assert returned["dense"] == returned["hybrid"] == returned["reranked"] == 5000
    assert returned["bm25"] > 4000  # nearly every query shares a term with some readable chunk

    # The queries do aim at restricted documents: a manager gets them back for most.
    hits_restricted = sum(
        any(hit.chunk.doc_id in RESTRICTED_IDS for hit in search(index, q, user=MANAGER, k=5))
        for q in queries[:200]
    )
    assert hits_restricted > 150


def test_a_reader_with_clearance_finds_each_restricted_document_by_its_title(
    index: HandbookIndex,
) -> None:
    for doc in RESTRICTED:
        hits = search(index, doc.title, user=MANAGER, k=5, mode="hybrid")
        assert doc.id in {hit.chunk.doc_id for hit in hits}, doc.id
        assert all(hit.chunk.doc_id != doc.id for hit in search(index, doc.title, user=EMPLOYEE))


def test_restricted_text_does_not_change_what_others_see(
    index: HandbookIndex, tmp_path: Path
) -> None:
    """BM25 statistics and rankings for an employee equal those of an index without
    restricted documents: restricted words leave no trace in their results (no side channel)."""
    readable: list[HandbookDocument] = [d for d in HANDBOOK if d.access != "restricted"]
    with HandbookIndex.build(readable, path=tmp_path / "readable.sqlite") as without:
        rng = random.Random(7)
        for _ in range(40):
            query = _restricted_query(rng)
            for mode in MODES:
                full = [
                    (h.chunk.id, round(h.score, 5))
                    for h in search(index, query, user=EMPLOYEE, mode=mode)
                ]
                alone = [
                    (h.chunk.id, round(h.score, 5))
                    for h in search(without, query, user=EMPLOYEE, mode=mode)
                ]
                assert full == alone, (mode, query)


def test_a_reader_with_no_clearance_gets_nothing(index: HandbookIndex) -> None:
    nobody = User("n1", clearance=set())
    assert all(search(index, "leave policy", user=nobody, mode=m) == [] for m in MODES)


def test_search_refuses_to_run_without_a_user(index: HandbookIndex) -> None:
    with pytest.raises(TypeError, match="needs the User who is asking"):
        search(index, "leave", user="u1")  # type: ignore[arg-type]


def test_clearance_levels_are_checked() -> None:
    with pytest.raises(ValueError, match=r"Unknown access level\(s\) \['secret'\]"):
        User("u", clearance={"public", "secret"})
    with pytest.raises(TypeError, match="not one string"):
        User("u", clearance="internal")  # type: ignore[arg-type]
    assert User("u", clearance=["internal", "public"]).readable_levels == ("public", "internal")
    assert MANAGER.can_read("restricted") and not EMPLOYEE.can_read("restricted")
