"""``livc eval --verifier``: precision and recall of the sentence check of generated answers
(assistant.core.generation.verify), on a verification set built from the corpus itself.

Positives, each checked against its own passage: sentences of a passage as they stand, and
light rewrites of them (``word_order``: the parts around a comma or an "en" swapped;
``synonym``: one word replaced by a synonym; ``dropped_clause``: a clause between commas or
in brackets left out). Negatives: the same sentences with a number, date, name or article
number swapped for another one the corpus uses (``number``, ``date``, ``name``,
``article``), negated or un-negated (``negation``), or checked against another passage of
the same chapter (``other_passage``).

The two thresholds (``verify_min_overlap``, ``verify_min_cosine``) are calibrated here: the
cases are split by passage into a calibration half and a held-out half; on the calibration
half the pair with the highest recall at a precision of at least ``TARGET_PRECISION`` is
chosen, and the held-out half reports what that choice gives. The figures at the configured
thresholds, over all cases, are the result's ``precision`` and ``recall``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...core.chunking import Passage
from ...core.generation.verify import NEGATIONS, Measures, Thresholds, Verifier, dates, names
from ...core.lexical import fold, tokenize

TARGET_PRECISION = 0.98
TARGET_RECALL = 0.90
SENTENCES = 240  # base sentences drawn from the corpus
SEED = 14
POSITIVE_KINDS = ("verbatim", "word_order", "synonym", "dropped_clause")
NEGATIVE_KINDS = ("number", "date", "name", "article", "negation", "other_passage")
OVERLAPS = [round(0.30 + 0.05 * i, 2) for i in range(14)]  # 0.30 .. 0.95
COSINES = [round(0.80 + 0.005 * i, 3) for i in range(31)]  # 0.800 .. 0.950

# One word each, replaced by a synonym the guide's register allows.
SYNONYMS = {
    "moet": "dient",
    "moeten": "dienen",
    "belangrijk": "van belang",
    "ook": "eveneens",
    "altijd": "steeds",
    "bijvoorbeeld": "onder meer",
    "daarom": "om die reden",
    "nodig": "vereist",
    "verschillende": "diverse",
    "echter": "evenwel",
    "snel": "vlug",
    "krijgt": "ontvangt",
    "krijgen": "ontvangen",
    "helpen": "ondersteunen",
    "gebruiken": "hanteren",
    "maakt": "stelt op",
    "vaak": "dikwijls",
    "alleen": "enkel",
    "samen": "gezamenlijk",
    "doel": "opzet",
    "zorgt": "draagt zorg",
    "beslist": "besluit",
    "bespreekt": "behandelt",
    "informatie": "gegevens",
}
_ARTICLE = re.compile(
    r"\b(art(?:ikel|\.)?\s*)(\d+(?:bis|ter|quater|quinquies)?)\b|\b(\d+(?:bis|ter|quater|quinquies))\b", re.I
)
_PLAIN_NUMBER = re.compile(r"(?<![\w.,/-])\d{1,6}(?![\w.,/-]\d)")
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_NAME_TOKEN = re.compile(r"(?<![\w-])[A-Z][\w-]{2,}")
_FINITE = (
    "is zijn wordt worden kan kunnen moet moeten mag mogen heeft hebben zal zullen blijft blijven "
    "gaat gaan neemt nemen krijgt krijgen"
).split()


@dataclass
class Case:
    kind: str
    positive: bool
    sentence: str
    cited: Passage  # the passage it is checked against
    group: str  # the source passage's id: the calibration split keeps a passage's cases together


# ---------------------------------------------------------------------------
# The verification set


def base_sentences(passages: list[Passage], limit: int, rng: random.Random) -> list[tuple[Passage, str]]:
    """Sentences of 6 to 50 words that read as prose (no list items, labels or headings)."""
    pool = [
        (p, s)
        for p in passages
        for s in p.sentences
        if 6 <= len(s.split()) <= 50 and s[-1:] in ".!?" and not re.match(r"^\s*(?:[-*•]|\d+[.)])\s", s)
    ]
    rng.shuffle(pool)
    return pool[:limit]


def rewrites(sentence: str, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, text) for each light rewrite that applies to `sentence`."""
    out = []
    body, end = sentence[:-1], sentence[-1]
    if ", " in body:
        first, rest = body.split(", ", 1)
        if len(rest.split()) >= 3 and len(first.split()) >= 2:
            out.append(("word_order", f"{_upper(rest)}, {_lower(first)}{end}"))
    elif " en " in body:
        first, rest = body.split(" en ", 1)
        if len(first.split()) >= 3 and len(rest.split()) >= 3:
            out.append(("word_order", f"{_upper(rest)} en {_lower(first)}{end}"))
    words = body.split(" ")
    swappable = [i for i, w in enumerate(words) if w.lower() in SYNONYMS]
    if swappable:
        i = rng.choice(swappable)
        words2 = list(words)
        words2[i] = SYNONYMS[words[i].lower()]
        out.append(("synonym", " ".join(words2) + end))
    dropped = _drop_clause(body)
    if dropped and not (set(re.findall(r"\w+", fold(body))) - set(re.findall(r"\w+", fold(dropped)))) & NEGATIONS:
        out.append(("dropped_clause", dropped + end))
    return out


