"""Tests of course_lib.rag.index: building, incremental upserts, deletes, the pinned embedder.

Every behaviour is tested on both sides: SQLite with sqlite-vec (the embedded default) and
Postgres with pgvector (the production engine), through the ``index_place`` fixture.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engines import same_place

from course_lib.datasets import HandbookDocument, load_handbook
from course_lib.embeddings import Embedder, EmbedderIdentity, get_embedder
from course_lib.errors import (
    AccessDeniedError,
    CourseLibError,
    EmbedderMismatchError,
    EngineUnavailableError,
    IndexMismatchError,
    IndexNotFoundError,
)
from course_lib.rag import (
    HandbookIndex,
    UpsertReport,
    User,
    chunk_documents,
    default_index_path,
    search,
)

MANAGER = User.manager("m1", team="eng-leadership")
EMPLOYEE = User.employee("e1", team="sre")


class CountingEmbedder(Embedder):
    """The default embedder, counting the texts it is asked to embed (same identity)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.texts: list[str] = []

    def _embed_batch(self, texts: list[str], batch_size: int) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts, batch_size=batch_size)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


class FakeEmbedder(Embedder):
    """Another embedder: different identity, same dimension, so only the identity tells."""

    def __init__(self, name: str = "fake-embed", dimension: int = 256) -> None:
        self.identity = EmbedderIdentity(name, dimension, "fake-1")

    def _embed_batch(self, texts: list[str], batch_size: int) -> np.ndarray:
        rng = np.random.default_rng(len(texts))
        return rng.normal(size=(len(texts), self.identity.dimension)).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


@pytest.fixture(scope="module")
def handbook() -> list[HandbookDocument]:
    return load_handbook()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def index(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    handbook: list[HandbookDocument],
) -> Iterator[HandbookIndex]:
    """The real handbook, indexed once per side for the module."""
    if request.param == "sqlite":
        place: dict[str, Any] = {"path": tmp_path_factory.mktemp("rag-index") / "h.sqlite"}
    else:
        place = {"path": request.getfixturevalue("postgres_url"), "name": "module_handbook"}
    with HandbookIndex.build(handbook, rebuild=True, **place) as built:
        yield built


def _small(handbook: list[HandbookDocument]) -> list[HandbookDocument]:
    return [d for d in handbook if d.team in ("people", "security")][:12]


def test_the_built_index_holds_every_chunk_and_document(
    index: HandbookIndex, handbook: list[HandbookDocument]
) -> None:
    expected = chunk_documents(handbook)
    assert len(index) == len(expected)
    assert index.all_chunks() == sorted(expected, key=lambda c: (c.doc_id, c.position))
    assert index.document_ids() == sorted(d.id for d in handbook)
    report = index.last_report
    assert report == UpsertReport(added=len(expected), embedded_texts=len(expected))


def test_building_again_embeds_nothing(
    index: HandbookIndex, handbook: list[HandbookDocument]
) -> None:
    counting = CountingEmbedder(get_embedder())
    again = HandbookIndex.build(handbook, embedder=counting, **same_place(index))
    assert again.last_report == UpsertReport(unchanged=len(index))
    assert counting.texts == []
    again.close()


