"""Print the local model's answers to a fixed set of requests, as JSON (used by a test).

Run in a fresh process so nothing cached in the test process can hide non-determinism.
"""

from __future__ import annotations

import json
import sys

from course_lib.standin import LocalModel

CONTEXT = (
    "[oncall-policy] Handover is Monday at 10:00 Europe/Lisbon. The outgoing engineer posts a "
    "handover note in the team's on-call channel.\n"
    "[expense-policy] Meals are reimbursed up to EUR 60 per day. Receipts are needed above "
    "EUR 25.\n"
    "[deployment-procedure] Every change soaks in staging for 30 minutes before production."
)
SYSTEM = "Answer from the sources and cite them. If they do not answer, say you don't know."
QUESTIONS = [
    "When do I hand over the on-call pager?",
    "Do I need a receipt for a EUR 20 lunch?",
    "How long does a change stay in staging?",
    "What is the parental leave policy?",
]
MEMORY = ["What is the on-call allowance per week?", "How do I roll back a bad deploy?"]


def requests() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for model in ("local-small", "local-large"):
        for question in QUESTIONS:
            user = f"{CONTEXT}\n\nQuestion: {question}"
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
            out.append({"model": model, "messages": messages})
            out.append({"model": model, "messages": messages, "temperature": 0.9, "seed": 7})
        for question in MEMORY:
            out.append({"model": model, "messages": [{"role": "user", "content": question}]})
    return out


def main() -> None:
    model = LocalModel()
    answers = []
    for request in requests():
        response = model.answer(request, model.prepare(request))
        answers.append(
            {
                "model": request["model"],
                "content": response["choices"][0]["message"]["content"],
                "usage": response["usage"],
            }
        )
    json.dump(answers, sys.stdout, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
