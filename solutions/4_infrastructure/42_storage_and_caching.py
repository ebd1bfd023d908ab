# %% [markdown]
# # 4.2 Storage and caching
#
# A tutorial stores `index_final.pkl` in a folder, appends scores to a CSV, and caches
# nothing, so every repeated question pays the model again. This lesson measures the cost, then
# rebuilds each piece: artifacts named by their content through fsspec, evaluation results in
# SQL, and an exact and a semantic cache on a week of traffic.
#
# **Time:** about 50 minutes: 11 to read (2,113 words), 10 to run the code and read its
# outputs, 26 for the three exercises (8, 6 and 12), 3 for the questions. **You need:** a
# little SQL, and lessons 1.3 (embeddings) and 1.4 (the golden set).
#
# ## Learning objectives
# - Store artifacts by the SHA-256 of their bytes, and say why `final_v2` fails.
# - Keep evaluation runs in SQL and answer questions a CSV cannot.
# - Measure an exact and a semantic cache: hit rate, cost saved, false hits, scope.
# - Guard a semantic cache's hits, checked on traffic you did not tune on.

# %% [markdown]
# ## Setup
#
# `fast` replays fewer requests; `seed` is unused (the week of traffic is fixed); `engines`
# runs section 6 on Redis and the S3 emulator (on Binder there are none: leave it False).

# %% tags=["parameters"]
seed = 0
fast = False
engines = False

# %% [markdown]
# The imports, and a clean folder of the course work directory for this lesson:

# %%
import shutil
import sqlite3

import pandas as pd

from course_lib.artifacts import ArtifactStore
from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: when stuck)
from course_lib.labs import PROMPT_TEXT, evaluation_run, prototype_save_run
from course_lib.workdir import work_path

pd.set_option("display.width", 130)
pd.set_option("display.max_colwidth", 60)
lesson_dir = work_path("lesson_4_2")
shutil.rmtree(lesson_dir, ignore_errors=True)  # start clean

# %% [markdown]
# ## 1. The prototype: a folder and a CSV
#
# Three evaluation runs compare retrieval set-ups on the golden set's dev split (lesson 1.4):
# BM25, dense and a hybrid. `evaluation_run` returns each run's index as bytes and, per
# question, its recall@5 and `rr` (the reciprocal rank of the first relevant passage). The
# tutorial saves a run like this:

# %%
import inspect

print(inspect.getsource(prototype_save_run).split('"""', 2)[2])

# %% [markdown]
# Save the three runs the tutorial's way. On the third, someone adds a column, the payments
# team's recall, because that is what they were asked:

# %%
prototype = lesson_dir / "prototype"
runs = {}
for method in ("bm25", "dense", "hybrid"):
    index, results = evaluation_run(method)
    runs[method] = (index, results)
    metrics = {"run": method, "recall_at_5": round(results["recall"].mean(), 3)}
    if method == "hybrid":
        payments = results[results["team"] == "payments"]["recall"].mean()
        metrics["recall_payments"] = round(payments, 3)
    prototype_save_run(prototype, method, index, PROMPT_TEXT, metrics)
print((prototype / "results.csv").read_text())

# %% [markdown]
# Which run was best for the payments team? Which run's index is `index_final.pkl`?

# %%
try:
    pd.read_csv(prototype / "results.csv")
except pd.errors.ParserError as exc:
    print("read_csv:", exc)
final = (prototype / "index_final.pkl").read_bytes()
print("index_final.pkl is the index of:", [m for m, (i, _) in runs.items() if i == final])
files = [p for p in prototype.rglob("*") if p.is_file()]
print(f"{len(files)} files, {sum(p.stat().st_size for p in files):,} bytes on disk")

