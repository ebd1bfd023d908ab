"""Writing prompt versions: every change is a new file, never an edit of an old one.

A version file, once written, is what ``name@vN`` means in every answer, log line and trace
stamped with it. So a change to a prompt goes into the next file (``v4.yaml`` after
``v3.yaml``), written here the way a reviewer would write it by hand, then read back through
the registry's own loader, so a file that would not load is never left behind.

>>> from course_lib.prompts import PromptRegistry, derive_version
>>> registry = PromptRegistry(my_copy_of_the_library)
>>> draft = derive_version(
...     registry, "handbook-answer", base=3, system=new_system_text,
...     description="v3, answering in at most two sentences",
... )
>>> draft.ref
'handbook-answer@v4'

A new version is a draft until ``write_lock`` (``course prompts lock --write``) records its
hash; from then on the registry refuses to serve it if its file changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.errors import PromptFileError
from course_lib.prompts._files import PROMPT_NAME, version_files
from course_lib.prompts.versions import ROLES, PromptVersion, load_version_file

if TYPE_CHECKING:
    from course_lib.prompts.registry import PromptRegistry

__all__ = ["add_version", "derive_version", "version_file_text"]

Template = str | Sequence[Mapping[str, str]]
"""One user message (a string), or chat messages: ``[{"role": ..., "content": ...}, ...]``."""


def version_file_text(
    *,
    template: Template,
    description: str,
    model_role: str,
    params: Mapping[str, Any] | None = None,
) -> str:
    """The YAML text of a version file, with multi-line contents as readable ``|`` blocks.

    Raises:
        PromptFileError: the template is neither a string nor a list of role/content messages.
    """
    import yaml

    if isinstance(template, str):
        messages: str | list[dict[str, str]] = template
    else:
        messages = [_message(i, m) for i, m in enumerate(template)]
        if not messages:
            raise PromptFileError("The template has no messages; give at least one.")
    document: dict[str, Any] = {
        "description": " ".join(str(description).split()),
        "model_role": str(model_role),
    }
    if params:
        document["params"] = dict(params)
    document["template"] = messages
    text: str = yaml.dump(
        document, Dumper=_block_dumper(), sort_keys=False, allow_unicode=True, width=96
    )
    return text


def add_version(
    registry: PromptRegistry,
    name: str,
    *,
    template: Template,
    description: str,
    model_role: str,
    params: Mapping[str, Any] | None = None,
) -> PromptVersion:
    """Writes the next version of prompt ``name`` (a new prompt gets ``v1``) and returns it.

    The file is created, never overwritten: if another writer took the number first, the next
    one is used. It is then loaded back with the registry's loader; if that fails, the file is
    removed and the loader's error raised, so the library never holds a version that cannot
    load.

    Raises:
        PromptFileError: a bad name, an empty description, or a template that does not load
            (invalid Jinja2, a wrong role); the message says what to fix.
    """
    if not PROMPT_NAME.match(name):
        raise PromptFileError(
            f"{name!r} is not a valid prompt name; use lower-case letters, digits, '.', '_' "
            "and '-', starting with a letter or digit."
        )
    if not str(description).strip():
        raise PromptFileError(
            "Every version needs a description: say what it changes and why (reviewers and "
            "the audit trail read it)."
        )
    text = version_file_text(
        template=template, description=description, model_role=model_role, params=params
    )
    folder = Path(registry.root) / name
    folder.mkdir(parents=True, exist_ok=True)
    number = max(version_files(Path(registry.root)).get(name, {}), default=0) + 1
    while True:
        path = folder / f"v{number}.yaml"
        try:
            with open(path, "x", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            break
        except FileExistsError:
            number += 1
    try:
        return load_version_file(path, name=name, version=number)
    except PromptFileError:
        path.unlink(missing_ok=True)
        raise


def derive_version(
    registry: PromptRegistry,
    name: str,
    *,
    base: int | str,
    description: str,
    system: str | None = None,
    user: str | None = None,
    model_role: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> PromptVersion:
    """Writes a new version of ``name`` that is ``base`` with some parts replaced.

    Args:
        base: the version to start from (``3``, ``"v3"`` or ``"latest"``).
        system: the new system message (``base`` must have one); None keeps it.
        user: the new text of the last user message; None keeps it.
        model_role, params: None keeps ``base``'s.

    Raises:
        PromptFileError: nothing would change, the new text reads a variable ``base`` does not
            (callers pass only the variables the old one read), or the template does not load.
    """
    old = registry.get(name, base)
    messages = [{"role": m.role, "content": m.content} for m in old.template]
    for role, text in (("system", system), ("user", user)):
        if text is None:
            continue
        if not isinstance(text, str) or not text.strip():
            raise PromptFileError(f"The new {role} message must be non-empty text.")
        places = [i for i, m in enumerate(messages) if m["role"] == role]
        if not places:
            raise PromptFileError(
                f"{old.ref} has no {role} message to replace; write the whole template with "
                "add_version() instead."
            )
        messages[places[-1]]["content"] = text
    role = model_role or old.model_role
    new_params = dict(params) if params is not None else dict(old.params)
    if (
        [(m["role"], m["content"]) for m in messages] == [(m.role, m.content) for m in old.template]
        and role == old.model_role
        and new_params == dict(old.params)
    ):
        raise PromptFileError(
            f"The new version would be identical to {old.ref}; change the text (or keep "
            f"serving {old.ref})."
        )
    _check_variables(old, messages)
    return add_version(
        registry,
        name,
        template=messages,
        description=description,
        model_role=role,
        params=new_params or None,
    )


def _check_variables(old: PromptVersion, messages: list[dict[str, str]]) -> None:
    """Refuses a template that reads a variable the caller of ``old`` never passes."""
    import jinja2

    from course_lib.prompts.versions import PromptMessage

    probe = PromptVersion(
        old.name, old.version, tuple(PromptMessage(**m) for m in messages), old.metadata, ""
    )
    try:
        extra = sorted(probe.variables - old.variables)
    except jinja2.TemplateSyntaxError:
        return  # the loader reports it, naming the file and the line
    if extra:
        raise PromptFileError(
            f"The new template reads {', '.join(map(repr, extra))}, which callers of "
            f"{old.ref} do not pass (they pass {', '.join(map(repr, sorted(old.variables)))}); "
            "check the spelling of each {{ variable }}."
        )


def _message(index: int, message: Mapping[str, str]) -> dict[str, str]:
    if (
        not isinstance(message, Mapping)
        or set(message) != {"role", "content"}
        or message["role"] not in ROLES
        or not isinstance(message["content"], str)
    ):
        raise PromptFileError(
            f"Template message {index} must be {{'role': ..., 'content': ...}} with a role "
            f"among {', '.join(ROLES)} and a text content; got {message!r:.120}."
        )
    return {"role": message["role"], "content": message["content"]}


@lru_cache(maxsize=1)
def _block_dumper() -> Any:
    import yaml

    class BlockDumper(yaml.SafeDumper):
        """Multi-line strings as ``|`` blocks and indented lists, as the files are written
        by hand, so a version file reads like the prompt it holds."""

        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)

    def represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    BlockDumper.add_representer(str, represent_text)
    return BlockDumper
