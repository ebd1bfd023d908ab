"""Router plans priced whole: model calls, people's time for labels and for the tickets a
router hands over, per 1,000 tickets (lesson 1.6); and the set-ups its section on shipping a
trained model measures (another embedding space, an upgraded embedder, a changed file).

A plan is a small dict, the choices an engineer makes when building a ticket router:

* ``approach``: ``"zero-shot"``, ``"few-shot"`` (one fixed set of solved examples),
  ``"retrieved"`` (the labelled tickets nearest each ticket as examples) or ``"classifier"``
  (a logistic-regression head on frozen embeddings);
* ``model``: the chat role for the prompting approaches (``"chat-small"``, ``"chat-large"``);
* ``labels``: how many training tickets a person labels (0 for zero-shot);
* ``examples``: solved examples per prompt (the prompting approaches with examples);
* ``threshold``: the classifier hands a ticket to a person when its top probability is below
  it (0 hands over none).

Why price people: the model bill of a router is cents per 1,000 tickets, a person's minute is
dollars. The labels are paid once and spread over a year of tickets; a handed-over ticket is
paid every time. The two human figures are assumptions, so they are parameters
(:class:`HumanCosts`), printed wherever they are used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from course_lib.errors import CourseLibError

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from numpy.typing import NDArray

    from course_lib.classify import EmbeddingClassifier
    from course_lib.embeddings import Embedder
    from course_lib.llm import LLMClient

__all__ = [
    "APPROACHES",
    "HumanCosts",
    "PlanResult",
    "RouterPlanError",
    "RoutingBench",
    "normalise_plan",
    "plot_cost_and_quality",
    "plot_learning_curve",
    "rotated_vectors",
    "tampered_copy",
    "tuning_and_held_out",
    "upgraded_embedder",
]

APPROACHES = ("zero-shot", "few-shot", "retrieved", "classifier")
_MODELS = ("chat-small", "chat-large")


class RouterPlanError(CourseLibError, ValueError):
    """A router plan that cannot be run: an unknown approach, a missing or impossible value."""


@dataclass(frozen=True)
class HumanCosts:
    """What a person's time costs: reading a ticket and choosing its queue.

    The same act labels a training ticket and routes a ticket the router handed over, so one
    figure serves both. Both numbers are assumptions: change them to your desk's.
    """

    seconds_per_ticket: float = 30.0
    hourly_rate_usd: float = 40.0

    def usd(self, tickets: float) -> float:
        """The cost of a person reading and routing ``tickets`` tickets."""
        return tickets * self.seconds_per_ticket / 3600 * self.hourly_rate_usd


def normalise_plan(plan: Any) -> dict[str, Any]:
    """The plan with defaults filled in, or a :class:`RouterPlanError` naming what is wrong."""
    if not isinstance(plan, Mapping):
        raise RouterPlanError(f"A plan is a dict of choices; got {type(plan).__name__}.")
    unknown = sorted(set(plan) - {"approach", "model", "labels", "examples", "threshold"})
    if unknown:
        raise RouterPlanError(
            f"Unknown plan keys {unknown}; use approach, model, labels, examples, threshold."
        )
    approach = plan.get("approach")
    if approach is Ellipsis:
        raise RouterPlanError(f"approach is still `...`; choose one of {', '.join(APPROACHES)}.")
    if approach not in APPROACHES:
        raise RouterPlanError(f"approach is {approach!r}; choose one of {', '.join(APPROACHES)}.")
    out: dict[str, Any] = {
        "approach": approach,
        "model": plan.get("model", "chat-small"),
        "labels": plan.get("labels", 0),
        "examples": plan.get("examples", 0),
        "threshold": plan.get("threshold", 0.0),
    }
    for key in ("labels", "examples"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RouterPlanError(f"{key} must be a whole number, 0 or more; got {value!r}.")
    threshold = out["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise RouterPlanError(f"threshold must be a number from 0 to 1; got {threshold!r}.")
    if not 0.0 <= float(threshold) <= 1.0:
        raise RouterPlanError(f"threshold must be from 0 to 1; got {threshold!r}.")
    out["threshold"] = float(threshold)
    if approach == "classifier":
        if out["labels"] < 10:
            raise RouterPlanError("a classifier needs labels: at least 10, one per queue.")
    else:
        if out["model"] not in _MODELS:
            raise RouterPlanError(f"model is {out['model']!r}; choose one of {', '.join(_MODELS)}.")
        if out["threshold"]:
            raise RouterPlanError(
                "threshold applies to the classifier only (a prompted router here gives no "
                "probability); set it to 0."
            )
    if approach in ("few-shot", "retrieved"):
        if out["examples"] < 1:
            raise RouterPlanError(f"{approach} needs examples: 1 or more.")
        if out["examples"] > out["labels"]:
            raise RouterPlanError(
                f"{out['examples']} examples need at least as many labelled tickets "
                f"(labels is {out['labels']})."
            )
    return out


@dataclass(frozen=True)
class PlanResult:
    """A plan measured on a set of tickets, its costs per 1,000 tickets."""

    plan: dict[str, Any]
    n: int
    accuracy: float
    macro_f1: float
    handed_over: float
    model_usd: float
    people_usd: float
    labelling_usd: float
    labels: int = 0
    tokens_per_ticket: float = 0.0
    predictions: list[str | None] = field(repr=False, default_factory=list)

    @property
    def total_usd(self) -> float:
        """Model calls, tickets handed to a person, and the labels spread over a year."""
        return self.model_usd + self.people_usd + self.labelling_usd

    def as_row(self) -> dict[str, float]:
        return {
            "macro-F1": self.macro_f1,
            "accuracy": self.accuracy,
            "tokens per ticket": self.tokens_per_ticket,
            "labels": self.labels,
            "handed to a person": self.handed_over,
            "model $": self.model_usd,
            "people $": self.people_usd,
            "labelling $": self.labelling_usd,
            "total $": self.total_usd,
        }

    def line(self) -> str:
        return (
            f"macro-F1 {self.macro_f1:.3f} on {self.n} tickets, {self.handed_over:.0%} handed "
            f"to a person; per 1,000 tickets: model ${self.model_usd:.2f} + people "
            f"${self.people_usd:.2f} + labels ${self.labelling_usd:.2f} = ${self.total_usd:.2f}"
        )


@dataclass(frozen=True)
class DrawsResult:
    """A plan measured over several draws of which pool tickets get labels: the means.

    Fewer labels vary more between draws, so a plan is judged on the mean, never on one lucky
    draw (lesson 1.6's exercise and its checker both use this).
    """

    runs: tuple[PlanResult, ...]

    @property
    def n(self) -> int:
        return self.runs[0].n

    @property
    def macro_f1(self) -> float:
        return sum(r.macro_f1 for r in self.runs) / len(self.runs)

    @property
    def handed_over(self) -> float:
        return sum(r.handed_over for r in self.runs) / len(self.runs)

    @property
    def total_usd(self) -> float:
        return sum(r.total_usd for r in self.runs) / len(self.runs)

    def line(self) -> str:
        return (
            f"mean of {len(self.runs)} label draws on {self.n} tickets: macro-F1 "
            f"{self.macro_f1:.3f}, {self.handed_over:.0%} handed to a person, "
            f"${self.total_usd:.2f} per 1,000 tickets"
        )


class RoutingBench:
    """Measures router plans on one set of tickets, drawing labels from a labelled pool.

    Args:
        client: the model client (prompting approaches).
        classifier: an :class:`~course_lib.classify.EmbeddingClassifier` whose embedder and
            settings the plans use (it need not be trained).
        pool: the labelled tickets a plan may label (a DataFrame with ``subject``, ``body``,
            ``category``), and ``pool_vectors`` their embeddings.
        tickets: the tickets the plan is measured on, and ``ticket_vectors``.
        human: what a person's time costs; ``tickets_per_year`` spreads the labels' cost.
    """

    def __init__(
        self,
        client: LLMClient,
        classifier: EmbeddingClassifier,
        pool: pd.DataFrame,
        pool_vectors: NDArray[Any],
        tickets: pd.DataFrame,
        ticket_vectors: NDArray[Any],
        *,
        categories: Mapping[str, str],
        human: HumanCosts,
        tickets_per_year: float,
    ) -> None:
        from course_lib.classify import ticket_texts

        self.client = client
        self.classifier = classifier
        self.pool_texts = ticket_texts(pool)
        self.pool_labels = [str(c) for c in pool["category"]]
        self.pool_vectors = pool_vectors
        self.tickets = tickets
        self.ticket_texts = ticket_texts(tickets)
        self.truth = [str(c) for c in tickets["category"]]
        self.ticket_vectors = ticket_vectors
        self.categories = dict(categories)
        self.human = human
        self.tickets_per_year = tickets_per_year

    @classmethod
    def for_tickets(
        cls,
        client: LLMClient,
        classifier: EmbeddingClassifier,
        pool: pd.DataFrame,
        tickets: pd.DataFrame,
        *,
        human: HumanCosts,
        tickets_per_year: float,
        pool_vectors: NDArray[Any] | None = None,
        categories: Mapping[str, str] | None = None,
    ) -> RoutingBench:
        """A bench that embeds its tickets with ``classifier``'s embedder.

        Pass ``pool_vectors`` to reuse the pool's embeddings across benches (the pool is the
        expensive part); the measured ``tickets`` are always embedded. ``categories`` default
        to the course's ten queues. The vectors stay on the bench as ``pool_vectors`` and
        ``ticket_vectors``, for a lesson's own measurements on the same tickets.
        """
        from course_lib.classify import ticket_texts

        if categories is None:
            from course_lib.datasets import TICKET_CATEGORIES

            categories = TICKET_CATEGORIES
        if pool_vectors is None:
            pool_vectors = classifier.embed(ticket_texts(pool))
        return cls(
            client,
            classifier,
            pool,
            pool_vectors,
            tickets,
            classifier.embed(ticket_texts(tickets)),
            categories=categories,
            human=human,
            tickets_per_year=tickets_per_year,
        )

    def evaluate(self, plan: Mapping[str, Any], *, seed: int = 0) -> PlanResult:
        """Runs ``plan`` on the bench's tickets; ``seed`` draws which pool tickets get labels."""
        from course_lib.classify import classification_scores, stratified_indices

        chosen = normalise_plan(plan)
        if chosen["labels"] > len(self.pool_labels):
            raise RouterPlanError(
                f"labels is {chosen['labels']}, but only {len(self.pool_labels)} tickets can be "
                "labelled here; choose at most that many."
            )
        labelled = (
            stratified_indices(self.pool_labels, chosen["labels"], seed=seed)
            if chosen["labels"]
            else []
        )
        if chosen["approach"] == "classifier":
            predicted, handed, model_usd, tokens = self._classify(chosen, labelled)
        else:
            predicted, model_usd, tokens = self._prompt(chosen, labelled, seed)
            handed = [False] * len(predicted)
        routed = [
            truth if hand else guess
            for guess, truth, hand in zip(predicted, self.truth, handed, strict=True)
        ]
        scores = classification_scores(self.truth, routed, labels=sorted(set(self.truth)))
        n = len(self.truth)
        return PlanResult(
            plan=chosen,
            n=n,
            accuracy=scores.accuracy,
            macro_f1=scores.macro_f1,
            handed_over=sum(handed) / n,
            model_usd=model_usd / n * 1000,
            people_usd=self.human.usd(sum(handed)) / n * 1000,
            labelling_usd=self.human.usd(len(labelled)) / self.tickets_per_year * 1000,
            labels=len(labelled),
            tokens_per_ticket=tokens / n,
            predictions=routed,
        )

    def evaluate_draws(self, plan: Mapping[str, Any], *, seeds: Sequence[int]) -> DrawsResult:
        """Runs ``plan`` once per seed (one draw of labelled tickets each); the means."""
        if not seeds:
            raise ValueError("evaluate_draws needs at least one seed.")
        return DrawsResult(tuple(self.evaluate(plan, seed=seed) for seed in seeds))

    def _classify(
        self, plan: Mapping[str, Any], labelled: Sequence[int]
    ) -> tuple[list[str | None], list[bool], float, int]:
        from course_lib.classify import EmbeddingClassifier
        from course_lib.models import get_registry

        model = EmbeddingClassifier(
            self.classifier.embedder,
            C=self.classifier.C,
            class_weight=self.classifier.class_weight,
            max_iter=self.classifier.max_iter,
        ).fit_vectors(self.pool_vectors[list(labelled)], [self.pool_labels[i] for i in labelled])
        probabilities = model.proba_vectors(self.ticket_vectors)
        classes = model.classes
        predicted: list[str | None] = [classes[int(row.argmax())] for row in probabilities]
        handed = [bool(row.max() < plan["threshold"]) for row in probabilities]
        tokens = model.count_tokens(self.ticket_texts)
        return predicted, handed, get_registry().resolve("embed").cost(tokens), tokens

    def _prompt(
        self, plan: Mapping[str, Any], labelled: Sequence[int], seed: int
    ) -> tuple[list[str | None], float, int]:
        from course_lib.classify import (
            few_shot_route,
            nearest_indices,
            stratified_indices,
            zero_shot_route,
        )

        rows = [row for _, row in self.tickets.iterrows()]
        options = {"categories": self.categories, "model": plan["model"], "seed": seed}
        examples_of = [(self.pool_texts[i], self.pool_labels[i]) for i in labelled]
        if plan["approach"] == "zero-shot":
            results = [zero_shot_route(self.client, row, **options) for row in rows]
        elif plan["approach"] == "few-shot":
            picked = stratified_indices(
                [label for _, label in examples_of], plan["examples"], seed=seed
            )
            shots = [examples_of[i] for i in picked]
            results = [few_shot_route(self.client, row, examples=shots, **options) for row in rows]
        else:
            pool = self.pool_vectors[list(labelled)]
            nearest = nearest_indices(self.ticket_vectors, pool, plan["examples"])
            results = [
                few_shot_route(
                    self.client,
                    row,
                    examples=[examples_of[int(i)] for i in reversed(near)],
                    **options,
                )
                for row, near in zip(rows, nearest, strict=True)
            ]
        tokens = sum(r.result.usage.input_tokens for r in results)
        return [r.category for r in results], sum(r.cost_usd for r in results), tokens


