"""Column-level access control: who may read which sensitive column, and in what form.

A dataset often mixes what everyone working on a model needs (labels, categories, dates) with
what only a few may see (a reporter's e-mail, free text that can hold names). A
:class:`ColumnPolicy` declares the sensitive columns and, per role, how each is shown:

* ``"clear"``: as stored;
* ``"pseudonym"``: a keyed hash (HMAC-SHA256 under the policy's secret ``pseudonym_key``),
  the same for equal values, so counts and joins per person still work while the value itself
  is hidden;
* ``"mask"``: replaced by ``[redacted]`` (missing values stay missing);
* not granted: the column is dropped.

Columns that are not sensitive are readable by every role the policy knows; a role it does
not know reads nothing. Default-deny is the point: a new sensitive column is hidden from
everyone until someone grants it.

>>> policy = ColumnPolicy(
...     sensitive={"reporter": "personal data"},
...     grants={"support-lead": {"reporter": "clear"}, "analyst": {"reporter": "pseudonym"},
...             "ml-engineer": {}},
...     pseudonym_key="from-the-secret-manager",
... )
>>> policy.apply(frame, "ml-engineer").columns      # no "reporter"
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from course_lib.errors import ColumnAccessError, SettingsError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MASK", "TREATMENTS", "ColumnPolicy", "Treatment"]

Treatment = Literal["clear", "pseudonym", "mask"]
TREATMENTS: tuple[str, ...] = get_args(Treatment)
MASK = "[redacted]"


@dataclass(frozen=True)
class ColumnPolicy:
    """Sensitive columns (with the reason), and per role the treatment of each one granted.

    Args:
        sensitive: column -> why it is sensitive (shown in every refusal).
        grants: role -> {sensitive column: ``"clear"``, ``"pseudonym"`` or ``"mask"``}; a
            sensitive column a role is not granted is dropped from what it reads.
        pseudonym_key: the secret key of the pseudonyms. Anyone who has it can test guesses
            ("is this alice@...?"), so in production it comes from the secret manager, never
            from code.
    """

    sensitive: Mapping[str, str]
    grants: Mapping[str, Mapping[str, Treatment]]
    pseudonym_key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self.grants:
            raise SettingsError("A ColumnPolicy needs at least one role in `grants`.")
        for role, granted in self.grants.items():
            for column, treatment in granted.items():
                if column not in self.sensitive:
                    raise SettingsError(
                        f"Role {role!r} is granted column {column!r}, which is not declared "
                        f"sensitive (sensitive: {sorted(self.sensitive)}); every role already "
                        "reads columns that are not sensitive. Declare it or remove the grant."
                    )
                if treatment not in TREATMENTS:
                    raise SettingsError(
                        f"Role {role!r} gets column {column!r} as {treatment!r}; choose one of "
                        f"{list(TREATMENTS)}, or leave the column out to drop it."
                    )

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.grants)

    def view(self, role: str, columns: Sequence[str]) -> dict[str, Treatment]:
        """What ``role`` sees of ``columns``: each visible column and its treatment."""
        granted = self._granted(role)
        visible: dict[str, Treatment] = {}
        for column in columns:
            if column not in self.sensitive:
                visible[column] = "clear"
            elif column in granted:
                visible[column] = granted[column]
        return visible

    def apply(
        self, frame: pd.DataFrame, role: str, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """``frame`` as ``role`` may read it: sensitive columns dropped, masked or pseudonymised.

        ``columns`` asks for specific columns; asking for one the role may not read raises
        :class:`ColumnAccessError` rather than silently leaving it out.
        """
        present = [str(c) for c in frame.columns]
        visible = self.view(role, present)
        if columns is not None:
            self._check_requested(role, list(columns), present, visible)
            wanted = list(columns)
        else:
            wanted = [c for c in present if c in visible]
        result = frame[wanted].copy()
        for column in wanted:
            treatment = visible[column]
            if treatment == "pseudonym":
                result[column] = [self.pseudonym(v) for v in result[column]]
            elif treatment == "mask":
                result[column] = [None if _missing(v) else MASK for v in result[column]]
        return result

    def pseudonym(self, value: Any) -> str | None:
        """``p-`` and 12 hex digits of HMAC-SHA256(pseudonym_key, value); None if missing."""
        if _missing(value):
            return None
        digest = hmac.new(
            self.pseudonym_key.encode("utf-8"), str(value).encode("utf-8"), hashlib.sha256
        )
        return "p-" + digest.hexdigest()[:12]

    def table(self) -> dict[str, dict[str, str]]:
        """role -> {sensitive column: treatment or ``"dropped"``}: the policy at a glance."""
        return {
            role: {c: str(granted.get(c, "dropped")) for c in self.sensitive}
            for role, granted in self.grants.items()
        }

    def _granted(self, role: str) -> Mapping[str, Treatment]:
        if not isinstance(role, str) or role not in self.grants:
            raise ColumnAccessError(
                f"Role {role!r} is not in the access policy, so it may read no column; known "
                f"roles: {', '.join(self.grants)}. Read as one of them, or add the role."
            )
        return self.grants[role]

    def _check_requested(
        self, role: str, wanted: list[str], present: list[str], visible: Mapping[str, str]
    ) -> None:
        missing = [c for c in wanted if c not in present]
        if missing:
            raise ColumnAccessError(
                f"No column {missing[0]!r} in this data; its columns are {present}."
            )
        denied = [c for c in wanted if c not in visible]
        if denied:
            column = denied[0]
            allowed = [r for r, g in self.grants.items() if column in g] or ["no role"]
            raise ColumnAccessError(
                f"Role {role!r} may not read column {column!r} ({self.sensitive[column]}); "
                f"granted to: {', '.join(allowed)}. Leave it out, or ask its owner for a grant."
            )


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):
        return False
