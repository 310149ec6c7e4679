"""Answers: turn ranked hits into a short Dutch reply that quotes the guide, or an abstention.

No language model: the reply is either a Q&A entry whose question matches closely
(mode ``faq``) or the few sentences from the top passages that best answer the
question, in reading order, each followed by its ``[n]`` marker (mode ``extractive``).
Every word of the reply is quoted from a cited passage, so it cannot invent law.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from .chunking import Passage, is_line, is_row
from .followup import Vocabulary
from .index import Store
from .lexical import tokenize
from .messages import LANGUAGE_NOTES, NOT_IN_GUIDE
from .question import FACT_KINDS, Reading, asked_for, counted, holds_answer_kind, named_terms, share_found
from .settings import Settings
from .types import Citation, Hit, Reply, Retrieval

MAX_LIST_ITEMS = 16  # a list is quoted whole up to this many lines
GAP = "…"  # in a citation's quote, where it skips sentences of its passage
_MARKER = re.compile(r"\[\d+\]")  # a citation marker in an answer


def without_markers(text: str) -> str:
    """An answer's text with its ``[n]`` citation markers replaced by spaces."""
    return _MARKER.sub(" ", text)


@dataclass(frozen=True)
class Support:
    """How well the guide supports a question, measured before an answer is chosen."""

    best: float  # cosine of the closest sentence window of the guide (question as asked)
    margin: float  # ... less that of the closest off-topic reference passage
    unknown: tuple[str, ...]  # question terms (stems, abbreviations, numbers) the corpus never uses
    coverage: float  # share of the question's content found in the top passage (0..1)


def measure_support(retrieval: Retrieval, store: Store) -> Support:
    """The signals abstention and confidence are decided on.

    e5 cosines sit in a narrow band (about 0.75-0.93 for any text), so the main signal is
    relative: is the best sentence window of the guide closer to the question than the
    closest of a set of reference passages on other municipal subjects
    (assistant/data/offtopic.txt)? Both sides are measured with the question as asked, so
    English and French questions are judged like Dutch ones. Beside it: the question's
    terms the corpus never uses (a subject the guide lacks: "horeca", "GAS") and how much
    of the question the top passage holds.
    """
    if not retrieval.hits or not len(store.window_vectors):
        return Support(0.0, -1.0, (), 0.0)
    best = float(np.max(store.window_vectors @ retrieval.asked))
    elsewhere = float(np.max(store.offtopic_vectors @ retrieval.asked)) if len(store.offtopic_vectors) else 0.0
    reading, vocabulary = retrieval.reading, retrieval.vocabulary
    unknown: tuple[str, ...] = ()
    if vocabulary is not None:
        terms = [s for s in reading.stems if len(s) >= 4 and not vocabulary.resembles(s)]
        terms += [e for e in reading.entities if not all(t in vocabulary.words for t in tokenize(e))]
        if reading.language != "nl":
            # Abbreviations are words of a language too (RGPD for AVG, SPF for FOD): in an
            # English or French question only numbers, dates and articles are unknown for sure.
            terms = [t for t in terms if any(c.isdigit() for c in t)]
        unknown = tuple(dict.fromkeys(terms))
    top = store.stems_of(retrieval.hits[0].passage.embed_text)
    coverage = share_found(reading, top, vocabulary.idf if vocabulary else None)
    return Support(best, best - elsewhere, unknown, coverage)


def decide_abstain(retrieval: Retrieval, store: Store, settings: Settings, support: Support | None = None) -> bool:
    """True when nothing in the guide supports the question: it is farther from the guide
    than from other municipal subjects (or far from everything; a tie is the guide's
    when the question's words are, see `_tie_held`), or it names a subject
    the corpus never mentions while the guide is only a little closer and the top passage
    holds little of the question. One such word alone (no number) is as often an everyday
    word the corpus happens not to use ("uiteindelijk", "polsen"): it asks for half the
    extra margin. Also when a number or date the question names is in none of the
    passages the answer would quote from ("Is de OCAD-lijst sinds 2022 gegroeid?": the
    guide counts it in 2020), or when it asks for a thing the corpus never names
    ("Welk bedrag ...?"): the guide speaks of the subject, not of what is asked."""
    if _numbers_not_found(retrieval, store, settings.answer_passages) or _asks_for_the_unnamed(retrieval):
        return True
    if retrieval.faq and retrieval.faq.same_question:
        return False  # the Q&A sheet asks this very question
    support = support or measure_support(retrieval, store)
    if not retrieval.hits or support.best < settings.abstain_min_cosine:
        return True
    if support.margin < settings.abstain_margin and not _tie_held(support, settings):
        return True
    if not support.unknown or support.coverage >= settings.abstain_unknown_coverage:
        return False
    needed = settings.abstain_unknown_margin
    if _few_unknown(support.unknown, 1):
        needed = (settings.abstain_margin + needed) / 2
    return support.margin < needed


