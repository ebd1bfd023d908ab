# %% [markdown]
# # 2.1 RAG I: ingestion and chunking
#
# Retrieval-augmented generation (RAG) answers a question from passages it finds first. Before
# anything can be found, every document has to be **ingested**: loaded, cleaned, cut into
# **chunks** (the passages the index embeds, searches and cites) and embedded. Ingestion
# decides what retrieval can ever return: a fact cut in half, a passage that lost its heading
# or a chunk that no longer says which document it came from cannot be fixed later by a
# better model.
#
# A tutorial cuts the text into fixed windows of characters, embeds them all, and re-embeds
# everything whenever anything changes. In this lesson you measure that prototype on the
# Handbook Assistant's golden questions, see what it breaks, and build the production version:
# chunks with metadata, strategies compared with confidence intervals, a chunk size chosen
# from a sweep, and ingestion that embeds only what changed.
#
# **Time:** about 45 minutes. **You need:** lesson 1.3 (embeddings, recall@5 and MRR) and
# lesson 1.4 (bootstrap intervals).
#
# ## Learning objectives
# - Load the handbook with its metadata (document id, title, section, access level, version)
#   and keep that metadata on every chunk.
# - Compare fixed-size, heading-aware and semantic chunking on recall@5 and MRR with 95%
#   intervals, and tell a real difference from noise.
# - Choose a chunk size from a sweep that puts retrieval quality next to its cost.
# - Re-ingest by content hash, and count the embeddings it saves against a full rebuild.

# %% [markdown]
# ## Setup
#
# `seed` drives the bootstrap resampling; `fast` sweeps fewer chunk sizes.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# The imports every section uses:

# %%
import matplotlib.pyplot as plt
import pandas as pd

from course_lib.course import answer_or_reference, check, hint
from course_lib.datasets import handbook_frame, load_golden_set, load_handbook
from course_lib.embeddings import get_embedder
from course_lib.labs import EMBED_LIMIT, evaluate_chunks
from course_lib.rag import summarise_retrieval

embedder = get_embedder()
dev = load_golden_set("dev")  # tune on dev; the test split stays for the final check
pd.set_option("display.width", 120)

# %% [markdown]
# ## 1. Load, clean, keep the metadata
#
# Each handbook page is a Markdown file that starts with a block of YAML **front matter**,
# the page's metadata. Here is the top of one file as it sits on disk:

# %%
from importlib.resources import files

raw = (files("course_lib.datasets") / "handbook" / "current" / "oncall-policy.md").read_text()
print("".join(raw.splitlines(keepends=True)[:9]))

# %% [markdown]
# The front matter is not text to embed: a search for "on-call" should not match the line
# `id: oncall-policy` of every page's header. But every field in it is something the system
# needs later: the **id** to cite, the **title** and section to show, the **access** level to
# decide who may read it, and the **version** to tell a current fact from a stale one.
# `load_handbook` parses the front matter into fields and keeps the Markdown body as `text`:

# %%
docs = load_handbook()
doc = next(d for d in docs if d.id == "oncall-policy")
print({field: getattr(doc, field) for field in ("id", "title", "team", "version", "access")})
print(repr(doc.text[:80]))

# %% [markdown]
# Cleaning means deciding what must never reach the index. For this handbook: the front
# matter (parsed out above), and the writers' `notes/` folder, the answer key of the data set,
# which lives beside the documents but is not one of them. Real corpora add more (navigation
# menus, cookie banners, page footers repeated on every page). Check what you loaded before
# you embed it, by team and access level:

# %%
frame = handbook_frame()
print(pd.crosstab(frame["team"], frame["access"], margins=True, margins_name="total"))

# %% [markdown]
# The `restricted` column is why metadata must travel with every chunk: once a restricted
# page is cut into chunks, each chunk has to say so, or nothing can keep it from a reader
# without clearance (lesson 2.2 enforces it).

# %% [markdown]
# ## 2. The prototype, and what it breaks
#
# The tutorial version: cut each document's text into windows of 1,000 characters, each
# starting 800 characters after the last (200 of overlap), keep the document id so that
# retrieval can be scored, and embed each window as it is:

