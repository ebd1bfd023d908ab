"""Prompt templates rendered with Jinja2, where a missing variable is an error, not a blank.

An f-string prompt fails loudly only when a name is missing from the code; a template filled
from data fails silently: Jinja2's default renders a missing variable as an empty string, and
the model gets a prompt with a hole in it. :func:`render_prompt` renders with
``StrictUndefined``, so the hole becomes an error that names the variable.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from course_lib.errors import PromptRenderError

if TYPE_CHECKING:
    import jinja2

__all__ = ["render_prompt", "template_variables"]


def _tojson(value: Any, indent: int | None = None) -> str:
    # Jinja2's own ``tojson`` escapes <, >, & and ' for HTML (``can\u0027t``); prompts are not
    # HTML, and the model should read the JSON exactly as it is asked to write it.
    return json.dumps(value, ensure_ascii=False, indent=indent)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The Jinja2 environment every prompt renders in.

    StrictUndefined: a missing variable raises. No autoescaping: prompts are text, not HTML.
    ``trim_blocks``/``lstrip_blocks``: ``{% for %}`` lines leave no blank lines behind.
    Sandboxed: a template cannot reach Python internals through the values it is given.
    """
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["tojson"] = _tojson
    return environment


@lru_cache(maxsize=256)
def _compile(template: str) -> jinja2.Template:
    import jinja2

    try:
        return _environment().from_string(template)
    except jinja2.TemplateSyntaxError as exc:
        raise PromptRenderError(
            f"The prompt template is not valid Jinja2 (line {exc.lineno}: {exc.message}); "
            "fix the template."
        ) from None


def template_variables(template: str) -> frozenset[str]:
    """The names a template reads from its caller (loop variables and ``set`` names excluded).

    >>> sorted(template_variables("{% for e in examples %}{{ e.ticket }}{% endfor %}{{ body }}"))
    ['body', 'examples']
    """
    from jinja2 import meta

    _compile(template)  # a syntax error is reported as PromptRenderError
    return frozenset(meta.find_undeclared_variables(_environment().parse(template)))


def render_prompt(template: str, /, **values: Any) -> str:
    """Renders a Jinja2 prompt template with ``values``; leading and trailing space removed.

    Args:
        template: the Jinja2 text, e.g. ``"Subject: {{ subject }}\\n\\n{{ body }}"``.
        **values: the variables. Values are inserted as they are: text that looks like Jinja2
            inside a value (a ticket quoting ``{{ x }}``) is not rendered again.

    Returns:
        The prompt text. ``tojson`` writes plain JSON (``{{ answer | tojson }}``).

    Raises:
        PromptRenderError: the template uses a variable that was not given (the message names
            it and lists the ones given), reads a missing attribute or key of a value, or is
            not valid Jinja2.

    >>> render_prompt("Subject: {{ subject }}", subject="VPN down")
    'Subject: VPN down'
    """
    import jinja2

    compiled = _compile(template)
    missing = sorted(template_variables(template) - values.keys())
    if missing:
        given = ", ".join(map(repr, sorted(values))) or "none"
        raise PromptRenderError(
            f"The prompt template uses {', '.join(map(repr, missing))}, but no value was "
            f"given for {'it' if len(missing) == 1 else 'them'} (given: {given}); pass "
            f"{missing[0]}=... to render_prompt."
        )
    try:
        return compiled.render(**values).strip()
    except jinja2.UndefinedError as exc:
        given = ", ".join(map(repr, sorted(values))) or "none"
        raise PromptRenderError(
            f"The prompt template could not render: {exc.message} (given: {given}); check "
            "the names the template reads from each value."
        ) from None
