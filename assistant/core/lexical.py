"""Lexical retrieval: BM25 over passages with Dutch stemming and stop words.

BM25 catches what embeddings blur: dates, article numbers ("458ter"), abbreviations
(OCAD, LTF, AVG). Tokens are lowercased and stripped of accents before stemming, so
"coördinator" and "coordinator" meet.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import unicodedata
from collections import Counter
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN_PLUS, STOPWORDS_FRENCH

from .data import data_lines

_TOKEN = re.compile(r"\w+")
_STOPWORDS = frozenset(STOPWORDS_DUTCH) | {"livc", "r"}  # "LIVC-R" is in nearly every passage


_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """One stemmer per thread: PyStemmer objects are not documented as thread-safe, and
    the chat answers several questions at once."""
    if not hasattr(_local, "stemmer"):
        _local.stemmer = Stemmer.Stemmer("dutch")
    return _local.stemmer


def fold(text: str) -> str:
    """Lowercase and strip accents."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def tokenize(text: str) -> list[str]:
    """Stemmed content words of `text`."""
    words = [w for w in _TOKEN.findall(fold(text)) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
    return [_one_verb(s) for s in _stemmer().stemWords(words)]


def stem(word: str) -> str:
    """The stem `tokenize` gives a single folded word."""
    return _one_verb(_stemmer().stemWord(word))


def _one_verb(snowball: str) -> str:
    # Snowball stems a verb in -eren two ways: "evalueren" -> "evaluer", but "geëvalueerd",
    # "evaluatie" -> "evalueer" and "evalueert" -> "evalueert"; a question and the guide
    # rarely use the same form. One stem for all ("evaluer"); short stems ("meer", "keer",
    # "sfeer") are other words.
    if len(snowball) >= 6 and snowball.endswith(("eer", "eert")):
        return snowball[: snowball.rindex("eer")] + "er"
    return snowball


class LexicalIndex:
    """A BM25 index over a fixed list of ids, persisted with bm25s."""

    def __init__(self, ids: list[str], bm25: bm25s.BM25):
        self.ids = ids
        self._bm25 = bm25
        self._vocab = set(bm25.vocab_dict) if bm25.vocab_dict else set()

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> LexicalIndex:
        bm25 = bm25s.BM25()
        # bm25s cannot index an empty document; a placeholder token keeps positions aligned.
        bm25.index([tokenize(t) or ["\u2205"] for t in texts], show_progress=False)
        return cls(ids, bm25)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder))
        (folder / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        return cls(ids, bm25s.BM25.load(str(folder)))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed text for `query` (zeros when no word is known)."""
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def top(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k best (id, score) pairs with a positive score, best first."""
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]


_ANY_STOPWORD = frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_FRENCH)


_DUTCH_ONLY = frozenset(STOPWORDS_DUTCH) - frozenset(STOPWORDS_EN_PLUS) - frozenset(STOPWORDS_FRENCH)
_FOREIGN_ONLY = (frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_FRENCH)) - frozenset(STOPWORDS_DUTCH)


def looks_dutch(text: str) -> bool:
    """False when the text's function words are mostly English or French ("Who chairs
    the ...?", "Qui préside la ...?"); Dutch stemming and stop words do not fit those."""
    words = _TOKEN.findall(fold(text))
    return sum(w in _DUTCH_ONLY for w in words) >= sum(w in _FOREIGN_ONLY for w in words)


def content_words(text: str) -> list[str]:
    """The words of `text` that are no Dutch, English or French stop word."""
    return [w for w in _TOKEN.findall(fold(text)) if w not in _ANY_STOPWORD and not w.isdigit()]


def ubiquitous_terms(texts: list[str], share: float = 0.5) -> list[str]:
    """Content words found in more than `share` of the texts (e.g. "livc-r").

    A word that nearly every passage contains tells passages apart no better than a
    stop word, yet it dominates a small embedding model's view of a short question:
    "Hoe lang bewaren we verslagen van de LIVC-R?" then matches passages that say
    "LIVC-R" often rather than the one about keeping reports.
    """
    counts: dict[str, int] = {}
    for text in texts:
        for word in {w for w in re.findall(r"\w[\w-]*", fold(text)) if w not in _STOPWORDS and not w.isdigit()}:
            counts[word] = counts.get(word, 0) + 1
    return sorted(w for w, c in counts.items() if c > share * len(texts))


