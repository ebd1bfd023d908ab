"""Lineage: which data, prompt and model produced an evaluation result.

Every result is recorded with what made it: the dataset version (and file) it was computed
on, the prompt as ``name@version``, the model id that answered, how many rows were scored,
and who ran it. A record is named by its content (``res-`` and 12 hex digits of the SHA-256 of
everything but the time), so running the same evaluation twice gives the same id, and any
difference (data, prompt, model, value) gives a new one.

>>> log = LineageLog(work_path("lineage.jsonl"), store=store)
>>> record = log.record(metric="accuracy", value=0.58, dataset=v1, split="test",
...                     prompt="ticket-routing@1", model="local-small", created_by="nightly")
>>> log.trace(record.result_id).describe()

The log is JSON Lines, append-only. OpenLineage describes the same links (a run of a job that
read datasets) as events for a lineage server; this is its smallest useful core.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.data.versions import SHORT, DatasetVersion
from course_lib.errors import DataVersionError, LineageError

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.data.store import DatasetStore

__all__ = ["PROMPT_REF", "EvalRecord", "Lineage", "LineageLog"]

PROMPT_REF = re.compile(r"[A-Za-z0-9][\w.-]*@[\w.-]+")
"""A prompt reference: ``name@version``, e.g. ``ticket-routing@1`` or ``handbook-answer@v3``."""


@dataclass(frozen=True)
class EvalRecord:
    """One evaluation result and everything that produced it."""

    result_id: str
    metric: str
    value: float
    dataset: str
    """The full version reference, ``name@<64 hex>``."""
    split: str | None
    prompt: str | None
    model: str
    rows: int | None
    created_by: str
    created_at: str
    note: str = ""

    @property
    def dataset_ref(self) -> str:
        name, _, version = self.dataset.partition("@")
        return f"{name}@{version[:SHORT]}"

    def row(self) -> dict[str, Any]:
        """The record as one table row, with the short dataset reference."""
        data = asdict(self)
        data["dataset"] = self.dataset_ref
        return data


@dataclass(frozen=True)
class Lineage:
    """A result traced back: its record, its dataset version, and that version's ancestors."""

    record: EvalRecord
    dataset: DatasetVersion | None
    ancestors: tuple[DatasetVersion, ...] = ()

    def describe(self) -> str:
        """The lineage in a few lines of text."""
        r = self.record
        lines = [
            f"{r.result_id}: {r.metric} = {r.value:.3f}"
            + (f" on {r.rows} rows" if r.rows is not None else ""),
            f"  data:   {r.dataset_ref}" + (f" (file {r.split!r})" if r.split else ""),
            f"  prompt: {r.prompt or '(none)'}",
            f"  model:  {r.model}",
        ]
        if self.dataset is not None:
            d = self.dataset
            lines.append(f"  made by {d.created_by}: {d.message or '(no message)'}")
            chain = " <- ".join(v.ref for v in self.ancestors)
            if chain:
                lines.append(f"  derived from: {chain}")
        return "\n".join(lines)


