"""Follow-up questions without a language model.

In a conversation people ask "En wie zit die voor?" after "Wat is een LIVC-R?". Alone,
that question names nothing the guide can be searched for. `contextualize()` decides
whether a question can stand alone and, when it cannot, adds what the previous question
was about, so retrieval sees the context spelled out. A question that stands alone is
returned unchanged, so a new subject is never mixed with an old one.

Run ``python -m assistant.followup [eval/followup-dev.jsonl]`` to measure the effect on
the follow-up gold file: retrieval with and without the conversation's history.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .lexical import fold, tokenize

# A question opening with one of these continues the previous one ("En in Gent?").
CONNECTORS = {"en", "maar", "ook", "dus", "of", "anders", "verder", "daarnaast", "bovendien"}
# Words that point back to something named earlier. "het" is left out: it is mostly an article.
REFERRING = {
    "hij", "zij", "ze", "hem", "haar", "hun", "zo'n", "zo’n", "zulke", "zulk", "dezelfde", "hetzelfde",
    "daar", "daarvan", "daarover", "daarbij", "daarmee", "daarin", "daarop", "daarvoor", "daaraan",
    "daarna", "daardoor", "daartoe", "hiervan", "hierover", "hierbij", "hiermee", "hierin", "hiervoor",
    "ervan", "erover", "erbij", "ermee", "erin", "erop", "ervoor", "eraan", "erna", "erdoor", "ertoe",
}
# "die", "dat", "deze", "dit" also open relative clauses and name things ("deze cel"), so
# they only count as pointing back in a question that names little else.
DEMONSTRATIVES = {"die", "dat", "deze", "dit"}
# A question with an unknown content word this long brings a new subject of its own
# (often one the guide lacks): keep it apart, so the abstention can do its work.
NEW_SUBJECT_LENGTH = 5
PREFIX = 6  # letters two words of one family share ("publiceer", "publicatie")

# Words that make a question a question; they name no subject.
QUESTION_WORDS = {
    "wanneer", "sinds", "waarom", "hoeveel", "hoelang", "welk", "welke", "waar", "waarmee", "waarover",
    "waarvoor", "waarvan", "waarin", "waarop", "vanaf", "tot", "precies", "eigenlijk", "nog", "dan",
}
# Verbs that say how a question asks, not what it is about.
GENERIC_VERBS = {
    "doet", "doen", "betekent", "betekenen", "houdt", "maakt", "maken", "gebeurt", "regelt", "zit", "zitten",
    "staat", "staan", "heeft", "hebben", "kan", "kunnen", "mag", "mogen",
    "moet", "moeten", "wordt", "worden", "werd", "is", "zijn", "was", "waren",
}

_WORD = re.compile(r"[\w'’-]+")
_ACRONYM = re.compile(r"\b(?:[A-Z]{2,}[\w-]*|\w*\d\w*)\b")


@dataclass(frozen=True)
class Vocabulary:
    """What the corpus talks about: its stemmed words, and the words nearly every passage
    contains ("livc-r"), which say nothing about what a question is after."""

    words: frozenset[str]
    ubiquitous: frozenset[str] = frozenset()

    def __post_init__(self):
        object.__setattr__(self, "_prefixes", frozenset(w[:PREFIX] for w in self.words if len(w) >= PREFIX))

    def knows(self, stem: str) -> bool:
        """A corpus word, or one that shares its first letters with one ("publiceer" and
        "publicatie"): the stemmer leaves Dutch word families apart."""
        return stem in self.words or (len(stem) >= PREFIX and stem[:PREFIX] in self._prefixes)


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
    """Whether the question leans on an earlier one to be understood.

    In order: a word pointing back ("hij", "daarvan"), or a demonstrative ("dat") in a
    short question, says yes; a word the guide does not know says no, since the question
    brings a new subject, perhaps one the guide lacks, and must get its own answer or
    abstention; then an opening "En ...", a question with a single content word, or
    fewer than two known content words without a named subject all say yes.
    """
    words = [w.lower() for w in _WORD.findall(question)]
    if not words:
        return False
    if any(w in REFERRING for w in words):
        return True
    content = content_stems(question)
    if any(w in DEMONSTRATIVES for w in words) and len(content) < 3:
        return True  # "Wanneer stopt dat?"
    if vocabulary is not None and any(len(t) >= NEW_SUBJECT_LENGTH and not vocabulary.knows(t) for t in content):
        return False
    if words[0] in CONNECTORS:
        return True
    if len(content) <= 1 and not names_subject(question):
        return True  # "Wanneer werd het gepubliceerd?"
    known = [t for t in content if vocabulary is None or vocabulary.knows(t)]
    return len(known) < 2 and not names_subject(question)


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
        words = frozenset(t for p in store.passages for t in tokenize(f"{' '.join(p.section_path)} {p.text}"))
        _vocabularies.clear()
        _vocabularies[key] = Vocabulary(words, frozenset(store.manifest.ubiquitous_terms))
    return _vocabularies[key]


# ---------------------------------------------------------------------------
# Measurement on a follow-up gold file


def compare(assistant, gold_path: Path) -> dict:
    """Score the follow-up gold rows twice: with their `history` (contextualised) and
    as bare questions. Returns {"with_context": scores, "without_context": scores}, each
    with the evaluation's retrieval and answer metrics."""
    from .evaluation import answer_outcome, load_gold, score_rows

    rows = load_gold(gold_path)
    result = {}
    for label, use_history in (("with_context", True), ("without_context", False)):
        outcomes = []
        for row in rows:
            answer = assistant.ask(row["question"], row.get("history") if use_history else None)
            outcomes.append(answer_outcome(row, answer, answer.timings.get("total", 0.0)))
        result[label] = score_rows(rows, outcomes)
    result["n"] = len(rows)
    return result


def main(argv: list[str] | None = None) -> int:
    from .assistant import Assistant
    from .cli import describe
    from .settings import Settings

    argv = sys.argv[1:] if argv is None else argv
    gold = Path(argv[0]) if argv else Path("eval/followup-dev.jsonl")
    try:
        result = compare(Assistant.open(Settings.load()), gold)
    except Exception as exc:  # noqa: BLE001 - one clear line, as the livc command does
        print(f"followup: error: {describe(exc)}", file=sys.stderr)
        return 1
    print(f"follow-up gold: {gold} (n={result['n']})")
    for label in ("with_context", "without_context"):
        r, a = result[label]["retrieval"], result[label]["answers"]
        print(f"{label:<16} hit@1={r['hit@1']:.2f}  hit@5={r['hit@5']:.2f}  mrr@10={r['mrr@10']:.2f}  "
              f"fact_recall={a['fact_recall']:.2f}  citation_hit={a['citation_hit']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
