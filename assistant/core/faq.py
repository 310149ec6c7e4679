"""Q&A matching: is the question asked one of the Q&A sheet's own questions?

The one place that decides it. Retrieval calls `match_question` after ranking; it puts a
rephrased Q&A question first and returns a `FaqMatch` whose flags the answer step only
reads (`answers`: the entry's answer can stand as the whole answer; `same_question`:
never abstain on it).

Question-to-question similarity is only trustworthy at the top and with a clear lead:
every short question naming "LIVC-R" scores above 0.92 against "Wat is een LIVC-R?", and
"Wie zit de LIVC-R voor?" scores 0.975 against it but 0.969 against "Wie leidt de
LIVC-R?". A match needs a lead of `faq_margin` over the next entry's question, and is
the same question only when it asks for the same kind of thing (who, when, yes or no...).
"""

from __future__ import annotations

import numpy as np

from .lexical import tokenize
from .question import Reading, analyse, defined_term, lacks_detail
from .settings import Settings
from .types import FaqMatch, Hit, Passage, with_first


def match_question(
    store, asked: np.ndarray, hits: list[Hit], settings: Settings, reading: Reading
) -> tuple[list[Hit], FaqMatch | None]:
    """`hits` with a rephrased Q&A question first, and the match (None without a clear one).

    `asked` is the embedding of the question as asked; `store` holds one embedded
    question per Q&A entry (`faq_vectors`, `faq_ids`). An entry that leaves out a detail
    the question asks about ("Welk artikel van de wet ...?" for the entry on what the law
    regulates) is not the same question, however close, and does not answer it whole."""
    if len(store.faq_ids) < 2:
        return hits, None
    sims = store.faq_vectors @ asked
    second, best = np.argsort(sims)[-2:]
    if sims[best] - sims[second] < settings.faq_margin:
        return hits, None
    passage, similarity = store.by_id[store.faq_ids[best]], float(sims[best])
    text = passage.embed_text
    complete = not lacks_detail(reading, text, store.stems_of(text), store.vocabulary.ubiquitous)
    close = similarity >= settings.faq_same_question
    same_question = complete and close and _same_kind(reading, passage) and _same_term(reading, passage)
    if same_question:
        hits = with_first(hits, passage)
    answers = complete and bool(hits) and hits[0].passage.id == passage.id and similarity >= settings.faq_min_similarity
    return hits, FaqMatch(passage, similarity, answers=answers, same_question=same_question)


def _same_kind(reading: Reading, entry: Passage) -> bool:
    """Whether the entry's question asks for what the question asks: "Is een LIVC-R
    verplicht?" (yes or no) and "Uit wie bestaat een LIVC-R minstens?" (who) score 0.97
    against "Wat is een LIVC-R?" but are other questions. An open question ("Wat bedoelen
    ze met ...?", "Waar staan de letters ... voor?") may match an entry of any kind."""
    return reading.kind == "open" or analyse(entry.question).kind == reading.kind


def _same_term(reading: Reading, entry: Passage) -> bool:
    """Whether an entry asking for a definition defines the term the question asks about:
    "Wat is het OCAD?" scores 0.9 against "Wat is de "OCAD-lijst"?", a list the OCAD keeps."""
    asked, defined = defined_term(reading.text), defined_term(entry.question)
    return asked is None or defined is None or set(tokenize(asked)) == set(tokenize(defined))
