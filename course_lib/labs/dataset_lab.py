"""Lesson 2.6's bench: a service-desk export, a colleague's week of edits, and what they cost.

Everything here sets up what the lesson measures; the reusable pieces are in
:mod:`course_lib.data`.

* :func:`service_desk_export`: the bundled support tickets as the service desk would export
  them, with one column the datasheet does not have: ``reporter``, the e-mail address of whoever
  filed the ticket (**planted** for this lesson, generated from a seed: fictional people at a
  fictional company), so that column access has something personal to protect;
* :func:`cleaning_day`: the edits a well-meaning colleague makes to the shared CSV in place:
  six test labels changed, "more training examples" pasted in (test tickets, copied, edited
  or forwarded inside a mail: **planted** leaks), and five rows broken by hand (**planted**
  bad values);
* :func:`plant_leaks`: the leak planter on its own; :func:`leak_pairs` gives the planting a
  detector is tuned on (the lesson's) and the one it is checked on (harder on both sides);
* :func:`evaluate_routers`: the two ticket routers the figures come from: zero-shot routing by
  the local stand-in model (a prompt and a model) and a classifier trained on the train split;
* :func:`ticket_schema`: the pandera schema of an export;
* :func:`leak_score`, :func:`calibration_similarities`, :func:`plot_calibration`: how a leak
  detector is scored, and the evidence its threshold was chosen on;
* :func:`leak_gap`: a similarity's highest score per train row, planted copies beside genuine
  tickets (exercise 2.6.3's measuring aid); :func:`reference_flag_leaks`: the exercise's
  reference detector, for the cells after it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from course_lib.llm.client import LLMClient

__all__ = [
    "CALIBRATION_SEED",
    "EXPORT_COLUMNS",
    "HELDOUT_SEED",
    "LEAK_TARGETS",
    "CleaningDay",
    "LeakScore",
    "RouterScore",
    "calibration_similarities",
    "cleaning_day",
    "evaluate_routers",
    "leak_gap",
    "leak_pairs",
    "leak_score",
    "plant_leaks",
    "plot_calibration",
    "reference_flag_leaks",
    "service_desk_export",
    "split_files",
    "ticket_schema",
]

EXPORT_COLUMNS = (
    "id",
    "created",
    "channel",
    "reporter",
    "reporter_team",
    "subject",
    "body",
    "category",
    "priority",
    "service",
    "split",
)
CALIBRATION_SEED = 9_011
"""The planting the leak threshold was chosen on; the lesson reports on another."""
HELDOUT_SEED = 4_243
"""The planting exercise 2.6.3 is checked on (see :func:`leak_pairs`): harder on both sides."""
LEAK_TARGETS = (0.95, 2)
"""Exercise 2.6.3 passes at recall >= 0.95 of planted leaks with at most 2 false flags."""

_FIRST = (  # noqa: SIM905 (a list of names reads better as one string)
    "ana bruno carla dario eva filipa goran hana ines jakub kasia luis marta nuno ola piotr "
    "rita sofia tomas ula vera wojtek zofia adam beata chris dana emil"
).split()
_LAST = (  # noqa: SIM905
    "almeida nowak costa kowalski silva wojcik santos lewis pereira zielinski rocha price "
    "mendes krawczyk ferreira hughes"
).split()
_CONFUSABLE = {  # the label a hurried reader might pick instead (the datasheet's boundaries)
    "access_request": "login_mfa",
    "login_mfa": "access_request",
    "hardware": "security_report",
    "security_report": "login_mfa",
    "deploy_ci": "incident_report",
    "incident_report": "deploy_ci",
    "data_request": "access_request",
    "expenses_travel": "hr_people",
    "hr_people": "expenses_travel",
    "software_licence": "access_request",
}


# -- the export ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _export() -> pd.DataFrame:
    from course_lib.datasets import load_tickets

    tickets = load_tickets()
    tickets["created"] = tickets["created"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    rng = random.Random(2026)
    names = [f"{first}.{last}@kestrel.example" for first in _FIRST for last in _LAST]
    rng.shuffle(names)  # each address belongs to one person, in one team
    people: dict[str, list[str]] = {}
    for team in sorted(set(tickets["reporter_team"])):
        people[team] = [names.pop() for _ in range(rng.randint(3, 9))]
    tickets["reporter"] = [rng.choice(people[team]) for team in tickets["reporter_team"]]
    return tickets[list(EXPORT_COLUMNS)].reset_index(drop=True)


def service_desk_export() -> pd.DataFrame:
    """The 720 support tickets with a planted ``reporter`` e-mail column (a fresh copy)."""
    return _export().copy()


def split_files(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``{"train": ..., "test": ...}``: one file per split, as a dataset version stores them."""
    unknown = sorted(set(frame["split"]) - {"train", "test"})
    if unknown:
        raise ValueError(f"Rows with split {unknown} belong to no file; fix them first.")
    return {s: frame[frame["split"] == s].reset_index(drop=True) for s in ("train", "test")}


