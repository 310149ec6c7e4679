"""What a question asks for, read without a language model.

`analyse()` turns a question into a `Reading`: its language (Dutch, English or French),
the kind of answer it wants (a person, a date, a number, an article, a list, what an
abbreviation stands for, yes or no, or an open answer), its content words as Dutch
stems, and its language-independent terms (numbers, dates, abbreviations, article
numbers), which are evidence in any language. Answer composition uses the kind to
prefer sentences that hold such an answer; abstention and confidence use the terms to
check that the quoted text is about what was asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN_PLUS, STOPWORDS_FRENCH

from .lexical import fold, tokenize

# Words that make a question a question; they name no subject.
QUESTION_WORDS = {
    "wanneer",
    "sinds",
    "waarom",
    "hoeveel",
    "hoelang",
    "welk",
    "welke",
    "waar",
    "waarmee",
    "waarover",
    "waarvoor",
    "waarvan",
    "waarin",
    "waarop",
    "vanaf",
    "tot",
    "precies",
    "eigenlijk",
    "nog",
    "dan",
    "wie",
    "wat",
    "hoe",
    "allemaal",
    "juist",
    "ongeveer",
}
# Verbs that say how a question asks, not what it is about.
GENERIC_VERBS = {
    "doet",
    "doen",
    "betekent",
    "betekenen",
    "houdt",
    "maakt",
    "maken",
    "gebeurt",
    "regelt",
    "zit",
    "zitten",
    "staat",
    "staan",
    "heeft",
    "hebben",
    "kan",
    "kunnen",
    "mag",
    "mogen",
    "bedraagt",
    "bedragen",
    "krijgt",
    "krijgen",
    "gaat",
    "gaan",
    "komt",
    "komen",
    "zal",
    "zullen",
    "hoort",
    "horen",
    "geldt",
    "gelden",
    "laten",
    "laat",
    "zich",
    "moet",
    "moeten",
    "wordt",
    "worden",
    "werd",
    "is",
    "zijn",
    "was",
    "waren",
}

# Everyday words the stop-word list lacks; they say how someone talks, not what about.
EVERYDAY_WORDS = {
    "onze",
    "ons",
    "wij",
    "we",
    "jullie",
    "u",
    "uw",
    "mijn",
    "zeg",
    "zegt",
    "echt",
    "nu",
    "weer",
    "eens",
    "heel",
    "wel",
    "even",
    "info",
    "iemand",
    "iets",
    "gewoon",
    "ok",
    "oke",
    "graag",
    "soms",
    "best",
    "beetje",
    "zo'n",
}
SEPARABLE_PARTICLES = {
    "voor",
    "op",
    "uit",
    "aan",
    "mee",
    "af",
    "door",
    "terug",
    "bij",
    "toe",
    "na",
    "vast",
    "in",
    "over",
}
_WORD = re.compile(r"\w+")
_DUTCH = frozenset(STOPWORDS_DUTCH) - frozenset(STOPWORDS_EN_PLUS) - frozenset(STOPWORDS_FRENCH)
_ENGLISH = frozenset(STOPWORDS_EN_PLUS) - frozenset(STOPWORDS_DUTCH) - frozenset(STOPWORDS_FRENCH)
_FRENCH = frozenset(STOPWORDS_FRENCH) - frozenset(STOPWORDS_DUTCH) - frozenset(STOPWORDS_EN_PLUS)
# Common words the stop-word lists lack, which tell a short question's language apart.
_MARKERS = {
    "nl": {
        "wie",
        "wat",
        "welke",
        "welk",
        "hoeveel",
        "wanneer",
        "waarom",
        "mag",
        "moet",
        "kan",
        "kunnen",
        "zijn",
        "wordt",
        "worden",
        "hoe",
        "waar",
        "gemeente",
        "burgemeester",
        "politie",
        "cel",
    },
    "en": {
        "who",
        "what",
        "which",
        "how",
        "many",
        "much",
        "when",
        "does",
        "do",
        "can",
        "may",
        "must",
        "should",
        "the",
        "is",
        "are",
        "stand",
        "mayor",
        "police",
        "municipality",
        "cell",
    },
    "fr": {
        "qui",
        "que",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "combien",
        "quand",
        "est",
        "peut",
        "doit",
        "le",
        "la",
        "les",
        "une",
        "des",
        "du",
        "bourgmestre",
        "commune",
        "cellule",
        "police",
    },
}

MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
    "january|february|march|june|july|august|october|"
    "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+)?(?:{MONTHS})\s+\d{{4}}\b|\b(?:19|20)\d{{2}}\b|\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}\b"
)
_NUMBER_WORDS = (
    "twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|twintig|"
    "dertig|veertig|vijftig|honderd|honderdtal|duizend|tiental|dozijn|eerste|tweede|derde|enkele|"
    "maandelijks|jaarlijks|wekelijks"
)
# A digit written for a count ("samen 1 livc-r", "de 3 vaste leden"): the guide writes the word.
_COUNT_WORDS = dict(zip("123456789", ("één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen")))
_NUMBERED = re.compile(
    r"(?:\b(?:art(?:ikel|icle)?|stap|step|étape|hoofdstuk|chapter|chapitre|vraag|punt)\.?|§)\s*$", re.IGNORECASE
)
_QUANTITY = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b")
_ARTICLE = re.compile(r"\b(?:art(?:ikel|icle|\.)?s?)\s*\d+\w*|\b\d+(?:bis|ter|quater|quinquies)\b")
# Abbreviations as written: two or more capitals (OCAD, LIVC-R, AVG), optionally with digits.
_ABBREVIATION = re.compile(r"\b[A-Z][A-Z0-9]{1,}(?:-[A-Z0-9]+)*\b")
_ENTITY = re.compile(r"\b\d[\d./-]*\w*\b|\b[A-Z][A-Z0-9]{1,}(?:-[A-Z0-9]+)*\b")

# The kind of answer a question wants, in the order they are tried (folded text).
_KINDS = (
    (
        "abbreviation",
        r"\bafkorting|\bstaat\b.*\bvoor\s*\??$|\bwaarvoor staat\b|\bstand for\b|\babbreviation\b"
        r"|\bacronym\b|\bstands? for\b|\bsignifie|\bveut dire\b|\bsigle\b|\babreviation\b",
    ),
    ("article", r"\b(?:welk|welke|which|what|quel|quelle)\s+(?:\w+\s+){0,2}(?:wets?artikel|artikel|article)s?\b"),
    (
        "when",
        # "wanneer" / "when" / "quand" ask for a time where they open the question or a part
        # of it; further on they are a conjunction ("Heb ik beroepsgeheim wanneer ik ...?").
        r"^(?:\w+ )?(?:(?:sinds|vanaf|tot|tegen|since|until|depuis|jusqu a) )?(?:wanneer|when|quand)\b"
        r"|\b(?:en|and|et) (?:(?:sinds|vanaf|tot|since|until|depuis) )?(?:wanneer|when|quand)\b"
        r"|\bwelke datum\b|\bop welke (?:dag|datum)\b|\bwelk jaar\b|\bwhat date\b|\bwhich (?:date|year)\b"
        r"|\bwhat year\b|\bquelle date\b|\bquelle annee\b|\bdatum\b|\bjaartal\b",
    ),
    (
        "how_many",
        r"\bhoeveel\b|\bhow many\b|\bhow much\b|\bcombien\b|\bhoe vaak\b|\bhow often\b|\bhoelang\b|\bhoe lang\b",
    ),
    (
        "list",
        r"\ballemaal\b|\bwelke (?:\w+ ){0,3}(?:zijn|moeten|kunnen|mogen|horen|staan)\b|\bwat (?:moet|hoort|staat)"
        r" er (?:\w+ )?in\b|\bopsomming\b|\bwhich (?:\w+ ){0,3}(?:are|must|should|can)\b|\bwhat (?:must|should) "
        r"(?:\w+ ){0,3}contain\b|\bquel(?:le)?s (?:\w+ ){0,3}(?:sont|doivent|peuvent)\b",
    ),
    (
        "who",
        r"\bwie\b|\bwho\b|\bqui\b|\bwelke (?:minister|ministers|instantie|instanties|organisatie|organisaties|dienst"
        r"|diensten|partners?|deelnemers?|raad|hof)\b",
    ),
)
_YES_NO_OPENERS = {
    "mag",
    "mogen",
    "moet",
    "moeten",
    "kan",
    "kunnen",
    "is",
    "zijn",
    "heeft",
    "hebben",
    "heb",
    "hebt",
    "kunt",
    "wordt",
    "worden",
    "bestaat",
    "krijgt",
    "krijgen",
    "zit",
    "zitten",
    "geldt",
    "gelden",
    "blijft",
    "valt",
    "vallen",
    "gaat",
    "komt",
    "telt",
    "hoeft",
    "hoeven",
    "ben",
    "word",
    "zal",
    "zullen",
    "dient",
    "dienen",
    "staat",
    "klopt",
    "weet",
    "can",
    "may",
    "must",
    "are",
    "does",
    "do",
    "should",
    "will",
    "has",
    "have",
    "could",
    "would",
    "est",
    "peut",
    "peuvent",
    "doit",
    "doivent",
    "faut",
    "y",
    "existe",
    "sont",
}


@dataclass(frozen=True)
class Reading:
    """A question as the answer step reads it."""

    text: str
    language: str  # "nl", "en" or "fr"
    kind: str  # "abbreviation" | "article" | "when" | "how_many" | "list" | "who" | "yes_no" | "open"
    stems: tuple[str, ...]  # Dutch content stems (for a foreign question: only its entities)
    entities: tuple[str, ...]  # numbers, dates, abbreviations, article numbers, as written


def analyse(question: str) -> Reading:
    """Read `question`: language, kind of answer, content stems and entities."""
    language = detect_language(question)
    entities = tuple(dict.fromkeys(m.group() for m in _ENTITY.finditer(question)))
    stems = (
        content_stems(question) if language == "nl" else tuple(dict.fromkeys(s for e in entities for s in tokenize(e)))
    )
    return Reading(question, language, question_kind(question), stems, entities)


def content_stems(text: str, separable_verbs: bool = True) -> tuple[str, ...]:
    """The Dutch stems of the words that say what a question is about: no stop words,
    question words or verbs that only say how it asks. With `separable_verbs`, a question
    ending in a separable verb's particle ("Wie zit de cel voor?", "Wie nodigt hen uit?")
    keeps its verb: with the particle it says what is asked."""
    words = _WORD.findall(text)
    separable = separable_verbs and bool(words) and fold(words[-1]) in SEPARABLE_PARTICLES
    ignored = QUESTION_WORDS | EVERYDAY_WORDS | (set() if separable else GENERIC_VERBS)
    words = [w for w in words if fold(w) not in ignored]
    return tuple(dict.fromkeys(tokenize(" ".join(words))))


def detect_language(text: str) -> str:
    """ "nl", "en" or "fr" by the function words a text uses; Dutch when in doubt."""
    words = _WORD.findall(fold(text))
    counts = {
        "nl": sum(w in _DUTCH or w in _MARKERS["nl"] for w in words),
        "en": sum(w in _ENGLISH or w in _MARKERS["en"] for w in words),
        "fr": sum(w in _FRENCH or w in _MARKERS["fr"] for w in words) + len(re.findall(r"\b[ldjnqs]'", fold(text))),
    }
    best = max(("en", "fr"), key=lambda lang: counts[lang])
    return best if counts[best] > counts["nl"] else "nl"


# "Wat is een PGE?", "Wat betekent gedeeld beroepsgeheim?", "What is the OCAD?", "Qu'est-ce
# qu'une LTF ?": a question for the definition of a term of a few words.
_DEFINITION = re.compile(
    r"^\s*(?:(?:wat\s+(?:is|zijn|betekent|betekenen|bedoelt\s+men\s+met|verstaat\s+men\s+onder)"
    r"|what\s+(?:is|are|does)|que\s+signifie)\s+|qu.est[\s-]ce\s+qu(?:.est\s+ce\s+qu)?.\s*)"
    r"(?:(?:een|de|het|a|an|the|un|une|le|la|les)\s+|l.)?"
    r"(?P<term>[^?,;:]+?)(?:\s+(?:mean|betekenen|betekent|eigenlijk|precies|nu|dan|juist|nou|concreet))*\s*\??\s*$",
    re.IGNORECASE,
)
MAX_TERM_WORDS_ASKED = 5


def defined_term(question: str) -> str | None:
    """The term a question asks to define ("Wat is een PGE?" -> "PGE"), or None."""
    match = _DEFINITION.match(question)
    term = match.group("term").strip() if match else ""
    return term if term and len(term.split()) <= MAX_TERM_WORDS_ASKED else None


def counted(question: str) -> dict[str, str]:
    """The single digits `question` writes for a count, each with the word the guide writes
    for it ("in 1 zin" -> {"1": "één"}); not a numbered article, step or question ("artikel
    4", "stap 5") and not the day of a date ("1 april")."""
    out = {}
    for match in re.finditer(r"(?<![\d./-])\b[1-9]\b(?![./-]\d)", question):
        before, after = question[: match.start()], question[match.end() :]
        if not _NUMBERED.search(before) and not re.match(rf"\s*(?:{MONTHS})\b", fold(after)):
            out[match.group()] = _COUNT_WORDS[match.group()]
    return out


_ASKED_FOR = re.compile(r"\b(?:welke?|hoeveel)\s+([^\W\d_]{4,})", re.IGNORECASE)
# Units a count or a time is asked in ("Hoeveel keer ...?"): the guide answers "maandelijks".
_MEASURES = frozenset(
    "keer maal procent percent jaar jaren maand maanden week weken dag dagen uur uren minuten tijd "
    "mensen personen stuks euro".split()
)


def asked_for(question: str) -> str | None:
    """The word a Dutch "Welk(e) X ...?" or "Hoeveel X ...?" question asks for ("Welk bedrag
    ontving ...?" -> "bedrag"), or None; not a unit ("Hoeveel keer ...?")."""
    match = _ASKED_FOR.search(question)
    return match.group(1) if match and fold(match.group(1)) not in _MEASURES else None


def question_kind(question: str) -> str:
    """The kind of answer the question wants."""
    text = " ".join(_WORD.findall(fold(question.replace("'", " "))))
    for kind, pattern in _KINDS:
        if re.search(pattern, text):
            return kind
    first = text.split()[0] if text.split() else ""
    return "yes_no" if first in _YES_NO_OPENERS else "open"


FACT_KINDS = ("when", "how_many", "article", "abbreviation")  # questions for one fact, not a list


def holds_answer_kind(kind: str, sentence: str, reading: Reading | None = None) -> bool:
    """Whether `sentence` holds the kind of thing a question of `kind` asks for."""
    if kind == "when":
        return bool(_DATE.search(fold(sentence)))
    if kind == "how_many":
        return bool(_QUANTITY.search(fold(_DATE.sub(" ", fold(sentence)))))
    if kind == "article":
        return bool(_ARTICLE.search(fold(sentence)))
    if kind == "list":
        return bool(re.search(r":\s*$|:\s+-|^\s*(?:[-*+]|\d+[.)])\s", sentence, re.MULTILINE))
    if kind == "abbreviation":
        wanted = {fold(e) for e in (reading.entities if reading else ()) if _ABBREVIATION.fullmatch(e)}
        found = {fold(a) for a in _ABBREVIATION.findall(sentence)}
        return bool(wanted & found) if wanted else bool(found)
    return False


def share_found(reading: Reading, found: Iterable[str], idf: Callable[[str], float] | None = None) -> float:
    """The share of the question's content stems that are among the stems `found`, each
    weighted by `idf` (its rarity in the corpus); 0 when the question has none."""
    found = found if isinstance(found, (set, frozenset)) else set(found)
    weight = idf or (lambda _: 1.0)
    total = sum(weight(s) for s in reading.stems)
    return sum(weight(s) for s in reading.stems if s in found) / total if total else 0.0


def lacks_detail(
    reading: Reading, text: str, said: frozenset[str] | None = None, ubiquitous: frozenset[str] = frozenset()
) -> bool:
    """Whether `text` leaves out a detail the question asks about: a number, date,
    abbreviation or article it names (but the names nearly every passage holds), or, for a
    question for one fact, any fact of the kind asked for. `said` is the text's stems when
    the caller has them (`Store.stems_of`)."""
    said = frozenset(tokenize(text)) if said is None else said
    named = (t for e in reading.entities for t in tokenize(e) if t not in ubiquitous)
    if not all(t in said for t in named):
        return True
    return reading.kind in FACT_KINDS and not holds_answer_kind(reading.kind, text, reading)


def named_terms(reading: Reading) -> tuple[str, ...]:
    """The stems of the abbreviations a question names ("EVRM", "FTF-omzendbrief" -> evrm,
    ftf): names an answer must mention to be about the same thing."""
    return tuple(dict.fromkeys(t for e in reading.entities if _ABBREVIATION.fullmatch(e) for t in tokenize(e)))


def entities_in(text: str) -> set[str]:
    """The language-independent terms of a text, folded (for matching against a question's)."""
    return {fold(m.group()).rstrip(".") for m in _ENTITY.finditer(text)}