# %% [markdown]
# Three things broke, and none raised an error:
#
# - The CSV cannot be read: the third row has a field the header does not name. Even fixed,
#   the first two runs kept only an average.
# - `index_final.pkl` is the last run's. Whoever loads it to reproduce the best run gets
#   another index, silently.
# - The per-run folders hold the same prompt three times, beside the copy at the top.
#
# ## 2. Artifacts by content
#
# `course_lib.artifacts.ArtifactStore` names a blob by the SHA-256 of its bytes: the same
# bytes are stored once, a name always means the same bytes, and every read checks them.
# Human names are **tags** (`index/production`) that point at a hash and move, like a git
# branch:
#
# ```text
#   <root>/objects/sha256/3f/a1c9...   the bytes, named by their hash (never overwritten)
#   <root>/tags/index/production.json  {"sha256": "3fa1c9..."}   (moves when you promote)
# ```
#
# The root is a URL handed to **fsspec**, the file-system layer pandas uses: a folder today,
# `s3://bucket/prefix` in production (section 6). Store each run's index and prompt:

# %%
store = ArtifactStore(lesson_dir / "artifacts")
refs = {}
for method, (index, _) in runs.items():
    refs[method] = (store.put_bytes(index), store.put_bytes(PROMPT_TEXT.encode()))
    index_ref, prompt_ref = refs[method]
    print(f"{method:7} index stored: {index_ref.stored!s:5}  prompt stored: {prompt_ref.stored}")
print(f"{len(list(store.digests()))} artifacts, {store.size_on_store():,} bytes")

# %% [markdown]
# The prompt was stored once, in fewer bytes than the tutorial's folder. Tag the dense index
# as production, then move the tag, as a promotion would:

# %%
store.tag("index/production", refs["dense"][0])
print("production is dense: ", store.resolve("index/production") == refs["dense"][0].sha256)
store.tag("index/production", refs["hybrid"][0])
print("production is hybrid:", store.resolve("index/production") == refs["hybrid"][0].sha256)
print("dense is still there:", store.exists(refs["dense"][0].sha256))

# %% [markdown]
# A file changed behind the store's back is caught on read. Flip one byte of the stored
# prompt through fsspec:

# %%
from course_lib.errors import ArtifactError

path = prompt_ref.url  # where the bytes are
store.fs.pipe_file(path, b"y" + store.fs.cat_file(path)[1:])
try:
    store.get_bytes(prompt_ref.sha256)
except ArtifactError as exc:
    print(str(exc).replace(store.url, "the store"))
store.fs.rm(path)
print("stored again:", store.put_bytes(PROMPT_TEXT.encode()).stored)

# %% [markdown]
# fsspec's in-memory file system stands in for a remote store: another URL, the same names:

# %%
remote = ArtifactStore("memory://lesson-4-2")
same = remote.put_bytes(PROMPT_TEXT.encode()).sha256 == prompt_ref.sha256
print(f"memory:// gives the prompt the same name: {same}; {remote.fs.protocol}")

# %% [markdown]
# ## 3. Evaluation results in SQL
#
# SQL keeps a row per question per run, so any grouping can be asked later, and a `runs`
# table records what each run used, by hash. Two tables in SQLite:

# %%
from course_lib.labs import EVALUATION_SCHEMA

print(EVALUATION_SCHEMA)
db = sqlite3.connect(lesson_dir / "evaluations.sqlite")
db.executescript(EVALUATION_SCHEMA)
for method, (index_ref, prompt_ref) in refs.items():
    db.execute(
        "INSERT INTO runs VALUES (?, ?, 'dev', ?, ?)",
        (method, method, index_ref.sha256, prompt_ref.sha256),
    )
    scored = runs[method][1].assign(run_id=method)
    scored[["run_id", "question_id", "team", "type", "recall", "rr"]].to_sql(
        "results", db, if_exists="append", index=False
    )
db.commit()

# %% [markdown]
# The question the CSV could not answer, as a `GROUP BY` over runs and teams:

# %%
by_team = pd.read_sql_query(
    """
    SELECT team, run_id, COUNT(*) AS questions, ROUND(AVG(recall), 3) AS recall_at_5
    FROM results WHERE team IN ('payments', 'sre', 'people')
    GROUP BY team, run_id ORDER BY team, recall_at_5 DESC
    """,
    db,
)
by_team

# %% [markdown]
# The best run differs by team (payments is a tie, on 7 questions: one question's difference
# is noise). A join answers "which index did the payments team's best run use?" (a tie goes
# to the first run id), and the store hands back those bytes:

# %%
best_run, digest = db.execute(
    """
    SELECT r.run_id, r.index_sha256 FROM results AS q JOIN runs AS r USING (run_id)
    WHERE q.team = 'payments' GROUP BY r.run_id ORDER BY AVG(q.recall) DESC, r.run_id LIMIT 1
    """
).fetchone()
print(best_run, "index:", len(store.get_bytes(digest)), "bytes, hash checked on read")

# %% [markdown]
# ### Exercise 4.2.1: The questions a run made worse
#
# An average can rise while some questions get worse. Write `REGRESSIONS_SQL`: every question
# whose recall is lower in run `:after` than in run `:before`, with columns `question_id`,
# `team`, `before`, `after`, the biggest drop first, then by `question_id`. The skeleton joins
# `results` to itself (`b` before, `a` after). The checker runs it on runs you have not seen.

# %%
# BEGIN SOLUTION
REGRESSIONS_SQL = """
SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
FROM results AS b
JOIN results AS a ON a.question_id = b.question_id AND a.run_id = :after
WHERE b.run_id = :before AND a.recall < b.recall
ORDER BY b.recall - a.recall DESC, b.question_id
"""
# END SOLUTION
# STUB: REGRESSIONS_SQL = """
# STUB: SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
# STUB: FROM results AS b
# STUB: JOIN results AS a ON ...
# STUB: WHERE ...
# STUB: ORDER BY ...
# STUB: """

# %% [markdown]
# Try it on the dense and hybrid runs, then check it:

# %%
try:
    worse = pd.read_sql_query(REGRESSIONS_SQL, db, params={"before": "dense", "after": "hybrid"})
    print(f"{len(worse)} questions lost recall from dense to hybrid")
    print(worse.head(5))
except Exception as exc:  # the stub is not SQL yet
    print("REGRESSIONS_SQL does not run yet:", type(exc).__name__)

# %%
check("4.2.1", REGRESSIONS_SQL)

# %% [markdown]
# ## 4. The cost of repeated questions
#
# The week of traffic (`load_traffic()`, in the course's datasheet) holds the Handbook
# Assistant's requests with their logged cost; the caches sit in front of its `ask` feature.
# Every text comes from a pool question, some lightly varied. `cache_requests` adds that
# question (`pool`, the truth a cache is judged by) and a `scope`, the part of the key that
# keeps answers apart:

# %%
from course_lib.labs import cache_requests, exact_hits

rows = cache_requests()
print(f"{len(rows):,} ask requests, {rows['question'].nunique():,} distinct texts, ", end="")
print(f"{rows['pool'].nunique()} pool questions, cost {rows['cost_usd'].sum():.2f} USD")
print(f"varied from their pool question: {(rows['question'] != rows['pool']).mean():.1%}")
rows[["day", "team", "scope", "question"]].head(3)

# %% [markdown]
# The **scope** holds what changes the answer: model, prompt version (lesson 2.4), reader's
# access (a manager's answer may quote a restricted page). The log records the team, not the
# clearance, so the team stands in for it.
#
# A **false hit** is a served answer whose stored question is another pool question. Replay an
# exact cache on the raw text, with this scope and with one scope for everyone:


# %%
def summary(hits):
    saved = rows.loc[hits["hit"], "cost_usd"].sum() / rows["cost_usd"].sum()
    false = hits["false_hit"].sum()
    return f"hit rate {hits['hit'].mean():.1%}, cost saved {saved:.1%}, false hits {false}"


scoped, shared = exact_hits(rows), exact_hits(rows, scoped=False)
print("exact, scoped:       ", summary(scoped))
print("exact, one scope:    ", summary(shared))
crossed = shared["hit"] & ~scoped["hit"]
print(f"one scope: {crossed.sum():,} hits served from another team's, model's or prompt's entry")

