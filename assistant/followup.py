"""Follow-up questions without a language model.

In a conversation people ask "En wie zit die voor?" after "Wat is een LIVC-R?". Alone,
that question names nothing the guide can be searched for. `contextualize()` decides
whether a question can stand alone and, when it cannot, adds what the previous question
was about, so retrieval sees the context spelled out. A question that stands alone is
returned unchanged, so a new subject is never mixed with an old one.

Run ``livc eval --followup [eval/followup-dev.jsonl]`` (or ``python -m
assistant.followup [FILE]``) to measure it on the follow-up gold file: precision and
recall of follow-up detection over follow-ups and standalone questions asked after an
unrelated one (``"followup": false``), and retrieval with and without the history.
"""

from __future__ import annotations

import difflib
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping
from pathlib import Path

from .lexical import fold, tokenize
from .lexical import content_words
from .question import GENERIC_VERBS, QUESTION_WORDS, detect_language
from .question import content_stems as question_content_stems

# A question opening with one of these continues the previous one ("En in Gent?").
CONNECTORS = {"en", "maar", "ook", "dus", "of", "anders", "verder", "daarnaast", "bovendien"}
# Words that point back to something named earlier. "het" is left out: it is mostly an article.
REFERRING = {
    "hij", "zij", "ze", "hem", "haar", "hun", "zo'n", "zo’n", "zulke", "zulk", "dezelfde", "hetzelfde",
    "daar", "daarvan", "daarover", "daarbij", "daarmee", "daarin", "daarop", "daarvoor", "daaraan",
    "daarna", "daardoor", "daartoe", "hiervan", "hierover", "hierbij", "hiermee", "hierin", "hiervoor",
    "ervan", "erover", "erbij", "ermee", "erin", "erop", "ervoor", "eraan", "erna", "erdoor", "ertoe",
    "it", "he", "she", "they", "them", "his", "its", "their", "there", "il", "elle", "ils", "elles", "lui", "leur",
    "cela", "ça",
}
# "die", "dat", "deze", "dit" also open relative clauses and name things ("deze cel"), so
# they only count as pointing back in a question that names little else.
DEMONSTRATIVES = {"die", "dat", "deze", "dit"}
# A question with an unknown content word this long brings a new subject of its own
# (often one the guide lacks): keep it apart, so the abstention can do its work.
NEW_SUBJECT_LENGTH = 5
PREFIX = 6  # letters two words of one family share ("publiceer", "publicatie")

_WORD = re.compile(r"[\w'’-]+")
_ACRONYM = re.compile(r"\b(?:[A-Z]{2,}[\w-]*|\w*\d\w*)\b")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per index generation
class Vocabulary:
    """What the corpus talks about: its stemmed words, and the words nearly every passage
    contains ("livc-r"), which say nothing about what a question is after."""

    words: frozenset[str]
    ubiquitous: frozenset[str] = frozenset()
    df: Mapping[str, int] = field(default_factory=dict)  # stem -> passages that hold it
    texts: int = 1  # passages counted in df

    def __post_init__(self):
        object.__setattr__(self, "_prefixes", frozenset(w[:PREFIX] for w in self.words if len(w) >= PREFIX))

    def idf(self, stem: str) -> float:
        """How rare a stem is in the corpus (BM25's idf); an unknown stem weighs most."""
        n = self.df.get(stem, 0)
        return math.log(1 + (self.texts - n + 0.5) / (n + 0.5))

    def resembles(self, stem: str) -> bool:
        """A corpus word, one of its family (see `knows`), or one mistyped: a stem of five
        letters or more within one edit (two from nine letters on) of a corpus word."""
        return self.knows(stem) or (len(stem) >= 5 and _near_word(stem, self))

    def knows(self, stem: str) -> bool:
        """A corpus word, or one that shares its first letters with one ("publiceer" and
        "publicatie"): the stemmer leaves Dutch word families apart."""
        return stem in self.words or (len(stem) >= PREFIX and stem[:PREFIX] in self._prefixes)


@lru_cache(maxsize=4096)
def _near_word(stem: str, vocabulary: "Vocabulary") -> bool:
    cutoff = 0.8 if len(stem) < 9 else 0.75
    candidates = [w for w in vocabulary.words if abs(len(w) - len(stem)) <= 2 and w[:1] == stem[:1]]
    return bool(difflib.get_close_matches(stem, candidates, n=1, cutoff=cutoff))


