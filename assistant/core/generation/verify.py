"""The check every generated sentence passes before it is shown.

Against the passages it cites, in this order:

1. **facts**: every number, date, amount, article number, e-mail address, URL and
   capitalised name in the sentence appears in a cited passage (its text, title or section
   path), after normalising Dutch formats ("1.500" = "1500", "2,5" = "2.5", "12 maart 2024"
   = "12/03/2024", "drie" = "3");
2. **negation**: the sentence holds as many negations ("niet", "geen", "nooit", ...) as the
   passage sentence it matches best;
3. **words**: at least ``verify_min_overlap`` of its stemmed content words are in one
   passage sentence with its neighbours;
4. **meaning**: its embedding is at least ``verify_min_cosine`` close to one of the cited
   passages' sentence windows (the vectors the index already holds).

The two thresholds are measured, not guessed: ``livc eval --verifier`` builds sentences
that must pass and sentences that must fail from the corpus itself and reports precision
and recall (assistant/ops/evaluation/verifier.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..chunking import Passage
from ..lexical import fold, tokenize
from ..settings import Settings

MONTHS = {
    "januari": 1,
    "februari": 2,
    "maart": 3,
    "april": 4,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "augustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "december": 12,
}
_MONTH_NAMES = "|".join(MONTHS)
NUMBER_WORDS = {
    "één": "1",
    "twee": "2",
    "drie": "3",
    "vier": "4",
    "vijf": "5",
    "zes": "6",
    "zeven": "7",
    "acht": "8",
    "negen": "9",
    "tien": "10",
    "elf": "11",
    "twaalf": "12",
    "twintig": "20",
    "dertig": "30",
    "veertig": "40",
    "vijftig": "50",
    "honderd": "100",
    "duizend": "1000",
}
NEGATIONS = frozenset({"niet", "geen", "nooit", "niemand", "niets", "nergens", "noch", "geenszins", "allerminst"})

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\bhttps?://[^\s<>()\[\]]+|\bwww\.[^\s<>()\[\]]+", re.IGNORECASE)
_DATE_WORDS = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_NAMES})\s+(\d{{4}})\b", re.IGNORECASE)
_DATE_DIGITS = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_MONTH_YEAR = re.compile(rf"\b({_MONTH_NAMES})\s+(\d{{4}})\b", re.IGNORECASE)
_SUFFIX = r"(?:bis|ter|quater|quinquies|sexies|septies|octies|°|[a-z](?![a-z]))?"
_NUMBER = re.compile(rf"(?<![\w.,])\d+(?:\.\d{{3}})+(?:,\d+)?{_SUFFIX}|(?<![\w.,])\d+(?:[.,]\d+)?{_SUFFIX}")
_NUMBER_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![\w-])[A-ZÀ-Ý][\w’'-]*")
_WORD = re.compile(r"\w+")
_SENTENCE_START = re.compile(r"^[\s\"'“‘(\[-]*\S+|(?<=[:;])\s*\S+")


@dataclass(frozen=True)
class Thresholds:
    min_overlap: float
    min_cosine: float

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(settings.verify_min_overlap, settings.verify_min_cosine)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: passed or the first reason it failed ("no_citation",
    "fact", "negation", "overlap", "similarity"), the measured overlap and cosine, and the
    passage sentence that supports it best (quoted in the sources panel)."""

    ok: bool
    reason: str | None
    overlap: float = 0.0
    cosine: float = 0.0
    passage: Passage | None = None
    quote: str = ""


@dataclass(frozen=True)
class Measures:
    """The signals of one check (see Verifier.measure)."""

    facts: bool  # every fact of the sentence is in a cited passage
    negation: bool  # negated exactly when its best-matching passage sentence is
    overlap: float  # share of its stems in its best window
    cosine: float  # best cosine to a sentence window
    passage: Passage
    quote: str


# ---------------------------------------------------------------------------
# Facts, in normalised form


def _date(day: str, month: int, year: str) -> str:
    return f"{int(year):04d}-{month:02d}-{int(day):02d}"


def dates(text: str) -> set[str]:
    """The dates of `text` as YYYY-MM-DD, and months as YYYY-MM ("maart 2024")."""
    out = {_date(d, MONTHS[m.lower()], y) for d, m, y in _DATE_WORDS.findall(text)}
    out |= {_date(d, int(m), y) for d, m, y in _DATE_DIGITS.findall(text) if 1 <= int(m) <= 12}
    rest = _DATE_WORDS.sub(" ", text)
    out |= {f"{int(y):04d}-{MONTHS[m.lower()]:02d}" for m, y in _MONTH_YEAR.findall(rest)}
    return out