def _asks_for_the_unnamed(retrieval: Retrieval) -> bool:
    """Whether a Dutch question asks for a thing the corpus never names ("Welk bedrag
    ontving elk van de vijftien pilootgemeenten?": the guide says they got money, never how
    much): its other words find the subject, but not what is asked about it."""
    word = asked_for(retrieval.reading.text) if retrieval.reading.language == "nl" else None
    stems = tokenize(word) if word else []
    return bool(stems) and retrieval.vocabulary is not None and not retrieval.vocabulary.names(stems[0])


def _tie_held(support: Support, settings: Settings) -> bool:
    """Whether a question as close to other municipal subjects as to the guide (a margin
    within `abstain_margin` of zero) is still the guide's: every word of it is the corpus's
    and the top passage holds most of it ("Mag ik informatie delen met de politie?" is as
    close to a reference passage on police databases)."""
    return (
        not support.unknown
        and support.margin > -settings.abstain_margin
        and support.coverage >= settings.abstain_tie_coverage
    )


def _numbers_not_found(retrieval: Retrieval, store: Store, passages: int) -> list[str]:
    """The numbers and dates the question names ("2022", "art. 4", "52/2021") that none of
    its top `passages` holds, in its text or its headings (not their numbering: "1.4 Hoe
    dit draaiboek gebruiken" says nothing about an article 4). A digit written for a count
    is held by its word ("de 3 vaste leden": "drie"; "één" by any passage)."""
    held = frozenset().union(*(store.stems_of(_with_headings(h.passage)) for h in retrieval.hits[:passages]))
    counts = counted(retrieval.reading.text)
    numbers = [e for e in retrieval.reading.entities if any(c.isdigit() for c in e)]
    return [
        e
        for e in numbers
        if not all(t in held for t in _number_terms(e)) and not (e in counts and set(tokenize(counts[e])) <= held)
    ]


_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})")


def _number_terms(entity: str) -> list[str]:
    """The words a passage must hold to hold `entity`: of a date written in digits
    ("30/07/2018", "01.04.2021") its day and year, which the guide writes the same way
    ("30 juli 2018"; its months are words)."""
    date = _NUMERIC_DATE.fullmatch(entity)
    if date:
        day, _, year = date.groups()
        return [str(int(day))] + ([year] if len(year) == 4 else [])
    return tokenize(entity)


_SECTION_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVX]+\.)\s+")


def _with_headings(passage: Passage) -> str:
    return " ".join([*(_SECTION_NUMBER.sub("", heading) for heading in passage.section_path), passage.text])


