"""Which embedder made a set of vectors, recorded next to the vectors.

Vectors from two embedders live in different spaces: comparing them gives numbers that look
like similarities and mean nothing. Nothing fails loudly: search just gets quietly worse. So an
index stores the identity of the embedder that built it, and every query checks it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from course_lib.errors import EmbedderMismatchError

__all__ = ["EmbedderIdentity"]


@dataclass(frozen=True)
class EmbedderIdentity:
    """The name, dimension and version of an embedder.

    Attributes:
        name: the model id in the registry, e.g. ``"local-embed"``.
        dimension: the length of each vector.
        version: changes whenever the vectors would change (library version, weights,
            dimension), e.g. ``"wordllama-0.4.0.post1/l2_supercat/256"``.
    """

    name: str
    dimension: int
    version: str

    def __post_init__(self) -> None:
        if not self.name or not self.version:
            raise ValueError(
                f"An embedder identity needs a non-empty name and version (got name "
                f"{self.name!r}, version {self.version!r})."
            )
        if isinstance(self.dimension, bool) or not isinstance(self.dimension, int):
            raise ValueError(f"Embedder dimension must be an integer (got {self.dimension!r}).")
        if self.dimension < 1:
            raise ValueError(f"Embedder dimension must be positive (got {self.dimension}).")

    def __str__(self) -> str:
        return f"{self.name} ({self.dimension} dimensions, {self.version})"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict, to store in an index's metadata."""
        return {"name": self.name, "dimension": self.dimension, "version": self.version}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> EmbedderIdentity:
        """Reads back what :meth:`as_dict` wrote.

        Metadata that is missing or malformed cannot prove which embedder built the index, so it
        raises :class:`EmbedderMismatchError`: the safe next step is the same as for a mismatch.
        """
        missing = [key for key in ("name", "dimension", "version") if key not in data]
        if missing:
            raise EmbedderMismatchError(
                f"Stored embedder identity {dict(data)!r} lacks {', '.join(missing)}, so it cannot "
                "say which embedder built the index. Rebuild the index with the current embedder."
            )
        dimension = data["dimension"]
        if isinstance(dimension, bool) or not isinstance(dimension, int):
            raise EmbedderMismatchError(
                f"Stored embedder identity has dimension {dimension!r}, not an integer. The index "
                "metadata is damaged: rebuild the index with the current embedder."
            )
        return cls(name=str(data["name"]), dimension=dimension, version=str(data["version"]))

    def check_compatible(self, other: EmbedderIdentity, *, what: str = "index") -> None:
        """Raises :class:`EmbedderMismatchError` unless ``other`` is this same embedder.

        ``self`` is the embedder in use now; ``other`` is the one recorded with the ``what``
        (an index, a cache, a file of vectors). All three fields must match: a different name
        or version may mean different vectors even at the same dimension.
        """
        if self == other:
            return
        differences = [
            field
            for field in ("name", "dimension", "version")
            if getattr(self, field) != getattr(other, field)
        ]
        raise EmbedderMismatchError(
            f"The {what} was built with embedder {other} but the current embedder is {self} "
            f"({', '.join(differences)} {'differs' if len(differences) == 1 else 'differ'}), "
            "so their vectors cannot be compared. Rebuild the "
            f"{what} with the current embedder, or switch back to {other.name!r} (the embed role "
            "in the model registry) to use it as it is."
        )