def test_changing_one_document_re_embeds_only_its_changed_chunks(
    index_place: Any, handbook: list[HandbookDocument]
) -> None:
    """The claim of content-addressed upserts, counted at the embedder."""
    counting = CountingEmbedder(get_embedder())
    built = HandbookIndex.build(handbook, embedder=counting, **index_place("handbook"))
    assert len(counting.texts) == len(built)
    target = next(d for d in handbook if d.id == "leave-policy")
    before = built.all_chunks(doc_id=target.id)
    old_sentence = target.sections[1].text.split("\n")[0]
    edited = replace(target, text=target.text.replace(old_sentence, old_sentence + " Edited."))
    after = chunk_documents([edited])
    known = {chunk.indexed_text for chunk in before}
    changed = [chunk for chunk in after if chunk.indexed_text not in known]
    # Joining small sections can move one boundary, so an edit may change a neighbour too.
    assert 1 <= len(changed) < len(before)

    counting.texts.clear()
    docs = [edited if d.id == target.id else d for d in handbook]
    report = built.upsert(docs)
    assert counting.texts == [chunk.indexed_text for chunk in changed]
    assert report.embedded_texts == len(changed)
    assert report.added == len([c for c in after if c not in before])
    assert report.unchanged == len(built) - report.added
    assert report.deleted == len([c for c in before if c not in after])
    texts = [c.text for c in built.all_chunks(doc_id=target.id)]
    assert any("Edited." in text for text in texts)
    built.close()


def test_a_chunk_that_only_moved_reuses_its_vector(index_place: Any) -> None:
    """Inserting a section shifts the positions (and ids) of later chunks, not their text."""
    docs = _small(load_handbook())
    counting = CountingEmbedder(get_embedder())
    built = HandbookIndex.build(docs, **index_place("i"), embedder=counting, min_tokens=0)
    target = docs[0]
    first_break = target.text.index("\n## ")
    new_section = "\n## Brand-new section\n\n" + "A brand-new paragraph about kettles. " * 60 + "\n"
    moved = replace(
        target, text=target.text[:first_break] + new_section + target.text[first_break:]
    )
    counting.texts.clear()
    report = built.upsert([moved if d.id == target.id else d for d in docs])
    assert report.added >= 2 and report.deleted >= 1  # new ids for the shifted chunks
    assert len(counting.texts) < report.added  # ...but only new text was embedded
    assert all("brand-new" in text.lower() for text in counting.texts)
    built.close()


def test_a_document_missing_from_the_input_loses_its_chunks(index_place: Any) -> None:
    docs = _small(load_handbook())
    built = HandbookIndex.build(docs, **index_place("i"))
    gone = docs[3]
    gone_chunks = len(built.all_chunks(doc_id=gone.id))
    report = built.upsert([d for d in docs if d.id != gone.id])
    assert report.deleted == gone_chunks > 0 and report.embedded_texts == 0
    assert built.all_chunks(doc_id=gone.id) == []
    assert gone.id not in built.document_ids()
    hits = search(built, gone.title, user=MANAGER, k=20, mode="bm25")
    assert all(hit.chunk.doc_id != gone.id for hit in hits)
    built.close()


def test_partial_upserts_and_explicit_deletes(index_place: Any) -> None:
    docs = _small(load_handbook())
    built = HandbookIndex.build(docs[:6], **index_place("i"))
    report = built.upsert(docs[6:], delete_missing=False)
    assert report.deleted == 0 and set(built.document_ids()) == {d.id for d in docs}
    count = len(built.all_chunks(doc_id=docs[0].id))
    assert built.delete_documents([docs[0].id]) == UpsertReport(deleted=count)
    assert docs[0].id not in built.document_ids()
    with pytest.raises(TypeError, match="not one string"):
        built.delete_documents(docs[1].id)
    built.close()


def test_changing_access_updates_metadata_without_re_embedding(index_place: Any) -> None:
    """Access is enforced from the stored columns, so a reclassified document must follow."""
    docs = _small(load_handbook())
    counting = CountingEmbedder(get_embedder())
    built = HandbookIndex.build(docs, **index_place("i"), embedder=counting)
    target = next(d for d in docs if d.access == "internal")
    query = target.title
    assert any(h.chunk.doc_id == target.id for h in search(built, query, user=EMPLOYEE, k=10))
    counting.texts.clear()
    reclassified = replace(target, access="restricted")
    report = built.upsert([reclassified if d.id == target.id else d for d in docs])
    assert report.updated == len(built.all_chunks(doc_id=target.id)) and not counting.texts
    for mode in ("dense", "bm25", "hybrid"):
        hits = search(built, query, user=EMPLOYEE, k=10, mode=mode)
        assert all(hit.chunk.doc_id != target.id for hit in hits)
    assert any(h.chunk.doc_id == target.id for h in search(built, query, user=MANAGER, k=10))
    built.close()