def _drop_clause(body: str) -> str | None:
    bracket = re.search(r"\s*\([^()]{3,}\)", body)
    if bracket:
        shorter = body[: bracket.start()] + body[bracket.end() :]
    else:
        parts = body.split(", ")
        if len(parts) < 3:
            return None
        shorter = ", ".join([parts[0], *parts[2:]])
    return shorter if len(shorter.split()) >= 5 else None


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower(text: str) -> str:
    # An abbreviation stays as written ("OCAD ...").
    return text if text.split(" ", 1)[0].isupper() else text[:1].lower() + text[1:]


class Swaps:
    """The numbers, years, article numbers and names the corpus uses, to swap in."""

    def __init__(self, passages: list[Passage]):
        text = "\n".join(p.text for p in passages)
        self.numbers = sorted({m.group() for m in _PLAIN_NUMBER.finditer(text)} - {str(y) for y in range(1900, 2100)})
        self.years = sorted({m.group() for m in _YEAR.finditer(text)})
        self.articles = sorted({(m.group(2) or m.group(3)) for m in _ARTICLE.finditer(text)})
        # Names as the check reads them: capitalised inside a sentence, and no stop word.
        found = {m.group() for p in passages for s in p.sentences for m in _NAME_TOKEN.finditer(s)}
        self.names = sorted(n for n in found if fold(n) in names(f"x {n}") and tokenize(n))

    def other(self, pool: list[str], avoid: str, passage: Passage, rng: random.Random) -> str | None:
        """A value of `pool` that `passage` does not hold anywhere."""
        words = set(re.findall(r"\w+", fold(passage.embed_text)))
        choices = [v for v in pool if v != avoid and not set(re.findall(r"\w+", fold(v))) <= words]
        return rng.choice(choices) if choices else None