def tuning_and_held_out(tickets: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The test tickets cut in time: the earlier half to tune a plan on, the later half held
    out (as next month's tickets are, when you tune on this month's)."""
    ordered = tickets.sort_values("id")
    half = len(ordered) // 2
    return ordered.iloc[:half], ordered.iloc[half:]


def rotated_vectors(vectors: NDArray[Any], *, seed: int = 0) -> NDArray[Any]:
    """``vectors`` moved into another space of the same size by a fixed random rotation (the Q
    of a QR decomposition of a random matrix).

    A rotation keeps lengths and angles, so the vectors are as good for similarity as before;
    but a model trained on the originals has never seen this space. It stands in for an
    embedder upgrade that keeps the dimension and changes the vectors: no error, wrong answers.
    """
    import numpy as np

    dimension = vectors.shape[1]
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(dimension, dimension)))
    return (vectors @ rotation).astype(np.float32)


def upgraded_embedder(version: str) -> Embedder:
    """The course's default embedder, claiming another ``version``: how an upgraded embedding
    library looks to a saved model (same name, same dimension, a new version).

    Only the identity changes, not the vectors: what ``load_artifact`` must catch is the
    version it was not trained on, before any vector is compared.
    """
    import copy
    import dataclasses

    from course_lib.embeddings import get_embedder

    upgraded = copy.copy(get_embedder())
    upgraded.identity = dataclasses.replace(upgraded.identity, version=version)
    return upgraded


def tampered_copy(artifact: Path, name: str = "tampered.joblib") -> Path:
    """A copy of a saved classifier artifact beside it, one byte appended to the model file and
    the sidecar copied unchanged: a file changed after it was saved, with its old record."""
    import shutil

    from course_lib.classify import metadata_path

    tampered = artifact.with_name(name)
    shutil.copyfile(artifact, tampered)
    shutil.copyfile(metadata_path(artifact), metadata_path(tampered))
    with tampered.open("ab") as handle:
        handle.write(b"\x00")
    return tampered


def plot_cost_and_quality(
    table: pd.DataFrame, *, cost: str, quality: str, xlabel: str | None = None
) -> Any:
    """Each row of ``table`` as a point: ``quality`` against ``cost`` (log scale), labelled
    with the row's name. Up and to the left is better. Labels of points at about the same
    cost are stacked downwards, best first, so they stay readable; each point has its own
    marker, so two points on top of each other both stay visible. ``xlabel`` names the cost's
    unit (the column name by default)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    placed: list[float] = []
    markers = "oxs+D^v*"
    for i, (name, row) in enumerate(table.sort_values(quality, ascending=False).iterrows()):
        x, y = float(row[cost]), float(row[quality])
        near = sum(1 for other in placed if max(x, other) / max(min(x, other), 1e-12) < 1.5)
        placed.append(x)
        ax.scatter(x, y, s=50, marker=markers[i % len(markers)])
        ax.annotate(
            str(name), (x, y), textcoords="offset points", xytext=(6, 2 - 11 * near), fontsize=8
        )
    ax.set_xscale("log")
    ax.set_xlim(table[cost].min() / 2, table[cost].max() * 12)
    ax.set_xlabel(f"{xlabel or cost} (log scale)")
    ax.set_ylabel(quality)
    low, high = float(table[quality].min()), float(table[quality].max())
    ax.set_ylim(max(0.0, low - 0.15), min(1.0, high + 0.1))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_learning_curve(summary: pd.DataFrame, baselines: Mapping[str, float]) -> Any:
    """The classifier's mean score by training size (band: worst to best draw), with each
    prompted router as a horizontal line, since it uses no training tickets."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    sizes = [int(s) for s in summary.index]
    ax.plot(sizes, summary["mean"], marker="o", label="classifier head")
    ax.fill_between(sizes, summary["min"], summary["max"], alpha=0.2)
    for (name, value), style in zip(
        baselines.items(), (":", "--", "-.", (0, (1, 3))), strict=False
    ):
        ax.axhline(value, linestyle=style, color="grey", label=name)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel("labelled training tickets (log scale)")
    ax.set_ylabel("macro-F1 on held-out tickets")
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