# -- a colleague's week ---------------------------------------------------------------------


@dataclass(frozen=True)
class CleaningDay:
    """The edited table, and the ground truth of what was done to it (hidden from the prose)."""

    frame: pd.DataFrame
    relabelled: tuple[str, ...]
    leaks: pd.DataFrame
    bad_rows: pd.DataFrame


def cleaning_day(export: pd.DataFrame, seed: int = 0) -> CleaningDay:
    """A colleague's in-place edits of ``export``: relabels, pasted examples, broken rows."""
    import pandas as pd

    rng = random.Random(f"cleaning-day:{seed}")
    frame = export.copy()
    test_rows = list(frame.index[frame["split"] == "test"])
    relabelled = sorted(rng.sample(test_rows, 6))
    for i in relabelled:
        frame.at[i, "category"] = _CONFUSABLE[frame.at[i, "category"]]
    copies, leaks = plant_leaks(export, seed=seed)
    copies["reporter"] = "dana.price@kestrel.example"  # the colleague
    frame = pd.concat([frame, copies], ignore_index=True)
    original = frame.index < len(export)
    train = frame["split"] == "train"

    def pick(category: str) -> int:
        return int(
            rng.choice(list(frame.index[original & train & (frame["category"] == category)]))
        )

    typo_a, typo_b = pick("login_mfa"), pick("hardware")  # typed by hand, slightly wrong
    empty = rng.choice([i for i in frame.index[original & train] if i not in (typo_a, typo_b)])
    lower, pasted = rng.sample([i for i in test_rows if i not in relabelled], 2)
    bad = [
        (typo_a, "category", "login-mfa", "not a category"),
        (typo_b, "category", "Hardware", "not a category"),
        (lower, "priority", str(frame.at[lower, "priority"]).lower(), "not a priority"),
        (empty, "body", "", "empty body"),
    ]
    for i, column, value, _ in bad:
        frame.at[i, column] = value
    frame = pd.concat([frame, frame.loc[[pasted]]], ignore_index=True)  # pasted twice
    rows = [(frame.at[i, "id"], c, v, why) for i, c, v, why in bad]
    rows.append((frame.at[pasted, "id"], "id", frame.at[pasted, "id"], "duplicate id"))
    bad_rows = pd.DataFrame(rows, columns=["id", "column", "value", "problem"])
    ids = tuple(str(frame.at[i, "id"]) for i in relabelled)
    return CleaningDay(frame, ids, leaks, bad_rows)


_GREETINGS = ("Hi team,\n\n", "Hello,\n\n", "hey all - ", "Hi IT,\n\n", "Morning!\n")
_SIGN_OFFS = ("\n\nThanks!", "\n\nCheers", "\n\nthx", "\n\nKind regards", "\n\nty")
_OPS = ("greeting", "sign-off", "typos", "lower case", "one line")