def negatives(sentence: str, passage: Passage, swaps: Swaps, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, text) for each fact swap and negation that applies to `sentence`."""
    out = []
    article = _ARTICLE.search(sentence)
    if article:
        value = article.group(2) or article.group(3)
        other = swaps.other(swaps.articles, value, passage, rng)
        if other:
            start, end = article.span(2) if article.group(2) else article.span(3)
            out.append(("article", sentence[:start] + other + sentence[end:]))
    year = _YEAR.search(sentence)
    if year and dates(sentence) | {year.group()}:
        other = swaps.other(swaps.years, year.group(), passage, rng)
        if other:
            out.append(("date", sentence[: year.start()] + other + sentence[year.end() :]))
    number = next((m for m in _PLAIN_NUMBER.finditer(sentence) if not _YEAR.fullmatch(m.group())), None)
    if number and not (article and number.start() >= article.start() and number.end() <= article.end()):
        other = swaps.other(swaps.numbers, number.group(), passage, rng)
        if other:
            out.append(("number", sentence[: number.start()] + other + sentence[number.end() :]))
    present = [m for m in _NAME_TOKEN.finditer(sentence) if fold(m.group()) in names(sentence)]
    if present:
        m = rng.choice(present)
        other = swaps.other(swaps.names, m.group(), passage, rng)
        if other:
            out.append(("name", sentence[: m.start()] + other + sentence[m.end() :]))
    flipped = negate(sentence)
    if flipped:
        out.append(("negation", flipped))
    return out


def negate(sentence: str) -> str | None:
    """The sentence negated (or its negation removed)."""
    words = sentence.split(" ")
    for i, w in enumerate(words):
        if fold(w) == "niet":
            return " ".join(words[:i] + words[i + 1 :])
        if fold(w) == "geen":
            return " ".join(words[:i] + ["een"] + words[i + 1 :])
    for i, w in enumerate(words[:-1]):
        if fold(w) in _FINITE:
            if fold(words[i + 1]) == "een":
                return " ".join(words[: i + 1] + ["geen"] + words[i + 2 :])
            return " ".join(words[: i + 1] + ["niet"] + words[i + 1 :])
    return None


def other_passage(passage: Passage, by_chapter: dict[str, list[Passage]], rng: random.Random) -> Passage | None:
    """Another passage of the same chapter (another section where there is one)."""
    siblings = [p for p in by_chapter.get(_chapter(passage), []) if p.id != passage.id]
    elsewhere = [p for p in siblings if p.anchor != passage.anchor] or siblings
    return rng.choice(elsewhere) if elsewhere else None


def _chapter(passage: Passage) -> str:
    return f"{passage.doc}#{passage.section_path[0] if passage.section_path else ''}"


def build_cases(passages: list[Passage], limit: int = SENTENCES, seed: int = SEED) -> list[Case]:
    """The verification set: positives and negatives from `limit` sentences of the corpus."""
    rng = random.Random(seed)
    swaps = Swaps(passages)
    by_chapter: dict[str, list[Passage]] = {}
    for p in passages:
        by_chapter.setdefault(_chapter(p), []).append(p)
    cases: list[Case] = []
    for passage, sentence in base_sentences(passages, limit, rng):
        cases.append(Case("verbatim", True, sentence, passage, passage.id))
        cases += [Case(k, True, t, passage, passage.id) for k, t in rewrites(sentence, rng)]
        cases += [Case(k, False, t, passage, passage.id) for k, t in negatives(sentence, passage, swaps, rng)]
        other = other_passage(passage, by_chapter, rng)
        if other is not None:
            cases.append(Case("other_passage", False, sentence, other, passage.id))
    return cases


# ---------------------------------------------------------------------------
# Measuring and choosing thresholds


def measure_cases(cases: list[Case], verifier: Verifier) -> list[Measures]:
    texts = sorted({c.sentence for c in cases})
    vectors = verifier.embed(texts)
    index = {t: i for i, t in enumerate(texts)}
    return [verifier.measure(c.sentence, [c.cited], vectors[index[c.sentence]]) for c in cases]


def accepted(m: Measures, t: Thresholds) -> bool:
    return m.facts and m.negation and m.overlap >= t.min_overlap and m.cosine >= t.min_cosine


def figures(cases: list[Case], measures: list[Measures], t: Thresholds) -> dict[str, Any]:
    """Precision and recall of accepting at `t`, and per kind the share accepted."""
    ok = [accepted(m, t) for m in measures]
    tp = sum(a and c.positive for a, c in zip(ok, cases))
    fp = sum(a and not c.positive for a, c in zip(ok, cases))
    positives = sum(c.positive for c in cases)
    negatives_ = len(cases) - positives
    by_kind = {}
    for kind in POSITIVE_KINDS + NEGATIVE_KINDS:
        rows = [a for a, c in zip(ok, cases) if c.kind == kind]
        if rows:
            share = sum(rows) / len(rows)
            by_kind[kind] = {
                "n": len(rows),
                "positive": kind in POSITIVE_KINDS,
                # For a positive kind the share accepted (recall), for a negative one the share rejected.
                "accepted" if kind in POSITIVE_KINDS else "rejected": round(
                    share if kind in POSITIVE_KINDS else 1 - share, 4
                ),
            }
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / positives, 4) if positives else None,
        "negatives_rejected": round(1 - fp / negatives_, 4) if negatives_ else None,
        "n_positive": positives,
        "n_negative": negatives_,
        "by_kind": by_kind,
    }


def calibrate(cases: list[Case], measures: list[Measures]) -> tuple[Thresholds, dict]:
    """The (overlap, cosine) pair with the highest recall at precision >= TARGET_PRECISION
    (ties: the higher precision, then the stricter pair)."""
    best, best_key = Thresholds(OVERLAPS[-1], COSINES[-1]), (-1.0, -1.0, 0.0, 0.0)
    for o in OVERLAPS:
        for c in COSINES:
            f = figures(cases, measures, Thresholds(o, c))
            if f["precision"] is None or f["precision"] < TARGET_PRECISION:
                continue
            key = (f["recall"], f["precision"], o, c)
            if key > best_key:
                best, best_key = Thresholds(o, c), key
    return best, {"precision": best_key[1], "recall": best_key[0]}


def held_out(case: Case) -> bool:
    """Half of the passages, by a hash of their id: the cases the calibration never sees."""
    return hashlib.sha256(case.group.encode()).digest()[0] % 2 == 1


def run_verifier_eval(assistant: Any, report_dir: Path | None = None, json_path: Path | None = None) -> dict:
    """Build the set from the assistant's index, calibrate, and report (see the module docstring)."""
    store = assistant.store
    configured = Thresholds.of(assistant.settings)
    verifier = Verifier.for_store(store, assistant.embedder, configured)
    cases = build_cases(store.passages)
    measures = measure_cases(cases, verifier)
    split = [held_out(c) for c in cases]
    calib = ([c for c, h in zip(cases, split) if not h], [m for m, h in zip(measures, split) if not h])
    test = ([c for c, h in zip(cases, split) if h], [m for m, h in zip(measures, split) if h])
    chosen, on_calibration = calibrate(*calib)
    result = {
        **figures(cases, measures, configured),
        "thresholds": {"min_overlap": configured.min_overlap, "min_cosine": configured.min_cosine},
        "calibration": {
            "target_precision": TARGET_PRECISION,
            "target_recall": TARGET_RECALL,
            "chosen": {"min_overlap": chosen.min_overlap, "min_cosine": chosen.min_cosine},
            "on_calibration_half": on_calibration,
            "on_held_out_half": figures(*test, chosen),
            "configured_on_held_out_half": figures(*test, configured),
        },
        "signals": _signal_summary(cases, measures),
    }
    out = {"verifier": result}
    for path in [json_path, report_dir and Path(report_dir) / "verifier.json"]:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def _signal_summary(cases: list[Case], measures: list[Measures]) -> dict:
    """Per kind the median overlap and cosine, and how often the fact and negation checks held."""
    out = {}
    for kind in POSITIVE_KINDS + NEGATIVE_KINDS:
        rows = [m for m, c in zip(measures, cases) if c.kind == kind]
        if rows:
            out[kind] = {
                "overlap_median": round(float(np.median([m.overlap for m in rows])), 3),
                "cosine_median": round(float(np.median([m.cosine for m in rows])), 4),
                "facts_held": round(sum(m.facts for m in rows) / len(rows), 3),
                "negation_held": round(sum(m.negation for m in rows) / len(rows), 3),
            }
    return out


def format_verifier(out: dict) -> str:
    v = out["verifier"]
    cal = v["calibration"]
    lines = [
        f"verifier at overlap >= {v['thresholds']['min_overlap']}, cosine >= {v['thresholds']['min_cosine']}: "
        f"precision {v['precision']}, recall {v['recall']}, negatives rejected {v['negatives_rejected']} "
        f"({v['n_positive']} positive, {v['n_negative']} negative)",
    ]
    for kind, f in v["by_kind"].items():
        label = "accepted" if f["positive"] else "rejected"
        lines.append(f"  {kind:<15} n={f['n']:<4} {label} {f.get(label)}")
    held = cal["on_held_out_half"]
    lines.append(
        f"calibrated on half the passages: overlap >= {cal['chosen']['min_overlap']}, cosine >= "
        f"{cal['chosen']['min_cosine']} (precision {cal['on_calibration_half']['precision']}, recall "
        f"{cal['on_calibration_half']['recall']}); on the held-out half: precision {held['precision']}, "
        f"recall {held['recall']}"
    )
    return "\n".join(lines)