def contextualize(question: str, history: list[str] | None, vocabulary: Vocabulary | None = None) -> str:
    """The question as retrieval should see it.

    `history` holds the earlier questions of the conversation, oldest first. When the
    question cannot stand alone, what the previous question (itself contextualised) was
    about is added to it: "En wie zit die voor?" after "Wat is de OCAD-lijst?" becomes
    "wie zit die voor? (OCAD-lijst)". A question that stands alone is returned unchanged.
    `vocabulary` (see `corpus_vocabulary`) tells known words from new subjects; without
    it every content word counts as known.
    """
    history = [h for h in (history or []) if h and h.strip()]
    if not history or not needs_context(question, vocabulary):
        return question
    previous = contextualize(history[-1], history[:-1], vocabulary)
    subject = subject_words(previous, vocabulary.ubiquitous if vocabulary else frozenset())
    if not subject:  # the previous question was about the guide's topic as a whole
        return question
    return f"{strip_connector(question)} ({' '.join(subject)})"


def needs_context(question: str, vocabulary: Vocabulary | None = None) -> bool:
    """Whether the question cannot be understood without an earlier one.

    A misread costs more than a miss: a standalone question searched with an old subject
    added gets a worse answer, labelled as a follow-up. So a question leans on an earlier
    one only when it names too little to stand alone:
    - it points back ("hij", "daarvan", "it", or "die"/"dat" without a named subject)
      and holds fewer than three content words of its own; or
    - it holds at most one content word, names no subject and asks for no definition
      ("En in Gent?", "Onder welke voorwaarden?"; not "Wat is casusoverleg?").
    A content word the guide does not know brings a new subject (perhaps one the guide
    lacks), so the question stands alone and gets its own answer or abstention.
    """
    words = [w.lower() for w in _WORD.findall(question)]
    if not words:
        return False
    content = _content(question)
    if any(w in REFERRING for w in words):
        return len(content) < 3
    named = names_subject(question)
    if any(w in DEMONSTRATIVES for w in words) and len(content) < 3 and not named:
        return True  # "Wanneer stopt dat?", "Welke rechten heeft die persoon dan?"
    if vocabulary is not None and any(len(t) >= NEW_SUBJECT_LENGTH and not vocabulary.knows(t) for t in content):
        return False
    if len(content) <= 1 and not named and not _DEFINITION.search(question):
        return True  # "Wanneer werd het gepubliceerd?", "Onder welke voorwaarden?"
    return False


_DEFINITION = re.compile(r"\b(?:wat|what|qu'est-ce)\s+(?:is|zijn|betekent|betekenen|are|means?|que)\b", re.IGNORECASE)


def _content(question: str) -> tuple[str, ...]:
    """The question's content words: Dutch stems, or for an English or French question
    the words that are no stop word of either language."""
    if detect_language(question) != "nl":
        return tuple(content_words(question))
    return question_content_stems(question, separable_verbs=False)  # a verb names no subject


def content_stems(question: str) -> list[str]:
    """The stemmed words that carry meaning: no stop words, no question words."""
    return tokenize(" ".join(w for w in _WORD.findall(question) if fold(w) not in QUESTION_WORDS))


def names_subject(question: str) -> bool:
    """True when the question names its subject outright: an abbreviation (OCAD, LIVC-R)
    or something with a number in it (458ter, 2018)."""
    return bool(_ACRONYM.search(question))


def subject_words(question: str, ubiquitous: frozenset[str] = frozenset()) -> list[str]:
    """What a question is about: its content words and abbreviations, in order, without
    question words, generic verbs, words every passage contains, or repeats
    ("Wat is de OCAD-lijst?" -> ["OCAD-lijst"])."""
    out: list[str] = []
    seen: set[str] = set()
    for word in _WORD.findall(question):
        word = word.strip("'’-")
        key = fold(word)
        if not word or key in seen or key in ubiquitous or key in GENERIC_VERBS or key in QUESTION_WORDS:
            continue
        if names_subject(word) or tokenize(word):
            out.append(word)
            seen.add(key)
    return out


def strip_connector(question: str) -> str:
    """ "En wie zit die voor?" -> "wie zit die voor?" (the connector adds nothing to a search)."""
    words = question.split(maxsplit=1)
    if len(words) == 2 and words[0].lower().strip(",") in CONNECTORS:
        return words[1]
    return question