# How a copy looks when it was taken from a mailbox rather than from the ticket list: the
# ticket sits inside a forwarded mail, between a header and the desk's boilerplate. Two mail
# styles, so that a detector tuned on one (the lesson's) is checked on the other.
_MAIL_STYLES: dict[str, dict[str, tuple[str, ...]]] = {
    "desk": {
        "intro": (
            "FYI, one more for the training set.",
            "Adding this one as an example, see below.",
            "Another good example for the router, forwarded.",
        ),
        "header": (
            "---------- Forwarded message ---------\nFrom: IT Service Desk "
            "<servicedesk@kestrel.example>\nDate: Mon, 12 Oct 2026\nSubject: [IT-{n}] "
            "{subject}\nTo: {reporter}",
        ),
        "boilerplate": (
            "Thank you for contacting the Kestrel Freight IT Service Desk. Your request has "
            "been logged and an engineer will pick it up within one working day. Please keep "
            "the reference number in the subject line when you reply, so that your message is "
            "added to the same request. For an incident on a live service, post in #incidents "
            "or page the on-call engineer instead of replying to this message.",
            "CONFIDENTIALITY NOTICE: This e-mail and any files sent with it are confidential "
            "and intended solely for the person or team to whom they are addressed. If you "
            "received it in error, please tell the sender and delete it from your system. "
            "Kestrel Freight Ltd is registered in England and Wales.",
            "Before raising a new request, check the self-service pages on the intranet: "
            "password and MFA resets, laptop orders, software licences and access requests "
            "all have a form that is faster than a ticket. The desk is open from 07:00 to "
            "19:00 UK time on working days; outside those hours only P1 incidents are "
            "picked up.",
        ),
    },
    "archive": {
        "intro": (
            "see below, from the old queue",
            "Pasting this from the archive - same kind of request as the others.",
            "One from last quarter's mailbox.",
        ),
        "header": (
            "-----Original Message-----\nFrom: {reporter}\nSent: Thursday, 8 October 2026 "
            "14:02\nTo: Service Desk\nSubject: RE: [SD#{n}] {subject}",
        ),
        "boilerplate": (
            "This message was sent from the Kestrel Freight service management system. To "
            "add information to your request, reply above this line. To see the status of "
            "all your open requests, sign in to the portal with your company account. "
            "Requests with no reply for ten working days are closed automatically.",
            "The information in this e-mail is confidential and may be legally privileged. "
            "It is intended solely for the addressee. Access to this e-mail by anyone else "
            "is unauthorised. If you are not the intended recipient, any disclosure, copying "
            "or distribution is prohibited. Please consider the environment before printing.",
            "Rate your experience: how did we do on this request? Your answer takes ten "
            "seconds and helps the service desk team improve. Reply with a number from one "
            "(poor) to five (excellent), or use the link in the portal.",
            "--\nService Desk, Kestrel Freight\nInternal extension 4100 | #it-help on Slack"
            "\nWorking hours 07:00-19:00 UK time, Monday to Friday",
        ),
    },
}


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def _edit(subject: str, body: str, rng: random.Random, heavy: bool) -> tuple[str, str]:
    """A copy a person made: cosmetic edits, and for a heavy edit one sentence less."""
    if heavy:
        sentences = re.split(r"(?<=[.!?])\s+", body)
        if len(sentences) > 2:
            del sentences[rng.randrange(len(sentences))]
            body = " ".join(sentences)
    ops = rng.sample(_OPS, rng.randint(3, 4) if heavy else rng.randint(1, 2))
    for op in ops:
        if op == "greeting":
            body = rng.choice(_GREETINGS) + body
        elif op == "sign-off":
            body += rng.choice(_SIGN_OFFS)
        elif op == "typos":
            words = body.split(" ")
            for _ in range(rng.randint(1, 3)):
                j = rng.randrange(len(words))
                words[j] = _typo(words[j], rng)
            body = " ".join(words)
        elif op == "lower case":
            subject, body = subject.lower(), body.lower()
        else:
            body = re.sub(r"\s*\n+\s*", " ", body)
    if heavy and subject and rng.random() < 0.5:
        subject = rng.choice(("Fwd: ", "RE: ", "")) + subject
    return subject, body


def _forward(subject: str, body: str, reporter: str, rng: random.Random, style: str) -> str:
    """The body of a mail that forwards a ticket: an intro, a header, the ticket, boilerplate."""
    mail = _MAIL_STYLES[style]
    header = rng.choice(mail["header"]).format(
        n=rng.randrange(10_000, 99_999), subject=subject, reporter=reporter
    )
    boilerplate = rng.sample(mail["boilerplate"], len(mail["boilerplate"]) - 1)
    return "\n\n".join([rng.choice(mail["intro"]), header, body, *boilerplate])


