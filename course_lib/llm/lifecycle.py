"""What the registry says about a model's kind and life: reasoning models and retired ones.

Two facts about a model change how it may be called, and both live in the registry file, not
in code:

* ``reasoning = true``: the model thinks in hidden tokens before it answers. Providers report
  them as ``usage.completion_tokens_details.reasoning_tokens`` and bill them as output tokens
  (they are part of ``completion_tokens``), and they refuse sampling settings such as
  ``temperature``. :func:`explain_refusal` turns that refusal into a sentence saying what to do.
* ``retired = "YYYY-MM-DD"`` and ``replacement = "<model id>"``: the provider has switched the
  model off. :func:`check_not_retired` refuses the call before it is sent, in one line naming
  the replacement and the registry file, because lessons and services ask for roles: moving a
  role to the replacement is one line of that file, followed by re-running the evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.errors import ModelRequestError
from course_lib.models import ModelRegistry, ModelSpec

__all__ = ["check_not_retired", "explain_refusal", "is_reasoning", "retirement"]

# Request fields a reasoning model refuses, as the providers' reasoning models do.
SAMPLING_PARAMETERS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")


def is_reasoning(spec: ModelSpec) -> bool:
    """True when the registry marks the model as a reasoning model (``reasoning = true``)."""
    return bool(spec.extra.get("reasoning", False))


def retirement(spec: ModelSpec) -> tuple[str, str | None] | None:
    """(the retirement date, the replacement's id or None), or None for a model in service."""
    retired = spec.extra.get("retired")
    if not retired:
        return None
    replacement = spec.extra.get("replacement")
    return str(retired), str(replacement) if replacement else None


def check_not_retired(spec: ModelSpec, registry: ModelRegistry, asked_for: str) -> None:
    """Raise a one-line ModelRequestError (404) when ``spec`` is retired; else nothing.

    ``asked_for`` is the role or id the caller used, so the message can name the line to
    change: a role's line in ``[roles]``, or the caller's own model id.
    """
    retired = retirement(spec)
    if retired is None:
        return
    date, replacement = retired
    instead = f"its replacement is {replacement!r}" if replacement else "it has no replacement"
    if asked_for in registry.roles:
        fix = (
            f"point the role at it in {registry.source.name} "
            f"([roles] {asked_for} = {replacement or '...'!r}), then re-run your evaluation"
        )
    else:
        fix = "ask for a role instead of a model id, and map the role in the registry file"
    raise ModelRequestError(
        f"Model {spec.id!r} was retired on {date}; {instead}: {fix}.", status_code=404
    )


def explain_refusal(
    error: ModelRequestError, spec: ModelSpec, request: Mapping[str, Any]
) -> ModelRequestError | None:
    """A clearer error for a reasoning model's refusal of a sampling setting; else None."""
    if not is_reasoning(spec):
        return None
    sent = [name for name in SAMPLING_PARAMETERS if request.get(name) is not None]
    if not sent or not any(name in str(error) for name in sent):
        return None
    return ModelRequestError(
        f"{error} {spec.id} is a reasoning model: leave out {', '.join(sent)} (it samples at its "
        "own setting) and steer it with reasoning_effort ('low', 'medium' or 'high') instead.",
        status_code=error.status_code,
    )
