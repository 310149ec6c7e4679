"""Follow-up questions without a language model.

In a conversation people ask "En wie zit die voor?" after "Wat is een LIVC-R?". Alone,
that question names nothing the guide can be searched for. `contextualize()` decides
whether a question can stand alone and, when it cannot, adds what the previous question
was about, so retrieval sees the context spelled out. A question that stands alone is
returned unchanged, so a new subject is never mixed with an old one.

Run ``livc eval --followup [eval/followup-dev.jsonl]`` (`assistant.ops.followup_eval`) to measure it on
the follow-up gold file: precision and
recall of follow-up detection over follow-ups and standalone questions asked after an
unrelated one (``"followup": false``), and retrieval with and without the history.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from .lexical import content_words, fold, tokenize
from .question import GENERIC_VERBS, QUESTION_WORDS, detect_language
from .question import content_stems as question_content_stems

# A question opening with one of these continues the previous one ("En in Gent?").
CONNECTORS = {"en", "maar", "ook", "dus", "of", "anders", "verder", "daarnaast", "bovendien"}
# Words that point back to something named earlier. "het" is left out: it is mostly an article.
REFERRING = {
    "hij",
    "zij",
    "ze",
    "hem",
    "haar",
    "hun",
    "zo'n",
    "zo’n",
    "zulke",
    "zulk",
    "dezelfde",
    "hetzelfde",
    "daar",
    "daarvan",
    "daarover",
    "daarbij",
    "daarmee",
    "daarin",
    "daarop",
    "daarvoor",
    "daaraan",
    "daarna",
    "daardoor",
    "daartoe",
    "hiervan",
    "hierover",
    "hierbij",
    "hiermee",
    "hierin",
    "hiervoor",
    "ervan",
    "erover",
    "erbij",
    "ermee",
    "erin",
    "erop",
    "ervoor",
    "eraan",
    "erna",
    "erdoor",
    "ertoe",
    "it",
    "he",
    "she",
    "they",
    "them",
    "his",
    "its",
    "their",
    "there",
    "il",
    "elle",
    "ils",
    "elles",
    "lui",
    "leur",
    "cela",
    "ça",
}
# "die", "dat", "deze", "dit" also open relative clauses and name things ("deze cel"), so
# they only count as pointing back in a question that names little else.
DEMONSTRATIVES = {"die", "dat", "deze", "dit"}
# A question with an unknown content word this long brings a new subject of its own
# (often one the guide lacks): keep it apart, so the abstention can do its work.
NEW_SUBJECT_LENGTH = 5
PREFIX = 6  # letters two forms of one word share ("vervangt", "vervang")
INFLECTION = 3  # letters after their common start that make a form, not a compound

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
        families: dict[str, list[str]] = {}
        for w in self.words:
            if len(w) >= PREFIX:
                families.setdefault(w[:PREFIX], []).append(w)
        object.__setattr__(self, "_families", families)

    def idf(self, stem: str) -> float:
        """How rare a stem is in the corpus (BM25's idf); an unknown stem weighs most."""
        n = self.df.get(stem, 0)
        return math.log(1 + (self.texts - n + 0.5) / (n + 0.5))

    def resembles(self, stem: str) -> bool:
        """A corpus word, another form of one (see `knows`), two of them joined (`joins`), or
        one mistyped: a stem of five letters or more within one edit (two from nine letters
        on) of a corpus word."""
        return self.knows(stem) or self.joins(stem) or (len(stem) >= 5 and _near_word(stem, self))

    def joins(self, stem: str) -> bool:
        """Whether `stem` is two corpus words joined, the first perhaps with a linking "s"
        ("arrestnummer", "privacyregel", "gemeenschapscommissie"): a compound of words the
        corpus uses is no new subject, a compound with a word it lacks is ("plaatsverbod")."""
        for i in range(4, len(stem) - 3):
            head, tail = stem[:i], stem[i:]
            if tail in self.words and (head in self.words or (head.endswith("s") and head[:-1] in self.words)):
                return True
        return False

    def knows(self, stem: str) -> bool:
        """A corpus word, or another form of one: the same first letters and at most
        INFLECTION letters more after what they share ("vervangt" and "vervang"); the
        stemmer leaves Dutch forms apart. A compound ("plaatsverbod" beside "plaats") is a
        word of its own."""
        if stem in self.words:
            return True
        family = self._families.get(stem[:PREFIX], ()) if len(stem) >= PREFIX else ()
        return any(_one_word(stem, w) for w in family)

    def names(self, stem: str) -> bool:
        """Whether the corpus names what `stem` names: it `resembles` a corpus word, or is
        the start of one ("info" of "informatie"), or ends in one of four letters or more (a
        compound: "praktijkvoorbeeld" is a kind of "voorbeeld")."""
        if self.resembles(stem):
            return True
        longer = self._families.get(stem[:PREFIX], ()) if len(stem) >= PREFIX else self.words
        return any(w.startswith(stem) for w in longer) or any(stem[i:] in self.words for i in range(1, len(stem) - 3))

    @classmethod
    def of_passages(cls, passages, ubiquitous: Iterable[str] = ()) -> Vocabulary:
        """The vocabulary of indexed passages (and their headings); `ubiquitous` are the
        words nearly every passage contains (the manifest's ubiquitous_terms)."""
        df = Counter(t for p in passages for t in set(tokenize(f"{' '.join(p.section_path)} {p.text}")))
        return cls(frozenset(df), frozenset(ubiquitous), df, len(passages))


def _one_word(a: str, b: str) -> bool:
    """Whether two stems with the same first letters are forms of one word: what follows
    their common start is at most INFLECTION letters in each ("vervangt", "vervang"), not
    a word of its own ("plaatsverbod" is not "plaats", "gemeenteraad" not "gemeentelijk")."""
    common = len(os.path.commonprefix([a, b]))
    return max(len(a), len(b)) - common <= INFLECTION


@lru_cache(maxsize=4096)
def _near_word(stem: str, vocabulary: Vocabulary) -> bool:
    cutoff = 0.8 if len(stem) < 9 else 0.75
    candidates = [w for w in vocabulary.words if abs(len(w) - len(stem)) <= 2 and w[:1] == stem[:1]]
    return bool(difflib.get_close_matches(stem, candidates, n=1, cutoff=cutoff))


def contextualize(question: str, history: list[str] | None, vocabulary: Vocabulary | None = None) -> str:
    """The question as retrieval should see it.

    `history` holds the earlier questions of the conversation, oldest first. When the
    question cannot stand alone, what the previous question (itself contextualised) was
    about is added to it: "En wie zit die voor?" after "Wat is de OCAD-lijst?" becomes
    "wie zit die voor? (OCAD-lijst)". A question that stands alone is returned unchanged.
    `vocabulary` (`Store.vocabulary`) tells known words from new subjects; without
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
