"""Lesson 3.5's lab: a pipeline for the Handbook Assistant, its gate, its artifacts, its rollback.

Nothing here is production code. It sets up what the lesson measures:

* an assistant configuration (prompt version, retrieval mode and depth) evaluated on golden
  questions, one 0/1 outcome per question, with lesson 2.4's scoring
  (:func:`~course_lib.labs.answer_golden`);
* the files of a small throwaway repository: the configuration, a gate script that reads a
  stored baseline and a candidate's outcomes and exits 0 (ship) or 1 (block), a unit test, and
  a GitHub Actions workflow (plus a broken one for ``actionlint`` to catch);
* simulated candidate changes on top of a real baseline run, each truly better, truly worse or
  noise only (so the truth is known), to count a gate's false blocks and misses;
* a content-addressed artifact store with a deployment history and a verified rollback.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from course_lib.errors import CourseLibError

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.datasets import GoldenQuestion
    from course_lib.labs.scratch_repo import ScratchRepo, ScratchStep
    from course_lib.llm import LLMClient
    from course_lib.rag import HandbookIndex, SearchMode

__all__ = [
    "BROKEN_WORKFLOW",
    "GATE_COMMAND",
    "GATE_JOB",
    "PIPELINE_STAGES",
    "TUTORIAL_WORKFLOW",
    "WORKFLOW",
    "ArtifactError",
    "ArtifactStore",
    "AssistantConfig",
    "CandidateChange",
    "GateRule",
    "actionlint_report",
    "candidate_changes",
    "cicd_index",
    "evaluate_config",
    "gate_errors",
    "naive_gate",
    "outcomes_file",
    "pipeline_repo_files",
    "workflow_problems",
]

_LAB_FOLDER = "lesson_3_5"
PROMPT_NAME = "handbook-answer"

GATE_COMMAND = "python gate.py --baseline eval/baseline.json --candidate eval/candidate.json"
"""What the workflow's gate step runs, and what the lesson runs locally: the same command."""

PIPELINE_STAGES = ("lint", "test", "gate", "build", "deploy")
"""The jobs of the lesson's workflow, in the order their ``needs`` chain runs them."""

GateRule = Callable[[Sequence[float], Sequence[float]], bool]
"""A gate's decision: ``(baseline outcomes, candidate outcomes) -> True to pass``."""


class ArtifactError(CourseLibError, ValueError):
    """An artifact is missing, changed since it was stored, or a rollback has nowhere to go."""


# -- the assistant under test ------------------------------------------------------------------


@dataclass(frozen=True)
class AssistantConfig:
    """What a change to the Handbook Assistant changes: the prompt version and retrieval."""

    prompt_version: int = 3
    mode: str = "hybrid"
    k: int = 3
    model_role: str = "chat-small"

    def to_toml(self) -> str:
        """The configuration file as the repository stores it."""
        return (
            "# The Handbook Assistant's configuration: the gate measures every change to it.\n"
            f'prompt = "{PROMPT_NAME}@{self.prompt_version}"\n'
            f'retrieval_mode = "{self.mode}"\n'
            f"retrieval_k = {self.k}\n"
            f'model_role = "{self.model_role}"\n'
        )

    def as_dict(self) -> dict[str, Any]:
        """The configuration with its prompt's content hash, as a stored baseline records it."""
        from course_lib.prompts import PromptRegistry

        prompt = PromptRegistry().get(PROMPT_NAME, self.prompt_version)
        return {"prompt": prompt.ref, "prompt_sha256": prompt.sha256, **asdict(self)}


def cicd_index(*, fresh: bool = False) -> Path:
    """Builds (or brings up to date) the handbook index under the work directory."""
    from course_lib.labs.retrieval_lab import lesson_index

    return lesson_index("handbook", fresh=fresh, folder=_LAB_FOLDER)