def _number(token: str) -> str:
    """ "1.500" -> "1500", "2,5" -> "2.5", "458 ter" -> "458ter"."""
    token = token.replace(" ", "").lower()
    body = re.match(r"[\d.,]+", token).group()
    rest = token[len(body) :]
    if re.fullmatch(r"\d+(?:\.\d{3})+(?:,\d+)?", body):
        body = body.replace(".", "")
    return body.replace(",", ".") + rest


def numbers(text: str) -> set[str]:
    """The numbers of `text` (amounts, article numbers, years...), normalised; number
    words as digits."""
    out = {_number(m.group()) for m in _NUMBER.finditer(text)}
    return out | {NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text)}


def addresses(text: str) -> set[str]:
    """E-mail addresses and URLs, lowercased, without scheme and trailing punctuation."""
    found = {e.lower().rstrip(".") for e in _EMAIL.findall(text)}
    for url in _URL.findall(text):
        url = re.sub(r"^https?://", "", url.lower()).rstrip(".,;:!?/")
        found.add(url)
    return found


def names(text: str) -> set[str]:
    """Capitalised words and abbreviations not opening the sentence (or a part after ":"),
    folded."""
    openers = {m.end() for m in _SENTENCE_START.finditer(text)}
    text_wo = _URL.sub(" ", _EMAIL.sub(" ", text))
    return {fold(m.group()).strip("’'-") for m in _NAME.finditer(text_wo) if m.end() not in openers}


def negations(text: str) -> int:
    """How many negation words `text` holds ("geen strafonderzoek, geen bewijs": 2)."""
    return sum(w in NEGATIONS for w in _WORD.findall(fold(text)))


def negated(text: str) -> bool:
    return negations(text) > 0


@dataclass(frozen=True)
class Evidence:
    """What a passage offers as support, computed once per passage."""

    passage: Passage
    numbers: frozenset[str]
    dates: frozenset[str]
    addresses: frozenset[str]
    words: frozenset[str]  # folded words of text, title and section path
    stems: frozenset[str]
    windows: tuple[frozenset[str], ...]  # stems of each sentence with its neighbours
    sentence_stems: tuple[frozenset[str], ...]


_EVIDENCE: dict[str, Evidence] = {}  # by passage id (ids are hashes of the text): made once per passage
_EVIDENCE_LIMIT = 20_000


def evidence(passage: Passage) -> Evidence:
    """The passage's support, from the cache when it was made before."""
    found = _EVIDENCE.get(passage.id)
    if found is None:
        if len(_EVIDENCE) > _EVIDENCE_LIMIT:
            _EVIDENCE.clear()
        found = _EVIDENCE[passage.id] = _evidence(passage)
    return found


def _evidence(passage: Passage) -> Evidence:
    whole = "\n".join([passage.title, *passage.section_path, passage.question or "", passage.text])
    text_dates = dates(whole)
    months = {d[:7] for d in text_dates}
    stems = [frozenset(tokenize(s)) for s in passage.sentences] or [frozenset(tokenize(passage.text))]
    windows = tuple(frozenset().union(*stems[max(0, i - 1) : i + 2]) for i in range(len(stems)))
    return Evidence(
        passage,
        frozenset(numbers(whole)),
        frozenset(text_dates | months),
        frozenset(addresses(whole)),
        frozenset(_WORD.findall(fold(whole))),
        frozenset(tokenize(whole)),
        windows,
        tuple(stems),
    )


def missing_facts(sentence: str, support: list[Evidence]) -> list[str]:
    """The facts of `sentence` found in none of the passages (kinds only, for the log)."""
    has = lambda attr: frozenset().union(*(getattr(e, attr) for e in support))  # noqa: E731
    missing = []
    sentence_dates = dates(sentence)
    if sentence_dates - has("dates"):
        missing.append("date")
    rest = _MONTH_YEAR.sub(" ", _DATE_DIGITS.sub(" ", _DATE_WORDS.sub(" ", sentence)))
    rest = _URL.sub(" ", _EMAIL.sub(" ", rest))
    if numbers(rest) - has("numbers"):
        missing.append("number")
    if addresses(sentence) - has("addresses"):
        missing.append("address")
    words, stems = has("words"), has("stems")
    for name in names(sentence):
        parts, name_stems = _WORD.findall(name), set(tokenize(name))
        # As written, or the same stems ("Vlaamse" for "Vlaams"); a stop word has no stems
        # and must be found as written.
        if not all(p in words for p in parts) and not (name_stems and name_stems <= stems):
            missing.append("name")
            break
    return missing


