"""The golden set: its schema, and that every reference answer is backed by the handbook.

An evaluation that grades against a wrong reference teaches the wrong lesson, so each rule a
question type promises (quotes that exist, numbers that come from them, restricted documents
only where expected, stale facts that really are stale) is checked against the documents. The
``paraphrase`` slice also promises to be asked in other words than the handbook's, which is
measured on the wording of each question.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest
import Stemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

import course_lib.datasets.golden as golden_module
from course_lib.datasets import (
    GoldenQuestion,
    GoldenSource,
    HandbookDocument,
    load_golden_set,
    load_handbook,
    split_sections,
)
from course_lib.datasets.errors import DatasetError
from course_lib.datasets.golden import (
    FRAME_COLUMNS,
    GOLDEN_DIR,
    GOLDEN_SPLITS,
    GOLDEN_TAGS,
    GOLDEN_TYPES,
)
from course_lib.evaluation.facts import answer_numbers as _numbers

# A paraphrase question may share at most this share of its content stems with its quotes, and
# at most this share with the titles of its documents. Chosen from the other answerable
# questions (median share 0.25 with their quotes, about half above 0.25); the datasheet gives
# both distributions.
PARAPHRASE_MAX_SHARE = 0.25
_STEMMER = Stemmer.Stemmer("english")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _normalise_question(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def _section_texts(doc: HandbookDocument, heading: str) -> list[str]:
    return [_collapse(s.text) for s in split_sections(doc.text) if s.heading == heading]


def _content_stems(text: str) -> set[str]:
    """Snowball stems of the content words: letter runs of two or more, minus English stop words."""
    words = re.findall(r"[a-z]+", text.lower())
    return set(_STEMMER.stemWords([w for w in words if len(w) > 1 and w not in ENGLISH_STOP_WORDS]))


def _shared(question: str, texts: Iterable[str]) -> tuple[float, set[str]]:
    """The share of the question's content stems that occur in ``texts``, and those stems."""
    asked = _content_stems(question)
    assert asked, f"no content words in {question!r}"
    shared = asked & set().union(*(_content_stems(text) for text in texts))
    return len(shared) / len(asked), shared


def _schema() -> pa.DataFrameSchema:
    def list_of_str(series: pd.Series) -> pd.Series:
        return series.map(lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))

    def distinct(series: pd.Series) -> pd.Series:
        return series.map(lambda v: len(v) == len(set(v)))

    return pa.DataFrameSchema(
        {
            "id": pa.Column(str, pa.Check.str_matches(r"^(ops|org|para)-\d{3}$"), unique=True),
            "question": pa.Column(str, pa.Check.str_length(min_value=10)),
            "type": pa.Column(str, pa.Check.isin(list(GOLDEN_TYPES))),
            "split": pa.Column(str, pa.Check.isin(list(GOLDEN_SPLITS))),
            "answer": pa.Column(str, pa.Check.str_length(min_value=2)),
            "doc_ids": pa.Column(
                object,
                [pa.Check(list_of_str, error="a list of doc ids"), pa.Check(distinct)],
            ),
            "sources": pa.Column(object),
            "stale_answer": pa.Column(str, nullable=True),
            "stale_source": pa.Column(object, nullable=True),
            "tags": pa.Column(
                object,
                [
                    pa.Check(list_of_str, error="a list of tags"),
                    pa.Check(distinct),
                    pa.Check(
                        lambda s: s.map(lambda v: set(v) <= set(GOLDEN_TAGS)), error="known tags"
                    ),
                ],
            ),
        },
        checks=[
            pa.Check(lambda df: df["id"].is_monotonic_increasing, error="sorted by id"),
            pa.Check(
                lambda df: df["stale_answer"].notna() == (df["type"] == "version_sensitive"),
                error="stale_answer only for version_sensitive questions",
            ),
        ],
        strict=True,
        ordered=True,
    )


@pytest.fixture(scope="module")
def golden() -> list[GoldenQuestion]:
    return load_golden_set()


@pytest.fixture(scope="module")
def current() -> dict[str, HandbookDocument]:
    return {doc.id: doc for doc in load_handbook("current")}


@pytest.fixture(scope="module")
def v1() -> dict[str, HandbookDocument]:
    return {doc.id: doc for doc in load_handbook("v1")}


@pytest.fixture(scope="module")
def paraphrases(golden: list[GoldenQuestion]) -> list[GoldenQuestion]:
    return [q for q in golden if "paraphrase" in q.tags]


