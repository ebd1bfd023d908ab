"""The Handbook Assistant: one call from a question and a reader to a cited, traced answer.

::

    from course_lib.assistant import HandbookAssistant
    from course_lib.rag import HandbookIndex, User

    assistant = HandbookAssistant(HandbookIndex.open())
    answer = assistant.ask("When is the on-call handover?", user=User("u1", team="sre",
                           clearance={"public", "internal"}))
    answer.text, answer.citations, answer.prompt_ref, answer.cost_usd, answer.trace_id
"""

from __future__ import annotations

from course_lib.assistant.assistant import AssistantAnswer, Citation, HandbookAssistant

__all__ = ["AssistantAnswer", "Citation", "HandbookAssistant"]