def confidence(reply: Reply, retrieval: Retrieval, support: Support, settings: Settings, compound: bool = False) -> str:
    """ "high" when the reply can be shown as the guide's answer; "low" otherwise.

    Never high when the answer (its quotes and the headings they are cited under) leaves
    out an abbreviation the question names, or opens with a Q&A entry's yes or no to a
    question that asks for something else. Otherwise
    high: the Q&A sheet asks this very question; or its entry answers the question and
    no more than `confident_unknown` words of the question are unknown to the corpus (an
    entry close to a question about a subject the guide lacks); or the guide is clearly
    closer than other subjects, no term of the question is unknown to the corpus, a
    question asking for a date, number or article gets one, and either the top passage
    leads the next one clearly and the quoted sentences hold most of the question's
    content, or the top passage is a Q&A entry that leads the next by far and the answer
    quotes it first (its answer, in other words than the question's: "Mag de
    Staatsveiligheid mee aanschuiven?" is answered by "Nee. Van de veiligheids- en
    inlichtingendiensten ..."), or the answer quotes the guide's own definition of the term
    the question asks about. One entry answers one question, not a `compound` one.
    """
    if reply.abstained:
        return "low"
    quoted = without_markers(reply.text)  # what the user reads: the quotes, with a term's heading
    cited_under = " ".join(heading for c in reply.citations for heading in c.passage.section_path)
    if not _names_agree(retrieval, f"{quoted} {cited_under}"):
        return "low"
    if _says_yes_or_no_instead(reply, retrieval.reading):
        return "low"
    if reply.mode == "faq":  # a Q&A entry close enough to answer whole, naming what the question names
        same = retrieval.faq is not None and retrieval.faq.same_question
        return "high" if same or _few_unknown(support.unknown, settings.confident_unknown) else "low"
    top = retrieval.hits[0]
    lead = top.score - retrieval.hits[1].score if len(retrieval.hits) > 1 else 1.0
    kind = retrieval.reading.kind
    wants = kind in FACT_KINDS
    supported = (
        support.margin >= settings.confident_margin
        and _few_unknown(support.unknown, settings.confident_unknown)
        and (not wants or holds_answer_kind(kind, quoted, retrieval.reading))
    )
    quotes_entry = top.passage.kind == "faq" and reply.citations[0].passage.id == top.passage.id
    defines = retrieval.definition is not None and reply.citations[0].passage.id == retrieval.definition.id
    sure = supported and (
        (
            lead >= settings.confident_lead
            and overlap(retrieval.reading, quoted, retrieval.vocabulary) >= settings.confident_overlap
        )
        or (quotes_entry and not compound and lead >= settings.confident_entry_lead)
        or (defines and not compound)
    )
    return "high" if sure else "low"


# Questions that ask for a name, a date, a number, an article or a list: "Ja." does not answer them.
_NOT_YES_NO = (*FACT_KINDS, "who", "list")
_YES_OR_NO = re.compile(r"\s*(?:Ja|Nee)\b")


def _says_yes_or_no_instead(reply: Reply, reading: Reading) -> bool:
    """Whether the reply opens with a Q&A entry that answers yes or no ("Ja. Het OCMW en de
    sociale dienst ...") while the question asks for something else ("Wie beslist wie er
    uitgenodigd wordt?"): the entry answers another question, however close its words."""
    first = reply.citations[0].passage if reply.citations else None
    return (
        reading.kind in _NOT_YES_NO and first is not None and first.kind == "faq" and bool(_YES_OR_NO.match(first.text))
    )


def _few_unknown(unknown: tuple[str, ...], allowed: int) -> bool:
    """Whether the question's terms the corpus never uses are few enough for a confident
    answer: one word alone is more often a colloquial word or a form the stemmer does not
    reduce ("zaten", "liep", "erbij") than a subject the guide lacks; a number never is."""
    return len(unknown) <= allowed and not any(c.isdigit() for t in unknown for c in t)


def _names_agree(retrieval: Retrieval, text: str) -> bool:
    """Whether the answer mentions every abbreviation the question names (but the one
    nearly every passage holds): "Aan welk artikel van het EVRM ...?" answered without
    "EVRM" is about something else, however close its passage."""
    ubiquitous = retrieval.vocabulary.ubiquitous if retrieval.vocabulary else frozenset()
    said = set(tokenize(text))
    return all(t in said or t in ubiquitous for t in named_terms(retrieval.reading))


def compose(retrieval: Retrieval, store: Store, settings: Settings, parts: list[Retrieval] | None = None) -> Reply:
    """The reply to a retrieved question: an abstention, a Q&A entry's answer, or quoted sentences.

    `parts` holds the retrieval for each part of a compound question ("Wie zit er in de
    cel, en wie van hen ...?"); each part then contributes its own best sentences.
    """
    support = measure_support(retrieval, store)
    if decide_abstain(retrieval, store, settings, support):
        reply = abstention(retrieval)
    elif retrieval.faq and retrieval.faq.answers and not parts:
        reply = _faq_answer(retrieval.faq.passage)
    else:
        reply = _extractive_answer(retrieval, store, settings, parts or [])
    language = retrieval.reading.language
    return replace(
        reply,
        confidence=confidence(reply, retrieval, support, settings, compound=bool(parts)),
        language=language,
        language_note=LANGUAGE_NOTES.get(language),
    )