_CONTEXTS: dict[tuple[Any, ...], Any] = {}
_RUNS: dict[tuple[Any, ...], dict[str, int]] = {}


def evaluate_config(
    index: HandbookIndex,
    questions: Sequence[GoldenQuestion],
    config: AssistantConfig,
    client: LLMClient,
) -> dict[str, int]:
    """One outcome per golden question (1 = success, lesson 2.4's score) for ``config``.

    Retrieval and packing are done once per (mode, k) and reused (a prompt change does not
    change what is retrieved), and each configuration's run once per client (the stand-in
    answers the same request the same way).
    """
    from course_lib.labs.prompt_versioning_lab import answer_golden, golden_contexts
    from course_lib.prompts import PromptRegistry

    if not isinstance(config, AssistantConfig):
        raise TypeError(f"config must be an AssistantConfig, got {type(config).__name__}.")
    ids = tuple(q.id for q in questions)
    key = (id(index), config.mode, config.k, config.model_role, ids)
    if key not in _CONTEXTS:
        _CONTEXTS[key] = golden_contexts(
            index,
            questions,
            mode=cast("SearchMode", config.mode),
            k=config.k,
            model_role=config.model_role,
        )
    run_key = (*key, config.prompt_version, id(client))
    if run_key not in _RUNS:
        prompt = PromptRegistry().get(PROMPT_NAME, config.prompt_version)
        run = answer_golden(client, _CONTEXTS[key], prompt)
        _RUNS[run_key] = {str(i): int(s) for i, s in zip(run["id"], run["success"], strict=True)}
    return dict(_RUNS[run_key])


def outcomes_file(config: AssistantConfig, outcomes: Mapping[str, int], *, measured_on: str) -> str:
    """A run as the repository stores it: the outcomes WITH what they were measured on."""
    record = {
        "config": config.as_dict(),
        "measured_on": measured_on,
        "success": round(sum(outcomes.values()) / max(len(outcomes), 1), 4),
        "outcomes": dict(sorted(outcomes.items())),
    }
    return json.dumps(record, indent=1) + "\n"


# -- the throwaway repository ------------------------------------------------------------------

GATE_SCRIPT = '''\
"""The evaluation gate: may the candidate replace the stored baseline? Exit 0 ships, 1 blocks.

Both runs must cover the same golden questions: the gate compares them question by question
(a paired bootstrap of candidate - baseline) and applies lesson 2.4's rule: pass when the
interval rules out a loss bigger than the margin.
"""

import argparse
import json
import sys

from course_lib.evaluation import paired_bootstrap
from course_lib.prompts import PromptRegistry, regression_gate


def load(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--candidate", required=True)
    parser.add_argument("--margin", type=float, default=0.02)
    args = parser.parse_args(argv)
    baseline, candidate = load(args.baseline), load(args.candidate)
    ids = sorted(baseline["outcomes"])
    if sorted(candidate["outcomes"]) != ids:
        print("gate: the runs cover different questions; re-run the evaluation", file=sys.stderr)
        return 2
    comparison = paired_bootstrap(
        [baseline["outcomes"][i] for i in ids], [candidate["outcomes"][i] for i in ids], seed=0
    )
    registry = PromptRegistry()
    prompts = [registry.get(*run["config"]["prompt"].split("@")) for run in (candidate, baseline)]
    decision = regression_gate(*prompts, {"success": comparison}, margin=args.margin)
    old, new = baseline["config"], candidate["config"]
    changed = [f"{key} {old[key]} -> {new[key]}" for key in ("prompt", "mode", "k")
               if old[key] != new[key]]
    print(f"change: {', '.join(changed) or 'none'}")
    print(f"success: baseline {baseline['success']:.3f}, candidate {candidate['success']:.3f} "
          f"on {len(ids)} questions")
    check = decision.checks[0]
    verdict = "ship" if decision.passed else "block"
    print(f"candidate - baseline: {check.mean_difference:+.3f} (95% CI {check.low:+.3f} to "
          f"{check.high:+.3f}); low >= -{args.margin:.3f}? {verdict}")
    return 0 if decision.passed else 1


if __name__ == "__main__":
    sys.exit(main())
'''