def plant_leaks(
    export: pd.DataFrame,
    *,
    seed: int = 0,
    exact: int = 12,
    light: int = 14,
    heavy: int = 10,
    forwarded: int = 4,
    forwarded_heavy: int = 0,
    style: str = "desk",
    exclude: Sequence[str] = (),
    first_id: int = 721,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of test tickets made into new train rows, and the truth of which is which.

    Returns ``(copies, truth)``: ``copies`` has the export's columns (``split`` = train, new
    ids from ``TCK-<first_id>``); ``truth`` has ``train_key``, ``test_key`` and ``kind``:
    ``exact``; ``light``: one or two cosmetic edits; ``heavy``: a sentence dropped and three
    or four edits; ``forwarded``: a light copy inside a forwarded mail (an intro, a mail
    header and the desk's boilerplate around it, in mail ``style`` "desk" or "archive");
    ``forwarded heavy``: the same around a heavy copy.
    """
    import pandas as pd

    if style not in _MAIL_STYLES:
        raise ValueError(f"style is one of {sorted(_MAIL_STYLES)}, not {style!r}.")
    rng = random.Random(f"leaks:{seed}")
    test = export[(export["split"] == "test") & ~export["id"].isin(list(exclude))]
    kinds = ["exact"] * exact + ["light"] * light + ["heavy"] * heavy
    sources = rng.sample(list(test.index), len(kinds))
    # The forwarded copies draw from a generator of their own, so adding them leaves the
    # other copies of a seed as they were.
    mail_rng = random.Random(f"leaks:{seed}:forwarded")
    used = set(sources)
    rest = [i for i in test.index if i not in used]
    sources += mail_rng.sample(rest, forwarded + forwarded_heavy)
    kinds += ["forwarded"] * forwarded + ["forwarded heavy"] * forwarded_heavy
    rows, truth = [], []
    for n, (i, kind) in enumerate(zip(sources, kinds, strict=True)):
        if kind.startswith("forwarded"):
            rng = mail_rng
        row = export.loc[i].to_dict()
        if kind != "exact":
            heavy_edit = kind.endswith("heavy")
            row["subject"], row["body"] = _edit(row["subject"], row["body"], rng, heavy_edit)
        if kind.startswith("forwarded"):
            row["body"] = _forward(row["subject"], row["body"], row["reporter"], rng, style)
            row["subject"] = "Fwd: " + row["subject"] if row["subject"] else "Fwd: example"
        new_id = f"TCK-{first_id + n:04d}"
        truth.append((new_id, row["id"], kind))
        row.update(id=new_id, split="train")
        rows.append(row)
    copies = pd.DataFrame(rows, columns=list(export.columns))
    return copies, pd.DataFrame(truth, columns=["train_key", "test_key", "kind"])


# -- the two routers ------------------------------------------------------------------------


@dataclass(frozen=True)
class RouterScore:
    """One router's accuracy on the test rows, and the lineage of the figure."""

    router: str
    accuracy: float
    rows: int
    prompt: str | None
    model: str


def evaluate_routers(
    frame: pd.DataFrame, client: LLMClient | None = None, *, seed: int = 0, every: int = 1
) -> list[RouterScore]:
    """Accuracy on the rows with split ``test`` of zero-shot routing and a trained router.

    Rows whose split is anything else are ignored, as a quick script would. ``every`` routes
    only every n-th test ticket zero-shot (a faster, rougher figure). The model's answer and
    the embedding of each ticket text are cached for the process: the stand-in model (under a
    seed) and WordLlama are deterministic, so versions that share most tickets cost little
    more than one.
    """
    from course_lib.classify import (
        ROUTING_PROMPT_VERSION,
        EmbeddingClassifier,
        data_fingerprint,
        ticket_texts,
    )

    if client is None:
        from course_lib.standin import local_client

        client = local_client()
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
    routed = test.iloc[::every]
    answers = [_route(client, text, seed) for text in ticket_texts(routed)]
    right = sum(a[0] == c for a, c in zip(answers, routed["category"], strict=True))
    model = answers[0][1] if answers else "unknown"
    texts, labels = ticket_texts(train), [str(c) for c in train["category"]]
    classifier = EmbeddingClassifier()
    classifier.fit_vectors(_vectors(classifier, texts), labels)
    predicted = classifier.predict_vectors(_vectors(classifier, ticket_texts(test)))
    trained = sum(p == c for p, c in zip(predicted, test["category"], strict=True))
    return [
        RouterScore(
            "zero-shot", right / max(len(routed), 1), len(routed), ROUTING_PROMPT_VERSION, model
        ),
        RouterScore(
            "trained",
            trained / max(len(test), 1),
            len(test),
            None,
            "logreg-wordllama@" + data_fingerprint(texts, labels)[:12],
        ),
    ]


_ROUTES: dict[tuple[int, str, int], tuple[str | None, str]] = {}
_CLIENTS: dict[int, Any] = {}  # keeps each client alive, so its id is never reused
_VECTORS: dict[tuple[str, str], Any] = {}


def _route(client: LLMClient, text: str, seed: int) -> tuple[str | None, str]:
    """(category, model) of one zero-shot routing call, cached per client, text and seed."""
    from course_lib.classify import zero_shot_route
    from course_lib.datasets import TICKET_CATEGORIES

    _CLIENTS[id(client)] = client
    key = (id(client), text, seed)
    if key not in _ROUTES:
        result = zero_shot_route(client, text, categories=TICKET_CATEGORIES, seed=seed)
        _ROUTES[key] = (result.category, result.result.model)
    return _ROUTES[key]


def _vectors(classifier: Any, texts: list[str]) -> Any:
    """The classifier's embeddings of ``texts``, each text embedded once per process."""
    import numpy as np

    identity = str(classifier.embedder.identity)
    missing = [t for t in dict.fromkeys(texts) if (identity, t) not in _VECTORS]
    if missing:
        for text, vector in zip(missing, classifier.embed(missing), strict=True):
            _VECTORS[(identity, text)] = vector
    return np.stack([_VECTORS[(identity, t)] for t in texts])


# -- validation -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def ticket_schema() -> Any:
    """The pandera schema of a service-desk export (exercise 2.6.2's reference).

    Every call returns the one cached schema object, so ``check`` refuses it as the
    course's reference rather than passing it off as the learner's work.
    """
    import pandera.pandas as pa

    from course_lib.datasets import TICKET_CATEGORIES, TICKET_PRIORITIES

    return pa.DataFrameSchema(
        {
            "id": pa.Column(str, pa.Check.str_matches(r"^TCK-\d{4}$"), unique=True),
            "category": pa.Column(str, pa.Check.isin(list(TICKET_CATEGORIES))),
            "priority": pa.Column(str, pa.Check.isin(list(TICKET_PRIORITIES))),
            "split": pa.Column(str, pa.Check.isin(["train", "test"])),
            "subject": pa.Column(str),
            "body": pa.Column(
                str, pa.Check(lambda s: s.str.strip().str.len() > 0, error="body is blank")
            ),
        },
        name="service-desk export",
    )


# -- leaks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeakScore:
    """How a detector did on one planting: recall of planted copies, and rows flagged wrongly.

    ``missed`` and ``wrongly_flagged`` name the rows, so that you can look at them.
    """

    recall: float
    false_flags: int
    planted: int
    flagged: int
    problem: str = ""
    missed: tuple[str, ...] = ()
    wrongly_flagged: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.problem:
            return self.problem
        return (
            f"recall {self.recall:.2f} ({round(self.recall * self.planted)} of {self.planted} "
            f"planted copies), {self.false_flags} false flag(s), {self.flagged} flagged"
        )


_ROUND_UPS = (30, 22)
"""The held-out planting's genuine round-up mails: how many, and how many tickets each."""


def _round_up_mails(
    export: pd.DataFrame, *, count: int, size: int, seed: int, first_id: int
) -> pd.DataFrame:
    """Genuine train rows that bundle ``size`` train tickets of one team in one mail.

    A team lead's weekly list of the team's open tickets: long, made only of train tickets, so
    it carries nothing of the test split, yet a long text holds more of any short one by
    chance. These are the held-out planting's hardest genuine rows.
    """
    import pandas as pd

    rng = random.Random(f"round-up:{seed}")
    train = export[export["split"] == "train"]
    teams = sorted(set(train["reporter_team"]))
    rows = []
    for n in range(count):
        team = rng.choice(teams)
        members = train[train["reporter_team"] == team]
        picked = members.loc[rng.sample(list(members.index), min(size, len(members)))]
        body = "Open tickets of our team this week, for the record:\n\n" + "\n\n".join(
            f"- {subject or '(no subject)'}: {text}"
            for subject, text in zip(picked["subject"], picked["body"], strict=True)
        )
        first = picked.iloc[0].to_dict()
        first.update(
            id=f"TCK-{first_id + n:04d}",
            subject=f"{team}: open tickets, week {41 + n % 6}",
            body=body,
            channel="email",
            split="train",
        )
        rows.append(first)
    return pd.DataFrame(rows, columns=list(export.columns))


def leak_pairs(which: str = "tune", seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """``(train, test, planted train ids)`` of a planting (fresh copies: change them freely).

    ``tune`` is the lesson's own (seed ``seed``): the cleaning day's copies. ``heldout`` is
    the checker's, from an old mailbox: other test tickets; fewer exact copies and more
    heavily edited ones; twice as many copies forwarded inside mails, in another mail layout,
    half of them cut as well; and genuine round-up mails (:func:`_round_up_mails`).
    """
    if which not in ("tune", "heldout"):
        raise ValueError(f"which is 'tune' or 'heldout', not {which!r}.")
    train, test, planted = _planting(which, seed)
    return train.copy(), test.copy(), set(planted)


@lru_cache(maxsize=4)
def _planting(which: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, frozenset[str]]:
    import pandas as pd

    export = _export()
    extra: list[pd.DataFrame] = []
    if which == "tune":
        copies, truth = plant_leaks(export, seed=seed)
    else:  # "heldout"
        used = plant_leaks(export, seed=0)[1]["test_key"]
        copies, truth = plant_leaks(
            export,
            seed=HELDOUT_SEED,
            exact=4,
            light=8,
            heavy=12,
            forwarded=8,
            forwarded_heavy=8,
            style="archive",
            exclude=list(used),
        )
        count, size = _ROUND_UPS
        extra.append(
            _round_up_mails(
                export, count=count, size=size, seed=HELDOUT_SEED, first_id=721 + len(copies)
            )
        )
    train = pd.concat([export[export["split"] == "train"], copies, *extra], ignore_index=True)
    test = export[export["split"] == "test"].reset_index(drop=True)
    return train, test, frozenset(truth["train_key"])


def leak_score(
    detector: Callable[[pd.DataFrame, pd.DataFrame], Any], which: str = "tune", seed: int = 0
) -> LeakScore:
    """Runs ``detector(train, test)`` (it returns the train ids it flags) on a planting."""
    train, test, planted = leak_pairs(which, seed)
    flagged = detector(train, test)
    if flagged is None:
        return LeakScore(0.0, 0, len(planted), 0, "The detector returned None; return train ids.")
    if isinstance(flagged, str) or not hasattr(flagged, "__iter__"):
        return LeakScore(
            0.0,
            0,
            len(planted),
            0,
            f"The detector returned a {type(flagged).__name__}; "
            "return a list (or set) of the train ids it flags.",
        )
    ids = {str(i) for i in flagged}
    unknown = ids - set(train["id"])
    if unknown:
        return LeakScore(
            0.0,
            0,
            len(planted),
            len(ids),
            f"{len(unknown)} flagged id(s) are not train ids, "
            f"e.g. {sorted(unknown)[0]!r}; return ids from train['id'] (the copies to remove).",
        )
    recall = len(ids & planted) / len(planted)
    wrong = tuple(sorted(ids - planted))
    return LeakScore(
        recall, len(wrong), len(planted), len(ids), "", tuple(sorted(planted - ids)), wrong
    )


def calibration_similarities() -> pd.DataFrame:
    """The evidence for the threshold: planted copies beside the closest genuine rows.

    On the calibration planting (:data:`CALIBRATION_SEED`, never reported on; with eight
    forwarded copies), one row per planted copy (its Jaccard similarity to the test ticket it
    copies; ``kind`` exact, light, heavy or forwarded) and one per test ticket (its highest
    similarity to any genuine train ticket, ``kind`` "genuine": the closest a non-leak gets).
    """
    import pandas as pd

    from course_lib.data import jaccard_matrix, row_texts

    export = _export()
    copies, truth = plant_leaks(export, seed=CALIBRATION_SEED, forwarded=8)
    train = export[export["split"] == "train"]
    test = export[export["split"] == "test"].reset_index(drop=True)
    text = ("subject", "body")
    position = {key: i for i, key in enumerate(test["id"])}
    planted = jaccard_matrix(row_texts(copies, text), row_texts(test, text))
    rows = [
        (kind, float(planted[i, position[key]]))
        for i, (key, kind) in enumerate(zip(truth["test_key"], truth["kind"], strict=True))
    ]
    natural = jaccard_matrix(row_texts(test, text), row_texts(train, text)).max(axis=1)
    rows += [("genuine", float(s)) for s in natural]
    return pd.DataFrame(rows, columns=["kind", "similarity"])


def plot_calibration(similarities: pd.DataFrame, threshold: float) -> Figure:
    """Where each kind of pair falls on the similarity axis, with the threshold drawn."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 2.9))
    kinds = ["genuine", "forwarded", "heavy", "light", "exact"]
    labels = ["genuine", "forwarded copy", "heavy copy", "light copy", "exact copy"]
    for y, kind in enumerate(kinds):
        values = similarities.loc[similarities["kind"] == kind, "similarity"]
        jitter = [y + 0.25 * ((k * 7919) % 13 / 13 - 0.5) for k in range(len(values))]
        axis.scatter(values, jitter, s=12, alpha=0.6)
    axis.axvline(threshold, color="black", linestyle="--", linewidth=1)
    axis.text(threshold + 0.01, -0.45, f"threshold {threshold}", fontsize=9, va="bottom")
    axis.set_yticks(range(len(kinds)), labels)
    axis.set_ylim(-0.6, len(kinds) - 0.5)
    axis.set_xlim(0, 1.02)
    axis.set_xlabel("Jaccard similarity of character 5-shingles")
    axis.set_title("Calibration planting: each copy beside the closest genuine pairs", fontsize=10)
    figure.tight_layout()
    return figure


_GAP_KINDS = ("exact", "light", "heavy", "forwarded", "forwarded heavy", "genuine")


def leak_gap(similarity: Callable[[frozenset[str], frozenset[str]], float], seed: int = 0) -> Any:
    """Each train row's highest ``similarity`` to a test row, planted copies beside genuine rows.

    On the tuning planting (:func:`leak_pairs` ``"tune"``), ``similarity(train_shingles,
    test_shingles)`` scores a pair of 5-shingle sets (:func:`course_lib.data.shingles`). Returns
    one row per kind of train row (``exact``, ``light``, ``heavy``, ``forwarded`` copies and
    ``genuine`` tickets): how many, and their lowest and highest score. A threshold belongs in
    the gap between the genuine rows' highest score and the copies' lowest.
    """
    import pandas as pd

    from course_lib.data import row_texts, shingles

    if not callable(similarity):
        raise TypeError(
            f"leak_gap takes a function similarity(train_shingles, test_shingles), "
            f"not a {type(similarity).__name__}."
        )
    train, test, _ = leak_pairs("tune", seed)
    truth = plant_leaks(_export(), seed=seed)[1].set_index("train_key")["kind"]
    columns = ("subject", "body")
    tests = [shingles(text) for text in row_texts(test, columns)]
    rows = []
    for key, text in zip(train["id"], row_texts(train, columns), strict=True):
        own = shingles(text)
        try:
            best = max(float(similarity(own, other)) for other in tests)
        except Exception as exc:
            raise ValueError(
                f"similarity(train_shingles, test_shingles) raised {type(exc).__name__} "
                f"({exc}) on train row {key}; it takes two sets of shingles (either may be "
                "empty) and returns a number."
            ) from None
        rows.append((truth.get(key, "genuine"), best))
    scores = pd.DataFrame(rows, columns=["kind", "score"])
    table = scores.groupby("kind")["score"].agg(["count", "min", "max"]).round(3)
    return table.reindex([k for k in _GAP_KINDS if k in table.index])


def reference_flag_leaks(train: pd.DataFrame, test: pd.DataFrame) -> list[str]:
    """Exercise 2.6.3's reference: the ids of the train rows that copy a test row.

    The course's reference detector: lesson 2.6 uses it to build the leak-free version, so the
    figures after the exercise do not depend on the learner's answer.
    """
    import numpy as np

    from course_lib.data import row_texts, shingles

    columns = ("subject", "body")
    tests = [shingles(text) for text in row_texts(test, columns)]
    postings: dict[str, list[int]] = {}
    for position, pieces in enumerate(tests):
        for piece in pieces:
            postings.setdefault(piece, []).append(position)
    sizes = np.array([len(pieces) for pieces in tests], dtype=float)
    flagged = []
    for key, text in zip(train["id"], row_texts(train, columns), strict=True):
        own = shingles(text)
        hits = [position for piece in own for position in postings.get(piece, ())]
        if not tests or not hits:
            continue
        shared = np.bincount(hits, minlength=len(tests))
        share = shared / np.maximum(np.minimum(len(own), sizes), 1)
        if share.max() >= 0.7:
            flagged.append(str(key))
    return flagged
