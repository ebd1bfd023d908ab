"""Content-addressed artifacts, each behaviour run on a local folder and on an S3 API.

``object_store_url`` is a folder of the test's own, or a prefix of its own in a bucket of the
worker's S3 emulator (moto's server, over HTTP, through s3fs as for a real bucket).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from course_lib.artifacts import ArtifactRef, ArtifactStore
from course_lib.errors import ArtifactError, ArtifactNotFoundError, EngineUnavailableError


def test_bytes_are_stored_once_under_their_hash(object_store_url: str) -> None:
    store = ArtifactStore(object_store_url)
    first = store.put_bytes(b"model weights v1")
    again = store.put_bytes(b"model weights v1")
    assert first.sha256 == hashlib.sha256(b"model weights v1").hexdigest()
    assert (first.stored, again.stored) == (True, False)
    assert first.size == len(b"model weights v1")
    assert store.get_bytes(first.sha256) == b"model weights v1"
    assert list(store.digests()) == [first.sha256]
    assert store.size_on_store() == first.size


def test_json_values_share_an_artifact_in_any_key_order(object_store_url: str) -> None:
    store = ArtifactStore(object_store_url)
    a = store.put_json({"recall@5": 0.8, "questions": 60})
    b = store.put_json({"questions": 60, "recall@5": 0.8})
    assert a.sha256 == b.sha256 and not b.stored
    assert store.get_json(a.sha256) == {"questions": 60, "recall@5": 0.8}


def test_files_and_tags(object_store_url: str, tmp_path: Path) -> None:
    store = ArtifactStore(object_store_url)
    model = tmp_path / "model.bin"
    model.write_bytes(b"\x00\x01" * 1000)
    v1 = store.put_file(model)
    store.tag("classifier/production", v1)
    assert store.resolve("classifier/production") == v1.sha256
    v2 = store.put_bytes(b"better weights")
    store.tag("classifier/production", v2.sha256)  # a tag moves; the old bytes stay
    assert store.resolve("classifier/production") == v2.sha256
    assert store.exists(v1.sha256)


def test_a_second_store_on_the_same_url_sees_everything(object_store_url: str) -> None:
    ref = ArtifactStore(object_store_url).put_bytes(b"shared")
    ArtifactStore(object_store_url).tag("latest", ref)
    reader = ArtifactStore(object_store_url)
    assert reader.get_bytes(reader.resolve("latest")) == b"shared"


def test_missing_artifacts_and_tags_say_what_to_do(object_store_url: str) -> None:
    store = ArtifactStore(object_store_url)
    absent = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(ArtifactNotFoundError, match="digests"):
        store.get_bytes(absent)
    with pytest.raises(ArtifactNotFoundError, match="tag an artifact first"):
        store.resolve("nothing-here")
    with pytest.raises(ArtifactNotFoundError, match="not in"):
        store.tag("x", absent)
    assert not store.exists(absent)


def test_bad_names_and_values_are_refused_with_a_clear_message(object_store_url: str) -> None:
    store = ArtifactStore(object_store_url)
    for digest in ("abc", "G" * 64, None):
        with pytest.raises(ArtifactError, match="SHA-256"):
            store.get_bytes(digest)  # type: ignore[arg-type]
    for tag in ("", "Upper", "a/../b", "/abs", "a b"):
        with pytest.raises(ArtifactError, match="tag"):
            store.resolve(tag)
    with pytest.raises(ArtifactError, match="bytes"):
        store.put_bytes("text")  # type: ignore[arg-type]
    with pytest.raises(ArtifactError, match="plain JSON"):
        store.put_json({"x": float("inf")})


def test_altered_bytes_are_caught_on_read(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    ref = store.put_bytes(b"original")
    Path(ref.url).write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match="altered"):
        store.get_bytes(ref.sha256)


def test_local_writes_leave_no_partial_files(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    for n in range(5):
        store.put_bytes(f"artifact {n}".encode())
    leftovers = [p for p in (tmp_path / "artifacts").rglob("*") if ".partial-" in p.name]
    assert leftovers == []


def test_the_default_is_the_work_directory_and_the_setting_moves_it(
    s3_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from course_lib.settings import get_settings
    from course_lib.workdir import work_path

    assert ArtifactStore().url == str(work_path("artifacts"))
    monkeypatch.setenv("COURSE_OBJECT_STORE_URL", "s3://course-artifacts/from-setting")
    get_settings.cache_clear()
    try:
        store = ArtifactStore()
        ref = store.put_bytes(b"via the setting")
        assert ref.url.startswith("s3://course-artifacts/from-setting/objects/sha256/")
    finally:
        monkeypatch.delenv("COURSE_OBJECT_STORE_URL")
        get_settings.cache_clear()


def test_an_object_store_that_does_not_answer_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("s3fs")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(EngineUnavailableError, match=r"\./run services up"):
        ArtifactStore("s3://course-artifacts/nowhere", connect_timeout=1, retries=0)


def test_an_unknown_protocol_is_one_clear_line() -> None:
    with pytest.raises(ArtifactError, match="fsspec cannot open"):
        ArtifactStore("nosuchprotocol://bucket/x")


def test_refs_are_plain_values() -> None:
    ref = ArtifactRef("a" * 64, 3, "/x", stored=False)
    assert ref == ArtifactRef("a" * 64, 3, "/x", stored=False)