EVALUATE_SCRIPT = '''\
"""Evaluates assistant.toml on the golden dev questions and writes the run as JSON."""

import argparse
import re
from pathlib import Path

from course_lib.datasets import load_golden_set
from course_lib.labs import AssistantConfig, cicd_index, evaluate_config, outcomes_file
from course_lib.rag import HandbookIndex
from course_lib.standin import local_client


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    text = Path("assistant.toml").read_text(encoding="utf-8")
    value = dict(re.findall(r'^(\\w+) = "?([^"\\n]+)"?$', text, flags=re.M))
    config = AssistantConfig(
        prompt_version=int(value["prompt"].split("@")[1]),
        mode=value["retrieval_mode"],
        k=int(value["retrieval_k"]),
        model_role=value["model_role"],
    )
    outcomes = evaluate_config(
        HandbookIndex.open(cicd_index()), load_golden_set("dev"), config, local_client()
    )
    run = outcomes_file(config, outcomes, measured_on="golden dev")
    Path(parser.parse_args().out).write_text(run, encoding="utf-8")


if __name__ == "__main__":
    main()
'''

UNIT_TEST = '''\
"""Unit tests: cheap checks of the configuration, before any model is called."""

import re
from pathlib import Path

TEXT = Path(__file__).parents[1].joinpath("assistant.toml").read_text(encoding="utf-8")


def value(key):
    return re.search(rf'^{key} = "?([^"\\n]+)"?$', TEXT, flags=re.M).group(1)


def test_retrieval_depth_is_sane():
    assert 1 <= int(value("retrieval_k")) <= 10


def test_prompt_is_pinned_to_a_version():
    assert re.fullmatch(r"[a-z-]+@\\d+", value("prompt"))
'''


def _setup_steps(indent: str = "      ") -> str:
    return (
        f"{indent}- uses: actions/checkout@v5\n"
        f"{indent}- uses: actions/setup-python@v6\n"
        f"{indent}  with:\n"
        f'{indent}    python-version: "3.11"\n'
        f"{indent}    cache: pip\n"
        f"{indent}- run: pip install -r requirements.txt\n"
    )


WORKFLOW = f"""\
# The Handbook Assistant's pipeline: each job needs the one before it, cheapest first.
name: assistant-ci

on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read

jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
{_setup_steps()}      - run: ruff check .

  test:
    needs: lint
    runs-on: ubuntu-latest
    steps:
{_setup_steps()}      - run: python -m pytest -q tests

  gate:
    needs: test
    runs-on: ubuntu-latest
    steps:
{_setup_steps()}      - name: Evaluate the candidate on the golden questions
        run: python evaluate.py --out eval/candidate.json
      - name: Gate against the stored baseline
        run: {GATE_COMMAND}
      - uses: actions/upload-artifact@v6
        with:
          name: candidate-run
          path: eval/candidate.json

  build:
    needs: gate
    runs-on: ubuntu-latest
    outputs:
      artifact-id: ${{{{ steps.bundle.outputs.id }}}}
    steps:
      - uses: actions/checkout@v5
      - uses: actions/download-artifact@v7
        with:
          name: candidate-run
          path: eval/
      - name: Content-addressed id of what would ship
        id: bundle
        run: |
          id=$(cat assistant.toml eval/candidate.json | sha256sum | cut -c1-12)
          echo "id=$id" >> "$GITHUB_OUTPUT"
      - uses: actions/upload-artifact@v6
        with:
          name: assistant-${{{{ steps.bundle.outputs.id }}}}
          path: |
            assistant.toml
            eval/candidate.json

  deploy:
    needs: build
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: echo "canary, then everyone -> assistant-${{{{ needs.build.outputs.artifact-id }}}}"
"""