def test_opening_with_another_embedder_names_both_and_the_rebuild_call(
    index: HandbookIndex,
) -> None:
    with pytest.raises(EmbedderMismatchError) as caught:
        HandbookIndex.open(embedder=FakeEmbedder(), **same_place(index))
    message = str(caught.value)
    assert "fake-embed (256 dimensions, fake-1)" in message
    assert str(get_embedder().identity) in message
    assert "HandbookIndex.build(" in message and "rebuild=True" in message
    assert "\n" not in message
    with pytest.raises(EmbedderMismatchError):
        HandbookIndex.build(load_handbook()[:2], embedder=FakeEmbedder(), **same_place(index))


def test_rebuild_replaces_the_index_with_the_new_embedder(index_place: Any) -> None:
    place = index_place("i")
    HandbookIndex.build(_small(load_handbook()), **place).close()
    fake = FakeEmbedder("fake-embed", 16)
    rebuilt = HandbookIndex.build(_small(load_handbook()), embedder=fake, rebuild=True, **place)
    assert rebuilt.last_report is not None and rebuilt.last_report.unchanged == 0
    rebuilt.close()
    assert HandbookIndex.open(embedder=fake, **place).embedder is fake


def test_building_with_other_chunking_asks_for_a_rebuild(index: HandbookIndex) -> None:
    with pytest.raises(
        IndexMismatchError, match=r"chunks with .*headings.*, not .*fixed.*rebuild=True"
    ):
        HandbookIndex.build(load_handbook(), strategy="fixed", **same_place(index))


def test_opening_a_missing_index_says_how_to_build(index_place: Any) -> None:
    with pytest.raises(IndexNotFoundError, match=r"No index at .*HandbookIndex.build\("):
        HandbookIndex.open(**index_place("nothing"))


