"""Who is asking: a reader and the access levels they are cleared to read.

Every handbook document has one access level: ``public`` (anyone), ``internal`` (employees)
or ``restricted`` (named people: managers, the security team). Retrieval takes a
:class:`User` on every call, with no default, so no code path can search "as nobody" and
forget to apply the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from course_lib.rag.documents import ACCESS_LEVELS

__all__ = ["ACCESS_LEVELS", "Reader", "User"]


@dataclass(frozen=True)
class User:
    """A reader of the handbook: an id, a team, and the access levels they may read.

    Attributes:
        id: who is asking (for logs and traces, never for access decisions).
        team: the reader's team, e.g. ``"sre"``; informational, it filters nothing by itself.
        clearance: the access levels the reader may read, e.g. ``{"public", "internal"}``.
            Stored as a frozenset; unknown levels are refused so a typo cannot silently
            lock a reader out (or in).

    Example:
        >>> User("u1", team="sre", clearance={"public", "internal"}).can_read("restricted")
        False
    """

    id: str
    team: str | None = None
    clearance: frozenset[str] = field(default_factory=lambda: frozenset({"public"}))

    def __post_init__(self) -> None:
        if isinstance(self.clearance, str):
            raise TypeError(
                f"clearance takes a collection of access levels, not one string (got "
                f"{self.clearance!r}); write clearance={{{self.clearance!r}}}."
            )
        levels = frozenset(self.clearance)
        unknown = sorted(levels - set(ACCESS_LEVELS))
        if unknown:
            raise ValueError(
                f"Unknown access level(s) {unknown} in the clearance of user {self.id!r}. "
                f"Choose from {list(ACCESS_LEVELS)}."
            )
        object.__setattr__(self, "clearance", levels)

    def can_read(self, access: str) -> bool:
        """Whether a chunk or document at ``access`` is readable by this user."""
        return access in self.clearance

    @property
    def readable_levels(self) -> tuple[str, ...]:
        """The clearance in the canonical order of :data:`ACCESS_LEVELS` (for SQL and caches)."""
        return tuple(level for level in ACCESS_LEVELS if level in self.clearance)

    @classmethod
    def employee(cls, id: str, *, team: str | None = None) -> User:
        """A reader cleared for public and internal documents."""
        return cls(id, team=team, clearance=frozenset({"public", "internal"}))

    @classmethod
    def manager(cls, id: str, *, team: str | None = None) -> User:
        """A reader cleared for every level, restricted included."""
        return cls(id, team=team, clearance=frozenset(ACCESS_LEVELS))

    @classmethod
    def with_clearance(cls, id: str, levels: Iterable[str], *, team: str | None = None) -> User:
        """A reader cleared for exactly ``levels``."""
        return cls(id, team=team, clearance=frozenset(levels))


Reader = User
"""Another name for :class:`User`, for code that reads better with it."""