GATE_JOB = WORKFLOW[WORKFLOW.index("  gate:") : WORKFLOW.index("  build:")]
"""The pipeline's gate job as workflow text: evaluate, run the gate command, upload the run
under the name ``candidate-run``. It follows ``TUTORIAL_WORKFLOW`` directly."""

TUTORIAL_WORKFLOW = WORKFLOW[: WORKFLOW.index("\n  gate:")] + "\n"
"""Where a tutorial's CI stops: lint and unit tests, nothing that measures the answers."""
TUTORIAL_WORKFLOW = TUTORIAL_WORKFLOW.replace(
    "# The Handbook Assistant's pipeline: each job needs the one before it, cheapest first.",
    "# The Handbook Assistant's CI, as a tutorial leaves it: lint and unit tests.",
)

BROKEN_WORKFLOW = (
    TUTORIAL_WORKFLOW.replace("  pull_request:\n", "  pull_requests:\n")
    .replace("  lint:\n    runs-on: ubuntu-latest", "  lint:\n    runs-on: ubuntu-lates")
    .replace("needs: lint\n", "needs: lnt\n")
    .replace('python-version: "3.11"', "python-version: ${{ matrix.python-version }}", 1)
)
"""The tutorial's workflow with four typical mistakes: a trigger and a runner label misspelled,
a ``needs`` naming no job, and a matrix value used where there is no matrix."""


def pipeline_repo_files(baseline_file: str, config: AssistantConfig) -> dict[str, str]:
    """The files of the throwaway repository: configuration, scripts, a test, and the
    tutorial's workflow (the lesson's exercise turns it into the whole pipeline)."""
    return {
        "assistant.toml": config.to_toml(),
        "eval/baseline.json": baseline_file,
        "gate.py": GATE_SCRIPT,
        "evaluate.py": EVALUATE_SCRIPT,
        "tests/test_config.py": UNIT_TEST,
        "requirements.txt": "production-ai-course\nruff\npytest\n",
        ".gitignore": "eval/candidate.json\n__pycache__/\n",
        ".github/workflows/ci.yml": TUTORIAL_WORKFLOW,
    }


_FORMAT = "{{json .}}"


def actionlint_report(repo: ScratchRepo, *files: str, width: int = 90) -> ScratchStep:
    """Runs ``actionlint`` in ``repo`` (on ``files``, or every workflow) and returns the step;
    each error on one line with the first sentence of its message (at most ``width``
    characters: the rest lists, e.g., every runner label). Its optional shellcheck and pyflakes
    passes are off, so the report is the same on every machine."""
    from course_lib.labs.scratch_repo import ScratchStep

    # shellcheck and pyflakes, when a machine has them, would add findings another lacks.
    no_extras = ("-shellcheck=", "-pyflakes=")
    step = repo.run("actionlint", "-no-color", *no_extras, "-format", _FORMAT, *files, ok=(0, 1))
    errors = json.loads(step.output or "[]") if step.output.lstrip().startswith("[") else []
    lines = []
    for error in errors:
        message = str(error["message"]).split(". ")[0]  # the first sentence says it
        message = message if len(message) <= width else message[: width - 3] + "..."
        lines.append(f"{error['filepath']}:{error['line']}: {message} [{error['kind']}]")
    if step.returncode and not errors:
        lines = step.output.splitlines()[-3:]
    return ScratchStep(f"actionlint {' '.join(files)}".strip(), step.returncode, "\n".join(lines))