_vocabularies: dict[str, Vocabulary] = {}


def corpus_vocabulary(store) -> Vocabulary:
    """The vocabulary of the indexed passages (and their headings), cached per index generation."""
    key = store.manifest.generation
    if key not in _vocabularies:
        df = Counter(t for p in store.passages for t in set(tokenize(f"{' '.join(p.section_path)} {p.text}")))
        _vocabularies.clear()
        _vocabularies[key] = Vocabulary(frozenset(df), frozenset(store.manifest.ubiquitous_terms), df, len(store.passages))
    return _vocabularies[key]


# ---------------------------------------------------------------------------
# Measurement on a follow-up gold file
#
# A row is a gold row (see assistant.evaluation) with a `history`: the earlier
# questions. ``"followup": false`` marks a negative pair, a question that stands alone
# after an unrelated one and must not be rewritten; any other row is a follow-up.


def is_followup(row: dict) -> bool:
    """Whether a follow-up gold row leans on its history (the default) or stands alone."""
    return row.get("followup", True) is not False


def search_query(row: dict, vocabulary: Vocabulary | None) -> str:
    """What the assistant searches for the row: `contextualize()` of its question and
    history. The row counts as *detected* as a follow-up when this differs from the
    question (the chat then shows "Gelezen als vervolg op uw vorige vraag" unless
    another notice takes its place)."""
    return contextualize(row["question"], row.get("history"), vocabulary)


