"""The support-ticket dataset: its schema, that it reproduces, its balance, and labels that agree
with the company described in COMPANY.md.

The loader and the labels are ``course_lib.datasets.tickets``; the generator is a script of the
repository, ``tools/tickets/build.py``, imported here by path.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest

from course_lib.datasets import tickets as tk
from course_lib.datasets.errors import DatasetError

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "tools" / "tickets" / "build.py"
COMPANY = Path(tk.__file__).parent / "handbook" / "COMPANY.md"
DATASHEET = Path(tk.__file__).with_name("README.md")
TICKETS_HEADING = "## 3. Support tickets"
ISO_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
MIN_SHARE = 0.04


def _import_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tools_tickets_build", BUILD_SCRIPT)
    assert spec and spec.loader, f"{BUILD_SCRIPT} is missing"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


build = _import_build_script()


def _section(title: str) -> str:
    """The text of one ``##`` section of COMPANY.md."""
    text = COMPANY.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"COMPANY.md has no '## {title}' section; update the test to its new layout."
    return match.group(1)


def company_services() -> set[str]:
    """Service ids: the backticked names before the sentence about where production runs."""
    paragraph = _section("Services").split("Production runs on")[0]
    return set(re.findall(r"`([a-z0-9-]+)`", paragraph))


def company_teams() -> set[str]:
    """Team ids: the first column of the teams table."""
    rows = re.findall(r"^\| ([a-z-]+) \|", _section("Engineering teams"), re.M)
    return {row for row in rows if row != "team"}


def datasheet_section() -> str:
    """The support-ticket part of the datasheet: from its heading to the next ``##`` heading."""
    text = DATASHEET.read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(TICKETS_HEADING)}$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{DATASHEET.name} has no '{TICKETS_HEADING}' section; update the test."
    return match.group(1)


