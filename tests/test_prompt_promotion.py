"""New prompt versions, the regression gate, promotion with history and rollback, and MLflow.

Every test works on a copy of the bundled library in a temporary folder: the repository's
library is never written to.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_lib.errors import PromptError, PromptFileError, PromptNotFoundError
from course_lib.evaluation import paired_bootstrap
from course_lib.prompts import (
    BUNDLED_LIBRARY,
    DEFAULT_MARGIN,
    HISTORY_FILE,
    GateDecision,
    MlflowPromptStore,
    PromptDeployer,
    PromptRegistry,
    PromptVersion,
    add_version,
    check_lock,
    derive_version,
    regression_gate,
    version_file_text,
    write_lock,
)

NAME = "handbook-answer"
PASSAGES = [
    {"id": "leave-policy", "text": "Annual leave is 25 working days per calendar year."},
    {"id": "expense-policy", "text": "Submit expenses within 30 days </doc> of purchase."},
]


@pytest.fixture
def registry(tmp_path: Path) -> PromptRegistry:
    root = tmp_path / "prompts"
    shutil.copytree(BUNDLED_LIBRARY, root)
    return PromptRegistry(root)


def _system(registry: PromptRegistry, version: int = 3) -> str:
    return registry.get(NAME, version).template[0].content


def _brief(registry: PromptRegistry) -> PromptVersion:
    text = _system(registry).replace("and only from them.", "and only from them, briefly.")
    return derive_version(registry, NAME, base=3, system=text, description="v3, briefer")


@dataclass(frozen=True)
class Interval:
    mean_difference: float
    low: float
    high: float


# -- writing versions ----------------------------------------------------------------------------


def test_derive_version_writes_the_next_file_and_loads_it_back(registry: PromptRegistry) -> None:
    new = _brief(registry)
    assert new.ref == f"{NAME}@v4" and registry.versions(NAME) == [1, 2, 3, 4]
    assert registry.get(NAME, 4) == new  # the file holds exactly what was returned
    text = (registry.root / NAME / "v4.yaml").read_text()
    assert "content: |" in text and "  - role: system" in text  # readable, as written by hand
    assert new.template[1] == registry.get(NAME, 3).template[1]  # the user message is kept
    assert new.model_role == "chat-small" and dict(new.params) == {"temperature": 0.0}
    assert [(p.kind, p.version) for p in check_lock(registry.root)] == [("unreleased", "v4")]
    write_lock(registry.root)
    assert check_lock(registry.root) == []
    rendered = new.render(question="How much leave?", passages=PASSAGES)
    assert "briefly" in rendered.messages[0]["content"] and rendered.ref == f"{NAME}@v4"


def test_derive_version_refuses_no_change_and_unknown_variables(registry: PromptRegistry) -> None:
    with pytest.raises(PromptFileError, match=r"identical to handbook-answer@v3"):
        derive_version(registry, NAME, base=3, system=_system(registry), description="same")
    with pytest.raises(PromptFileError, match=r"reads 'questoin'.*'passages', 'question'"):
        derive_version(
            registry, NAME, base=3, system="Answer {{ questoin }}.", description="a typo"
        )
    with pytest.raises(PromptFileError, match="non-empty text"):
        derive_version(registry, NAME, base=3, system="   ", description="empty")
    assert registry.versions(NAME) == [1, 2, 3]  # nothing was left behind


def test_a_template_that_does_not_load_leaves_no_file(registry: PromptRegistry) -> None:
    with pytest.raises(PromptFileError, match=r"v4\.yaml: the system message is not a valid"):
        derive_version(registry, NAME, base=3, system="Answer {% if %}.", description="broken")
    assert not (registry.root / NAME / "v4.yaml").exists()


def test_add_version_starts_a_new_prompt_and_validates_its_input(registry: PromptRegistry) -> None:
    first = add_version(
        registry,
        "ticket-summary",
        template="Summarise this ticket: {{ ticket }}",
        description="the first summary prompt",
        model_role="chat-small",
    )
    assert first.ref == "ticket-summary@v1" and first.variables == {"ticket"}
    assert registry.names() == [NAME, "ticket-summary"]
    with pytest.raises(PromptFileError, match="not a valid prompt name"):
        add_version(registry, "../x", template="hi", description="d", model_role="chat-small")
    with pytest.raises(PromptFileError, match="needs a description"):
        add_version(registry, NAME, template="hi", description=" ", model_role="chat-small")
    with pytest.raises(PromptFileError, match="role among system"):
        add_version(
            registry,
            NAME,
            template=[{"role": "robot", "content": "hi"}],
            description="d",
            model_role="chat-small",
        )


def test_version_file_text_is_the_format_the_loader_reads() -> None:
    text = version_file_text(
        template=[{"role": "user", "content": "line one\nline two {{ x }}\n"}],
        description="  spread\nover lines ",
        model_role="chat-large",
        params={"temperature": 0.2},
    )
    assert text.startswith("description: spread over lines\nmodel_role: chat-large\n")
    assert "    content: |\n      line one\n      line two {{ x }}\n" in text


# -- the gate --------------------------------------------------------------------------------------


def test_gate_rule_is_non_inferiority_on_the_lower_bound(registry: PromptRegistry) -> None:
    candidate, baseline = _brief(registry), registry.get(NAME, 3)

    def decide(low: float, high: float = 0.05) -> GateDecision:
        return regression_gate(candidate, baseline, {"success": Interval(0.0, low, high)})

    assert decide(-0.019).passed
    assert decide(-DEFAULT_MARGIN).passed  # on the line: the loss is ruled out
    assert not decide(-0.021).passed
    blocked = decide(-0.043, 0.0)  # a loss the naive rule (high < 0) would ship
    assert not blocked.passed and blocked.failures == [str(blocked.checks[0])]
    assert "BLOCK" in str(blocked) and blocked.summary().startswith("gate blocked")
    assert decide(0.01).summary() == f"gate passed: {candidate.ref} vs {baseline.ref}"
    assert blocked.candidate_sha256 == candidate.sha256
    assert blocked.baseline_sha256 == baseline.sha256


def test_gate_margins_per_metric_and_assertions(registry: PromptRegistry) -> None:
    candidate, baseline = _brief(registry), registry.get(NAME, 3)
    comparisons = {"success": Interval(-0.03, -0.05, -0.01), "cited": Interval(0, -0.03, 0.02)}
    decision = regression_gate(candidate, baseline, comparisons, margin={"success": 0.06})
    assert [c.margin for c in decision.checks] == [0.06, DEFAULT_MARGIN]
    assert [c.passed for c in decision.checks] == [True, False]
    ok = {"success": Interval(0.0, 0.0, 0.0)}
    held = regression_gate(candidate, baseline, ok, assertions={"resists injection": True})
    assert held.passed
    failed = regression_gate(candidate, baseline, ok, assertions={"resists injection": False})
    assert not failed.passed and failed.failures == ["assertion failed: resists injection"]


def test_gate_reads_a_real_paired_comparison(registry: PromptRegistry) -> None:
    production = [1] * 33 + [0] * 128
    candidate = [0, 0, 0, *production[3:]]  # three losses, no gain: the interval reaches 0
    comparison = paired_bootstrap(production, candidate, seed=0)
    assert comparison.high >= 0  # "block only when significantly worse" would ship it
    decision = regression_gate(_brief(registry), registry.get(NAME, 3), {"success": comparison})
    assert not decision.passed


@pytest.mark.parametrize(
    ("comparisons", "margin", "message"),
    [
        ({}, 0.02, "at least one comparison"),
        ({"success": Interval(0, -0.01, 0.01)}, -0.01, "must be a number >= 0"),
        ({"success": Interval(0, -0.01, 0.01)}, math.nan, "must be a number >= 0"),
        ({"success": Interval(math.nan, -0.01, 0.01)}, 0.02, "not an interval"),
        ({"success": Interval(0, 0.02, -0.01)}, 0.02, "not an interval"),
    ],
)
def test_gate_refuses_bad_input(registry: PromptRegistry, comparisons, margin, message) -> None:
    v3 = registry.get(NAME, 3)
    with pytest.raises(ValueError, match=message):
        regression_gate(v3, v3, comparisons, margin=margin)


# -- promotion, history and rollback ---------------------------------------------------------------


def _deployer(registry: PromptRegistry) -> PromptDeployer:
    return PromptDeployer(registry, clock=lambda: "2026-01-01T00:00:00+00:00")


def _passing(registry: PromptRegistry, candidate: PromptVersion) -> GateDecision:
    baseline = registry.resolve(NAME, environment="production")
    return regression_gate(candidate, baseline, {"success": Interval(0.05, 0.01, 0.09)})


def test_unprotected_environments_move_freely_and_are_recorded(registry: PromptRegistry) -> None:
    deployer = _deployer(registry)
    move = deployer.promote(NAME, "dev", 1)
    assert registry.environments(NAME)["dev"] == 1
    assert (move.seq, move.action, move.from_version, move.to_version) == (1, "promote", 3, 1)
    assert str(move) == "#1 handbook-answer dev: v3 -> v1 (promote: promoted handbook-answer@v1)"
    lines = (registry.root / NAME / HISTORY_FILE).read_text().splitlines()
    assert json.loads(lines[0])["at"] == "2026-01-01T00:00:00+00:00"
    assert deployer.history(NAME) == [move] and deployer.history(NAME, "production") == []
    with pytest.raises(PromptError, match="already serves handbook-answer@v1"):
        deployer.promote(NAME, "dev", 1)


def test_production_needs_a_passing_gate_for_exactly_this_pair(registry: PromptRegistry) -> None:
    deployer = _deployer(registry)
    candidate = _brief(registry)
    write_lock(registry.root)
    with pytest.raises(PromptError, match=r"production is protected.*regression_gate"):
        deployer.promote(NAME, "production", 4)
    blocked = regression_gate(
        candidate, registry.get(NAME, 3), {"success": Interval(-0.1, -0.2, -0.05)}
    )
    with pytest.raises(PromptError, match=r"gate blocked handbook-answer@v4: success"):
        deployer.promote(NAME, "production", 4, gate=blocked)
    other = regression_gate(
        registry.get(NAME, 2), registry.get(NAME, 3), {"success": Interval(0, 0, 0)}
    )
    with pytest.raises(PromptError, match="content hashes differ"):
        deployer.promote(NAME, "production", 4, gate=other)
    stale = regression_gate(candidate, registry.get(NAME, 2), {"success": Interval(0, 0, 0)})
    with pytest.raises(PromptError, match="serves handbook-answer@v3 now"):
        deployer.promote(NAME, "production", 4, gate=stale)
    assert registry.environments(NAME)["production"] == 3  # nothing moved
    move = deployer.promote(NAME, "production", 4, gate=_passing(registry, candidate))
    assert move.gate == f"gate passed: {NAME}@v4 vs {NAME}@v3"
    assert registry.resolve(NAME, environment="production").ref == f"{NAME}@v4"


def test_production_serves_only_released_versions(registry: PromptRegistry) -> None:
    candidate = _brief(registry)  # a draft: not in the lock
    with pytest.raises(PromptError, match=r"v4 is a draft.*lock --write"):
        _deployer(registry).promote(NAME, "production", 4, gate=_passing(registry, candidate))


def test_an_override_needs_a_reason_and_is_recorded(registry: PromptRegistry) -> None:
    deployer = _deployer(registry)
    with pytest.raises(PromptError, match="needs a reason"):
        deployer.promote(NAME, "production", 2, override=" ")
    move = deployer.promote(NAME, "production", 2, override="incident 42: v3 times out")
    assert (move.action, move.reason, move.gate) == ("override", "incident 42: v3 times out", None)


def test_rollback_walks_back_one_promotion_at_a_time(registry: PromptRegistry) -> None:
    deployer = _deployer(registry)
    with pytest.raises(PromptError, match="Nothing to roll back"):
        deployer.rollback(NAME, "dev")
    deployer.promote(NAME, "dev", 2)
    deployer.promote(NAME, "dev", 1)
    back = deployer.rollback(NAME, "dev")
    assert (back.action, back.from_version, back.to_version) == ("rollback", 1, 2)
    assert deployer.rollback(NAME, "dev").to_version == 3
    assert registry.environments(NAME)["dev"] == 3
    with pytest.raises(PromptError, match="Nothing to roll back"):
        deployer.rollback(NAME, "dev")
    assert [m.action for m in deployer.history(NAME, "dev")] == [
        "promote",
        "promote",
        "rollback",
        "rollback",
    ]


def test_rollback_refuses_an_alias_moved_outside_the_history(registry: PromptRegistry) -> None:
    deployer = _deployer(registry)
    deployer.promote(NAME, "dev", 2)
    registry.set_alias(NAME, "dev", 1)  # by hand, around the deployer
    with pytest.raises(PromptError, match="dev serves v1, but the history's last promotion set v2"):
        deployer.rollback(NAME, "dev")


def test_a_canary_is_gated_and_ends_with_its_promotion(registry: PromptRegistry) -> None:
    deployer = _deployer(registry)
    candidate = _brief(registry)
    write_lock(registry.root)
    with pytest.raises(PromptError, match="protected"):
        deployer.start_canary(NAME, "production", 4, percent=10)
    gate = _passing(registry, candidate)
    move = deployer.start_canary(NAME, "production", 4, percent=10, gate=gate)
    assert str(move).startswith("#1 handbook-answer production: canary v4 for 10% of users")
    served = {
        registry.resolve(NAME, environment="production", user_id=f"u-{i}").version
        for i in range(200)
    }
    assert served == {3, 4}
    assert registry.resolve(NAME, environment="production").version == 3  # no user: production
    promoted = deployer.promote(NAME, "production", 4, gate=gate)
    assert promoted.reason.endswith("(canary ended)") and registry.aliases(NAME).canary is None
    with pytest.raises(PromptError, match="no canary running"):
        deployer.stop_canary(NAME, reason="done")


def test_stopping_a_canary_is_recorded(registry: PromptRegistry) -> None:
    deployer = _deployer(registry)
    deployer.start_canary(NAME, "dev", 1, percent=50)
    stop = deployer.stop_canary(NAME, reason="answers too long")
    assert (stop.action, stop.environment, stop.from_version) == ("canary-stop", "dev", 1)
    assert registry.aliases(NAME).canary is None


def test_a_damaged_history_names_the_line(registry: PromptRegistry) -> None:
    deployer = _deployer(registry)
    deployer.promote(NAME, "dev", 2)
    with open(registry.root / NAME / HISTORY_FILE, "a") as stream:
        stream.write("{not json\n")
    with pytest.raises(PromptFileError, match=r"history\.jsonl, line 2, is not a deployment"):
        deployer.history(NAME)
    with pytest.raises(PromptNotFoundError):
        deployer.history("no-such-prompt")


# -- MLflow's prompt registry ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> MlflowPromptStore:
    """One store for the module: creating MLflow's schema takes seconds."""
    return MlflowPromptStore.create_sqlite(tmp_path_factory.mktemp("mlflow") / "prompts.db")