# %%
from course_lib.labs import prototype_passages

passages = prototype_passages(docs, size=1000, overlap=200)
print(f"{len(passages)} passages; the second of {doc.id}:")
print(
    repr(next(p for p in passages if p.doc_id == doc.id and p.text != doc.text[:1000]).text[:160])
)

# %% [markdown]
# It starts in the middle of a word. Measure the prototype as lesson 1.3 measured retrievers:
# for each answerable dev question, rank the passages by cosine similarity with the question
# and score recall@5 and MRR against the documents the question's answer cites.
# `evaluate_chunks` does that for any list of chunks, and `summarise_retrieval` (the
# production summary, lesson 1.4's bootstrap inside) adds 95% intervals:

# %%
results = {"prototype: 1,000 characters": evaluate_chunks(passages, dev)}


def summary_of(results):
    frames = [frame.assign(chunking=name) for name, frame in results.items()]
    table = summarise_retrieval(pd.concat(frames), by=("chunking",), seed=seed)
    return table[["chunking", "questions", "recall", "recall_low", "recall_high", "mrr"]]


summary_of(results).round(3)

# %% [markdown]
# Now count what the prototype breaks, with the embedder's own tokenizer: windows that begin
# inside a word, windows over the 512 tokens a chunk may hold (a transformer embedder such as
# all-MiniLM-L6-v2 silently ignores everything past its input limit, and five chunks that long
# fill 5 x 512 tokens of a prompt), passages of restricted documents that carry no access
# level, and the texts the prototype embeds again on every run, changed or not:

# %%
access_of = {d.id: d.access for d in docs}
tokens = pd.Series([embedder.count_tokens(p.text) for p in passages])
starts = [(d.text, s) for d in docs for s in range(800, len(d.text), 800) if s + 200 < len(d.text)]
mid_word = sum(text[s - 1].isalnum() and text[s].isalnum() for text, s in starts)
restricted = sum(access_of[p.doc_id] == "restricted" for p in passages)
print(f"windows that begin inside a word: {mid_word} of {len(passages)}")
print(
    f"over {EMBED_LIMIT} tokens:                 {(tokens > EMBED_LIMIT).sum()} (longest {tokens.max()})"
)
print(f"from restricted documents:        {restricted}, none marked as such")
print(f"embedded again on every run:      {len(passages)}")

# %% [markdown]
# ## 3. Fixed windows with overlap, done properly
#
# Fixed-size chunking is a fair baseline when it is done properly: cut at word boundaries,
# count in words or tokens rather than characters, overlap neighbours so that a sentence cut
# at one boundary is whole in the next window, and keep the metadata.
#
# ### Exercise 2.1.1: Fixed windows with overlap
#
# Complete `fixed_windows(words, size, overlap)`: the list of windows (each a list of at most
# `size` words) that start every `size - overlap` words. The last window ends at the last
# word, and no window may lie wholly inside the previous one (stop once a window reaches the
# end). No words give no windows. Raise `ValueError` when `overlap >= size` (the windows would
# never advance). Stuck? `hint("2.1.1")`.


# %%
def fixed_windows(words, size, overlap):
    """Windows of `size` words starting every `size - overlap` words."""
    # BEGIN SOLUTION
    if overlap >= size:
        raise ValueError(f"overlap ({overlap}) must be smaller than size ({size})")
    windows = []
    for start in range(0, len(words), size - overlap):
        windows.append(list(words[start : start + size]))
        if start + size >= len(words):
            break
    return windows
    # END SOLUTION


# %% [markdown]
# Check it on texts it has not seen:

# %%
check("2.1.1", fixed_windows)

# %% [markdown]
# `chunks_from_word_windows` runs your windows over each document and wraps every window in a
# `Chunk` with the document's metadata and the heading in force where it starts. Windows of
# 200 words with 25 of overlap:

# %%
from course_lib.labs import chunks_from_word_windows