_POINTERS = (
    "van",
    "in",
    "bij",
    "voor",
    "over",
    "met",
    "de",
    "het",
    "een",
    "onze",
    "ons",
    "uw",
    "jullie",
    "die",
    "deze",
    "of",
    "for",
    "at",
    "the",
    "a",
    "our",
    "your",
    "la",
    "le",
    "les",
    "du",
    "des",
    "de",
    "d'une",
    "d'un",
    "une",
    "un",
    "notre",
    "votre",
)


def without_terms(question: str, terms: list[str]) -> str:
    """`question` with every occurrence of `terms` removed (case-insensitive, also as "'s"
    plural and as the head of a hyphenated term: "LIVC" for "livc-r").
    Falls back to the question itself if nothing would remain."""
    if not terms:
        return question
    forms = set()
    for term in terms:
        forms.add(re.escape(term))
        if "-" in term:
            forms.add(re.escape(term.split("-")[0]))
    # Take along the little words that only point at the term ("van de", "of the", "la").
    lead = r"(?:(?:" + "|".join(_POINTERS) + r")\s+){0,2}"
    alternatives = "|".join(sorted(forms, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w-]){lead}(?:{alternatives})(?:'s|s)?(?![\w-])", re.IGNORECASE)
    stripped = re.sub(r"\s+", " ", pattern.sub(" ", question)).strip()
    return stripped if content_words(stripped) else question


_ABBREVIATION = r"[A-Z]{2,}(?:-[A-Z]{1,3})?"
_LANGUAGE = r"(?:Frans|Engels|Duits)"
# "LIVC-R; in het Frans CSIL-R", "(OCAD, in het Frans OCAM)", "(AVG, in het Engels GDPR, ...)"
_NAMED_IN = re.compile(
    rf"\b(?P<own>{_ABBREVIATION})\)?[,;]?\s+(?:in het\s+)?{_LANGUAGE}:?\s+(?P<foreign>{_ABBREVIATION})(?![\w-])"
)
# "In Franstalige documenten spreekt men van CSIL-R, TFL (taskforce locale) en OCAM in plaats van LIVC-R, LTF en OCAD."
_INSTEAD_OF = re.compile(r"spreekt men van (?P<foreign>[^.]+?) in plaats van (?P<own>[^.]+)")


def own_names(texts: list[str]) -> dict[str, str]:
    """The foreign abbreviations the texts give for their own ("OCAD, in het Frans OCAM"),
    as {foreign: own}: a French question names the cell "CSIL-R", the guide "LIVC-R"."""
    names: dict[str, str] = {}
    for text in texts:
        for match in _NAMED_IN.finditer(text):
            names.setdefault(match["foreign"], match["own"])
        for match in _INSTEAD_OF.finditer(text):
            foreign, own = (_abbreviations(re.sub(r"\([^)]*\)", "", match[side])) for side in ("foreign", "own"))
            if len(foreign) == len(own):
                for f, o in zip(foreign, own):
                    names.setdefault(f, o)
    return {f: o for f, o in names.items() if f != o}


def _abbreviations(text: str) -> list[str]:
    return re.findall(rf"(?<![\w-]){_ABBREVIATION}(?![\w-])", text)


@functools.lru_cache(maxsize=1)
def _foreign_terms() -> tuple[re.Pattern, dict[str, str]]:
    pairs = [line.split("=", 1) for line in data_lines("foreign-terms.txt") if "=" in line]
    terms = {fold(foreign.strip()): dutch.strip() for foreign, dutch in pairs}
    longest_first = sorted(terms, key=len, reverse=True)  # "chief of police" before "police"
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, longest_first)) + r")(?![\w-])"), terms


def dutch_terms(question: str) -> list[str]:
    """The guide's Dutch words for the English and French words of its subject that
    `question` uses ("loi", "bourgmestre" -> "wet", "burgemeester"; assistant/core/data/
    foreign-terms.txt): BM25 can then match an English or French question on them."""
    pattern, terms = _foreign_terms()
    return [terms[m[1]] for m in pattern.finditer(fold(question))]