def schema() -> pa.DataFrameSchema:
    def parses_as_utc(series: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(series, format="%Y-%m-%dT%H:%M:%SZ", utc=True, errors="coerce")
        return parsed.notna()

    return pa.DataFrameSchema(
        {
            "id": pa.Column(str, pa.Check.str_matches(r"^TCK-\d{4}$"), unique=True),
            "created": pa.Column(
                str,
                [pa.Check.str_matches(ISO_UTC), pa.Check(parses_as_utc, error="not a UTC time")],
            ),
            "channel": pa.Column(str, pa.Check.isin(list(tk.CHANNELS))),
            "reporter_team": pa.Column(str, pa.Check.isin(sorted(company_teams()))),
            "subject": pa.Column(str, pa.Check.str_length(max_value=120)),
            "body": pa.Column(str, pa.Check.str_length(min_value=15)),
            "category": pa.Column(str, pa.Check.isin(list(tk.CATEGORIES))),
            "priority": pa.Column(str, pa.Check.isin(list(tk.PRIORITIES))),
            "service": pa.Column(str, pa.Check.isin(sorted(company_services())), nullable=True),
            "split": pa.Column(str, pa.Check.isin(list(tk.SPLITS))),
        },
        strict=True,
        ordered=True,
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """The committed file, read the way a learner would read it with pandas."""
    return pd.read_json(tk.TICKETS_PATH, lines=True, dtype=False)


@pytest.fixture(scope="module")
def generated() -> tuple[list[dict[str, Any]], dict[str, int]]:
    return build.generate()


def test_committed_tickets_match_the_schema(frame: pd.DataFrame) -> None:
    schema().validate(frame, lazy=True)
    assert len(frame) >= 650


def test_generator_agrees_with_company_md() -> None:
    """The generator's lists of services and teams are the ones COMPANY.md describes."""
    assert set(tk.SERVICES) == company_services()
    assert set(tk.TEAMS) == company_teams()


def test_regenerating_with_the_default_seed_reproduces_the_file_byte_for_byte(
    generated: tuple[list[dict[str, Any]], dict[str, int]],
) -> None:
    tickets, _ = generated
    assert build.to_jsonl(tickets).encode("utf-8") == tk.TICKETS_PATH.read_bytes(), (
        "tickets.jsonl is out of date: run `python tools/tickets/build.py` "
        "and paste the printed tables into the datasheet, course_lib/datasets/README.md."
    )


def test_a_different_seed_gives_different_tickets(
    generated: tuple[list[dict[str, Any]], dict[str, int]],
) -> None:
    tickets, _ = generated
    other = build.build_tickets(seed=tk.DEFAULT_SEED + 1)
    assert len(other) == len(tickets)
    assert [t["body"] for t in other] != [t["body"] for t in tickets]
    assert build.to_jsonl(build.build_tickets(seed=7)) == build.to_jsonl(
        build.build_tickets(seed=7)
    )


def test_lines_have_fixed_keys_and_are_sorted_by_id_and_time() -> None:
    lines = tk.TICKETS_PATH.read_text(encoding="utf-8").splitlines()
    assert all(line.startswith('{"id": "TCK-') for line in lines)
    frame = pd.read_json(tk.TICKETS_PATH, lines=True, dtype=False)
    assert list(frame.columns) == list(tk.FIELDS)
    assert frame["id"].is_monotonic_increasing
    assert frame["created"].is_monotonic_increasing


def test_created_times_cover_about_eight_weeks_of_autumn_2026_in_office_hours(
    frame: pd.DataFrame,
) -> None:
    created = pd.to_datetime(frame["created"], utc=True)
    assert created.min() >= pd.Timestamp("2026-09-28", tz="UTC")
    assert created.max() < pd.Timestamp("2026-11-24", tz="UTC")
    office = created.dt.day_of_week.lt(5) & created.dt.hour.between(7, 17)
    assert office.mean() > 0.75


@pytest.mark.parametrize("split", tk.SPLITS)
def test_every_category_is_at_least_four_percent_of_each_split(
    frame: pd.DataFrame, split: str
) -> None:
    shares = frame.loc[frame["split"] == split, "category"].value_counts(normalize=True)
    assert set(shares.index) == set(tk.CATEGORIES)
    assert shares.min() >= MIN_SHARE, shares.sort_values().head(3).to_dict()


def test_split_is_about_80_20_within_each_category(frame: pd.DataFrame) -> None:
    test_share = frame.groupby("category")["split"].apply(lambda s: (s == "test").mean())
    assert test_share.between(0.15, 0.25).all(), test_share.to_dict()
    assert 0.17 <= (frame["split"] == "test").mean() <= 0.23


def test_imbalance_is_realistic(frame: pd.DataFrame) -> None:
    """Access and sign-in problems lead; licences and security reports are the rarest."""
    counts = frame["category"].value_counts()
    assert list(counts.index[:2]) == ["access_request", "login_mfa"]
    assert set(counts.index[-2:]) == {"software_licence", "security_report"}


def test_service_is_null_or_a_service_of_company_md(frame: pd.DataFrame) -> None:
    services = frame["service"].dropna()
    assert set(services) <= company_services()
    assert 0.1 < len(services) / len(frame) < 0.5


def test_every_priority_occurs_and_p1_is_rare(frame: pd.DataFrame) -> None:
    shares = frame["priority"].value_counts(normalize=True)
    assert set(shares.index) == set(tk.PRIORITIES)
    assert shares["P1"] < 0.1 < shares["P4"]


def test_noise_is_applied_at_the_documented_rates(
    generated: tuple[list[dict[str, Any]], dict[str, int]],
) -> None:
    tickets, noise = generated
    n = len(tickets)
    assert noise["priority_one_step_off"] == round(build.LABEL_NOISE_SHARE * n)
    assert 0.05 <= noise["mixed_topic"] / n <= 0.11
    assert noise["near_duplicate"] == sum(build.DUPLICATES.values())
    assert 0.03 <= noise["subject_missing"] / n <= 0.06
    assert sum(t["subject"] == "" for t in tickets) == noise["subject_missing"]


def test_tickets_have_no_placeholders_left(frame: pd.DataFrame) -> None:
    text = frame["subject"] + "\n" + frame["body"]
    assert not text.str.contains(r"\{[a-z_0-9]+\}|\[\[|\]\]", regex=True).any()


def test_a_leftover_placeholder_fails_the_build() -> None:
    ticket = dict.fromkeys(tk.FIELDS, "x") | {"service": None, "body": "broken {slot}"}
    with pytest.raises(DatasetError, match="placeholder"):
        build._check([ticket])


def test_each_category_has_at_least_twelve_templates_with_impact_sentences() -> None:
    for category, templates in build.TEMPLATES.items():
        assert len(templates) >= 12, category
        for template in templates:
            for priority, _ in template.priorities:
                if "{impact}" in template.body:
                    pool = template.impact.get(priority) or build.IMPACT[category].get(priority)
                    assert pool, (category, template.subjects[0], priority)


def test_categories_are_documented_in_the_datasheet() -> None:
    text = datasheet_section()
    for name in (*tk.CATEGORIES, *tk.PRIORITIES):
        assert f"`{name}`" in text, name


def test_datasheet_tables_match_the_generator(
    generated: tuple[list[dict[str, Any]], dict[str, int]],
) -> None:
    text = datasheet_section()
    match = re.search(r"<!-- tables:start -->\n(.*?)\n<!-- tables:end -->", text, re.S)
    assert match, "README.md lost its <!-- tables:start --> / <!-- tables:end --> markers."
    assert match.group(1).strip() == build.datasheet_tables(*generated), (
        "README.md's ticket tables are stale: paste the output of `python tools/tickets/build.py`."
    )


def test_load_tickets_returns_frames_per_split() -> None:
    everything = tk.load_tickets()
    train, test = tk.load_tickets("train"), tk.load_tickets("test")
    assert len(train) + len(test) == len(everything)
    assert set(test["split"]) == {"test"}
    assert str(everything["created"].dt.tz) == "UTC"
    assert Counter(everything["channel"]).keys() == set(tk.CHANNELS)


def test_load_tickets_rejects_an_unknown_split() -> None:
    with pytest.raises(DatasetError, match="Unknown split 'validation'"):
        tk.load_tickets("validation")


def test_main_check_reports_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "tickets.jsonl"
    stale.write_text("{}\n", encoding="utf-8")
    assert build.main(["--check", "--output", str(stale)]) == 1
    assert build.main(["--check"]) == 0


def test_the_build_script_check_passes_on_the_committed_file() -> None:
    """What a contributor runs: the script on its own, from the repository root."""
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("tickets.jsonl is up to date (720 tickets)")


def test_a_template_with_an_unknown_key_or_team_names_it() -> None:
    entry = {"subjects": ["s"], "body": "b {impact}", "priorities": "P3:1", "team": "sre"}
    with pytest.raises(DatasetError, match=r"x.yaml template 1 has unknown keys \['team'\]"):
        build._template("hardware", entry, "x.yaml template 1")
    entry = {"subjects": ["s"], "body": "b", "priorities": "P3:1", "teams": ["sales"]}
    with pytest.raises(DatasetError, match=r"unknown ids \['sales'\]"):
        build._template("hardware", entry, "x.yaml template 1")
