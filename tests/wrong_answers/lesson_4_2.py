"""Plausible wrong answers to lesson 4.2's exercises; each must be rejected by its checker."""

from __future__ import annotations

from course_lib.course.exercises.lesson_4_2 import REFERENCE_QUERY, REGRESSIONS_SQL, normalise

# --- 4.2.1 REGRESSIONS_SQL ---------------------------------------------------------------------

_IMPROVEMENTS = """
SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
FROM results AS b JOIN results AS a ON a.question_id = b.question_id
WHERE b.run_id = :before AND a.run_id = :after AND a.recall > b.recall
ORDER BY b.recall - a.recall DESC, b.question_id
"""

_TIES_COUNT_AS_WORSE = """
SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
FROM results AS b JOIN results AS a ON a.question_id = b.question_id
WHERE b.run_id = :before AND a.run_id = :after AND a.recall <= b.recall
ORDER BY b.recall - a.recall DESC, b.question_id
"""

_JOINED_ON_TEAM = """
SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
FROM results AS b JOIN results AS a ON a.team = b.team
WHERE b.run_id = :before AND a.run_id = :after AND a.recall < b.recall
ORDER BY b.recall - a.recall DESC, b.question_id
"""

_NO_ORDER = """
SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
FROM results AS b JOIN results AS a ON a.question_id = b.question_id
WHERE b.run_id = :before AND a.run_id = :after AND a.recall < b.recall
"""

_SMALLEST_DROP_FIRST = """
SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
FROM results AS b JOIN results AS a ON a.question_id = b.question_id
WHERE b.run_id = :before AND a.run_id = :after AND a.recall < b.recall
ORDER BY b.recall - a.recall, b.question_id
"""

_RUN_IDS_WRITTEN_IN = """
SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
FROM results AS b JOIN results AS a ON a.question_id = b.question_id
WHERE b.run_id = 'dense' AND a.run_id = 'hybrid' AND a.recall < b.recall
ORDER BY b.recall - a.recall DESC, b.question_id
"""

_RUNS_SWAPPED = """
SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
FROM results AS b JOIN results AS a ON a.question_id = b.question_id
WHERE b.run_id = :after AND a.run_id = :before AND a.recall < b.recall
ORDER BY b.recall - a.recall DESC, b.question_id
"""

_AVERAGES_PER_TEAM = """
SELECT b.team, AVG(b.recall) AS before, AVG(a.recall) AS after
FROM results AS b JOIN results AS a ON a.question_id = b.question_id
WHERE b.run_id = :before AND a.run_id = :after
GROUP BY b.team HAVING AVG(a.recall) < AVG(b.recall)
"""

# --- 4.2.2 normalise -------------------------------------------------------------------------


def _lower_case_only(text):
    return text.lower()


def _question_mark_only(text):
    return text.rstrip("?")


def _case_and_question_mark(text):
    return text.lower().rstrip("?")


def _first_four_words(text):
    return " ".join(text.lower().rstrip("?").split()[:4])


def _greetings_but_not_thanks(text):
    text = text.lower()
    for greeting in ("hi, ", "hey - ", "quick question: ", "sorry if this is obvious, "):
        text = text.removeprefix(greeting)
    return text.rstrip("?")


def _only_the_longest_word(text):
    return max(text.lower().split(), key=len)


def _returns_nothing(text):
    text.lower()


# --- 4.2.3 serve(question, cached, similarity) -----------------------------------------------


def _lesson_threshold(question, cached, similarity):
    return similarity >= 0.80  # the lesson's value on its own: false hits


def _old_threshold(question, cached, similarity):
    return similarity >= 0.78  # a threshold read off this week's sweep


def _safe_threshold(question, cached, similarity):
    return similarity >= 0.86  # safe, but no better than a threshold


def _same_text(question, cached, similarity):
    return question == cached  # an exact cache in disguise


def _always(question, cached, similarity):
    return True


def _reads_the_truth(question, cached, similarity):
    from course_lib.labs import pool_question

    return pool_question(question) == pool_question(cached)  # labels no production cache has


def _numbers_only(question, cached, similarity):
    import re

    return similarity >= 0.70 and re.findall(r"\d+", question) == re.findall(r"\d+", cached)


def _returns_the_similarity(question, cached, similarity):
    return similarity if similarity >= 0.9 else 0.0


def _lower_case_equal(question, cached, similarity):
    return question.lower() == cached.lower()


def _redoes_the_exact_key(question, cached, similarity):
    return normalise(question) == normalise(cached)  # the exact cache again: adds nothing


def _exact_key_above_a_threshold(question, cached, similarity):
    return similarity >= 0.70 and normalise(question) == normalise(cached)


def _same_content_words(question, cached, similarity):
    from course_lib.labs import content_words

    return similarity >= 0.70 and content_words(question) == content_words(cached)


def _ignores_similarity(question, cached, similarity):
    from course_lib.labs import content_words

    mine, theirs = content_words(question), content_words(cached)
    return len(mine & theirs) / max(len(mine | theirs), 1) >= 0.6


WRONG_ANSWERS = {
    "4.2.1": [
        _IMPROVEMENTS,
        _TIES_COUNT_AS_WORSE,
        _JOINED_ON_TEAM,
        _NO_ORDER,
        _SMALLEST_DROP_FIRST,
        _RUN_IDS_WRITTEN_IN,
        _RUNS_SWAPPED,
        _AVERAGES_PER_TEAM,
        "SELECT * FROM results",
        REFERENCE_QUERY,  # what answer_or_reference("4.2.1", "") hands back
        "  " + REGRESSIONS_SQL.upper(),  # the course's query, copied
        str(REFERENCE_QUERY) + " -- x",  # the reference with a comment appended
        "/* mine */ " + REGRESSIONS_SQL + ";",  # ... with a comment prepended
        REGRESSIONS_SQL + " LIMIT 1000",  # ... with a clause appended
        "SELECT * FROM (" + REGRESSIONS_SQL.replace("\n", "\n  ") + ")",  # ... wrapped
    ],
    "4.2.2": [
        _lower_case_only,
        _question_mark_only,
        _case_and_question_mark,
        _first_four_words,
        _greetings_but_not_thanks,
        _only_the_longest_word,
        _returns_nothing,
    ],
    "4.2.3": [
        _lesson_threshold,
        _old_threshold,
        _safe_threshold,
        _same_text,
        _always,
        _reads_the_truth,
        _numbers_only,
        _returns_the_similarity,
        _lower_case_equal,
        _redoes_the_exact_key,
        _exact_key_above_a_threshold,
        _same_content_words,
        _ignores_similarity,
        0.80,  # last version's answer: a number, not a guard
    ],
}