# ---------------------------------------------------------------------------
# The check


class Verifier:
    """Checks sentences against passages; `embed` turns texts into unit vectors, and
    `window_vectors(passage)` gives a passage's sentence-window vectors (Store.window_vectors)."""

    def __init__(
        self,
        thresholds: Thresholds,
        embed: Callable[[list[str]], np.ndarray],
        window_vectors: Callable[[Passage], np.ndarray],
    ):
        self.thresholds = thresholds
        self.embed = embed
        self.window_vectors = window_vectors

    @classmethod
    def for_store(cls, store, embedder, thresholds: Thresholds) -> Verifier:
        def embed(texts: list[str]) -> np.ndarray:
            vectors = np.asarray(embedder.get_text_embedding_batch(list(texts)), dtype=np.float32)
            return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

        def windows(passage: Passage) -> np.ndarray:
            start, end = store.sentence_rows.get(passage.id, (0, 0))
            return store.window_vectors[start:end]

        return cls(thresholds, embed, windows)

    def check(self, sentence: str, cited: list[Passage], vector: np.ndarray | None = None) -> Verdict:
        """Whether the cited passages support `sentence` (its text without markers)."""
        if not cited:
            return Verdict(False, "no_citation")
        m = self.measure(sentence, cited, vector, cosine=None)
        if not m.facts:
            return Verdict(False, "fact", m.overlap, 0.0, m.passage, m.quote)
        if not m.negation:
            return Verdict(False, "negation", m.overlap, 0.0, m.passage, m.quote)
        if m.overlap < self.thresholds.min_overlap:
            return Verdict(False, "overlap", m.overlap, 0.0, m.passage, m.quote)
        cosine = self.cosine(sentence, cited, vector)
        if cosine < self.thresholds.min_cosine:
            return Verdict(False, "similarity", m.overlap, cosine, m.passage, m.quote)
        return Verdict(True, None, m.overlap, cosine, m.passage, m.quote)

    def measure(
        self, sentence: str, cited: list[Passage], vector: np.ndarray | None = None, cosine: float | None = 0.0
    ) -> Measures:
        """Every signal of the check, without thresholds (the calibration reads them all);
        the cosine is computed unless `cosine` is None."""
        support = [evidence(p) for p in cited]
        overlap, passage, index = self._best_place(sentence, support)
        quote = passage.sentences[index] if passage.sentences else passage.text
        return Measures(
            facts=not missing_facts(sentence, support),
            # Counted, not just present: dropping one "geen" of two turns a claim around too.
            negation=negations(sentence) == negations(quote),
            overlap=overlap,
            cosine=0.0 if cosine is None else self.cosine(sentence, cited, vector),
            passage=passage,
            quote=quote,
        )

    def cosine(self, sentence: str, cited: list[Passage], vector: np.ndarray | None = None) -> float:
        """The highest cosine between `sentence` and a sentence window of the cited passages."""
        if vector is None:
            vector = self.embed([sentence])[0]
        rows = [self.window_vectors(p) for p in cited]
        rows = [r for r in rows if len(r)]
        return float(max(np.max(r @ vector) for r in rows)) if rows else 0.0

    @staticmethod
    def _best_place(sentence: str, support: list[Evidence]) -> tuple[float, Passage, int]:
        """The share of the sentence's stems in its best window, and that window's passage
        and the sentence of it sharing most stems (read for negation, and quoted)."""
        stems = set(tokenize(sentence))
        best = (-1.0, support[0].passage, 0)
        for e in support:
            for i, window in enumerate(e.windows):
                share = len(stems & window) / len(stems) if stems else 0.0
                if share > best[0]:
                    best = (share, e.passage, _closest(stems, e, i))
        return max(best[0], 0.0), best[1], best[2]


def _closest(stems: set[str], e: Evidence, i: int) -> int:
    """Of window `i` (sentences i-1..i+1), the sentence sharing most stems with the sentence."""
    around = range(max(0, i - 1), min(len(e.sentence_stems), i + 2))
    return max(around, key=lambda j: (len(stems & e.sentence_stems[j]), j == i), default=i)
