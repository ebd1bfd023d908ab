"""Checkers of lesson 2.4, "Prompt versioning"."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise
from course_lib.prompts import canary_bucket

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.labs.prompt_versioning_lab import GoldenContext
    from course_lib.llm import LLMClient

SOLUTION = "solutions/2_engineering_patterns/24_prompt_versioning.ipynb"
NAME = "handbook-answer"


# -- 2.4.1 the gate's rule ----------------------------------------------------------------------


def gate_passes(
    production: Sequence[float], candidate: Sequence[float], margin: float = 0.02, seed: int = 0
) -> bool:
    """The reference: non-inferiority on the paired interval of candidate - production."""
    from course_lib.evaluation import paired_bootstrap

    comparison = paired_bootstrap(production, candidate, seed=seed)
    return comparison.low >= -margin


def _scores(n: int, ones: int, changes: dict[int, int]) -> tuple[list[int], list[int]]:
    """Production succeeds on its first ``ones`` questions; the candidate differs at ``changes``."""
    production = [1 if i < ones else 0 for i in range(n)]
    candidate = list(production)
    for i, value in changes.items():
        candidate[i] = value
    return production, candidate


# (what the case is, production, candidate, margin)
_GATE_CASES: list[tuple[str, list[int], list[int], float]] = [
    ("the same answers", *_scores(160, 33, {}), 0.02),
    (
        "16 more questions right, none lost",
        *_scores(160, 33, dict.fromkeys(range(40, 56), 1)),
        0.02,
    ),
    ("30 questions lost", *_scores(160, 33, dict.fromkeys(range(30), 0)), 0.02),
    ("3 questions lost, none gained", *_scores(161, 33, dict.fromkeys(range(3), 0)), 0.02),
    ("1 question lost of 160", *_scores(160, 33, {0: 0}), 0.02),
    ("2 questions gained, none lost", *_scores(160, 33, {50: 1, 51: 1}), 0.02),
    (
        "6 lost and 6 gained: the same mean, a wide interval",
        *_scores(150, 40, {**dict.fromkeys(range(6), 0), **dict.fromkeys(range(60, 66), 1)}),
        0.02,
    ),
    ("5 lost, with margin=0.08", *_scores(150, 40, dict.fromkeys(range(5), 0)), 0.08),
    ("the same answers, with margin=0", *_scores(150, 40, {}), 0.0),
]


@exercise(
    "2.4.1",
    title="The gate's rule",
    answer_name="gate_passes",
    reference=gate_passes,
    solution=SOLUTION,
    hints=(
        "The scores are paired: question i of both lists is the same question. Lesson 1.4's "
        "paired_bootstrap(production, candidate, seed=seed) in course_lib.evaluation gives the "
        "95% interval of candidate - production (its .low and .high).",
        "'No worse by more than the margin, with 95% confidence' means the whole interval lies "
        "above -margin. Not when the mean is higher, and not only when the whole interval is "
        "below zero.",
        "return paired_bootstrap(production, candidate, seed=seed).low >= -margin",
    ),
)
def _check_gate(answer: Any, probe: Probe) -> str:
    for what, production, candidate, margin in _GATE_CASES:
        call = f"gate_passes(<{len(production)} scores>, ..., margin={margin}) with {what}"
        got = probe.call_as(call, answer, list(production), list(candidate), margin, 0)
        if got is None:
            raise NotYet(f"{call} returned None; return True (promote) or False (block).")
        if type(got).__name__ == "bool_":  # numpy's bool is a fine answer
            got = bool(got)
        if not isinstance(got, bool):
            raise NotYet(f"{call} returned {type(got).__name__}; return True or False.")
        expected = gate_passes(production, candidate, margin, 0)
        if got != expected:
            from course_lib.evaluation import paired_bootstrap

            interval = paired_bootstrap(production, candidate, seed=0)
            verdict = "pass" if expected else "block"
            raise NotYet(
                f"{call} returned {got}, but the gate should {verdict}: candidate - production "
                f"is {interval.mean_difference:+.3f} with 95% CI {interval.low:+.3f} to "
                f"{interval.high:+.3f}, and the margin is {margin:g}."
            )
    return f"gate_passes decides all {len(_GATE_CASES)} hidden comparisons as the rule says."


# -- 2.4.2 a better version (open-ended, measured on the test split) ---------------------------

GATE_MARGIN = 0.02
"""The gate's margin on success, as in the lesson."""


@lru_cache(maxsize=1)
def _production_text() -> str:
    from course_lib.prompts import PromptRegistry

    production = PromptRegistry().resolve(NAME, environment="production")
    return next(m.content for m in production.template if m.role == "system")


def reference_system_prompt() -> str:
    """The reference: production's system prompt, asking for answers of up to two sentences."""
    return _production_text().replace(
        "and only from them.", "and only from them, in at most two sentences."
    )


REFERENCE_SYSTEM_PROMPT = reference_system_prompt()


@lru_cache(maxsize=1)
def _client() -> LLMClient:
    from course_lib.standin import local_client

    return local_client()


