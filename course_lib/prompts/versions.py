"""One prompt version: its file, its content hash, and rendering it into chat messages.

A version file (``v2.yaml``) holds::

    description: what this version changes, and why
    model_role: chat-small          # a role of the model registry, never a model id
    params: {temperature: 0.0}      # optional: chat() options that version with the prompt
    template:                       # chat messages; each content is a Jinja2 template
      - role: system
        content: ...
      - role: user
        content: ...

``template`` may also be a single string: one user message. Rendering is strict: a variable
the template uses but the caller did not pass is an error naming it, never an empty string
silently sent to the model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from course_lib.errors import PromptFileError, PromptRenderError
from course_lib.prompts._files import load_yaml, one_line

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "PromptMessage",
    "PromptVersion",
    "RenderedPrompt",
    "content_sha256",
    "load_version_file",
    "parse_version_number",
]

ROLES = ("system", "developer", "user", "assistant")
_KEYS_REQUIRED = ("description", "model_role", "template")
_KEYS_OPTIONAL = ("params",)
_VERSION_TEXT = re.compile(r"^v?([1-9][0-9]*)$", re.I)


@dataclass(frozen=True)
class PromptMessage:
    """One message of a prompt template: a role and the Jinja2 text of its content."""

    role: str
    content: str


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready to send, stamped with the version it came from.

    Pass ``ref`` (``"handbook-answer@v3"``) as the client's ``prompt_version`` so every answer,
    log line and span says which prompt produced it; :meth:`chat_kwargs` does that for you.
    """

    messages: tuple[dict[str, str], ...]
    ref: str
    version: int
    name: str
    model_role: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def chat_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``LLMClient.chat`` (and ``traced_chat``) for this prompt.

        >>> client.chat(**rendered.chat_kwargs())  # messages, model role, params, version
        """
        return {
            "messages": [dict(m) for m in self.messages],
            "model": self.model_role,
            "prompt_version": self.ref,
            **dict(self.params),
        }


@dataclass(frozen=True)
class PromptVersion:
    """An immutable prompt version, as its file holds it.

    ``sha256`` is the hash of the file's text (line endings normalised), the value the lock
    file records; ``metadata`` holds ``description``, ``model_role`` and ``params``.
    """

    name: str
    version: int
    template: tuple[PromptMessage, ...]
    metadata: Mapping[str, Any] = field(compare=False)
    sha256: str

    @property
    def ref(self) -> str:
        """``name@vN``: how answers, logs and spans name this version."""
        return f"{self.name}@v{self.version}"

    @property
    def description(self) -> str:
        return str(self.metadata.get("description", ""))

    @property
    def model_role(self) -> str:
        return str(self.metadata["model_role"])

    @property
    def params(self) -> Mapping[str, Any]:
        return self.metadata.get("params") or MappingProxyType({})

    @property
    def variables(self) -> frozenset[str]:
        """The names the template expects from the caller (loop variables excluded)."""
        names: frozenset[str] = frozenset()
        for message in self.template:
            names |= _undeclared(message.content)
        return names

    def render(
        self, variables: Mapping[str, Any] | None = None, /, **values: Any
    ) -> RenderedPrompt:
        """Renders the messages with ``variables`` (a mapping) and/or keyword ``values``.

        Raises:
            PromptRenderError: a variable is missing, or a value lacks an attribute the
                template reads (e.g. a passage without ``id``).
        """
        import jinja2

        given = {**(variables or {}), **values}
        missing = sorted(self.variables - given.keys())
        if missing:
            raise PromptRenderError(
                f"Prompt {self.ref} needs the variable(s) {', '.join(map(repr, missing))}, "
                f"which were not given (given: {', '.join(map(repr, sorted(given))) or 'none'}); "
                "pass them to render()."
            )
        messages = []
        for message in self.template:
            try:
                text = _compile(message.content).render(given)
            except jinja2.UndefinedError as exc:
                raise PromptRenderError(
                    f"Prompt {self.ref} could not render its {message.role} message: "
                    f"{exc.message}. Check the values passed to render() (the template reads "
                    f"{', '.join(sorted(self.variables))})."
                ) from None
            messages.append({"role": message.role, "content": text.strip()})
        return RenderedPrompt(
            messages=tuple(messages),
            ref=self.ref,
            version=self.version,
            name=self.name,
            model_role=self.model_role,
            params=MappingProxyType(dict(self.params)),
        )


def content_sha256(text: str) -> str:
    """The hash the lock file records: sha256 of the text with LF line endings.

    Normalising line endings keeps the hash stable when git converts them on checkout
    (``core.autocrlf`` on Windows); any other change, even one space, changes it.
    """
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def parse_version_number(value: int | str) -> int:
    """``2``, ``"2"`` and ``"v2"`` all mean version 2."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a prompt version; use a number such as 2 or 'v2'.")
    if isinstance(value, int):
        if value >= 1:
            return value
    elif match := _VERSION_TEXT.match(str(value).strip()):
        return int(match.group(1))
    raise ValueError(f"{value!r} is not a prompt version; use a number such as 2 or 'v2'.")


