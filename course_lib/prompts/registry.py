"""The prompt registry: versioned prompt files, environment aliases and a canary.

The library is a folder with one sub-folder per prompt::

    library/
      prompts.lock.json          hashes of released versions (see course_lib.prompts.lockfile)
      handbook-answer/
        v1.yaml  v2.yaml  v3.yaml   immutable versions
        aliases.yaml                which version each environment serves, and a canary

Versions are immutable snapshots; aliases are mutable pointers. Deploying is moving an
alias, rolling back is moving it back: no code change, no restart, because aliases are read
again on every :meth:`PromptRegistry.resolve`. (A registry served over the network caches
them, and then a move takes effect only when the cache expires.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from course_lib.errors import PromptFileError, PromptIntegrityError, PromptNotFoundError
from course_lib.prompts._files import PROMPT_NAME, atomic_write, load_yaml, one_line, version_files
from course_lib.prompts.lockfile import LOCK_FILE, read_lock
from course_lib.prompts.versions import (
    PromptVersion,
    RenderedPrompt,
    load_version_file,
    parse_version_number,
)

__all__ = [
    "ALIASES_FILE",
    "BUNDLED_LIBRARY",
    "Aliases",
    "Canary",
    "PromptRegistry",
    "canary_bucket",
]

BUNDLED_LIBRARY = Path(__file__).with_name("library")
ALIASES_FILE = "aliases.yaml"

_ALIASES_HEADER = """\
# Which version of this prompt each environment serves. Versions are immutable; these are
# pointers. Deploy by moving one (PromptRegistry.set_alias), roll back by moving it back.
# Optional canary: route `percent` % of an environment's users to a `candidate` version,
# chosen by a stable hash of the user id (PromptRegistry.set_canary).
"""


@dataclass(frozen=True)
class Canary:
    """A share of one environment's users served a candidate version."""

    environment: str
    candidate: int
    percent: float


@dataclass(frozen=True)
class Aliases:
    """The contents of a prompt's ``aliases.yaml``."""

    environments: Mapping[str, int]
    canary: Canary | None = None


