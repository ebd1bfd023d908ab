"""Plausible wrong answers to lesson 4.3's exercises; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

# --- 4.3.1 record_rules ------------------------------------------------------------------------


def _schema(teams, **overrides):
    """The reference's rules, with some replaced (``None`` drops a column's rule)."""
    import pandera.pandas as pa

    def rule(test, error):
        return pa.Check(test, element_wise=True, error=error)

    columns = {
        "id": pa.Column(checks=rule(lambda v: isinstance(v, str) and v.islower(), "id")),
        "title": pa.Column(checks=rule(lambda v: isinstance(v, str) and v.strip(), "title")),
        "team": pa.Column(checks=pa.Check.isin(list(teams))),
        "access": pa.Column(checks=pa.Check.isin(["public", "internal", "restricted"])),
        "version": pa.Column(
            checks=rule(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "v")
        ),
        "updated": pa.Column(
            checks=rule(lambda v: isinstance(v, str) and _iso(v), "updated is a date")
        ),
        "words": pa.Column(checks=pa.Check.ge(20)),
        "size_bytes": pa.Column(checks=pa.Check.le(100_000)),
    }
    for name, column in overrides.items():
        if column is None:
            columns.pop(name)
        else:
            columns[name] = column
    return pa.DataFrameSchema(
        columns,
        checks=[pa.Check(lambda df: df["id"] == df["file"].str.removesuffix(".md"))],
    )


def _iso(value: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _the_stub_rules(teams):
    import pandera.pandas as pa

    return pa.DataFrameSchema({"id": pa.Column(), "team": pa.Column()})


def _only_the_values_seen_in_drop_0(teams):
    import pandera.pandas as pa

    return _schema(
        teams,
        team=pa.Column(checks=pa.Check.notin(["SRE"])),
        access=pa.Column(checks=pa.Check.notin(["confidential"])),
        version=pa.Column(checks=pa.Check.notin(["two"])),
        updated=pa.Column(checks=pa.Check.notin(["2026-13-01"])),
    )


def _size_limit_just_under_drop_0s_huge_file(teams):
    import pandera.pandas as pa

    return _schema(teams, size_bytes=pa.Column(checks=pa.Check.le(239_000)))


def _too_strict_on_length(teams):
    import pandera.pandas as pa

    return _schema(teams, words=pa.Column(checks=pa.Check.ge(400)))


def _forgets_the_date(teams):
    return _schema(teams, updated=None)


def _date_by_pattern_only(teams):
    import re

    import pandera.pandas as pa

    return _schema(
        teams,
        updated=pa.Column(
            checks=pa.Check(
                lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", v),
                element_wise=True,
            )
        ),
    )


def _version_any_number(teams):
    import pandera.pandas as pa

    return _schema(
        teams,
        version=pa.Column(checks=pa.Check(lambda v: isinstance(v, int | float), element_wise=True)),
    )


def _team_in_any_case(teams):
    import pandera.pandas as pa

    known = {team.lower() for team in teams}
    return _schema(
        teams,
        team=pa.Column(checks=pa.Check(lambda v: str(v).lower() in known, element_wise=True)),
    )


def _a_check_that_raises_on_text(teams):
    import pandera.pandas as pa

    return _schema(
        teams, version=pa.Column(checks=pa.Check(lambda v: int(v) >= 1, element_wise=True))
    )


def _calls_record_schema(teams):
    from course_lib.pipelines import record_schema

    return record_schema(teams)


_LESSON: dict[str, Any] = {}


def _the_schema_made_earlier(teams):
    """What the notebook holds in ``schema`` (and ``pipeline.schema``): the course's rules."""
    if "schema" not in _LESSON:
        from course_lib import pipelines

        _LESSON["schema"] = pipelines.record_schema(teams)
    return _LESSON["schema"]


def _returns_the_lessons_schema_object(teams):
    return _the_schema_made_earlier(teams)


def _returns_a_copy_of_the_course_schema(teams):
    import copy

    return copy.deepcopy(_the_schema_made_earlier(teams))


def _the_course_schema_with_a_rule_added(teams):
    import pandera.pandas as pa

    schema = _the_schema_made_earlier(teams)
    return schema.update_column("title", checks=[pa.Check(lambda v: len(v) > 0, element_wise=True)])


