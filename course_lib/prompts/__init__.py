"""Prompts as versioned files: immutable versions, environment aliases, a canary, a lock.

A prompt is code that ships without a deploy, so it gets what code gets: a file in the
repository, review, an immutable version number stamped on every answer, and a way to roll
back. The bundled library holds the Handbook Assistant's ``handbook-answer`` prompt:

* ``v1``: naive (no citations, guesses from memory, obeys instructions planted in passages);
* ``v2``: cites passage ids and says "I don't know" when the passages do not answer;
* ``v3``: v2 plus the injection guard (passages are delimited data, never instructions).

>>> from course_lib.prompts import PromptRegistry
>>> registry = PromptRegistry()
>>> rendered = registry.render(
...     "handbook-answer", environment="production", user_id="u-42",
...     question="How many days of annual leave do I get?",
...     passages=[{"id": "leave-policy", "text": "Annual leave is 25 working days."}],
... )
>>> rendered.ref
'handbook-answer@v3'
>>> client.chat(**rendered.chat_kwargs())   # messages, model role, params, prompt_version

Passages are any objects (or mappings) with ``id`` and ``text``. Lessons that move aliases
work on a copy of the library (``shutil.copytree(BUNDLED_LIBRARY, ...)``), and
``course prompts lock --write`` releases new versions.

Changing what production serves takes four more pieces:

* :func:`derive_version` / :func:`add_version` write a change as the next version file;
* :func:`regression_gate` decides from paired intervals on the golden set whether a candidate
  may replace the version an environment serves (non-inferiority within a margin);
* :class:`PromptDeployer` promotes through the gate, runs canaries, keeps a history of every
  alias move, and rolls an environment back one step;
* :class:`MlflowPromptStore` does the same registration and alias moves in MLflow's prompt
  registry, for comparison (MLflow loads only when a store is created).

Importing this package loads neither Jinja2 nor PyYAML; they load on first use.
"""

from __future__ import annotations

from course_lib.prompts.authoring import add_version, derive_version, version_file_text
from course_lib.prompts.gate import (
    DEFAULT_MARGIN,
    GateDecision,
    MetricCheck,
    PairedInterval,
    regression_gate,
)
from course_lib.prompts.lockfile import (
    LOCK_FILE,
    LockProblem,
    check_lock,
    verify_lock,
    write_lock,
)
from course_lib.prompts.mlflow_registry import MlflowPromptStore, MlflowPromptVersion
from course_lib.prompts.promotion import (
    HISTORY_FILE,
    PROTECTED_ENVIRONMENTS,
    AliasMove,
    PromptDeployer,
)
from course_lib.prompts.registry import (
    ALIASES_FILE,
    BUNDLED_LIBRARY,
    Aliases,
    Canary,
    PromptRegistry,
    canary_bucket,
)
from course_lib.prompts.versions import (
    PromptMessage,
    PromptVersion,
    RenderedPrompt,
    content_sha256,
)

__all__ = [
    "ALIASES_FILE",
    "BUNDLED_LIBRARY",
    "DEFAULT_MARGIN",
    "HISTORY_FILE",
    "LOCK_FILE",
    "PROTECTED_ENVIRONMENTS",
    "AliasMove",
    "Aliases",
    "Canary",
    "GateDecision",
    "LockProblem",
    "MetricCheck",
    "MlflowPromptStore",
    "MlflowPromptVersion",
    "PairedInterval",
    "PromptDeployer",
    "PromptMessage",
    "PromptRegistry",
    "PromptVersion",
    "RenderedPrompt",
    "add_version",
    "canary_bucket",
    "check_lock",
    "content_sha256",
    "derive_version",
    "regression_gate",
    "verify_lock",
    "version_file_text",
    "write_lock",
]