class LineageLog:
    """An append-only log of evaluation results and their lineage, in a JSON Lines file.

    Args:
        path: the log file (created on the first record).
        store: the dataset store the records point into; with it, a record naming a version
            the store does not hold is refused, and :meth:`trace` returns manifests.
    """

    def __init__(self, path: str | os.PathLike[str], *, store: DatasetStore | None = None):
        self.path = Path(path)
        self.store = store

    def record(
        self,
        *,
        metric: str,
        value: float,
        dataset: DatasetVersion | str,
        model: str,
        created_by: str,
        prompt: str | None = None,
        split: str | None = None,
        rows: int | None = None,
        note: str = "",
        created_at: dt.datetime | None = None,
    ) -> EvalRecord:
        """Appends one result (unless an identical one is logged) and returns its record."""
        full = self._dataset(dataset)
        _require(metric, "metric", "e.g. 'accuracy'")
        _require(model, "model", "the model id that answered, e.g. result.model")
        _require(created_by, "created_by", "who or what ran the evaluation")
        if prompt is not None and not PROMPT_REF.fullmatch(prompt):
            raise LineageError(
                f"Prompt {prompt!r} is not a versioned reference; record it as 'name@version' "
                "(e.g. 'ticket-routing@1'), or prompt=None when no prompt was involved."
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise LineageError(f"The value of {metric!r} must be a finite number; got {value!r}.")
        content = {
            "metric": metric,
            "value": float(value),
            "dataset": full,
            "split": split,
            "prompt": prompt,
            "model": model,
            "rows": rows,
            "created_by": created_by,
            "note": note,
        }
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8"))
        result_id = "res-" + digest.hexdigest()[:SHORT]
        for existing in self:
            if existing.result_id == result_id:
                return existing
        when = (created_at or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
        record = EvalRecord(
            result_id=result_id,
            metric=metric,
            value=float(value),
            dataset=full,
            split=split,
            prompt=prompt,
            model=model,
            rows=rows,
            created_by=created_by,
            created_at=when,
            note=note,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(asdict(record), sort_keys=True) + "\n")
        return record

    def __iter__(self) -> Iterator[EvalRecord]:
        if not self.path.exists():
            return
        names = {f.name for f in fields(EvalRecord)}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                data = json.loads(line)
                yield EvalRecord(**{k: v for k, v in data.items() if k in names})

    def get(self, result_id: str) -> EvalRecord:
        """The record of ``result_id`` (a unique prefix is enough)."""
        matches = [r for r in self if r.result_id.startswith(str(result_id))]
        if len(matches) != 1:
            known = ", ".join(r.result_id for r in self) or "none yet"
            what = "several results" if matches else "no result"
            raise LineageError(f"{what.capitalize()} match {result_id!r}; recorded: {known}.")
        return matches[0]

    def trace(self, result_id: str) -> Lineage:
        """From a result back to its data version, that version's ancestors, prompt and model."""
        record = self.get(result_id)
        if self.store is None:
            return Lineage(record, None)
        dataset = self.store.get(record.dataset)
        ancestors = []
        current = dataset
        while current.parent is not None:
            current = self.store.get(f"{current.name}@{current.parent}")
            ancestors.append(current)
        return Lineage(record, dataset, tuple(ancestors))

    def frame(self) -> pd.DataFrame:
        """Every record as a table, oldest first, with short dataset references."""
        import pandas as pd

        columns = [f.name for f in fields(EvalRecord)]
        return pd.DataFrame([r.row() for r in self], columns=columns)

    def results(
        self, *, dataset: str | None = None, prompt: str | None = None, model: str | None = None
    ) -> pd.DataFrame:
        """The records that used this dataset version, prompt and/or model."""
        frame = self.frame()
        if dataset is not None:
            wanted = self._dataset(dataset) if self.store is not None else dataset
            name, _, version = wanted.partition("@")
            frame = frame[frame["dataset"] == f"{name}@{version[:SHORT]}"]
        if prompt is not None:
            frame = frame[frame["prompt"] == prompt]
        if model is not None:
            frame = frame[frame["model"] == model]
        return frame.reset_index(drop=True)

    def _dataset(self, dataset: DatasetVersion | str) -> str:
        """The full ``name@<64 hex>`` of ``dataset``, checked against the store if there is one."""
        if isinstance(dataset, DatasetVersion):
            return f"{dataset.name}@{dataset.version}"
        if not isinstance(dataset, str) or "@" not in dataset:
            raise LineageError(
                f"Record the dataset as a version ('tickets@3f2a9c1b2d4e' or the object "
                f"store.commit returned), not {dataset!r}: a name alone says nothing about "
                "which rows were scored."
            )
        if self.store is None:
            return dataset
        try:
            version = self.store.get(dataset)
        except DataVersionError as exc:
            raise LineageError(f"Cannot record a result on {dataset!r}: {exc}") from exc
        return f"{version.name}@{version.version}"


def _require(value: Any, name: str, example: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise LineageError(f"A lineage record needs `{name}` ({example}); got {value!r}.")