def canary_bucket(name: str, user_id: str) -> float:
    """Where ``user_id`` falls in [0, 100) for prompt ``name``; below ``percent`` is canary.

    sha256, not Python's ``hash()``: the latter is salted per process, so a user would switch
    versions on every restart and between replicas. The prompt name is part of the input, so
    each prompt's canary picks a different slice of users. Raising the percentage only adds
    users: nobody flips back and forth during a rollout.
    """
    digest = hashlib.sha256(f"{name}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


class PromptRegistry:
    """Prompt versions, aliases and canaries read from a library folder.

    Args:
        root: the library folder; default the bundled one. Lessons that move aliases work on
            a copy in the work directory, never on the bundled files.
        verify: refuse to serve a released version whose file no longer matches the lock.

    Example:
        >>> registry = PromptRegistry()
        >>> prompt = registry.resolve("handbook-answer", environment="production")
        >>> rendered = prompt.render(question="How many days of leave?", passages=hits)
        >>> rendered.ref
        'handbook-answer@v3'
    """

    def __init__(self, root: str | Path | None = None, *, verify: bool = True) -> None:
        self.root = Path(root) if root is not None else BUNDLED_LIBRARY
        self.verify = verify
        if not self.root.is_dir():
            raise PromptFileError(
                f"The prompt library {str(self.root)!r} is not a folder; pass the folder that "
                "holds one sub-folder per prompt (or nothing, for the bundled library)."
            )

    def __repr__(self) -> str:
        return f"PromptRegistry(root={str(self.root)!r})"

    # -- versions ------------------------------------------------------------------------

    def names(self) -> list[str]:
        """The prompts in the library, sorted."""
        return list(version_files(self.root))

    def versions(self, name: str) -> list[int]:
        """The version numbers of prompt ``name``, oldest first."""
        return list(self._files(name))

    def get(self, name: str, version: int | str) -> PromptVersion:
        """One version of a prompt: ``get("handbook-answer", 2)``, ``"v2"`` or ``"latest"``.

        Raises:
            PromptNotFoundError: no such prompt or version; the message lists what exists.
            PromptIntegrityError: the version is released and its file changed since.
        """
        files = self._files(name)
        if version == "latest":
            number = max(files)
        else:
            try:
                number = parse_version_number(version)
            except ValueError as exc:
                raise PromptNotFoundError(str(exc)) from None
        if number not in files:
            raise PromptNotFoundError(
                f"Prompt {name!r} has no version {number}; its versions are "
                f"{', '.join(f'v{v}' for v in files)}."
            )
        prompt = load_version_file(files[number], name=name, version=number)
        if self.verify:
            self._check_released(prompt)
        return prompt

    def _files(self, name: str) -> dict[int, Path]:
        found = version_files(self.root)
        if name not in found:
            known = ", ".join(map(repr, found)) or "none"
            hint = (
                " Prompt names are lower-case letters, digits, '.', '_' and '-'."
                if not PROMPT_NAME.match(name)
                else ""
            )
            raise PromptNotFoundError(
                f"No prompt named {name!r} in {str(self.root)!r}; prompts there: {known}.{hint}"
            )
        return found[name]

    def _check_released(self, prompt: PromptVersion) -> None:
        locked = (read_lock(self.root) or {}).get(prompt.name, {}).get(f"v{prompt.version}")
        if locked is not None and locked != prompt.sha256:
            raise PromptIntegrityError(
                f"{prompt.ref} changed after release: its file no longer matches the hash in "
                f"{LOCK_FILE}. Restore the file and put the change in a new version "
                f"(v{max(self.versions(prompt.name)) + 1}.yaml)."
            )

    # -- aliases and canary --------------------------------------------------------------

    def aliases(self, name: str) -> Aliases:
        """The environments and canary of prompt ``name``, read from disk now."""
        files = self._files(name)
        path = self.root / name / ALIASES_FILE
        if not path.is_file():
            raise PromptNotFoundError(
                f"Prompt {name!r} has no {ALIASES_FILE}, so no environment serves it; create "
                f"one with set_alias({name!r}, 'dev', {max(files)}, create=True)."
            )
        return _parse_aliases(path, set(files))

    def environments(self, name: str) -> dict[str, int]:
        """Environment -> version of prompt ``name`` (the canary aside)."""
        return dict(self.aliases(name).environments)

    def resolve(self, name: str, *, environment: str, user_id: str | None = None) -> PromptVersion:
        """The version ``environment`` serves to ``user_id`` right now.

        The canary applies only when ``user_id`` is given: without one there is nothing
        stable to hash, and the environment's own version is the safe answer.

        Raises:
            PromptNotFoundError: no such prompt or environment; the message lists what exists.
        """
        aliases = self.aliases(name)
        if environment not in aliases.environments:
            raise PromptNotFoundError(
                f"Prompt {name!r} has no environment {environment!r}; its environments are "
                f"{', '.join(f'{e} (v{v})' for e, v in aliases.environments.items())}."
            )
        version = aliases.environments[environment]
        canary = aliases.canary
        if (
            canary is not None
            and user_id is not None
            and canary.environment == environment
            and canary_bucket(name, str(user_id)) < canary.percent
        ):
            version = canary.candidate
        return self.get(name, version)

    def render(
        self,
        name: str,
        variables: Mapping[str, Any] | None = None,
        /,
        *,
        environment: str,
        user_id: str | None = None,
        **values: Any,
    ) -> RenderedPrompt:
        """Resolves the version for ``environment`` and ``user_id`` and renders it.

        See :meth:`resolve` and :meth:`PromptVersion.render`.
        """
        prompt = self.resolve(name, environment=environment, user_id=user_id)
        return prompt.render(variables, **values)

    def set_alias(
        self, name: str, environment: str, version: int | str, *, create: bool = False
    ) -> int | None:
        """Points ``environment`` at ``version``; returns the version it pointed at before.

        Keep the returned version: rolling back is ``set_alias(name, environment, previous)``.

        Args:
            create: allow an environment the file does not list yet (otherwise a typo such as
                "prodution" would silently create one).
        """
        files = self._files(name)
        number = self.get(name, version).version  # validates it exists and is intact
        path = self.root / name / ALIASES_FILE
        aliases = _parse_aliases(path, set(files)) if path.is_file() else Aliases({})
        if environment not in aliases.environments and not create:
            raise PromptNotFoundError(
                f"Prompt {name!r} has no environment {environment!r}; its environments are "
                f"{', '.join(aliases.environments) or 'none'}. Pass create=True to add it."
            )
        previous = aliases.environments.get(environment)
        environments = {**aliases.environments, environment: number}
        _write_aliases(path, Aliases(environments, aliases.canary))
        return previous

    def set_canary(
        self, name: str, *, environment: str, candidate: int | str, percent: float
    ) -> None:
        """Serves ``candidate`` to ``percent`` % of ``environment``'s users (by user id).

        Promote a candidate by moving the environment's alias to it, then
        :meth:`clear_canary`; abandon it with :meth:`clear_canary` alone.
        """
        aliases = self.aliases(name)
        if environment not in aliases.environments:
            raise PromptNotFoundError(
                f"Prompt {name!r} has no environment {environment!r}; its environments are "
                f"{', '.join(aliases.environments)}."
            )
        if not 0 <= float(percent) <= 100:
            raise ValueError(f"percent must be between 0 and 100; got {percent!r}.")
        number = self.get(name, candidate).version
        canary = Canary(environment, number, float(percent))
        _write_aliases(self.root / name / ALIASES_FILE, Aliases(aliases.environments, canary))

    def clear_canary(self, name: str) -> None:
        """Stops the canary of prompt ``name``: every user gets the environment's version."""
        aliases = self.aliases(name)
        _write_aliases(self.root / name / ALIASES_FILE, Aliases(aliases.environments, None))


def _parse_aliases(path: Path, versions: set[int]) -> Aliases:
    import yaml

    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PromptFileError(
            f"{path} is not valid YAML ({one_line(exc)}); fix the file."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("environments"), dict):
        raise PromptFileError(
            f"{path} must have an 'environments' mapping, e.g. environments: {{production: 2}}."
        )
    unknown = sorted(set(data) - {"environments", "canary"})
    if unknown:
        raise PromptFileError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; the file has "
            "'environments' and an optional 'canary'."
        )

    def version_of(value: Any, where: str) -> int:
        try:
            number = parse_version_number(value)
        except ValueError as exc:
            raise PromptFileError(f"{path}: {where}: {exc}") from None
        if number not in versions:
            raise PromptFileError(
                f"{path}: {where} points at v{number}, which has no file; versions are "
                f"{', '.join(f'v{v}' for v in sorted(versions))}. Move it with set_alias()."
            )
        return number

    environments = {
        str(env): version_of(value, f"environment {env!r}")
        for env, value in data["environments"].items()
    }
    canary = None
    raw = data.get("canary")
    if raw is not None:
        if not isinstance(raw, dict) or set(raw) != {"environment", "candidate", "percent"}:
            raise PromptFileError(
                f"{path}: canary must have exactly environment, candidate and percent, e.g. "
                "{environment: production, candidate: 3, percent: 10}."
            )
        if raw["environment"] not in environments:
            raise PromptFileError(
                f"{path}: the canary's environment {raw['environment']!r} is not one of "
                f"{', '.join(environments)}."
            )
        percent = raw["percent"]
        if (
            isinstance(percent, bool)
            or not isinstance(percent, int | float)
            or not (0 <= percent <= 100)
        ):
            raise PromptFileError(f"{path}: canary percent must be a number from 0 to 100.")
        canary = Canary(
            str(raw["environment"]), version_of(raw["candidate"], "the canary"), float(percent)
        )
    return Aliases(MappingProxyType(environments), canary)


def _write_aliases(path: Path, aliases: Aliases) -> None:
    import yaml

    document: dict[str, Any] = {"environments": dict(aliases.environments)}
    if aliases.canary is not None:
        c = aliases.canary
        percent: float | int = int(c.percent) if c.percent.is_integer() else c.percent
        document["canary"] = {
            "environment": c.environment,
            "candidate": c.candidate,
            "percent": percent,
        }
    text = _ALIASES_HEADER + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    atomic_write(path, text)