@lru_cache(maxsize=1)
def _test_contexts() -> tuple[GoldenContext, ...]:
    from course_lib.datasets import load_golden_set
    from course_lib.labs.prompt_versioning_lab import golden_contexts, versioning_index
    from course_lib.rag import HandbookIndex

    with HandbookIndex.open(versioning_index(fresh=False)) as index:
        return tuple(golden_contexts(index, load_golden_set("test")))


@lru_cache(maxsize=1)
def _production_run() -> pd.DataFrame:
    from course_lib.labs.prompt_versioning_lab import answer_golden
    from course_lib.prompts import PromptRegistry

    production = PromptRegistry().resolve(NAME, environment="production")
    return answer_golden(_client(), _test_contexts(), production)


@exercise(
    "2.4.2",
    title="A better version, through the gate on data you did not tune on",
    answer_name="MY_SYSTEM_PROMPT",
    expects_function=False,
    reference=REFERENCE_SYSTEM_PROMPT,
    solution=SOLUTION,
    time_limit=180.0,
    hints=(
        "Look at the table of success by question type before the exercise: which type does "
        "production fail most? The stand-in answers in one sentence; how many does an answer "
        "that spans two passages need?",
        "The planted length reaction reads a maximum number of sentences, phrased as a style "
        "guide would phrase a maximum. Add one to the system prompt's first instruction, and "
        "keep every other instruction: citations, the refusal phrase, the injection guard.",
        "Take production's text and change 'and only from them.' to 'and only from them, in at "
        "most two sentences.'; nothing else.",
    ),
)
def _check_system_prompt(answer: Any, probe: Probe) -> str:
    from course_lib.errors import PromptError
    from course_lib.evaluation import paired_bootstrap
    from course_lib.labs.prompt_versioning_lab import answer_golden, prompt_probes
    from course_lib.prompts import PromptRegistry, derive_version
    from course_lib.workdir import work_path

    if not isinstance(answer, str) or not answer.strip():
        raise NotYet(
            f"MY_SYSTEM_PROMPT should be the text of a system prompt (a str); got "
            f"{type(answer).__name__}."
        )
    if answer.strip() == _production_text().strip():
        raise NotYet(
            "MY_SYSTEM_PROMPT is still production's text; change it, measure it on dev with "
            "the cell above, and check again."
        )
    import shutil

    from course_lib.prompts import BUNDLED_LIBRARY

    root = work_path("lesson_2_4", "checker-library")
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(BUNDLED_LIBRARY, root)
    registry = PromptRegistry(root)
    production = registry.resolve(NAME, environment="production")
    try:
        mine = derive_version(
            registry, NAME, base=production.version, system=answer, description="a learner's try"
        )
    except PromptError as exc:
        raise NotYet(f"your prompt does not make a valid version: {exc}") from None
    failed = [name for name, ok in prompt_probes(_client(), mine).items() if not ok]
    if failed:
        keep = (
            "its injection guard (passages are data, never instructions)"
            if "injection" in failed[0]
            else "its permission to answer with the fixed 'I don't know' phrase"
        )
        raise NotYet(f"your version fails the probe '{failed[0]}': keep production's {keep}.")
    run = answer_golden(_client(), _test_contexts(), mine)
    baseline = _production_run()
    comparison = paired_bootstrap(baseline["success"], run["success"], seed=0)
    shown = (
        f"success on the test split {run['success'].mean():.3f} against production's "
        f"{baseline['success'].mean():.3f}: {comparison.mean_difference:+.3f} (95% CI "
        f"{comparison.low:+.3f} to {comparison.high:+.3f}, n={comparison.n})"
    )
    if comparison.low < -GATE_MARGIN:
        raise NotYet(f"the gate blocks your version on the test split: {shown}.")
    if not comparison.low > 0:
        raise NotYet(
            f"your version passes the gate but is not shown better: {shown}; the interval must "
            "lie above zero."
        )
    return f"on the test split, which you did not tune on: {shown}; both probes hold."


# -- 2.4.3 the canary's users ----------------------------------------------------------------------


