"""Benchmark: what the assistant costs to build, to ask and to serve, at 1x, 10x and 100x
the corpus, beside the naive LlamaIndex baseline of the evaluation (``livc bench``).

`run_bench(config, settings)` measures, for each scale, in a temporary folder (the user's
index is never read or written; the corpus is copied):

- **Index build**: *cold* (a fresh index folder, empty embedding cache), *warm* (nothing
  changed: `build_index` only checks and returns ``changed=False``) and *rebuild* (``force``:
  every document read and every generation file written again, every vector from the
  cache). Seconds and passages/s.
- **Query latency** (p50/p95/p99 in ms) over the gold questions, after a warm-up question:
  *retrieval* (`Assistant.search`) and *end to end* (`Assistant.ask`), each for a *new*
  question (the query-embedding LRU emptied first, so the model runs) and right after for
  the same question again (*cached*: the LRU answers). The model calls per question are
  counted, which shows what the cache saves. Each question goes through every variant
  (and, at 1x, the baseline) before the next one: the machine may be shared, and a burst
  of other work then slows all columns alike instead of one of them.
  Beside them, per question, one query embedding of a new text by the model itself: the
  floor of a new question.
- **Serving**: the real app (``livc serve``, `assistant.ops.harness`) in a subprocess on a free 127.0.0.1 port, without
  rate limit and with its own log file; seconds from start to the first ``/readyz`` 200,
  then 1, 4 and 16 concurrent clients POSTing ``/api/v1/ask``, each level bounded in
  requests and seconds. Every question sent to a server is distinct (a gold question with
  one of a few neutral lead-ins), so none is served from the query cache: the figures are
  those of officials asking new questions. Peak memory is the server's ``VmHWM`` (peak
  resident set size) from ``/proc``, read after the load.
- **Baseline** (at 1x): the naive pipeline of `evaluation.run_baseline` with the same
  model, in the same process, over the same questions. Its retriever is built once the way
  run_baseline builds it (its constants): that is its build time (splitting, embedding,
  in-memory index), and its query latency is measured beside ours, question by question.
  Quality: the evaluation's metrics (`evaluation.score_rows`) for our new-question answers
  and for `run_baseline` itself (its chunk vectors replayed, not embedded again). Ratios
  ours/baseline, and differences for the quality shares.
- **Speed** (at 1x, `speed`): model calls per new question, ask() p50 against the baseline's
  and against one query embedding, HTTP p50 at 1 client against ask(), and requests/s at 16
  clients x ask() p50 (cores put to use), each beside its target; None with a reason when the
  run cannot give it (too few samples, as in --quick). Beside the last two, the same figures
  with the server's own ask() time for the same requests (`timings.total` of each answer).
- **Hot path** (at 1x): the query-embedding caches of the engine, model calls per new and
  per repeated question, the share of questions whose dense query is the question itself,
  and one query embedding with BLAS threads as they are and limited to one, alone and four
  at a time (`measure_model_threads`, with threadpoolctl when it is installed).

**Scaling.** A larger scale adds synthetic variants of every text document: copy *k*
renames the file and rotates the digits and the vowels of about a third of its plain
lower-case words (a deterministic choice per word and copy; abbreviations are left
alone), so sentences, passages and headings keep their shape but every copy has its own
words, numbers, ids and BM25 vocabulary. Embedding 100x the corpus with the model would
take hours, so above 1x the build runs with `BenchEmbedding` in *derive* mode: each text
gets the vector the model gave its original at 1x, plus a little deterministic noise. The
build then does everything except running the model (reading, chunking, cache lookups and
writes, Chroma, BM25, the generation files), and the JSON says which figures are measured
and which embedding time is *extrapolated* (texts embedded / texts per second measured at
1x). Query embeddings are always computed by the model, so latency and serving at 10x and
100x are real: Chroma, BM25 and fusion over 10x and 100x the passages and windows. Answer
quality is only scored at 1x (the copies are not sources of the gold questions).

**--quick** (`BenchConfig.quick`): scales 1 and 10, the first ``slice_words`` words of
each Markdown document (cut at a heading), a handful of gold questions whose sources lie
in that slice, and short HTTP phases; every section of the JSON is still there, with fewer
samples. Everything is cold: no cache is copied in.

Found while writing it: a build with more than 5,461 passages or sentence windows failed
(Chroma's embedded client takes at most that many nodes per request); `index._write_collection`
now writes in batches of ``get_max_batch_size()``, so 100x builds like any other.

Output: a plain-text table (`format_table`), ``bench-<timestamp>.json`` and
``latest.json``, and ``bench.png``.

The modules, one concern each: `config` (BenchConfig, shared constants), `run` (the
orchestration over the scales, the questions, hot path and notes), `corpus` (copies,
slices and synthetic variants), `embedding` (BenchEmbedding: record, replay, derive),
`build` (build timing, extrapolation), `latency` (in-process latency, BLAS threads,
`ms_summary`), `baseline` (the naive baseline beside ours), `serving` (the app in a
subprocess and the load generator), `speed` (the figures against their targets), `report`
(JSON, table, plot). Ingestion speed (``livc bench-ingest``) is `assistant.ops.ingest_bench`,
beside this package, so that the parser of every livc command can read its options without
loading LlamaIndex.
"""

from __future__ import annotations

from .config import QUALITY_KEYS, BenchConfig, BenchError
from .corpus import prepare_corpus, slice_markdown, variant_text
from .embedding import BenchEmbedding
from .report import format_table, plot, write_outputs
from .run import run_bench

__all__ = [
    "QUALITY_KEYS",
    "BenchConfig",
    "BenchEmbedding",
    "BenchError",
    "format_table",
    "plot",
    "prepare_corpus",
    "run_bench",
    "slice_markdown",
    "variant_text",
    "write_outputs",
]