def workflow_problems(text: str, *, folder: str = "workflow-check") -> list[str]:
    """What keeps ``text`` from being the lesson's pipeline: the stages (``lint -> test ->
    gate -> build -> deploy`` by ``needs``), the gate job's evaluate and gate commands, deploy
    only from main, the uploaded artifact, then actionlint's errors. Empty when it is all there."""
    import yaml

    from course_lib.labs.scratch_repo import ScratchRepo
    from course_lib.workdir import work_path

    if not isinstance(text, str) or not text.strip():
        return ["the workflow must be the YAML text of a workflow file (a non-empty string)"]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return [f"the text is not valid YAML: {str(error).splitlines()[0]}"]
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        return ["the workflow has no `jobs:` mapping"]
    repo = ScratchRepo.create(work_path(_LAB_FOLDER, folder))
    repo.write(".github/workflows/ci.yml", text)
    linted = [f"actionlint: {line}" for line in actionlint_report(repo).output.splitlines()]
    jobs: dict[str, Any] = data["jobs"]
    missing = [stage for stage in PIPELINE_STAGES if stage not in jobs]
    if missing:
        return [f"no job named {missing[0]!r}; the jobs must be {list(PIPELINE_STAGES)}", *linted]
    problems: list[str] = []
    for before, stage in itertools.pairwise(PIPELINE_STAGES):
        needs = jobs[stage].get("needs", []) if isinstance(jobs[stage], dict) else []
        needs = [needs] if isinstance(needs, str) else list(needs or [])
        if before not in needs:
            problems.append(f"job {stage!r} must need {before!r} (it needs {needs or 'nothing'})")
    gate_uses = [str(s.get("uses", "")) for s in _steps(jobs["gate"])]
    for action, what in (
        ("actions/checkout", "check out the code"),
        ("actions/setup-python", "set up Python"),
    ):
        if not any(u.startswith(action) for u in gate_uses):
            problems.append(
                f"the gate job must {what} first (`uses: {action}@...`), as `test` does"
            )
    runs = [str(s.get("run", "")) for s in _steps(jobs["gate"])]
    gate_at = [i for i, run in enumerate(runs) if "gate.py" in run or "-m gate" in run]
    evaluate_at = [i for i, run in enumerate(runs) if "evaluate.py" in run]
    if not gate_at:
        problems.append(f"the gate job has no step that runs the gate command ({GATE_COMMAND})")
    elif not evaluate_at or evaluate_at[0] > gate_at[0]:
        problems.append(
            "the gate job must run `python evaluate.py --out eval/candidate.json` before the "
            "gate command (the gate reads the candidate's run)"
        )
    condition = jobs["deploy"].get("if", "") if isinstance(jobs["deploy"], dict) else ""
    if _condition(condition) != "github.ref == 'refs/heads/main'":
        problems.append(
            "the deploy job must run only from main: `if: github.ref == 'refs/heads/main'`"
        )
    for stage, action, what in (
        ("gate", "actions/upload-artifact", "upload eval/candidate.json"),
        ("build", "actions/checkout", "check out the code, assistant.toml with it"),
        ("build", "actions/download-artifact", "download the gate's run"),
        ("build", "actions/upload-artifact", "upload the artifact"),
    ):
        if not _uses(jobs[stage], action):
            problems.append(f"the {stage} job has no step to {what} (`uses: {action}@...`)")
    problems += _artifact_problems(jobs)
    return problems + linted


def _uses(job: Any, action: str) -> list[dict[str, Any]]:
    """The job's steps that use ``action``, each step's ``with:`` as a dict."""
    found = [s for s in _steps(job) if str(s.get("uses", "")).startswith(action)]
    withs = [s.get("with") for s in found]
    return [w if isinstance(w, dict) else {} for w in withs]


def _paths(value: Any) -> set[str]:
    """An upload's or download's ``path:`` as a set of normalised paths."""
    lines = str(value or "").splitlines()
    return {line.strip().removeprefix("./").rstrip("/") or "." for line in lines if line.strip()}