def detection_scores(truth: list[bool], found: list[bool]) -> dict:
    """Precision and recall of follow-up detection, and the share of standalone
    questions left as they were (``standalone_kept``); None for an empty denominator.
    `truth` says which rows are follow-ups, `found` which were read as one."""
    pairs = list(zip(truth, found))
    tp = sum(t and f for t, f in pairs)
    fp = sum(f and not t for t, f in pairs)
    fn = sum(t and not f for t, f in pairs)
    tn = sum(not t and not f for t, f in pairs)

    def share(a: int, b: int) -> float | None:
        return round(a / (a + b), 4) if a + b else None

    return {"precision": share(tp, fp), "recall": share(tp, fn), "standalone_kept": share(tn, fp),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def compare(assistant, gold_path: Path) -> dict:
    """Score a follow-up gold file.

    Returns ``{"n", "n_followup", "n_standalone", "detection", "with_context",
    "without_context", "standalone", "questions"}``: ``detection`` as in
    `detection_scores`; ``with_context`` and ``without_context`` the evaluation's
    retrieval and answer metrics of the follow-ups asked with their history and as bare
    questions; ``standalone`` the same two for the negative pairs (where the history
    should change nothing); ``questions`` one record per row with its query."""
    from .evaluation import answer_outcome, load_gold, score_rows

    rows = load_gold(gold_path)
    vocabulary = corpus_vocabulary(assistant.store)
    queries = [search_query(r, vocabulary) for r in rows]
    found = [q != r["question"] for r, q in zip(rows, queries)]
    truth = [is_followup(r) for r in rows]
    outcomes: dict[bool, list] = {}
    for use_history in (True, False):
        outcomes[use_history] = []
        for row in rows:
            answer = assistant.ask(row["question"], row.get("history") if use_history else None)
            outcomes[use_history].append(answer_outcome(row, answer, answer.timings.get("total", 0.0)))

    def scores(kind: bool, use_history: bool) -> dict:
        picked = [(r, o) for r, o, t in zip(rows, outcomes[use_history], truth) if t is kind]
        return score_rows([r for r, _ in picked], [o for _, o in picked])

    return {
        "n": len(rows),
        "n_followup": sum(truth),
        "n_standalone": len(rows) - sum(truth),
        "detection": detection_scores(truth, found),
        "with_context": scores(True, True),
        "without_context": scores(True, False),
        "standalone": {"with_context": scores(False, True), "without_context": scores(False, False)},
        "questions": [
            {"id": r.get("id"), "history": r.get("history") or [], "question": r["question"], "followup": t,
             "detected": f, "query": q, "first_match_rank": o.first_match_rank}
            for r, q, t, f, o in zip(rows, queries, truth, found, outcomes[True])
        ],
        "gold": str(gold_path),
    }


def run_followup_eval(assistant, gold_path: Path, report_dir: Path | None = None,
                      json_path: Path | None = None) -> dict:
    """`compare`, written as JSON to `json_path` and, with `report_dir`, to
    ``followup.json`` and ``followup.md`` in it. Returns the result."""
    from .evaluation import write_json

    result = compare(assistant, Path(gold_path))
    targets = [json_path] + ([Path(report_dir) / "followup.json"] if report_dir else [])
    for target in targets:
        if target:
            write_json(result, Path(target))
    if report_dir:
        (Path(report_dir) / "followup.md").write_text(followup_markdown(result), encoding="utf-8")
    return result


def format_followup(result: dict) -> str:
    """The measurement as a few plain lines: detection, then retrieval with and without
    the history for the follow-ups and for the standalone questions."""
    d = result["detection"]
    lines = [f"follow-up gold: {result['gold']} (n={result['n']}: {result['n_followup']} follow-ups, "
             f"{result['n_standalone']} standalone)",
             f"detection        precision={_f(d['precision'])}  recall={_f(d['recall'])}  "
             f"standalone_kept={_f(d['standalone_kept'])}  (tp={d['tp']} fp={d['fp']} fn={d['fn']} tn={d['tn']})"]
    for title, group in (("follow-ups", result), ("standalone", result["standalone"])):
        for label in ("with_context", "without_context"):
            r, a = group[label]["retrieval"], group[label]["answers"]
            lines.append(f"{title + ' ' + label:<32} hit@1={_f(r['hit@1'])}  hit@5={_f(r['hit@5'])}  "
                         f"mrr@10={_f(r['mrr@10'])}  fact_recall={_f(a['fact_recall'])}  "
                         f"citation_hit={_f(a['citation_hit'])}")
    lines += [f"misread as follow-up: {q['id']}: {q['question']} -> {q['query']}"
              for q in result["questions"] if q["detected"] and not q["followup"]]
    lines += [f"missed follow-up: {q['id']}: {q['question']}"
              for q in result["questions"] if q["followup"] and not q["detected"]]
    return "\n".join(lines)


def followup_markdown(result: dict) -> str:
    """The measurement as a Markdown report."""
    d = result["detection"]
    lines = ["# LIVC-assistent: follow-up questions", "",
             f"- Gold file: `{result['gold']}` — {result['n']} questions ({result['n_followup']} follow-ups, "
             f"{result['n_standalone']} standalone questions asked after an unrelated one)",
             "- Detected: the search query (`contextualize` of question and history) differs from the question.",
             "", "## Detection", "",
             "| precision | recall | standalone kept | tp | fp | fn | tn |", "|---:|---:|---:|---:|---:|---:|---:|",
             f"| {_f(d['precision'])} | {_f(d['recall'])} | {_f(d['standalone_kept'])} | {d['tp']} | {d['fp']} | "
             f"{d['fn']} | {d['tn']} |", "", "## Retrieval and answers", "",
             "| questions | history | hit@1 | hit@5 | mrr@10 | fact_recall | citation_hit |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for title, group in (("follow-ups", result), ("standalone", result["standalone"])):
        for label in ("with_context", "without_context"):
            r, a = group[label]["retrieval"], group[label]["answers"]
            lines.append(f"| {title} | {label.replace('_', ' ')} | {_f(r['hit@1'])} | {_f(r['hit@5'])} | "
                         f"{_f(r['mrr@10'])} | {_f(a['fact_recall'])} | {_f(a['citation_hit'])} |")
    lines += ["", "## Misreads and misses", ""]
    wrong = [q for q in result["questions"] if q["detected"] != q["followup"]]
    lines += [f"- **{q['id']}** ({'follow-up missed' if q['followup'] else 'standalone misread'}): "
              f"{' / '.join(q['history'])} → {q['question']} — searched as: {q['query']}" for q in wrong] or ["None."]
    return "\n".join(lines + [""])


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.followup [FILE]``: the same as ``livc eval --followup [FILE]``
    without writing a report."""
    from .assistant import Assistant
    from .cli import describe
    from .settings import Settings

    argv = sys.argv[1:] if argv is None else argv
    gold = Path(argv[0]) if argv else Path("eval/followup-dev.jsonl")
    try:
        result = run_followup_eval(Assistant.open(Settings.load()), gold)
    except Exception as exc:  # noqa: BLE001 - one clear line, as the livc command does
        print(f"followup: error: {describe(exc)}", file=sys.stderr)
        return 1
    print(format_followup(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
