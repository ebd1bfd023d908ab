"""Promotion and rollback: moving aliases through the gate, with a history to undo them.

:meth:`PromptRegistry.set_alias` moves a pointer and nothing else. A deployment needs three
more things, which :class:`PromptDeployer` adds:

* **A gate on protected environments.** Production moves only with a passing
  :class:`~course_lib.prompts.GateDecision` for exactly this candidate against exactly the
  version production serves now (both content hashes must match), and only to a released
  version (one the lock file records, so its file can no longer change). An emergency can
  ``override`` the gate with a reason, which the history keeps.
* **A history.** Every move is appended to ``history.jsonl`` beside the prompt's files: the
  environment, from which version to which, why, and the gate's verdict.
* **One-step rollback.** :meth:`PromptDeployer.rollback` reads the history and moves the
  environment back to what it served before its last promotion; no one has to remember the
  number, and a rollback never waits for a gate.

One writer at a time is assumed (a CI job, or one person); a team shares the library through
version control or a registry server, which orders the writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from course_lib.errors import PromptError, PromptFileError
from course_lib.prompts.gate import GateDecision
from course_lib.prompts.lockfile import LOCK_FILE, read_lock
from course_lib.prompts.registry import PromptRegistry
from course_lib.prompts.versions import PromptVersion

__all__ = ["HISTORY_FILE", "PROTECTED_ENVIRONMENTS", "AliasMove", "PromptDeployer"]

HISTORY_FILE = "history.jsonl"
PROTECTED_ENVIRONMENTS = frozenset({"production"})
"""Environments that move only through a passing gate (or an explicit override)."""

Action = Literal["promote", "override", "rollback", "canary", "canary-stop"]


@dataclass(frozen=True)
class AliasMove:
    """One line of a prompt's deployment history.

    ``from_version`` and ``to_version`` are the environment's version before and after (for a
    canary: the candidate and the share of users, in ``percent``).
    """

    seq: int
    prompt: str
    environment: str
    action: Action
    from_version: int | None
    to_version: int | None
    reason: str
    gate: str | None = None
    percent: float | None = None
    at: str = ""

    def __str__(self) -> str:
        before = "none" if self.from_version is None else f"v{self.from_version}"
        after = "none" if self.to_version is None else f"v{self.to_version}"
        if self.action == "canary":
            move = f"canary {after} for {self.percent:g}% of users (serving {before})"
        elif self.action == "canary-stop":
            move = f"canary {before} stopped"
        else:
            move = f"{before} -> {after}"
        return (
            f"#{self.seq} {self.prompt} {self.environment}: {move} ({self.action}: {self.reason})"
        )


class PromptDeployer:
    """Moves a registry's aliases through the gate, records every move, and rolls back.

    Args:
        registry: the prompt library whose aliases this deployer moves.
        protected: environments that need a passing gate; ``production`` by default.
        clock: returns the time recorded with each move (UTC ISO 8601 by default).

    Example:
        >>> deployer = PromptDeployer(registry)
        >>> deployer.promote("handbook-answer", "production", 4, gate=decision)
        >>> deployer.rollback("handbook-answer", "production")   # back to what it served before
    """

    def __init__(
        self,
        registry: PromptRegistry,
        *,
        protected: Collection[str] = PROTECTED_ENVIRONMENTS,
        clock: Callable[[], str] | None = None,
    ) -> None:
        self.registry = registry
        self.protected = frozenset(protected)
        self._clock = clock or _utc_now

    def __repr__(self) -> str:
        return (
            f"PromptDeployer(root={str(self.registry.root)!r}, protected={sorted(self.protected)})"
        )

    # -- moves ---------------------------------------------------------------------------

    def promote(
        self,
        name: str,
        environment: str,
        version: int | str,
        *,
        gate: GateDecision | None = None,
        override: str | None = None,
    ) -> AliasMove:
        """Points ``environment`` at ``version``, if the gate allows it, and records the move.

        A canary of ``version`` in ``environment`` ends with its promotion.

        Raises:
            PromptError: a protected environment without a passing gate for this candidate
                against what the environment serves now, or with an unreleased version; the
                message says what to do. ``override="why"`` skips the gate and records why.
            PromptNotFoundError: no such prompt, version or environment.
        """
        target = self.registry.get(name, version)
        current = self.registry.resolve(name, environment=environment)
        action: Action = "promote"
        if environment in self.protected:
            if override is not None:
                action = "override"
                _require_reason(override, "override")
            else:
                self._check_gate(gate, target.ref, target.sha256, environment, current)
            self._check_released(name, target.version, environment)
        if target.version == current.version:
            raise PromptError(f"{environment} already serves {target.ref}; nothing to promote.")
        self.registry.set_alias(name, environment, target.version)
        reason = override if override is not None else f"promoted {target.ref}"
        canary = self.registry.aliases(name).canary
        if canary is not None and (canary.environment, canary.candidate) == (
            environment,
            target.version,
        ):
            self.registry.clear_canary(name)  # the canary's candidate now serves everyone
            reason += " (canary ended)"
        return self._record(
            name,
            environment,
            action,
            current.version,
            target.version,
            reason,
            gate.summary() if gate is not None else None,
        )

    def rollback(self, name: str, environment: str, *, reason: str = "rollback") -> AliasMove:
        """Moves ``environment`` back to the version it served before its last promotion.

        Successive rollbacks walk further back, one promotion each. No gate: the version
        rolled back to has served this environment before.

        Raises:
            PromptError: nothing to roll back, or the alias was moved outside this history
                (then the message says which version it serves and which the history expects).
        """
        _require_reason(reason, "rollback")
        stack = self._promotions(name, environment)
        if not stack:
            raise PromptError(
                f"Nothing to roll back: the history of {name!r} records no promotion of "
                f"{environment!r}. Move it with promote(..., override='why') instead."
            )
        last = stack[-1]
        serving = self.registry.environments(name).get(environment)
        if serving != last.to_version:
            raise PromptError(
                f"{environment} serves v{serving}, but the history's last promotion set "
                f"v{last.to_version}: the alias was moved outside this history. Set it "
                "explicitly with promote(..., override='why')."
            )
        if last.from_version is None:
            raise PromptError(
                f"{environment} had no version before #{last.seq}; there is nothing to go back to."
            )
        self.registry.set_alias(name, environment, last.from_version)
        return self._record(
            name, environment, "rollback", last.to_version, last.from_version, reason
        )

    def start_canary(
        self,
        name: str,
        environment: str,
        version: int | str,
        *,
        percent: float,
        gate: GateDecision | None = None,
        override: str | None = None,
    ) -> AliasMove:
        """Serves ``version`` to ``percent`` % of ``environment``'s users (by a stable hash of
        the user id, :func:`~course_lib.prompts.canary_bucket`): the gate applies as for
        :meth:`promote`, since a canary serves real users."""
        target = self.registry.get(name, version)
        current = self.registry.resolve(name, environment=environment)
        if environment in self.protected:
            if override is not None:
                _require_reason(override, "override")
            else:
                self._check_gate(gate, target.ref, target.sha256, environment, current)
            self._check_released(name, target.version, environment)
        self.registry.set_canary(
            name, environment=environment, candidate=target.version, percent=percent
        )
        return self._record(
            name,
            environment,
            "canary",
            current.version,
            target.version,
            override or f"canary of {target.ref}",
            gate.summary() if gate is not None else None,
            percent=float(percent),
        )

    def stop_canary(self, name: str, *, reason: str) -> AliasMove:
        """Ends the canary of ``name``: every user gets the environment's version again."""
        _require_reason(reason, "stop_canary")
        canary = self.registry.aliases(name).canary
        if canary is None:
            raise PromptError(f"{name!r} has no canary running; nothing to stop.")
        self.registry.clear_canary(name)
        return self._record(name, canary.environment, "canary-stop", canary.candidate, None, reason)

    # -- history -------------------------------------------------------------------------

    def history(self, name: str, environment: str | None = None) -> list[AliasMove]:
        """Every recorded move of prompt ``name`` (of one environment, if given), oldest first."""
        self.registry.versions(name)  # a clear error for an unknown prompt
        path = self._history_path(name)
        if not path.is_file():
            return []
        moves = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                moves.append(AliasMove(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise PromptFileError(
                    f"{path}, line {number}, is not a deployment record ({exc}); restore the "
                    "file from version control."
                ) from None
        return [m for m in moves if environment is None or m.environment == environment]

    def _promotions(self, name: str, environment: str) -> list[AliasMove]:
        """The promotions not yet rolled back, oldest first (a stack)."""
        stack: list[AliasMove] = []
        for move in self.history(name, environment):
            if move.action in ("promote", "override"):
                stack.append(move)
            elif move.action == "rollback" and stack:
                stack.pop()
        return stack

    def _record(
        self,
        name: str,
        environment: str,
        action: Action,
        before: int | None,
        after: int | None,
        reason: str,
        gate: str | None = None,
        *,
        percent: float | None = None,
    ) -> AliasMove:
        move = AliasMove(
            seq=len(self.history(name)) + 1,
            prompt=name,
            environment=environment,
            action=action,
            from_version=before,
            to_version=after,
            reason=reason,
            gate=gate,
            percent=percent,
            at=self._clock(),
        )
        with open(self._history_path(name), "a", encoding="utf-8", newline="\n") as stream:
            stream.write(json.dumps(asdict(move), sort_keys=False) + "\n")
        return move

    def _history_path(self, name: str) -> Path:
        return Path(self.registry.root) / name / HISTORY_FILE

    # -- checks --------------------------------------------------------------------------

    def _check_gate(
        self,
        gate: GateDecision | None,
        ref: str,
        sha256: str,
        environment: str,
        current: PromptVersion,
    ) -> None:
        current_ref, current_sha = current.ref, current.sha256
        if gate is None:
            raise PromptError(
                f"{environment} is protected: pass the regression gate's decision for {ref} "
                f"against {current_ref} (regression_gate(...)), or override='why' in an "
                "emergency."
            )
        if gate.candidate_sha256 != sha256:
            raise PromptError(
                f"The gate decision is for {gate.candidate}, not for {ref} as its file reads "
                "now (the content hashes differ); run the gate on this version."
            )
        if gate.baseline_sha256 != current_sha:
            raise PromptError(
                f"The gate compared {gate.candidate} with {gate.baseline}, but {environment} "
                f"serves {current_ref} now; run the gate again against what it serves."
            )
        if not gate.passed:
            raise PromptError(f"The regression gate blocked {ref}: {'; '.join(gate.failures)}.")

    def _check_released(self, name: str, version: int, environment: str) -> None:
        released = (read_lock(Path(self.registry.root)) or {}).get(name, {})
        if f"v{version}" not in released:
            raise PromptError(
                f"{name}@v{version} is a draft (not in {LOCK_FILE}), and {environment} serves "
                "only released versions, whose files can no longer change; release it with "
                "write_lock(root) or `course prompts lock --write --root <library>`."
            )


def _require_reason(reason: str | None, what: str) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise PromptError(f"{what} needs a reason: say why, for the history.")


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