# "..., en hoe kan ...?" / "... en op welk artikel ...?": a second question joined by "en"
# (in English and French questions by "and" and "et").
_COMPOUND = re.compile(
    r"(?:,\s*|\s+)(?:en\s+(?=(?:(?:op|voor|in|met|van|bij|door|tot)\s+)?"
    r"(?:wie|wat|welke?|hoe|waar|wanneer|waarom|hoeveel|sinds|mag|moet|kan|kunnen)\b)"
    r"|and\s+(?=(?:(?:in|on|for|from|by|to|under)\s+)?(?:who|what|which|how|where|when|why|since)\b)"
    r"|et\s+(?=(?:(?:à|de|dans|par|pour|sur|depuis)\s+)?(?:qui|que|quel(?:le)?s?|comment|où|quand|pourquoi|combien)\b))",
    re.IGNORECASE,
)


MAX_PARTS = 3  # every part is embedded: a question of 150 parts must not cost 150 questions


def split_question(question: str) -> list[str]:
    """The parts of a compound question (at most MAX_PARTS: the rest stays with the last
    one), or [] when it asks one thing."""
    parts = [p.strip(" ,") for p in _COMPOUND.split(question)]
    parts = [p if p.endswith("?") else f"{p}?" for p in parts if len(p.split()) >= 3]
    if len(parts) > MAX_PARTS:
        parts = parts[: MAX_PARTS - 1] + [" ".join(parts[MAX_PARTS - 1 :])]
    return parts if len(parts) > 1 else []


def abstention(retrieval: Retrieval) -> Reply:
    return Reply(NOT_IN_GUIDE, mode="extractive", abstained=True, suggestions=suggest_sections(retrieval.hits))


def suggest_sections(hits: list[Hit], limit: int = 3) -> list[Citation]:
    """The nearest distinct sections, offered when the guide has no answer."""
    seen, out = set(), []
    for hit in hits:
        key = (hit.passage.doc, hit.passage.anchor)
        if key not in seen:
            seen.add(key)
            out.append(Citation(len(out) + 1, hit.passage, hit.passage.sentences[0]))
        if len(out) == limit:
            break
    return out


def _faq_answer(faq: Passage) -> Reply:
    return Reply(f"{faq.text} [1]", citations=[Citation(1, faq, faq.text)], mode="faq")


