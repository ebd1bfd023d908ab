"""Tests of course_lib.rag.chunking: every strategy keeps the metadata and the size promises."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from datetime import date

import pytest

from course_lib.datasets import HandbookDocument, load_handbook, split_sections
from course_lib.embeddings import get_embedder
from course_lib.rag import STRATEGIES, Chunk, chunk_documents, content_hash

DOC = HandbookDocument(
    id="kettle-policy",
    title="Kettle policy",
    team="people",
    version=2,
    updated=date(2026, 1, 5),
    access="internal",
    text=(
        "# Kettle policy\n\nThe kitchen kettle is shared by everyone on the third floor.\n\n"
        "## Descaling\n\nDescale the kettle every Friday with citric acid. "
        + "Rinse it three times afterwards so nobody tastes lemon in their tea. " * 30
        + "\n\n## Who to ask\n\nAsk the facilities team in #office-help.\n"
    ),
)


@pytest.fixture(scope="module")
def handbook_sample() -> list[HandbookDocument]:
    docs = load_handbook()
    return [docs[0], *[d for d in docs if d.access == "restricted"][:2], docs[-1]]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_chunk_carries_its_documents_metadata_and_a_hash_of_its_text(
    strategy: str, handbook_sample: list[HandbookDocument]
) -> None:
    """Filtering, citing and access control all depend on metadata surviving the cut."""
    by_id = {doc.id: doc for doc in handbook_sample}
    chunks = chunk_documents(handbook_sample, strategy)
    assert {chunk.doc_id for chunk in chunks} == set(by_id)
    for chunk in chunks:
        doc = by_id[chunk.doc_id]
        assert (chunk.title, chunk.version, chunk.access, chunk.team) == (
            doc.title,
            doc.version,
            doc.access,
            doc.team,
        )
        assert chunk.section
        assert chunk.text.strip() == chunk.text and chunk.text
        assert chunk.content_hash == hashlib.sha256(chunk.text.encode()).hexdigest()
        assert chunk.id == f"{chunk.doc_id}:{chunk.position}:{chunk.content_hash[:12]}"
    for doc_id in by_id:
        positions = [c.position for c in chunks if c.doc_id == doc_id]
        assert positions == list(range(len(positions)))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_chunking_is_deterministic(strategy: str) -> None:
    """Stable ids are what make upserts idempotent: the same input must give the same chunks."""
    assert chunk_documents([DOC], strategy) == chunk_documents([DOC], strategy)


def test_headings_keep_small_sections_whole_and_split_oversized_ones() -> None:
    chunks = chunk_documents([DOC], "headings", max_tokens=128, min_tokens=0)
    sections = [chunk.section for chunk in chunks]
    assert sections[0] == "Kettle policy" and sections[-1] == "Who to ask"
    assert sections.count("Descaling") >= 3  # one long section cut into several chunks
    assert all(chunk.token_count <= 128 for chunk in chunks)
    assert chunks[-1].text == "Ask the facilities team in #office-help."


def test_headings_join_small_sections_up_to_the_maximum() -> None:
    """Short sections are joined to the next one, headings kept as Markdown lines."""
    doc = replace(
        DOC,
        text="# Tiny\n\nOne line.\n\n## Second\n\nAnother line.\n\n## Third\n\nA third line.\n",
    )
    (joined,) = chunk_documents([doc], "headings", min_tokens=64)
    assert joined.section == "Tiny"
    assert joined.text == "One line.\n\n## Second\n\nAnother line.\n\n## Third\n\nA third line."
    separate = chunk_documents([doc], "headings", min_tokens=0)
    assert [c.section for c in separate] == ["Tiny", "Second", "Third"]


def test_fixed_windows_respect_the_size_and_overlap() -> None:
    embedder = get_embedder()
    chunks = chunk_documents([DOC], "fixed", size=64, overlap=16)
    assert len(chunks) > 3
    assert all(chunk.token_count <= 64 for chunk in chunks)
    assert all(c.token_count == embedder.count_tokens(c.text) for c in chunks)
    for previous, current in itertools.pairwise(chunks):
        tail = previous.text.split()[-3:]  # the overlap repeats the end of the previous window
        assert " ".join(tail) in current.text
    assert chunks[0].section == "Kettle policy"
    assert any(chunk.section == "Descaling" for chunk in chunks)


def test_fixed_windows_cover_the_whole_document() -> None:
    chunks = chunk_documents([DOC], "fixed", size=64, overlap=0)
    assert "".join(c.text for c in chunks).replace(" ", "").replace("\n", "") == DOC.text.replace(
        " ", ""
    ).replace("\n", "")


def test_semantic_chunks_follow_the_heading_in_force() -> None:
    chunks = chunk_documents([DOC], "semantic", target_size=400, max_tokens=128)
    assert len(chunks) > 1
    assert all(chunk.token_count <= 128 for chunk in chunks)
    assert chunks[0].section == "Kettle policy"
    assert "Who to ask" in {c.section for c in chunks} or "office-help" in chunks[-1].text


def test_headings_chunks_of_the_real_handbook_fit_the_embedders_input_limit() -> None:
    chunks = chunk_documents(load_handbook(), "headings")
    assert max(chunk.token_count for chunk in chunks) <= 384
    headings = {(d.id, s.heading) for d in load_handbook() for s in split_sections(d.text)}
    assert all((c.doc_id, c.section) in headings or c.section == c.title for c in chunks)


def test_the_indexed_text_puts_title_and_section_before_the_passage() -> None:
    (chunk, *_) = chunk_documents([DOC], "headings", min_tokens=0)
    assert chunk.indexed_text == f"Kettle policy\n{chunk.text}"  # the title section: no repeat
    later = chunk_documents([DOC], "headings", min_tokens=0)[-1]
    assert later.indexed_text == f"Kettle policy\nWho to ask\n{later.text}"


def test_content_hash_is_sha256_of_utf8() -> None:
    assert content_hash("é") == hashlib.sha256("é".encode()).hexdigest()


def test_unknown_strategies_and_options_are_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"Choose one of \['headings', 'fixed', 'semantic'\]"):
        chunk_documents([DOC], "paragraphs")
    with pytest.raises(TypeError, match=r"has no option.*'size'.*its options are"):
        chunk_documents([DOC], "headings", size=10)
    with pytest.raises(ValueError, match=r"'overlap' .* must be smaller than 'size'"):
        chunk_documents([DOC], "fixed", size=32, overlap=32)
    with pytest.raises(ValueError, match="'max_tokens' must be an integer >= 16"):
        chunk_documents([DOC], "headings", max_tokens=4)


def test_chunks_are_frozen() -> None:
    chunk: Chunk = chunk_documents([DOC])[0]
    with pytest.raises(AttributeError):
        chunk.access = "public"  # type: ignore[misc]