# %% [markdown]
# Half the week's questions repeat word for word within their scope. One scope serves more,
# with no false hit by the pool's truth, but every extra hit crossed a scope: an answer
# written for another team, or by an older prompt. The log cannot tell which quoted a page
# the reader may not see, so the team stays in the scope.
#
# ### Exercise 4.2.2: A key that makes variants equal
#
# "How do I book leave?", "how do I book leave" and "hi, how do I book leave?" ask the same
# thing, and an exact cache misses them. Write `normalise(text)`, the exact cache's key, so
# the variants of one question share a key and different questions never do. Each way the
# week varies a question, with an example:

# %%
from course_lib.labs import variant_examples

variant_examples(rows)


# %%
def normalise(text):
    """The exact cache's key for a question: the same for its light variants."""
    # BEGIN SOLUTION
    text = " ".join(text.lower().split())
    for greeting in ("hi, ", "hey - ", "quick question: ", "sorry if this is obvious, "):
        text = text.removeprefix(greeting)
    for thanks in (" thanks", " thx", " (asking for a new joiner)"):
        text = text.removesuffix(thanks)
    return text.rstrip("?").strip()
    # END SOLUTION
    # STUB: return text  # Exercise: make the variants of one question equal


# %% [markdown]
# The checker replays your key on another generated week: its hit rate must come within half
# a point of the course's, with no false hit.

# %%
check("4.2.2", normalise)

# %% [markdown]
# With the normalised key (yours once it passes):

# %%
key = answer_or_reference("4.2.2", normalise)
print("exact, normalised:   ", summary(exact_hits(rows, key)))

# %% [markdown]
# ## 5. A semantic cache, and its false hits
#
# Normalising catches the variants you listed. A **semantic cache** tries to catch the rest: it
# embeds each question and serves the answer of the most similar earlier one in its scope
# when their cosine similarity reaches a **threshold**. Lower it: more hits, and more false
# hits, served confidently.
#
# To sweep thresholds in one pass, `nearest_earlier` finds, for each request in time order,
# the most similar text answered before in its scope (`match_text`) and its pool question
# (`match`). It keeps every answered text, where a real cache keeps only its misses. A hit at
# threshold *t* is a similarity of at least *t*:

# %%
from course_lib.labs import nearest_earlier, plot_threshold_sweep, sweep_thresholds

nearest = nearest_earlier(rows)
thresholds = [round(0.60 + 0.01 * i, 2) for i in range(40)]
week = sweep_thresholds(rows, nearest, thresholds)
plot_threshold_sweep(week, limit=0.001)  # the 0.1% limit of exercise 4.2.3

# %% [markdown]
# The hit rate climbs slowly as the threshold falls; the false hits climb fast. Some false
# hits at 0.80, with the question they were answered from:

# %%
false = (nearest["similarity"] >= 0.80) & (nearest["match"] != rows["pool"])
examples = rows[false].assign(served=nearest["match"], similarity=nearest["similarity"])
examples[["question", "served", "similarity"]].drop_duplicates("question").head(4).round(3)

# %% [markdown]
# Each is a neighbour on the same subject with another answer. The sweep at a few
# thresholds:

# %%
week.set_index("threshold").loc[[0.7, 0.8, 0.85, 0.9, 0.95]][
    ["hit_rate", "saved_share", "false_hits", "false_hit_rate"]
].round(4)

# %% [markdown]
# No threshold matches the normalised key: loose enough to serve as much, it serves
# neighbours; strict enough to serve none, it misses variants.
#
# Does the sweep match the real cache? Replay Monday's first requests through the production
# `ExactCache` (raw text) and `SemanticCache` at 0.80. A **virtual clock**, set to each
# request's logged time, makes entries age by the traffic's time, not the machine's:

# %%
from course_lib.caching import ExactCache, SemanticCache
from course_lib.labs import ReplayClock, replay_through_caches

monday = rows[rows["day"] == "Mon"].head(200 if fast else 400)
clock = ReplayClock()
exact = ExactCache("lesson42-exact", url="", clock=clock)  # url "": SQLite, whatever is set
semantic = SemanticCache("lesson42-semantic", url="", threshold=0.80, clock=clock)
exact.clear()
semantic.clear()
replay = replay_through_caches(monday, exact, semantic, clock=clock)
print("\n".join(replay.lines()))
swept = sweep_thresholds(monday, nearest_earlier(monday), [0.80]).iloc[0]
print(f"the sweep predicted {swept['hits']:.0f} hits, {swept['false_hits']:.0f} false")