def _extractive_answer(retrieval: Retrieval, store: Store, settings: Settings, parts: list[Retrieval]) -> Reply:
    if parts:
        share = replace(settings, answer_words=settings.answer_words // len(parts), answer_sentences=1)
        places = [place for part in parts for place in answer_places(part, store, share)]
    else:
        places = answer_places(retrieval, store, settings)
    if not places:
        top = retrieval.hits[0].passage
        places = [[(top, j) for j in range(min(2, len(top.sentences)))]]
    chosen = _best_first(places)
    # One marker per passage, numbered in reading order; the marker follows each run of
    # sentences from that passage.
    numbers: dict[str, int] = {}
    quotes: dict[str, list[str]] = {}
    pieces: list[str] = []
    for i, (passage, j) in enumerate(chosen):
        n = numbers.setdefault(passage.id, len(numbers) + 1)
        quoted = quotes.setdefault(passage.id, [])
        if quoted and (chosen[i - 1][0].id, chosen[i - 1][1]) != (passage.id, j - 1):
            quoted.append(GAP)  # the quote skips sentences: it says so, and stays verbatim piece by piece
            pieces.append(GAP)
        quoted.append(passage.sentences[j])
        last_of_run = i + 1 == len(chosen) or chosen[i + 1][0].id != passage.id
        piece = _read_with_term(store, passage, j)
        pieces.append(f"{piece} [{n}]" if last_of_run else piece)
    citations = [Citation(n, store.by_id[pid], _join(quotes[pid])) for pid, n in numbers.items()]
    return Reply(_join(pieces), citations=citations, mode="extractive")


def _best_first(places: list[list[tuple[Passage, int]]]) -> list[tuple[Passage, int]]:
    """The places' sentences, the best place first, each place in reading order; places
    from one passage read as one, and no sentence twice."""
    by_passage: dict[str, tuple[Passage, set[int]]] = {}
    for place in places:
        for p, j in place:
            by_passage.setdefault(p.id, (p, set()))[1].add(j)
    return [(p, j) for p, numbers in by_passage.values() for j in sorted(numbers)]


def _read_with_term(store: Store, passage: Passage, j: int) -> str:
    """Sentence j, led by its section's heading when that heading is the term the sentence
    defines: the first sentence of an unnumbered sub-heading of a few words ("### Potentieel
    gewelddadige extremist (PGE)" above "Persoon met een band met België ...") does not
    name what it defines, and "wat is een PGE?" asks for exactly that name."""
    sentence = passage.sentences[j]
    term = j == 0 and bool(passage.terms) and store.previous_in_section(passage) is None
    return f"**{passage.section.strip()}.** {sentence}" if term else sentence


def answer_places(retrieval: Retrieval, store: Store, settings: Settings) -> list[list[tuple[Passage, int]]]:
    """The places that answer the question, best first: the best sentence with what it
    needs to be read (see `_span`), then further places only while they score within
    `answer_gap` of the best and the answer stays within `answer_words`.

    A question for a term the guide defines, with that definition ranked first, gets the
    definition (`Retrieval.definition`). Otherwise candidates are the sentences of the top
    passages. Each is scored by the cosine of its window (heading path + the sentence and
    the next) with the question, less a little per rank of its passage, plus the share of
    the question's content (stems weighted by rarity) that the window holds, plus a bonus
    when it holds the kind of thing asked for (a date for "wanneer", a number for
    "hoeveel", an article for "welk artikel").
    """
    definition = retrieval.definition
    if definition is not None and retrieval.hits and retrieval.hits[0].passage.id == definition.id:
        return [_opening(definition, settings.answer_words)]  # the guide's own definition, from its start
    candidates = sorted(_scored_sentences(retrieval, store, settings), key=lambda c: -c[0])
    best = candidates[0][0] if candidates else 0.0
    near = [c for c in candidates if c[0] >= best - settings.answer_gap]
    lead_in = _list_lead_in(retrieval, store, settings, near)
    if lead_in is not None:  # the list goes first; it is quoted whole, as a list is
        candidates = [lead_in] + [c for c in candidates if c is not lead_in]
    places: list[list[tuple[Passage, int]]] = []
    taken: set[tuple[str, int]] = set()
    for score, passage, i in candidates:
        if len(places) >= settings.answer_sentences or score < best - settings.answer_gap:
            break
        if (passage.id, i) in taken:
            continue
        place = _span(store, passage, i, settings.answer_words, retrieval.reading.kind)
        if places and _place_words(places + [place]) > settings.answer_words:
            break
        if places and not _about_the_question(retrieval, store, place):
            continue  # a place beside the answer, close in meaning, that speaks of something else
        places.append(place)
        taken |= {(p.id, j) for p, j in place}
    return places


def _about_the_question(retrieval: Retrieval, store: Store, place: list[tuple[Passage, int]]) -> bool:
    """Whether the passages of `place` (with their headings) hold any of the question's
    content words, leaving out those nearly every passage holds ("LIVC-R"). "Wie zit de
    LIVC-R voor?" drew Vraag 1's definition of a LIVC-R as a second place: near in meaning,
    it names nothing the question asks about."""
    ubiquitous = retrieval.vocabulary.ubiquitous if retrieval.vocabulary else frozenset()
    wanted = [t for t in retrieval.reading.stems if t not in ubiquitous]
    held = frozenset().union(*(store.stems_of(_with_headings(p)) for p in {p.id: p for p, _ in place}.values()))
    return not wanted or any(t in held for t in wanted)


def _opening(passage: Passage, budget: int) -> list[tuple[Passage, int]]:
    """The passage's sentences from the first, as many as fit in `budget` words (at least one)."""
    place, words = [], 0
    for j, sentence in enumerate(passage.sentences):
        words += len(sentence.split())
        if place and words > budget:
            break
        place.append((passage, j))
    return place


def _list_lead_in(retrieval: Retrieval, store: Store, settings: Settings, near: list):
    """The best of the `near` candidates that announces a list and itself names most of
    what the question is about ("Een huishoudelijk reglement bevat bij voorkeur:" for
    "Wat zetten we het best in het huishoudelijk reglement?"): such a list is the guide's
    answer, though its items' windows may score lower than the prose beside it. Not for
    a question asking for one fact, which one item answers."""
    if retrieval.reading.kind in FACT_KINDS:
        return None
    idf = retrieval.vocabulary.idf if retrieval.vocabulary else None
    for candidate in near:
        _, passage, i = candidate
        if not _announces_list(passage, i):
            continue
        lead_in = store.stems_of(_lead_in_text(store, passage, i))
        if share_found(retrieval.reading, lead_in, idf) >= settings.list_lead_overlap:
            return candidate
    return None


def _lead_in_text(store: Store, passage: Passage, i: int) -> str:
    """A list's lead-in, with its section's heading when it opens the section: "Elke
    LIVC-R moet minstens bestaan uit:" under "5.1 Minimale samenstelling volgens de wet"
    is announced by both."""
    opens_section = i == 0 and store.previous_in_section(passage) is None
    return f"{passage.section} {passage.sentences[i]}" if opens_section else passage.sentences[i]


def _announces_list(passage: Passage, i: int) -> bool:
    sentences = passage.sentences
    return sentences[i].rstrip().endswith(":") and i + 1 < len(sentences) and is_line(sentences[i + 1])


def _scored_sentences(retrieval: Retrieval, store: Store, settings: Settings):
    reading, vocabulary = retrieval.reading, retrieval.vocabulary
    idf = vocabulary.idf if vocabulary else None
    for rank, hit in enumerate(retrieval.hits[: settings.answer_passages]):
        passage = hit.passage
        if rank and passage.is_preface:
            continue  # a document's preface answers a question about the document, ranked first
        start, end = store.sentence_rows[passage.id]
        sims = store.window_vectors[start:end] @ retrieval.vector
        for i, sentence in enumerate(passage.sentences):
            if len(sentence.split()) < 4 or _is_label(sentence):
                continue
            window = passage.sentence_pair(i)
            yield (
                (
                    float(sims[i])
                    - settings.rank_penalty * rank
                    + settings.overlap_weight * share_found(reading, store.stems_of(window), idf)
                    + settings.kind_weight * holds_answer_kind(reading.kind, window, reading)
                ),
                passage,
                i,
            )


def _place_words(places: list[list[tuple[Passage, int]]]) -> int:
    return sum(
        len(p.sentences[j].split()) for p, j in {(p.id, j): (p, j) for place in places for p, j in place}.values()
    )


def overlap(reading: Reading, text: str, vocabulary: Vocabulary | None) -> float:
    """The share of the question's content stems found in `text`, each weighted by its
    rarity in the corpus (0 when the question has none)."""
    return share_found(reading, tokenize(text), vocabulary.idf if vocabulary else None)


# A sentence that opens like this leans on the one before it ("Daarom ...", "Die ...").
_LEANS_BACK = re.compile(
    r"^(?:dat|die|deze|dit|zo|hij|zij|ze|het|hun|dan|toch|maar|hiervoor|hierbij|daarvoor|dergelijke|zulke|ook)\b"
    r"|^(?:\W*\w+\W+){0,2}(?:daarom|daardoor|daarbij|daarnaast|daarna|dus|echter|bovendien|hierdoor|immers|"
    r"evenmin|tevens|eveneens)\b",
    re.IGNORECASE,
)


def _span(store: Store, passage: Passage, i: int, budget: int, kind: str = "open") -> list[tuple[Passage, int]]:
    """Sentence i with what it needs to be read on its own: a table row with the table's
    header row and the next row (the row's window, which is what was scored); a list whole
    with its lead-in (a list item brings its list; a sentence announcing a list brings it),
    except that, unless the question asks for a list, an item comes only with the lead-in
    and the list the item itself announces when the whole list is longer than the answer
    may be (a list of labelled paragraphs, such as what the law of 2018 regulates, runs
    to 270 words; the item holds the answer); the next sentence while the
    answer is short, and the sentence before when the first one leans on it ("Leg daarom
    ..."). A question asking for a list gets the list its sentence's window announces,
    from the lead-in on. In a Q&A entry, everything from the entry's first sentence, which
    holds its answer."""
    sentences = passage.sentences
    if passage.kind == "faq":
        return _with_list(store, passage, list(range(0, min(max(i, 1), len(sentences) - 1) + 1)))
    if is_row(sentences[i]):
        header = i
        while header > 0 and is_row(sentences[header - 1]):
            header -= 1
        rows = [header, i] + ([i + 1] if i + 1 < len(sentences) and is_row(sentences[i + 1]) else [])
        return [(passage, j) for j in dict.fromkeys(rows)]
    if is_line(sentences[i]):
        first = i
        while first > 0 and is_line(sentences[first - 1]):
            first -= 1
        lead = first - 1 if first > 0 and sentences[first - 1].rstrip().endswith(":") else first
        leaning = _leaning_on(store, passage, lead)
        whole = _with_list(store, passage, list(range(lead, first)) + [first])
        if kind != "list" and _place_words([whole]) > budget:
            head = _head_item(sentences, i)  # a sub-item comes with its parent item and their list
            item = [*range(lead, first), head, *_sublist(sentences, head)]
            return leaning + [(passage, j) for j in dict.fromkeys(item)]
        return leaning + whole
    elif kind == "list" and i + 1 < len(sentences) and sentences[i + 1].rstrip().endswith(":"):
        chosen = [i + 1]
    else:
        chosen = [i]
        following = sentences[i + 1] if i + 1 < len(sentences) else None
        if (
            following
            and not sentences[i].rstrip().endswith(":")
            and not _is_label(following)
            and not is_line(following)
            and len(f"{sentences[i]} {following}".split()) <= budget
        ):
            chosen.append(i + 1)
    return _leaning_on(store, passage, chosen[0]) + _with_list(store, passage, chosen)


def _leaning_on(store: Store, passage: Passage, i: int) -> list[tuple[Passage, int]]:
    """The sentence that sentence i leans on ("Daarom ...", "Die ...", a lower-case
    start), also across a passage boundary within the section; [] when it stands alone."""
    sentence = passage.sentences[i]
    if not (_LEANS_BACK.match(sentence) or sentence[:1].islower()):
        return []
    previous = (passage, i - 1) if i > 0 else _last_of_previous(store, passage)
    if previous is None:
        return []
    text = previous[0].sentences[previous[1]]
    return [] if is_line(text) or _is_label(text) else [previous]


def _last_of_previous(store: Store, passage: Passage) -> tuple[Passage, int] | None:
    """The last sentence of the passage before `passage` in its section, if any."""
    earlier = store.previous_in_section(passage)
    return (earlier, len(earlier.sentences) - 1) if earlier and earlier.sentences else None


def _with_list(store: Store, passage: Passage, chosen: list[int]) -> list[tuple[Passage, int]]:
    """The chosen sentences and, when the last announces a list (or is its first item),
    the whole list, followed into the section's next passage."""
    out = [(passage, j) for j in chosen]
    last = passage.sentences[chosen[-1]]
    if not (last.rstrip().endswith(":") or is_line(last)):
        return out
    for p, j in _following(store, passage, chosen[-1]):
        if not is_line(p.sentences[j]) or len(out) >= MAX_LIST_ITEMS:
            break
        out.append((p, j))
    return out


def _sublist(sentences: list[str], i: int) -> list[int]:
    """The items of the list that item i announces ("- **Samenstelling.** ... bestaat uit:"
    followed by "1. ...", "2. ..."): the lines after it marked the other way."""
    if not sentences[i].rstrip().endswith(":"):
        return []
    numbered = sentences[i].lstrip()[:1].isdigit()
    out = []
    for j in range(i + 1, len(sentences)):
        if not is_line(sentences[j]) or sentences[j].lstrip()[:1].isdigit() == numbered:
            break
        out.append(j)
    return out


def _head_item(sentences: list[str], i: int) -> int:
    """The item that heads item i's own list: for a sublist item ("2. de korpschef ...")
    the item announcing the sublist ("- **Minimale samenstelling** ... bestaat minstens
    uit:"), without which it reads as a stray line; else i itself."""
    numbered = sentences[i].lstrip()[:1].isdigit()
    for j in range(i - 1, -1, -1):
        if not is_line(sentences[j]):
            return i
        if sentences[j].lstrip()[:1].isdigit() != numbered:
            return j if sentences[j].rstrip().endswith(":") else i
    return i


def _is_label(sentence: str) -> bool:
    """A bold run-in heading such as "**De omzendbrief van 22 mei 2018.**": a label, not a statement."""
    return bool(re.fullmatch(r"\*\*[^*]+\*\*", sentence.strip()))


def _following(store: Store, passage: Passage, i: int):
    """The sentences after sentence i, through the rest of the passage's section."""
    while passage is not None:
        for j in range(i + 1, len(passage.sentences)):
            yield passage, j
        passage, i = store.next_in_section(passage), -1


def _join(parts: list[str]) -> str:
    """Sentences joined into Markdown: list items and table rows on their own line, and a
    sentence after a list in a paragraph of its own (not run on into the last item)."""
    out = ""
    after_item = False
    for part in parts:
        item = is_line(part)
        if not out:
            out = part
        elif item or out.rstrip().endswith(":"):
            out += "\n" + part
        elif after_item:
            out += "\n\n" + part
        else:
            out += " " + part
        after_item = item
    return out