@pytest.fixture
def golden_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty golden folder that the loader reads instead of the bundled one."""
    monkeypatch.setattr(golden_module, "GOLDEN_DIR", tmp_path)
    golden_module._load_all.cache_clear()
    yield tmp_path
    golden_module._load_all.cache_clear()


def _bundled_record() -> dict[str, Any]:
    """The first record of the bundled golden set, as the JSON object it is stored as."""
    first = sorted(GOLDEN_DIR.glob("*.jsonl"))[0]
    record: dict[str, Any] = json.loads(first.read_text(encoding="utf-8").splitlines()[0])
    return record


def _of_type(golden: Iterable[GoldenQuestion], kind: str) -> list[GoldenQuestion]:
    return [q for q in golden if q.type == kind]


def test_the_frame_matches_the_schema() -> None:
    frame = load_golden_set(as_frame=True)
    _schema().validate(frame, lazy=True)
    assert tuple(frame.columns) == FRAME_COLUMNS


def test_the_frame_has_one_row_per_question_with_the_cited_doc_ids(
    golden: list[GoldenQuestion],
) -> None:
    frame = load_golden_set("test", as_frame=True)
    test = load_golden_set("test")
    assert frame["id"].tolist() == [q.id for q in test]
    assert frame["doc_ids"].tolist() == [list(q.doc_ids) for q in test]
    assert len(load_golden_set(as_frame=True)) == len(golden)


def test_there_are_at_least_200_questions_with_unique_ids_sorted(
    golden: list[GoldenQuestion],
) -> None:
    ids = [q.id for q in golden]
    assert len(golden) >= 200
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_records_are_typed_and_frozen(golden: list[GoldenQuestion]) -> None:
    question = next(q for q in golden if q.type == "multi_doc")
    assert isinstance(question.sources, tuple)
    assert all(isinstance(s, GoldenSource) for s in question.sources)
    assert len(question.doc_ids) >= 2
    with pytest.raises(AttributeError):
        question.answer = "changed"  # type: ignore[misc]


def test_splits_partition_the_set_and_share_no_question(golden: list[GoldenQuestion]) -> None:
    dev, test = load_golden_set("dev"), load_golden_set("test")
    assert len(dev) + len(test) == len(golden)
    assert {q.split for q in dev} == {"dev"} and {q.split for q in test} == {"test"}
    shared = {_normalise_question(q.question) for q in dev} & {
        _normalise_question(q.question) for q in test
    }
    assert not shared, sorted(shared)[:3]


@pytest.mark.parametrize("split", GOLDEN_SPLITS)
def test_each_split_contains_every_type(split: str) -> None:
    assert {q.type for q in load_golden_set(split)} == set(GOLDEN_TYPES)


def test_an_unknown_split_names_the_allowed_ones() -> None:
    with pytest.raises(DatasetError, match=r"Unknown split 'train'.*'dev', 'test'"):
        load_golden_set("train")


def test_an_unknown_tag_names_the_known_ones() -> None:
    with pytest.raises(DatasetError, match=r"Unknown tag 'slang'.*'paraphrase'"):
        load_golden_set("dev", tag="slang")


def test_a_tag_selects_its_slice_within_a_split(golden: list[GoldenQuestion]) -> None:
    for split in GOLDEN_SPLITS:
        sliced = load_golden_set(split, tag="paraphrase")
        assert sliced == [q for q in golden if q.split == split and "paraphrase" in q.tags]
        frame = load_golden_set(split, tag="paraphrase", as_frame=True)
        assert frame["id"].tolist() == [q.id for q in sliced]
        assert frame["tags"].tolist() == [["paraphrase"]] * len(sliced)


def test_every_bundled_record_lists_its_tags_last() -> None:
    """One file format everywhere, though the loader also reads records without ``tags``."""
    for path in sorted(GOLDEN_DIR.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            assert list(json.loads(line))[-1] == "tags", f"{path.name} line {number}"


def test_a_record_without_tags_belongs_to_no_slice(golden_dir: Path) -> None:
    record = _bundled_record()
    del record["tags"]
    (golden_dir / "area.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    [question] = load_golden_set()
    assert question.tags == ()
    assert load_golden_set(tag="paraphrase") == []
    assert load_golden_set(as_frame=True)["tags"].tolist() == [[]]


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (["slang"], r"unknown tags \['slang'\]; the known ones are \['paraphrase'\]"),
        ("paraphrase", "tags must be a list of strings"),
        (["paraphrase", "paraphrase"], "tags repeat"),
    ],
)
def test_bad_tags_in_a_record_are_refused(golden_dir: Path, tags: object, message: str) -> None:
    record = _bundled_record() | {"tags": tags}
    (golden_dir / "area.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=rf"area\.jsonl line 1: {message}"):
        load_golden_set()


def test_every_cited_document_exists(
    golden: list[GoldenQuestion], current: dict[str, HandbookDocument]
) -> None:
    missing = {(q.id, s.doc_id) for q in golden for s in q.sources if s.doc_id not in current}
    assert not missing, sorted(missing)


def test_every_quote_occurs_in_its_named_section(
    golden: list[GoldenQuestion], current: dict[str, HandbookDocument]
) -> None:
    """Whitespace is collapsed, nothing else: a document edit that rewords a quote fails here."""
    wrong = []
    for q in golden:
        for source in q.sources:
            texts = _section_texts(current[source.doc_id], source.section)
            if not any(_collapse(source.quote) in text for text in texts):
                wrong.append((q.id, source.doc_id, source.section, bool(texts)))
    assert not wrong, f"(id, doc, section, section exists): {wrong}"


def test_every_number_in_an_answer_occurs_in_one_of_its_quotes(
    golden: list[GoldenQuestion],
) -> None:
    unsupported = []
    for q in golden:
        if not q.sources:
            continue
        quoted = set().union(*(_numbers(s.quote) for s in q.sources))
        extra = _numbers(q.answer) - quoted
        if extra:
            unsupported.append((q.id, sorted(extra)))
    assert not unsupported, unsupported


def test_numbers_compare_as_values() -> None:
    assert _numbers("EUR 5 and 1,200 and v2.14.3") == {"5", "1200", "2.14.3"}
    assert _numbers("EUR 5.00, 1200, 0.30 and 10.0") == {"5", "1200", "0.3", "10"}


def test_only_restricted_questions_cite_restricted_documents(
    golden: list[GoldenQuestion], current: dict[str, HandbookDocument]
) -> None:
    for q in golden:
        restricted = [d for d in q.doc_ids if current[d].access == "restricted"]
        if q.type == "restricted":
            assert restricted, f"{q.id} is 'restricted' but cites no restricted document"
        else:
            assert not restricted, f"{q.id} ({q.type}) cites restricted {restricted}"


def test_unanswerable_questions_have_no_sources(golden: list[GoldenQuestion]) -> None:
    for q in _of_type(golden, "unanswerable"):
        assert q.sources == () and q.doc_ids == (), q.id
        assert not q.answerable
    assert all(q.sources for q in golden if q.answerable)


def test_multi_doc_questions_cite_several_documents(golden: list[GoldenQuestion]) -> None:
    assert all(len(q.doc_ids) >= 2 for q in _of_type(golden, "multi_doc"))


def test_version_sensitive_questions_quote_v1_text_that_is_gone_now(
    golden: list[GoldenQuestion],
    current: dict[str, HandbookDocument],
    v1: dict[str, HandbookDocument],
) -> None:
    for q in _of_type(golden, "version_sensitive"):
        stale = q.stale_source
        assert stale is not None and q.stale_answer, q.id
        quote = _collapse(stale.quote)
        old_texts = _section_texts(v1[stale.doc_id], stale.section)
        assert any(quote in text for text in old_texts), (q.id, stale.section)
        assert v1[stale.doc_id].version < current[stale.doc_id].version, q.id
        assert quote not in _collapse(current[stale.doc_id].text), q.id


def test_other_types_have_no_stale_fields(golden: list[GoldenQuestion]) -> None:
    for q in golden:
        if q.type != "version_sensitive":
            assert q.stale_source is None and q.stale_answer is None, q.id


# -- the paraphrase slice ------------------------------------------------------------------------


def test_content_stems_drop_stop_words_and_fold_word_forms() -> None:
    assert _content_stems("How much can I spend on hotels?") == {"spend", "hotel"}
    assert _content_stems("Hotel spending, parcel-api") == {"hotel", "spend", "parcel", "api"}


def test_the_paraphrase_slice_is_answerable_balanced_and_broad(
    paraphrases: list[GoldenQuestion], current: dict[str, HandbookDocument]
) -> None:
    assert all(q.id.startswith("para-") for q in paraphrases)
    assert {q.type for q in paraphrases} == {"fact", "multi_doc"}
    counts = {
        split: Counter(q.type for q in paraphrases if q.split == split) for split in GOLDEN_SPLITS
    }
    every_team = {doc.team for doc in current.values()}
    for split, count in counts.items():
        assert count.total() >= 32, (split, count)
        assert 2 <= count["multi_doc"] < count["fact"] / 3, (split, count)  # mostly one passage
        teams = {current[d].team for q in paraphrases if q.split == split for d in q.doc_ids}
        assert teams == every_team, (split, sorted(every_team - teams))
    for kind in ("fact", "multi_doc"):
        assert abs(counts["dev"][kind] - counts["test"][kind]) <= 1, kind
    assert len({d for q in paraphrases for d in q.doc_ids}) >= 40


def test_paraphrase_questions_avoid_the_words_of_their_quotes_and_titles(
    paraphrases: list[GoldenQuestion], current: dict[str, HandbookDocument]
) -> None:
    too_close = []
    for q in paraphrases:
        in_quotes, quoted = _shared(q.question, (s.quote for s in q.sources))
        in_titles, titled = _shared(q.question, (current[d].title for d in q.doc_ids))
        if in_quotes > PARAPHRASE_MAX_SHARE or in_titles > PARAPHRASE_MAX_SHARE:
            too_close.append((q.id, sorted(quoted), sorted(titled)))
    assert not too_close, f"(id, stems from the quotes, stems from the titles): {too_close}"


def test_the_other_questions_borrow_more_of_their_quotes_words(
    golden: list[GoldenQuestion], paraphrases: list[GoldenQuestion]
) -> None:
    """The contrast the bound rests on: without it, the measure might just be blind."""

    def mean_share(questions: Iterable[GoldenQuestion]) -> float:
        return statistics.fmean(
            _shared(q.question, (s.quote for s in q.sources))[0] for q in questions
        )

    others = [q for q in golden if q.answerable and "paraphrase" not in q.tags]
    assert mean_share(paraphrases) <= mean_share(others) / 2