def test_opening_a_foreign_file_says_how_to_build(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_bytes(b"")
    with pytest.raises(IndexMismatchError, match="not a Handbook index"):
        HandbookIndex.open(foreign)
    assert issubclass(IndexNotFoundError, FileNotFoundError)
    assert issubclass(IndexMismatchError, CourseLibError)


def test_the_default_path_is_in_the_work_directory() -> None:
    from course_lib.settings import get_settings

    path = default_index_path("lesson")
    assert path.name == "lesson.sqlite" and path.parent.name == "indexes"
    assert get_settings().work_dir.resolve() in path.parents


def test_reading_one_chunk_checks_the_readers_clearance(index: HandbookIndex) -> None:
    restricted = next(c for c in index.all_chunks() if c.access == "restricted")
    assert index.chunk(restricted.id, user=MANAGER) == restricted
    with pytest.raises(AccessDeniedError, match=r"'e1' .* may not read chunk .*restricted"):
        index.chunk(restricted.id, user=EMPLOYEE)
    with pytest.raises(KeyError, match="Search again"):
        index.chunk("no-such-doc:0:000000000000", user=MANAGER)


def test_team_and_version_filters_apply_in_every_mode(index: HandbookIndex) -> None:
    for mode in ("dense", "bm25", "hybrid"):
        hits = search(index, "access and on-call", user=MANAGER, k=8, mode=mode, teams=["sre"])
        assert hits and all(hit.chunk.team == "sre" for hit in hits)
        hits = search(index, "policy changes", user=MANAGER, k=8, mode=mode, version=2)
        assert hits and all(hit.chunk.version == 2 for hit in hits)
        both = search(
            index, "deploy", user=MANAGER, k=5, mode=mode, teams={"platform", "sre"}, version=1
        )
        assert all(h.chunk.team in {"platform", "sre"} and h.chunk.version == 1 for h in both)
        assert search(index, "deploy", user=MANAGER, mode=mode, teams=[]) == []
    dense = search(index, "leave", user=MANAGER, k=5, mode="dense", teams=["people"])
    assert len(dense) == 5  # filtered inside the query: still k results


def test_an_index_object_serves_several_threads(index: HandbookIndex) -> None:
    results: dict[int, list[str]] = {}

    def work(number: int) -> None:
        hits = search(index, "annual leave days", user=EMPLOYEE, k=3)
        results[number] = [hit.chunk.id for hit in hits]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len({tuple(r) for r in results.values()}) == 1


def test_another_connections_write_refreshes_bm25(index_place: Any) -> None:
    """BM25 is rebuilt from the chunks table whenever the generation moved on."""
    docs = _small(load_handbook())
    place = index_place("i")
    reader = HandbookIndex.build(docs, **place)
    assert search(reader, "kettle descaling", user=MANAGER, mode="bm25") == []
    writer = HandbookIndex.open(**place)
    note = replace(docs[0], id="kettle-note", title="Kettle note", text="Kettle descaling rota.\n")
    writer.upsert([note], delete_missing=False)
    hits = search(reader, "kettle descaling", user=MANAGER, mode="bm25")
    assert [hit.chunk.doc_id for hit in hits] == ["kettle-note"]
    writer.close()
    reader.close()


# --- Postgres only: where the two sides cannot behave the same, each fails clearly.


def test_an_unreachable_postgres_is_one_line_naming_the_fix_and_no_password(
    tmp_path: Path,
) -> None:
    # A made-up password, and no server at that socket folder.
    url = f"postgresql://reader:s3cret-pw@/postgres?host={tmp_path}"  # pragma: allowlist secret
    with pytest.raises(EngineUnavailableError) as caught:
        HandbookIndex.open(url)
    message = str(caught.value)
    assert "./run services up" in message and "COURSE_VECTOR_STORE_URL" in message
    assert "s3cret-pw" not in message and "reader:***@" in message
    assert "\n" not in message
    assert issubclass(EngineUnavailableError, ConnectionError)


def test_an_index_name_on_postgres_must_be_an_identifier(postgres_url: str) -> None:
    with pytest.raises(ValueError, match="lower-case identifier"):
        HandbookIndex.open(postgres_url, name="Robert'); DROP TABLE students;--")


def test_the_setting_moves_default_indexes_to_postgres(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from course_lib.settings import get_settings

    monkeypatch.setenv("COURSE_VECTOR_STORE_URL", postgres_url)
    get_settings.cache_clear()
    try:
        built = HandbookIndex.build(_small(load_handbook()), name="from_setting", rebuild=True)
        assert built.backend == "postgres" and built.path is None
        assert "from_setting" in repr(built) and len(built) > 0
        built.close()
    finally:
        monkeypatch.delenv("COURSE_VECTOR_STORE_URL")
        get_settings.cache_clear()


def test_both_sides_return_the_same_hits(
    tmp_path: Path, postgres_url: str, handbook: list[HandbookDocument]
) -> None:
    """A behaviour difference between sqlite-vec and pgvector fails here, mode by mode."""
    docs = _small(handbook)
    sqlite_side = HandbookIndex.build(docs, path=tmp_path / "left.sqlite")
    postgres_side = HandbookIndex.build(docs, path=postgres_url, name="both_sides", rebuild=True)
    for query in ("How many days of leave?", "security incident report", "kettle"):
        for mode in ("dense", "bm25", "hybrid"):
            left = search(sqlite_side, query, user=EMPLOYEE, k=5, mode=mode)
            right = search(postgres_side, query, user=EMPLOYEE, k=5, mode=mode)
            assert [h.chunk.id for h in left] == [h.chunk.id for h in right], (query, mode)
            assert np.allclose([h.score for h in left], [h.score for h in right], atol=1e-5)
    sqlite_side.close()
    postgres_side.close()