my_windows = answer_or_reference("2.1.1", fixed_windows)
fixed = chunks_from_word_windows(docs, my_windows, 200, 25, count_tokens=embedder.count_tokens)
sample = next(c for c in fixed if c.access == "restricted")
print({k: getattr(sample, k) for k in ("id", "doc_id", "section", "version", "access")})

# %% [markdown]
# The chunk id is content-addressed (`<doc id>:<position>:<hash prefix>`), so a citation of
# this chunk can never silently point at edited text.

# %% [markdown]
# ## 4. Three chunkers, compared with intervals
#
# `course_lib.rag` has the two other strategies:
#
# - **heading-aware** (`"headings"`, the library's default): one chunk per Markdown section,
#   oversized sections cut at paragraphs, sections under 192 tokens joined with the next;
# - **semantic** (`"semantic"`): WordLlama's splitter cuts where the similarity between
#   neighbouring lines dips, wherever the headings are.
#
# Each chunk is embedded with its document title and section heading in front
# (`Chunk.indexed_text`): "Exceptions" alone says little, "Expense policy / Exceptions" says
# where it belongs. Chunk the whole handbook each way and measure all four:

# %%
from course_lib.rag import chunk_documents

chunkings = {
    "fixed: 200 words, 25 overlap": fixed,
    "headings (default)": chunk_documents(docs, "headings", embedder=embedder),
    "semantic": chunk_documents(docs, "semantic", embedder=embedder),
}
for name, chunks in chunkings.items():
    results[name] = evaluate_chunks(chunks, dev, embedder=embedder)
summary = summary_of(results)
summary.round(3)

# %% [markdown]
# The same with the intervals drawn (MRR's interval comes from the same bootstrap):

# %%
from course_lib.labs import plot_chunking_comparison

plot_chunking_comparison(
    summarise_retrieval(
        pd.concat(f.assign(chunking=n) for n, f in results.items()), by=("chunking",), seed=seed
    )
)
plt.show()

# %% [markdown]
# Read the intervals before the means. The next cell computes the spread of the four recall@5
# means, and the narrowest of their intervals:

# %%
spread = summary["recall"].max() - summary["recall"].min()
narrowest = (summary["recall_high"] - summary["recall_low"]).min()
print(f"best minus worst recall@5: {spread:.3f}; narrowest 95% interval: {narrowest:.3f} wide")

# %% [markdown]
# On this handbook and this dev split the four recall@5 means lie closer together than any
# interval is wide: the golden set cannot rank these chunkers on recall. That is a finding
# too. It says: do not pick a chunker because its mean is a point higher; decide on what does
# differ, which the next table counts: how many chunks (embedding and storage cost), how long
# they are (prompt cost per retrieved chunk), how many break the 512-token limit, and whether
# each chunk carries its section:

# %%
counts = {"prototype: 1,000 characters": (passages, tokens)}
counts |= {
    name: (chunks, pd.Series([c.token_count for c in chunks])) for name, chunks in chunkings.items()
}
pd.DataFrame(
    {
        name: {
            "chunks": len(units),
            "median tokens": n.median(),
            f"over {EMBED_LIMIT}": (n > EMBED_LIMIT).sum(),
            "has section": hasattr(units[0], "section"),
        }
        for name, (units, n) in counts.items()
    }
).T

# %% [markdown]
# Heading-aware chunks win on what the golden set *can* see: every chunk is a piece an author
# wrote to be read together, it carries its section for the citation, and it stays within the
# limit. That is why the Handbook Assistant uses them. (Retrieval quality also depends on the
# retriever: lesson 2.2 adds BM25 and hybrid search, where chunking matters again.)

# %% [markdown]
# ## 5. A chunk-size sweep
#
# Chunk size is the knob every RAG system turns. Smaller chunks are precise, but a fact and
# its context can land in different chunks; larger chunks keep context, but each retrieved
# chunk costs more prompt tokens and dilutes the embedding. `sweep_chunk_sizes` runs your
# fixed windows at each size (overlap one eighth), measures recall@5 and MRR with intervals,
# and counts the tokens the top 5 chunks put in front of the model:

# %%
from course_lib.labs import plot_chunk_size_sweep, sweep_chunk_sizes

sweep_sizes = (50, 200, 800) if fast else (50, 100, 200, 400, 800)
sweep = sweep_chunk_sizes(docs, dev, sweep_sizes, my_windows, embedder=embedder, seed=seed)
sweep.round(3)

# %% [markdown]
# Try it: the slider marks a size on both plots and prints its row. (In a copy of this
# notebook that is not running, the control shows only as `VBox(...)`; the plain call after
# it draws the same figure.)


# %%
def show_size(size):
    row = sweep[sweep["size"] == size].iloc[0]
    plot_chunk_size_sweep(sweep, highlight=size)
    plt.show()
    print(
        f"{size} words: recall@5 {row.recall:.3f} [{row.recall_low:.3f}, {row.recall_high:.3f}], "
        f"{row.context_tokens:.0f} tokens in the top 5, {row.over_limit:.0%} of chunks over "
        f"{EMBED_LIMIT} tokens"
    )


# %% tags=["nbval-ignore-output"]
import ipywidgets as widgets

widgets.interactive(show_size, size=widgets.SelectionSlider(options=list(sweep["size"]), value=200))

# %% [markdown]
# The same function without the control, at 200 words:

# %%
show_size(200)

# %% [markdown]
# Recall stays within one band of noise across a sixteen-fold change of size, while the
# tokens in the top 5 grow with the size, and past a few hundred words most chunks break the
# 512-token limit. On this corpus, with this embedder, the cheap end of the flat region is
# the sensible choice; the library's heading-aware default (up to 384 tokens, most sections
# whole) sits there. Re-run the sweep when the corpus, the embedder or the questions change:
# the curve is a property of all three.

# %% [markdown]
# ## 6. Incremental ingestion by content hash
#
# The prototype embeds every passage on every run. The handbook changes a few pages a week;
# re-embedding 120 documents for that is waste, and with a paid embedding API it is money.
# The fix: store a hash of each text (SHA-256: equal text, equal hash, on every machine and
# every run) and embed only texts whose hash the index has not seen.
#
# ### Exercise 2.1.2: A content-hash change detector
#
# Complete `detect_changes(stored, documents)`. `stored` maps each indexed document id to the
# hex SHA-256 of its UTF-8 text at indexing time; `documents` maps each document id to its
# text now. Return a dict with four sorted lists of ids: `"new"` (not in `stored`),
# `"changed"` (hash differs), `"unchanged"` and `"deleted"` (in `stored`, gone now).

# %%
import hashlib


def detect_changes(stored, documents):
    """Sort document ids into new, changed, unchanged and deleted by SHA-256 of their text."""
    # BEGIN SOLUTION
    now = {
        doc_id: hashlib.sha256(text.encode("utf-8")).hexdigest()
        for doc_id, text in documents.items()
    }
    return {
        "new": sorted(set(now) - set(stored)),
        "changed": sorted(i for i in now if i in stored and stored[i] != now[i]),
        "unchanged": sorted(i for i in now if i in stored and stored[i] == now[i]),
        "deleted": sorted(set(stored) - set(now)),
    }
    # END SOLUTION


# %% [markdown]
# Check it:

# %%
check("2.1.2", detect_changes)

# %% [markdown]
# The handbook has a real history: `load_handbook("v1")` is the snapshot before some pages
# changed. Suppose the index was built from v1; which documents does today's handbook change?

# %%
from course_lib.rag import content_hash

detector = answer_or_reference("2.1.2", detect_changes)
v1 = load_handbook("v1")
plan = detector({d.id: content_hash(d.text) for d in v1}, {d.id: d.text for d in docs})
print({kind: len(ids) for kind, ids in plan.items()}, "| changed, e.g.:", plan["changed"][:3])

# %% [markdown]
# `HandbookIndex` does the same at the level of chunks: its `upsert` skips documents whose
# text and metadata are as stored, re-chunks the others, embeds only chunks whose text it has
# never embedded, and deletes the chunks that are gone. Build an index from v1, then bring it
# up to date, and compare the texts embedded with what a full rebuild embeds:

# %%
from course_lib.rag import HandbookIndex
from course_lib.workdir import work_path

path = work_path("indexes", "lesson-2-1.sqlite")
index = HandbookIndex.build(v1, path=path, rebuild=True, embedder=embedder)
print("build from v1:     ", index.last_report)
update = index.upsert(docs)
print("upsert to current: ", update)
print(f"a full rebuild embeds {len(index)} texts; the upsert embedded {update.embedded_texts}")

# %% [markdown]
# Now a one-sentence edit: add a line at the top of the on-call policy's "Rotations" section
# and upsert again.

# %%
from course_lib.labs import edit_document

edited = edit_document(doc, "Rotations", "Rotations are published in the on-call calendar.")
today = [edited if d.id == doc.id else d for d in docs]
print("upsert one edit:   ", index.upsert(today))

# %% [markdown]
# One new chunk embedded, the rest of the document's chunks kept (their metadata updated to
# the new version number). The chunker matters here too: with fixed windows, one inserted
# sentence shifts every later window of the document, so every one of them is new text. Count
# the chunk texts each chunker has never seen after the same edit:


# %%
def new_texts(chunk_fn):
    before = {c.content_hash for c in chunk_fn(doc)}
    return sum(c.content_hash not in before for c in chunk_fn(edited)), len(chunk_fn(edited))


for name, chunk_fn in {
    "fixed windows": lambda d: chunks_from_word_windows([d], my_windows, 200, 25),
    "headings": lambda d: chunk_documents([d], "headings", embedder=embedder),
}.items():
    changed, total = new_texts(chunk_fn)
    print(f"{name:<14} {changed} of {total} chunks to embed again")

# %% [markdown]
# The embedding time saved, on this machine (a timing, so yours will differ):

# %% tags=["nbval-ignore-output"]
import time

started = time.perf_counter()
HandbookIndex.build(
    today, path=work_path("indexes", "lesson-2-1-full.sqlite"), rebuild=True, embedder=embedder
).close()
full = time.perf_counter() - started
started = time.perf_counter()
index.upsert(docs)  # back to the unedited text
print(f"full rebuild {full:.2f} s; incremental upsert {time.perf_counter() - started:.2f} s")
index.close()

# %% [markdown]
# ## 7. Your chunker, judged on questions you never saw
#
# ### Exercise 2.1.3: Beat the prototype on unseen questions
#
# Write `my_chunker(doc, count_tokens)`: it returns the chunks of one document, as `Chunk`
# objects (for instance from `chunk_by_headings`, `chunk_fixed` or `chunk_semantic` in
# `course_lib.rag`, whose options you may tune) or as plain strings (embedded as they are).
# `count_tokens` counts tokens with the embedder's tokenizer. The production rules:
#
# - every chunk keeps its document's id, and every embedded text (title and heading
#   included) fits in 512 tokens;
# - the chunks keep at least 95% of the document's distinct words.
#
# Tune on the dev split with `score_chunker(my_chunker, "dev")`, which checks the rules and
# scores recall@5 and MRR. The checker then measures your chunker once on the **test** split,
# questions you did not tune on, and passes it when it matches or beats the prototype there
# on both recall@5 and MRR. The prototype's dev scores, to aim at:

# %%
from course_lib.labs import prototype_scores, score_chunker

recall, mrr = prototype_scores("dev", embedder=embedder)
print(f"prototype on dev: recall@5 {recall:.3f}, MRR {mrr:.3f}")

# %% [markdown]
# The first hint (call `hint("2.1.3")` again for more specific ones):

# %%
hint("2.1.3")

# %% [markdown]
# Your chunker:

# %%
from course_lib.rag import chunk_by_headings


def my_chunker(doc, count_tokens):
    """The chunks of one handbook document."""
    # BEGIN SOLUTION
    return chunk_by_headings(doc, count_tokens=count_tokens, max_tokens=384, min_tokens=192)
    # END SOLUTION