# %% [markdown]
# Monday starts cold: the first request of each question in each scope pays the model, so
# the share saved is far below the week's. The real cache finds no more hits than the sweep
# predicts: it holds only its misses.
#
# ### Exercise 4.2.3 (open-ended): A guard on the semantic cache
#
# A threshold sees one number. A **guard** also reads both texts: `serve(question, cached,
# similarity)` decides whether the answer stored for `cached`, the nearest earlier question in
# the scope, may be served for `question`.
#
# A semantic layer earns its place on phrasings no exact key has seen: `rephrased_pairs()`
# asks each pool question in a new way ("hello, ...", "... cheers"), and the normalised key
# serves none of them.
#
# **Target**, checked on two generated weeks and on new phrasings you never see: false hits at
# most 0.1% of served answers, one point more of the requests served than the best threshold
# alone, and 90% of the rephrased questions served. The skeleton keeps a loose threshold and
# hands you the words that carry meaning (`content_words`): add the check that refuses
# different questions.

# %%
from course_lib.labs import content_words


def serve(question, cached, similarity):
    """Whether to serve the answer stored for `cached` to `question`."""
    if similarity < 0.70:
        return False  # too far apart to be one question
    mine, theirs = content_words(question), content_words(cached)
    # BEGIN SOLUTION
    numbers = {w for w in mine if any(c.isdigit() for c in w)}
    if numbers != {w for w in theirs if any(c.isdigit() for c in w)}:
        return False  # SEV2 is not SEV3
    return len(mine & theirs) / len(mine | theirs) >= 0.6
    # END SOLUTION
    # STUB: return True  # Exercise: refuse when the words that carry meaning differ


# %% [markdown]
# Your guard on this week beside the best threshold alone, on the new phrasings, and the false
# hits it still serves:

# %%
from course_lib.labs import guard_hits, guard_report, rephrased_pairs

print("\n".join(guard_report(rows, nearest, serve).lines()))
new = rephrased_pairs()
served = sum(serve(q, c, s) for q, c, s in new.itertuples(index=False))
by_key = sum(key(q) == key(c) for q, c, _ in new.itertuples(index=False))
print(f"asked in new ways: served {served} of {len(new)} (target 90%); the exact key: {by_key}")
wrong = guard_hits(rows, nearest, serve)["false_hit"]
print(f"pairs served wrongly this week: {wrong.sum()}")
pairs = rows.loc[wrong, ["question"]].assign(cached=nearest.loc[wrong, "match_text"])
pairs.drop_duplicates().head()

# %%
check("4.2.3", serve)

# %% [markdown]
# ## 6. The production side
#
# In production the caches live in Redis, shared by every replica, and the artifacts in an
# object store. `./run services up` starts Redis and moto's S3 emulator (a local stand-in for
# the S3 API, not Amazon's S3) and prints `COURSE_CACHE_URL` and `COURSE_OBJECT_STORE_URL`.
# With `engines = True` the next two cells run there, otherwise on SQLite and a folder,
# printing the same lines (on Binder, leave it False). First the artifacts:

# %%
from course_lib.errors import EngineUnavailableError
from course_lib.settings import get_settings

settings = get_settings()
if engines and (settings.cache_url is None or settings.object_store_url is None):
    raise EngineUnavailableError(
        "start the engines with ./run services up and export the lines it prints"
    )
cache_url = settings.cache_url.get_secret_value() if engines else ""
objects = ArtifactStore(settings.object_store_url if engines else lesson_dir / "objects")
for method, (index, _) in runs.items():
    ref = objects.put_bytes(index)
    intact = objects.get_bytes(ref.sha256) == index
    print(f"{method:7} index {ref.sha256[:12]}: {ref.size:,} bytes, read back intact: {intact}")
objects.tag("index/production", ref)
print("tag index/production -> hybrid:", objects.resolve("index/production") == ref.sha256)