def _returns_a_dict_of_rules(teams):
    return {"team": list(teams)}


# --- 4.3.2 plan_changes ------------------------------------------------------------------------


def _deletes_quarantined_documents(loaded, incoming, present):
    upsert = {d for d, h in incoming.items() if loaded.get(d) != h}
    return upsert, {d for d in loaded if d not in incoming}


def _upserts_everything(loaded, incoming, present):
    return set(incoming), {d for d in loaded if d not in present and d not in incoming}


def _never_deletes(loaded, incoming, present):
    return {d for d, h in incoming.items() if loaded.get(d) != h}, set()


def _compares_ids_not_hashes(loaded, incoming, present):
    return {d for d in incoming if d not in loaded}, {d for d in loaded if d not in present}


def _deletes_what_is_not_incoming_or_loaded(loaded, incoming, present):
    upsert = {d for d, h in incoming.items() if loaded.get(d) != h}
    return upsert, {d for d in present if d not in incoming and d not in loaded}


def _returns_only_the_upserts(loaded, incoming, present):
    return {d for d, h in incoming.items() if loaded.get(d) != h}


def _calls_plan_load(loaded, incoming, present):
    from course_lib.pipelines import plan_load

    plan = plan_load(loaded, incoming, present)
    return set(plan.upsert), set(plan.delete)


# --- 4.3.3 consume -----------------------------------------------------------------------------


def _checkpoint_first(log, checkpoint, load, batch_size):
    while True:
        batch = log.read(checkpoint.read(), batch_size)
        if not batch:
            return
        checkpoint.write(batch[-1].seq + 1)
        load(batch)


def _never_saves_the_checkpoint(log, checkpoint, load, batch_size):
    start = checkpoint.read()
    while True:
        batch = log.read(start, batch_size)
        if not batch:
            return
        load(batch)
        start = batch[-1].seq + 1


def _counts_from_start_plus_batch_size(log, checkpoint, load, batch_size):
    while True:
        start = checkpoint.read()
        batch = log.read(start, batch_size)
        if not batch:
            return
        load(batch)
        checkpoint.write(start + len(batch))


def _swallows_the_crash(log, checkpoint, load, batch_size):
    while True:
        batch = log.read(checkpoint.read(), batch_size)
        if not batch:
            return
        try:
            load(batch)
        except Exception:  # "log it and move on"
            print("batch failed; skipping it")
        checkpoint.write(batch[-1].seq + 1)


def _one_event_at_a_time(log, checkpoint, load, batch_size):
    while True:
        batch = log.read(checkpoint.read(), 1)
        if not batch:
            return
        load(batch)
        checkpoint.write(batch[-1].seq + 1)


def _checkpoint_at_the_last_event(log, checkpoint, load, batch_size):
    while True:
        batch = log.read(checkpoint.read(), batch_size)
        if not batch:
            return
        load(batch)
        checkpoint.write(batch[-1].seq)


def _uses_the_library(log, checkpoint, load, batch_size):
    from course_lib.pipelines import MicroBatchLoader

    return MicroBatchLoader(load, log, checkpoint=checkpoint, batch_size=batch_size).run()


WRONG_ANSWERS: dict[str, list[Any]] = {
    "4.3.1": [
        _the_stub_rules,
        _only_the_values_seen_in_drop_0,
        _size_limit_just_under_drop_0s_huge_file,
        _too_strict_on_length,
        _forgets_the_date,
        _date_by_pattern_only,
        _version_any_number,
        _team_in_any_case,
        _a_check_that_raises_on_text,
        _calls_record_schema,
        _returns_the_lessons_schema_object,
        _returns_a_copy_of_the_course_schema,
        _the_course_schema_with_a_rule_added,
        _returns_a_dict_of_rules,
    ],
    "4.3.2": [
        _deletes_quarantined_documents,
        _upserts_everything,
        _never_deletes,
        _compares_ids_not_hashes,
        _deletes_what_is_not_incoming_or_loaded,
        _returns_only_the_upserts,
        _calls_plan_load,
    ],
    "4.3.3": [
        _checkpoint_first,
        _never_saves_the_checkpoint,
        _counts_from_start_plus_batch_size,
        _swallows_the_crash,
        _one_event_at_a_time,
        _checkpoint_at_the_last_event,
        _uses_the_library,
    ],
}