def load_version_file(path: Path, *, name: str, version: int) -> PromptVersion:
    """Reads and validates one version file.

    Raises:
        PromptFileError: the YAML is invalid, a key is missing or unknown, or a template does
            not parse; the message names the file.
    """
    import jinja2
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise PromptFileError(
            f"{path} is not valid YAML ({one_line(exc)}); fix the file."
        ) from None
    if not isinstance(data, dict):
        raise PromptFileError(
            f"{path} must be a mapping with {', '.join(_KEYS_REQUIRED)}; got {type(data).__name__}."
        )
    missing = [k for k in _KEYS_REQUIRED if k not in data]
    unknown = sorted(set(data) - {*_KEYS_REQUIRED, *_KEYS_OPTIONAL})
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown key(s) {', '.join(map(repr, unknown))}")
        raise PromptFileError(
            f"{path}: {'; '.join(problems)}. A version file has {', '.join(_KEYS_REQUIRED)} "
            f"and optionally {', '.join(_KEYS_OPTIONAL)}."
        )
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise PromptFileError(f"{path}: params must be a mapping such as {{temperature: 0.0}}.")
    template = _parse_template(path, data["template"])
    for message in template:
        try:
            _environment().parse(message.content)
        except jinja2.TemplateSyntaxError as exc:
            raise PromptFileError(
                f"{path}: the {message.role} message is not a valid Jinja2 template "
                f"(line {exc.lineno}: {exc.message}); fix the template."
            ) from None
    metadata = MappingProxyType(
        {
            "description": str(data["description"]).strip(),
            "model_role": str(data["model_role"]),
            "params": MappingProxyType(dict(params)),
        }
    )
    return PromptVersion(name, version, template, metadata, content_sha256(text))


def _parse_template(path: Path, value: Any) -> tuple[PromptMessage, ...]:
    if isinstance(value, str):
        return (PromptMessage("user", value),)
    if isinstance(value, list) and value:
        messages = []
        for i, item in enumerate(value):
            if (
                not isinstance(item, dict)
                or set(item) != {"role", "content"}
                or item["role"] not in ROLES
                or not isinstance(item["content"], str)
            ):
                raise PromptFileError(
                    f"{path}: template message {i} must have exactly a role (one of "
                    f"{', '.join(ROLES)}) and a text content; got {item!r:.120}."
                )
            messages.append(PromptMessage(item["role"], item["content"]))
        return tuple(messages)
    raise PromptFileError(
        f"{path}: template must be a string (one user message) or a list of "
        "{role, content} messages."
    )


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The one Jinja2 environment every prompt renders in.

    StrictUndefined: a missing variable raises instead of rendering as "". No autoescaping:
    prompts are text, not HTML. Sandboxed: a template (which a registry may let non-engineers
    edit) cannot reach Python internals through the values it is given.
    """
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=256)
def _undeclared(source: str) -> frozenset[str]:
    from jinja2 import meta

    return frozenset(meta.find_undeclared_variables(_environment().parse(source)))


@lru_cache(maxsize=256)
def _compile(source: str) -> jinja2.Template:
    # Versions are immutable, so a compiled template can be reused for as long as its text.
    return _environment().from_string(source)