def _artifact_problems(jobs: Mapping[str, Any]) -> list[str]:
    """The run must travel: gate uploads eval/candidate.json, build downloads it by the same
    name back into eval/, and uploads it with assistant.toml."""
    uploads, downloads = (
        _uses(jobs["gate"], "actions/upload-artifact"),
        _uses(jobs["build"], "actions/download-artifact"),
    )
    if not uploads or not downloads:
        return []
    problems = []
    if not any("eval/candidate.json" in _paths(u.get("path")) for u in uploads):
        problems.append("the gate job's upload must have `path: eval/candidate.json`")
    names = {str(u.get("name", "")) for u in uploads}
    got = [d for d in downloads if str(d.get("name", "")) in names]
    if not got:
        problems.append(
            f"the build job must download the artifact by the name the gate uploads it under "
            f"(`name: {sorted(names)[0] or 'candidate-run'}`)"
        )
    elif not any(_paths(d.get("path")) == {"eval"} for d in got):
        problems.append(
            "the build job's download needs `path: eval/`: without it the run lands as "
            "./candidate.json, not eval/candidate.json"
        )
    shipped = set().union(
        *(_paths(u.get("path")) for u in _uses(jobs["build"], "actions/upload-artifact"))
    )
    if "assistant.toml" not in shipped or not shipped & {"eval/candidate.json", "eval", "eval/*"}:
        problems.append(
            "the build job's upload must ship assistant.toml and the run together: `path: |` "
            "with assistant.toml and eval/candidate.json on their own lines"
        )
    return problems


def _condition(text: Any) -> str:
    """A job's ``if:`` without ``${{ }}``, extra spaces or double quotes, for comparison."""
    text = " ".join(str(text).split())
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    return text.replace('"', "'")


def _steps(job: Any) -> list[dict[str, Any]]:
    steps = job.get("steps") if isinstance(job, dict) else None
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


# -- candidate changes with a known truth --------------------------------------------------------

_DEV_SEED = 35_001


@dataclass(frozen=True)
class CandidateChange:
    """A simulated change: its true effect on the success rate, how many answers it changes
    (churn), and its outcome on each golden question."""

    name: str
    kind: str
    effect: float
    churn: float
    outcomes: tuple[int, ...]

    @property
    def should_pass(self) -> bool:
        """A gate should pass better and noise-only changes, and block worse ones."""
        return self.kind != "worse"


def candidate_changes(
    baseline: Sequence[float], *, split: str = "dev", per_kind: int = 10
) -> list[CandidateChange]:
    """Changes on top of ``baseline`` (0/1 per question), ``per_kind`` of each kind: truly
    better (+0.02 to +0.06 success), truly worse (-0.03 to -0.08) and noise only (0).

    A worse change mostly loses answers (a class of questions breaks: churn up to 4 points
    above its effect); a noise-only edit shuffles answers both ways (churn 1% to 25%). Each
    question's outcome flips at a rate set so that the EXPECTED effect is the truth; what one
    draw of questions shows varies around it, as on a real golden set. ``split`` is "dev", the
    changes to tune a rule on (the checker of the lesson draws its own, with a seed it keeps).
    """
    if split != "dev":
        raise ValueError(f"split must be 'dev' (the changes to tune on), got {split!r}.")
    return _simulate_changes(baseline, seed=_DEV_SEED, prefix=split, per_kind=per_kind)