# %% [markdown]
# Then the caches, on the same Monday: the exact cache keys on your normalised text, the
# semantic cache behind it serves only what your guard accepts, and entries live a week (a
# **TTL**, time to live). Behind a key that catches this week's variants, the semantic layer
# serves only new phrasings, and this week has none: count its hits.

# %%
guard = answer_or_reference("4.2.3", serve)
clock = ReplayClock()
exact = ExactCache("lesson42-prod", url=cache_url, clock=clock, ttl_s=7 * 24 * 3600)
semantic = SemanticCache("lesson42-prod-sem", url=cache_url, clock=clock)  # the guard decides
exact.clear()
semantic.clear()
production = replay_through_caches(monday, exact, semantic, key, clock=clock, serve=guard)
print("\n".join(production.lines()))

# %% [markdown]
# The stored outputs come from SQLite and a folder; the course's tests replay this code on
# Redis and the S3 emulator and compare the lines. What changes is who shares the entries.
# The Redis 7 server the course starts has no vector search, so a semantic lookup compares
# its scope's vectors in numpy. Past a few thousand entries per scope, use a vector index:
# Redis 8's query engine or pgvector.

# %% [markdown]
# ## Takeaways
#
# - A file name is not an identity. Name artifacts by the SHA-256 of their bytes; tags are
#   the human names, and they move. fsspec makes the place a URL: a folder or S3.
# - A row per question per run in SQL, with the hashes of what each run used, answers
#   questions nobody asked when the run was made.
# - On this week a normalised exact key serves about three requests in four, with no false
#   hit; scope it by what changes the answer.
# - A semantic cache trades false hits for hits through its threshold; a guard that reads
#   both texts beat every threshold within the false-hit limit here, and served phrasings no
#   exact key has seen. Check it on traffic you did not tune on.
#
# ## Production checklist
#
# - [ ] Artifacts are stored by content hash; runs record the hashes they used.
# - [ ] Promotion and rollback move a tag, never overwrite bytes.
# - [ ] Evaluation results go to SQL, one row per item per run.
# - [ ] The cache scope holds model, prompt version and the reader's access level.
# - [ ] Only successful answers are cached; entries expire (a TTL) and are cleared when the
#   index or the prompt changes.
# - [ ] A semantic cache has a false-hit budget, re-checked on new traffic.
# - [ ] The cache and the object store are set by URL; no code path depends on which.
#
# ## Further reading
#
# - fsspec documentation: <https://filesystem-spec.readthedocs.io/en/latest/>
# - RedisVL's semantic cache, with filterable fields for scoping. Its `distance_threshold` is
#   a distance, not a similarity: lower is stricter.
#   <https://redis.io/docs/latest/develop/ai/redisvl/api/cache/>
# - Redis 8's release notes (vector search in the server):
#   <https://raw.githubusercontent.com/redis/redis/8.0.0/00-RELEASENOTES>
# - False hits on negations that no threshold fixes, in vLLM's semantic router:
#   <https://github.com/vllm-project/semantic-router/issues/2691>
# - SQLite's `SELECT`, including joins and `GROUP BY`: <https://www.sqlite.org/lang_select.html>
#
# ## Check your understanding
#
# 1. Two runs stored the same prompt. How many copies does the artifact store keep, and why?
# 2. Why does the `runs` table hold hashes rather than file names?
# 3. Why is the team in the cache's scope here, and what would you scope by if the log had
#    the reader's clearance?
# 4. Why does the checker of exercise 4.2.3 measure your guard on weeks you never saw?
# 5. Which cache would you ship first on this traffic, and why?
#
# <details><summary>Short answers</summary>
#
# 1. One: its name is the hash of its bytes, so the second `put` finds it (`stored=False`).
# 2. A file name can later point at other bytes; a hash names exactly the bytes used.
# 3. Retrieval depends on what the reader may read, and the team is the finest thing the log
#    records. With the clearance logged, scope by it: fewer, larger scopes.
# 4. A guard tuned on one week fits that week's pairs; only data you did not tune on says
#    whether it holds.
# 5. The exact cache with a normalised key: most of the savings, no false hit measured.
#
# </details>