def test_mlflow_numbers_registrations_and_keeps_the_course_hash(
    mlflow_store: MlflowPromptStore, capfd: pytest.CaptureFixture[str]
) -> None:
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    bundled = PromptRegistry()
    numbers = [mlflow_store.register(bundled.get(NAME, v)) for v in (1, 2, 3)]
    again = mlflow_store.register(bundled.get(NAME, 3))
    assert numbers == [1, 2, 3] and again == 4
    rows = mlflow_store.versions(NAME)
    assert [r.course_ref for r in rows] == [f"{NAME}@v{v}" for v in (1, 2, 3, 3)]
    assert rows[2].sha256 == rows[3].sha256 == bundled.get(NAME, 3).sha256
    assert "Creating initial MLflow database tables" not in capfd.readouterr().err


def test_mlflow_aliases_move_without_a_gate_or_a_history(mlflow_store: MlflowPromptStore) -> None:
    bundled = PromptRegistry()
    mlflow_store.set_alias(NAME, "production", 3)
    mlflow_store.set_alias(NAME, "staging", 1)
    assert mlflow_store.aliases(NAME) == {"production": 3, "staging": 1}
    mlflow_store.set_alias(NAME, "production", 1)  # any version, no questions asked
    assert mlflow_store.aliases(NAME)["production"] == 1
    mlflow_store.set_alias(NAME, "production", 3)
    loaded = mlflow_store.load(NAME, "production")
    v3 = bundled.get(NAME, 3)
    assert (loaded.ref, loaded.sha256, loaded.model_role) == (v3.ref, v3.sha256, "chat-small")
    ours = loaded.render(question="q?", passages=PASSAGES).messages
    assert ours == v3.render(question="q?", passages=PASSAGES).messages
    theirs = mlflow_store.mlflow_render(NAME, "production", question="q?", passages=PASSAGES)
    assert theirs != list(ours)  # MLflow's own Jinja2 settings keep the block lines
    assert [m["content"].split() for m in theirs] == [m["content"].split() for m in ours]


def test_mlflow_errors_are_course_errors(mlflow_store: MlflowPromptStore) -> None:
    with pytest.raises(PromptNotFoundError, match="no alias 'canary'"):
        mlflow_store.load(NAME, "canary")
    with pytest.raises(PromptNotFoundError, match="no prompt named 'nothing-here'"):
        mlflow_store.aliases("nothing-here")
    mlflow_store.client.register_prompt(name="outside", template="Hello {{ name }}")
    mlflow_store.set_alias("outside", "production", 1)
    with pytest.raises(PromptError, match="not registered from a course prompt file"):
        mlflow_store.load("outside", "production")


def test_a_fresh_mlflow_store_starts_again_at_one(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    first = MlflowPromptStore.create_sqlite(path)
    first.register(PromptRegistry().get(NAME, 1))
    second = MlflowPromptStore.create_sqlite(path)  # fresh: the old store is gone
    assert second.register(PromptRegistry().get(NAME, 2)) == 1
    assert repr(second) == "MlflowPromptStore(<MLflow store>)"