def _simulate_changes(
    baseline: Sequence[float], *, seed: int, prefix: str, per_kind: int
) -> list[CandidateChange]:
    import numpy as np

    base = np.asarray(baseline, dtype=float)
    rate = float(base.mean()) if base.size else 0.0
    if base.ndim != 1 or not set(np.unique(base)) <= {0.0, 1.0} or not 0.15 <= rate <= 0.85:
        raise ValueError(
            "baseline must be one 0/1 outcome per golden question, with a success rate "
            f"between 0.15 and 0.85 (got {base.size} values, rate {rate:.2f})."
        )
    rng = np.random.default_rng(seed)
    changes = []
    for number in range(per_kind):
        for kind in ("better", "worse", "noise"):
            effect = {
                "better": float(rng.uniform(0.02, 0.06)),
                "worse": -float(rng.uniform(0.03, 0.08)),
                "noise": 0.0,
            }[kind]
            # A regression mostly loses answers (a class of questions breaks); an edit that
            # changes nothing that matters shuffles answers both ways, sometimes many.
            spread = {"better": 0.10, "worse": 0.04, "noise": 0.25}[kind]
            churn = abs(effect) + float(rng.uniform(0.01, spread))
            win = min(1.0, (churn + effect) / 2 / (1 - rate))
            loss = min(1.0, (churn - effect) / 2 / rate)
            draw = rng.random(base.size)
            out = np.where(base == 1, draw >= loss, draw < win).astype(int)
            changes.append(
                CandidateChange(
                    f"{prefix}-{kind}-{number + 1}",
                    kind,
                    round(effect, 3),
                    round(churn, 3),
                    tuple(int(v) for v in out),
                )
            )
    return changes


def naive_gate(
    baseline: Sequence[float], candidate: Sequence[float], tolerance: float = 0.01
) -> bool:
    """The tutorial's rule: pass unless the mean went down by more than ``tolerance``."""
    return sum(candidate) / len(candidate) >= sum(baseline) / len(baseline) - tolerance


def gate_errors(
    rule: GateRule, baseline: Sequence[float], candidates: Sequence[CandidateChange]
) -> dict[str, int]:
    """How often ``rule`` got it wrong: false blocks (a better or noise-only change blocked,
    and how many of them were noise-only) and misses (a worse change passed), with the totals
    of each kind."""
    passing = [c for c in candidates if c.should_pass]
    worse = [c for c in candidates if not c.should_pass]
    blocked = [c for c in passing if not _decide(rule, baseline, c)]
    misses = sum(_decide(rule, baseline, c) for c in worse)
    return {
        "false blocks": len(blocked),
        "of them noise-only": sum(c.kind == "noise" for c in blocked),
        "of changes to pass": len(passing),
        "misses": misses,
        "of changes to block": len(worse),
    }


def _decide(rule: GateRule, baseline: Sequence[float], change: CandidateChange) -> bool:
    verdict = rule(list(baseline), list(change.outcomes))
    if type(verdict).__name__ == "bool_":  # numpy's bool is a fine verdict
        verdict = bool(verdict)
    if not isinstance(verdict, (bool, int)) or isinstance(verdict, float):
        raise TypeError(
            f"a gate rule must return True (pass) or False (block); got {verdict!r} for "
            f"{change.name}."
        )
    return bool(verdict)


# -- artifacts, deployments, rollback ------------------------------------------------------------