def with_own_names(question: str, names: dict[str, str]) -> str:
    """`question` with each foreign abbreviation of `names` replaced by the texts' own
    (any case, also as a plural: "csil-r's" -> "LIVC-R's")."""
    if not names:
        return question
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])", re.IGNORECASE)
    by_key = {f.casefold(): o for f, o in names.items()}
    return pattern.sub(lambda m: by_key[m[1].casefold()], question)


class Spelling:
    """The corpus's own spelling of the words a Dutch question mistypes ("burgmeester",
    "voorziter", "regring"): BM25 sees a mistyped word as one the corpus never uses, and
    e5 cuts it into other pieces than the word it means."""

    def __init__(self, texts: list[str]):
        counts = Counter(word for text in texts for word in _WORD.findall(fold(text)))
        self.counts = counts
        self.stems = frozenset(stem(w) for w in counts)
        self._by_letter: dict[str, list[str]] = {}
        for word in counts:
            self._by_letter.setdefault(word[0], []).append(word)

    def correct(self, question: str) -> str:
        """`question` with each word of seven letters or more that the corpus never uses,
        not even in another form, replaced by the corpus's word it most likely mistypes.
        Shorter words are left alone: one slip from a short word is often another word
        ("zaten", "zaken"), and without a dictionary a real word the corpus lacks cannot
        be told from a slip."""
        return _WORD.sub(lambda m: self._word(m.group()), question)

    def _word(self, word: str) -> str:
        folded = fold(word)
        if len(folded) < 7 or folded in self.counts or folded in _STOPWORDS:
            return word
        if stem(folded) in self.stems:
            return word  # another form of a corpus word: BM25 and the stems already meet it
        alike = [v for v in _sounding_alike(folded) if v in self.counts]  # "entitijten": "entiteiten"
        return alike[0] if alike else self._closest(folded) or word

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one Spelling per index generation, kept with its Store
    def _closest(self, word: str) -> str | None:
        """The most frequent corpus word (with the same first letter) one typing slip away
        from `word`: a letter missing, added or changed, or two neighbours swapped; None
        when there is none."""
        close = [
            w
            for w in self._by_letter.get(word[0], ())
            if abs(len(w) - len(word)) <= 1 and _slips(word, w) == 1 and _typed_for(word, w)
        ]
        return max(close, key=lambda w: self.counts[w]) if close else None


# Letters one key apart on a Belgian (AZERTY) or an English (QWERTY) keyboard, and the
# letters Dutch spelling confuses by sound ("bedraagd", "verankert").
_LAYOUTS = (("azertyuiop", "qsdfghjklm", "wxcvbn"), ("qwertyuiop", "asdfghjkl", "zxcvbnm"))


def _near_keys() -> frozenset[frozenset[str]]:
    pairs = set()
    for rows in _LAYOUTS:
        for row in rows:
            pairs |= set(zip(row, row[1:]))  # side by side
        for top, low in zip(rows, rows[1:]):
            pairs |= set(zip(top, low)) | set(zip(top[1:], low))  # a key and the two above it
    pairs |= set(map(tuple, ("dt", "sz", "fv", "ck", "ei", "uo")))
    return frozenset(frozenset(pair) for pair in pairs)


_NEAR_KEYS = _near_keys()


def _typed_for(typed: str, word: str) -> bool:
    """Whether `typed` can be a slip for `word` one edit away: a letter missing, added or
    swapped, or a letter changed for one beside it on the keyboard or like it in sound.
    "betaalt" is not "bepaalt" mistyped, nor "waarvan" "waaraan": other words."""
    if len(typed) != len(word):
        return True
    changed = [(a, b) for a, b in zip(typed, word) if a != b]
    return len(changed) != 1 or frozenset(changed[0]) in _NEAR_KEYS


def _sounding_alike(word: str) -> list[str]:
    """`word` with each "ij" written "ei" and the other way round: one sound, two spellings
    that Dutch writers mix up."""
    return [v for v in (word.replace("ij", "ei"), word.replace("ei", "ij")) if v != word]


def _slips(a: str, b: str) -> int:
    """The edits that turn `a` into `b` (optimal string alignment: insertions, deletions,
    substitutions and swaps of neighbouring letters)."""
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, row = row, current
    return row[-1]


_WORD = re.compile(r"(?<![\w-])[^\W\d_]+(?![\w-])")