# %% [markdown]
# Its score on dev (run this as often as you like while you tune):

# %%
try:
    print(score_chunker(my_chunker, "dev", embedder=embedder))
except NotImplementedError:
    print("my_chunker is not written yet.")

# %% [markdown]
# When you are happy with it, measure it once on the test split:

# %%
check("2.1.3", my_chunker)

# %% [markdown]
# If your dev score was well above the prototype's and the test score is closer, that gap is
# what tuning on dev bought that does not carry to new questions: the reason the test split
# exists, and the reason to look at it once.

# %% [markdown]
# ## Takeaways
#
# - Ingestion decides what retrieval can return: keep each chunk's document id, title,
#   section, version and access level on the chunk itself.
# - Clean before you embed: front matter, navigation and answer keys are not content.
# - Compare chunkers with intervals. Here fixed, heading-aware and semantic chunking were
#   indistinguishable on recall@5; they differed on size, cost, limits and citations.
# - Sweep the chunk size and plot quality next to cost: past the flat part, bigger chunks
#   only buy prompt tokens and truncation.
# - Hash every text; embed only what the index has never seen. Chunk boundaries that follow
#   structure keep an edit local, where fixed windows shift.
# - Tune on dev, report on test, once.
#
# ## Production checklist
#
# - Does every chunk carry doc id, title, section, version, access level and a content hash?
# - Is anything that is not content (front matter, boilerplate, notes) kept out of the index?
# - Does every chunk fit the embedder's input limit, counted with its own tokenizer?
# - Was the chunker chosen on a labelled dev set with intervals, and checked once on held-out
#   questions?
# - Does re-ingestion embed only new text, delete chunks of removed documents, and report
#   what it did?
# - Does the index record its chunking settings, so that a change forces a rebuild?
# - Are chunk ids stable and content-addressed, so that a citation cannot point at new words?
#
# ## Check your understanding
#
# 1. Why must the access level travel with each chunk rather than stay with the document?
# 2. Two chunkers differ by 0.02 in recall@5 and their 95% intervals are 0.14 wide. What do
#    you conclude, and what do you decide on instead?
# 3. Why does a one-sentence edit re-embed a whole document's tail with fixed windows, but one
#    chunk with heading-aware chunks?
# 4. Why is Python's `hash()` the wrong function for change detection?
# 5. Your chunker beats the prototype on dev by a wide margin and only just on test. Why?
#
# <details>
# <summary>Short answers</summary>
#
# 1. Retrieval returns chunks, not documents: a filter can only use what the chunk carries.
# 2. The golden set cannot tell them apart; choose on cost, size limits, citation quality and
#    how edits propagate, or collect more questions.
# 3. Windows are positions in the text, so inserting words moves every later boundary and
#    changes every later window's text; sections keep their boundaries.
# 4. It is salted per process for strings, so it changes between runs; SHA-256 does not.
# 5. Choices tuned on dev fit its questions; the test split measures what generalises.
#
# </details>
#
# ## Further reading
#
# - Anthropic, "Introducing Contextual Retrieval", 2024
#   (https://www.anthropic.com/news/contextual-retrieval). Prepending context to each chunk
#   before embedding: the idea behind `indexed_text`, taken further with a model.
# - LangChain, text splitters (https://docs.langchain.com/oss/python/integrations/splitters).
#   Length-based, structure-based (recursive, Markdown headers) and semantic splitters.
# - LlamaIndex, node parser modules
#   (https://developers.llamaindex.ai/python/framework/module_guides/loading/node_parsers/modules/).
#   Sentence, token, Markdown and semantic splitting; each node inherits its document's
#   metadata.
# - Pinecone, "Chunking Strategies for LLM Applications"
#   (https://www.pinecone.io/learn/chunking-strategies/). The trade-offs of chunk size.
# - D. Miller, WordLlama (https://github.com/dleemiller/WordLlama). The `split` method behind
#   `chunk_semantic`.
#
# **Next:** lesson 2.2, RAG II: index, retrieve, answer.