class ArtifactStore:
    """Content-addressed artifacts with a deployment history, in a folder.

    An artifact is a set of files (the configuration and the baseline measured on it); its id
    is the SHA-256 of their contents (``course_lib.data.version_id`` over the files' hashes),
    so the same files get the same id anywhere and any change gets a new one. The history
    records every gate verdict and deployment; :meth:`rollback` redeploys the last artifact
    before the current one that passed the gate, after checking its bytes.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @classmethod
    def create(cls, root: str | Path) -> ArtifactStore:
        """A fresh, empty store at ``root`` (an earlier one there is removed)."""
        path = Path(root)
        if path.exists():
            if not (path / "history.jsonl").exists() and any(path.iterdir()):
                raise ArtifactError(f"Refusing to replace {path}: it is not an artifact store.")
            shutil.rmtree(path)
        (path / "objects").mkdir(parents=True)
        (path / "history.jsonl").write_text("", encoding="utf-8")
        return cls(path)

    def put(self, files: Mapping[str, str]) -> str:
        """Stores ``files`` (name -> text) and returns the artifact id (12 hex digits)."""
        from course_lib.data import version_id

        if not files:
            raise ArtifactError("An artifact needs at least one file, e.g. assistant.toml.")
        hashes = {name: _sha(text) for name, text in files.items()}
        for name, text in files.items():
            (self.root / "objects" / hashes[name]).write_text(text, encoding="utf-8")
        artifact = version_id(hashes)[:12]
        manifest = self.root / f"{artifact}.json"
        manifest.write_text(json.dumps(hashes, indent=1, sort_keys=True), encoding="utf-8")
        return artifact

    def files(self, artifact: str) -> dict[str, str]:
        """The artifact's files, each checked against its hash (ArtifactError if changed)."""
        manifest = self.root / f"{artifact}.json"
        if not re.fullmatch(r"[0-9a-f]{12}", str(artifact)) or not manifest.is_file():
            raise ArtifactError(f"No artifact {artifact!r} in the store; ids are 12 hex digits.")
        out = {}
        for name, sha in json.loads(manifest.read_text(encoding="utf-8")).items():
            text = (self.root / "objects" / sha).read_text(encoding="utf-8")
            if _sha(text) != sha:
                raise ArtifactError(f"{name} of artifact {artifact} changed since it was stored.")
            out[name] = text
        return out

    def record(self, artifact: str, *, passed: bool) -> None:
        """Writes the gate's verdict on ``artifact`` into the history."""
        self.files(artifact)
        self._append({"event": "gate", "artifact": artifact, "passed": bool(passed)})

    def deploy(self, artifact: str) -> str:
        """Deploys ``artifact``; refuses one whose last gate verdict is not a pass."""
        if not self._passed(artifact):
            raise ArtifactError(
                f"Artifact {artifact} has not passed the gate; run the gate, then deploy."
            )
        self.files(artifact)
        self._append({"event": "deploy", "artifact": artifact})
        return artifact

    @property
    def deployed(self) -> str | None:
        """The artifact serving now (None before the first deployment)."""
        deploys = [e["artifact"] for e in self.history() if e["event"] in ("deploy", "rollback")]
        return deploys[-1] if deploys else None

    def rollback(self) -> str:
        """Redeploys the last artifact before the current one that passed the gate, after
        verifying its files; returns its id."""
        current = self.deployed
        if current is None:
            raise ArtifactError("Nothing is deployed, so there is nothing to roll back.")
        target = _rollback_target(self.gate_history(), current)
        if target is None:
            raise ArtifactError(f"No artifact before {current} passed the gate; fix forward.")
        self.files(target)
        self._append({"event": "rollback", "artifact": target, "from": current})
        return target

    def gate_history(self) -> list[dict[str, Any]]:
        """The gate verdicts in order: ``{"artifact": id, "passed": bool}``."""
        return [
            {"artifact": e["artifact"], "passed": e["passed"]}
            for e in self.history()
            if e["event"] == "gate"
        ]

    def history(self) -> list[dict[str, Any]]:
        """Every event, oldest first."""
        text = (self.root / "history.jsonl").read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line]

    def history_frame(self) -> pd.DataFrame:
        """The history as a table."""
        import pandas as pd

        return pd.DataFrame(self.history()).fillna("")

    def _passed(self, artifact: str) -> bool:
        verdicts = [e["passed"] for e in self.gate_history() if e["artifact"] == artifact]
        return bool(verdicts) and bool(verdicts[-1])

    def _append(self, event: Mapping[str, Any]) -> None:
        with (self.root / "history.jsonl").open("a", encoding="utf-8") as file:
            file.write(json.dumps(dict(event)) + "\n")


def _rollback_target(history: Sequence[Mapping[str, Any]], current: str) -> str | None:
    """The last artifact, before ``current``'s last verdict, that passed and is not it."""
    positions = [i for i, e in enumerate(history) if e["artifact"] == current]
    end = positions[-1] if positions else len(history)
    for entry in reversed(history[:end]):
        if entry["passed"] and entry["artifact"] != current:
            return str(entry["artifact"])
    return None


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