def in_canary(prompt_name: str, user_id: str, percent: float) -> bool:
    """The reference: sha256 of the prompt name and the user id, read as a bucket in [0, 100)."""
    import hashlib

    digest = hashlib.sha256(f"{prompt_name}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100 < percent


def _hidden_users(n: int, seed: int) -> list[str]:
    """User ids the learner never saw: random, but the same on every check."""
    import random

    rng = random.Random(seed)
    return [f"emp-{rng.getrandbits(40):010x}" for _ in range(n)]


_SHARE_USERS = 20_000
_PERCENTS = (5.0, 10.0, 12.5, 50.0)


def _share_tolerance(percent: float) -> float:
    """Five standard errors of the share at _SHARE_USERS users, in points (at least half a
    point): a sound rule falls outside it by chance about once in a million checks."""
    p = percent / 100
    return max(0.5, 5 * 100 * (p * (1 - p) / _SHARE_USERS) ** 0.5)


_OTHER_NAME = "ticket-triage"
_ODD_USERS = ["", "émilie@kestrel", "u 42", "U-42"]


def _salted_hash_demo() -> str:
    """hash('user-1') in this process and in a fresh one: they differ (str hashes are salted)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    try:
        other = subprocess.run(
            [sys.executable, "-c", "print(hash('user-1'))"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env=env,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    here = str(hash("user-1"))
    return (
        f" (hash('user-1') is {here} here and {other} in a fresh Python)" if other != here else ""
    )


def _as_bool(call: str, got: Any) -> bool:
    if type(got).__name__ == "bool_":  # numpy's bool is a fine answer
        got = bool(got)
    if not isinstance(got, bool):
        raise NotYet(f"{call} returned {got!r:.60}; return True or False.")
    return got


@exercise(
    "2.4.3",
    title="Who is in the canary?",
    answer_name="in_canary",
    reference=in_canary,
    solution=SOLUTION,
    hints=(
        "A rule that gives the same answer every time, everywhere, is a function of its inputs "
        "only: no random draw, no state. Turn (prompt_name, user_id) into a number spread "
        "evenly over [0, 100), and compare it with percent.",
        "Use a cryptographic hash such as hashlib.sha256 of both strings together, not "
        "hash(): Python salts str hashes per process, so users would switch versions on every "
        "restart. Comparing one fixed number with percent makes raising percent only add users.",
        "digest = hashlib.sha256(f'{prompt_name}\\x00{user_id}'.encode()).digest(); return "
        "int.from_bytes(digest[:8], 'big') / 2**64 * 100 < percent",
    ),
)
def _check_in_canary(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, canary_bucket):
        raise NotYet(
            "in_canary calls canary_bucket: that is the library's bucket rule; write your own."
        )
    if answer_calls(answer, hash):
        raise NotYet(
            "in_canary uses Python's hash(): str hashes are salted per process, so a user would "
            f"switch versions on every restart and between replicas{_salted_hash_demo()}. Use "
            "a hash that is the same everywhere, such as hashlib.sha256."
        )
    users = _hidden_users(_SHARE_USERS, seed=244)

    def ask(name: str, user: str, percent: float) -> bool:
        call = f"in_canary({name!r}, {user!r}, {percent:g})"
        return _as_bool(call, probe.call_as(call, answer, name, user, percent))

    for user in _ODD_USERS:
        ask(NAME, user, 10.0)
    # 1. Stable: the same user gets the same answer on every call.
    for user in users[:300]:
        first = ask(NAME, user, 10.0)
        if any(ask(NAME, user, 10.0) != first for _ in range(3)):
            raise NotYet(
                f"in_canary({NAME!r}, {user!r}, 10) changed its answer between calls: a user "
                "would flip between versions. The answer must depend on the inputs only."
            )
    # 2. Nobody at 0%, everybody at 100%.
    for percent, expected in ((0.0, False), (100.0, True)):
        wrong = next((u for u in users[:2000] if ask(NAME, u, percent) != expected), None)
        if wrong is not None:
            who = "nobody" if not expected else "everybody"
            raise NotYet(
                f"in_canary({NAME!r}, {wrong!r}, {percent:g}) returned {not expected}: a canary "
                f"at {percent:g}% serves {who}."
            )
    # 3. About percent % of users, and 4. raising percent only adds users.
    chosen: dict[float, list[bool]] = {}
    for percent in _PERCENTS:
        chosen[percent] = [ask(NAME, u, percent) for u in users]
        share = 100 * sum(chosen[percent]) / len(users)
        tolerance = _share_tolerance(percent)
        if abs(share - percent) > tolerance:
            raise NotYet(
                f"at percent={percent:g}, in_canary puts {share:.1f}% of {len(users):,} hidden "
                f"users in the canary; it should be about {percent:g}% (within "
                f"{tolerance:.1f} point)."
            )
    for low, high in itertools.pairwise(_PERCENTS):
        dropped = sum(a and not b for a, b in zip(chosen[low], chosen[high], strict=True))
        if dropped:
            raise NotYet(
                f"raising the canary from {low:g}% to {high:g}% drops {dropped} of the hidden "
                f"users who were in it: raising the percentage should only add users, or they "
                "switch back and forth during a rollout."
            )
    # 5. Independent across prompt names.
    mine = chosen[10.0]
    other = [ask(_OTHER_NAME, u, 10.0) for u in users]
    both = sum(a and b for a, b in zip(mine, other, strict=True))
    overlap = 100 * both / max(1, sum(mine))
    if overlap > 20:
        raise NotYet(
            f"{overlap:.0f}% of the 10% canary of {NAME!r} is also in that of {_OTHER_NAME!r}: "
            "the same users would test every new prompt. Each prompt should pick its own slice "
            "(about 10% overlap by chance)."
        )
    return (
        f"in_canary is stable, serves about the stated share of {len(users):,} hidden users at "
        f"{len(_PERCENTS)} percentages, only adds users as the percentage rises, and picks "
        f"another slice for another prompt ({overlap:.0f}% overlap)."
    )
