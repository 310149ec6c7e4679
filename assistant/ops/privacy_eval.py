"""Measuring the personal-data guard (`assistant.core.privacy`): ``livc privacy-eval``.

Precision and recall per kind on invented case sentences, and false positives on the
gold questions (which hold no personal data).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core.documents import load_corpus
from ..core.privacy import KINDS, Finding, PublicNames, kinds_of, scan


def load_cases(path: Path) -> list[dict]:
    """Case rows: {"id", "text", "spans": [{"kind", "text"}]}; spans found by their text."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            row["gold"] = _gold_spans(row)
            rows.append(row)
    return rows


def _gold_spans(row: dict) -> list[Finding]:
    spans, taken = [], 0
    for span in row.get("spans", []):
        start = row["text"].find(span["text"], taken if span.get("after_previous") else 0)
        if start < 0:
            raise ValueError(f"{row['id']}: span {span['text']!r} not in the text")
        spans.append(Finding(span["kind"], start, start + len(span["text"])))
        taken = start + len(span["text"])
    return spans


def score_cases(rows: list[dict], public: PublicNames) -> dict:
    """Per kind and overall: true positives, false positives, false negatives, precision,
    recall. A finding counts when it overlaps a gold span of the same kind."""
    counts = {k: {"tp": 0, "fp": 0, "fn": 0} for k in KINDS}
    misses = []
    for row in rows:
        found = scan(row["text"], public)
        matched = set()
        for f in found:
            hit = next(
                (
                    i
                    for i, g in enumerate(row["gold"])
                    if i not in matched and g.kind == f.kind and f.start < g.end and g.start < f.end
                ),
                None,
            )
            if hit is None:
                counts[f.kind]["fp"] += 1
                misses.append({"id": row["id"], "false_positive": f.kind, "text": row["text"][f.start : f.end]})
            else:
                matched.add(hit)
                counts[f.kind]["tp"] += 1
        for i, g in enumerate(row["gold"]):
            if i not in matched:
                counts[g.kind]["fn"] += 1
                misses.append({"id": row["id"], "missed": g.kind, "text": row["text"][g.start : g.end]})
    total = {key: sum(c[key] for c in counts.values()) for key in ("tp", "fp", "fn")}
    result = {k: _rates(c) for k, c in {**counts, "overall": total}.items()}
    result["errors"] = misses
    return result


def _rates(c: dict) -> dict:
    found, real = c["tp"] + c["fp"], c["tp"] + c["fn"]
    return {
        **c,
        "precision": round(c["tp"] / found, 3) if found else None,
        "recall": round(c["tp"] / real, 3) if real else None,
    }


def gold_false_positives(paths: list[Path], public: PublicNames) -> dict:
    """Questions (and follow-up histories) of gold files hold no personal data: every
    finding there is a false positive."""
    texts = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts.append(row["question"])
                texts.extend(row.get("history", []))
    flagged = [{"text": t, "kinds": kinds_of(scan(t, public))} for t in texts if scan(t, public)]
    return {
        "questions": len(texts),
        "flagged": len(flagged),
        "rate": round(len(flagged) / max(len(texts), 1), 3),
        "examples": flagged,
    }


def evaluate(cases: Path, gold: list[Path], corpus_dir: Path) -> dict:
    """The whole measurement, with the corpus's own names as public names."""
    documents = load_corpus(corpus_dir)[0]
    public = PublicNames.from_texts(s.heading + "\n" + s.text for d in documents for s in d.sections)
    return {"cases": score_cases(load_cases(cases), public), "gold": gold_false_positives(gold, public)}


def format_report(result: dict) -> str:
    """A plain-text table of the measurement."""
    lines = [f"{'kind':<16} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>8}"]
    for kind in (*KINDS, "overall"):
        r = result["cases"][kind]
        p = "-" if r["precision"] is None else f"{r['precision']:.3f}"
        q = "-" if r["recall"] is None else f"{r['recall']:.3f}"
        lines.append(f"{kind:<16} {r['tp']:>4} {r['fp']:>4} {r['fn']:>4} {p:>10} {q:>8}")
    g = result["gold"]
    lines.append(f"gold questions: {g['flagged']} of {g['questions']} flagged (false-positive rate {g['rate']:.3f})")
    for e in result["cases"]["errors"]:
        lines.append(
            f"  {e['id']}: "
            + (f"missed {e['missed']}" if "missed" in e else f"false {e['false_positive']}")
            + f" {e['text']!r}"
        )
    for e in g["examples"]:
        lines.append(f"  gold flagged {e['kinds']}: {e['text']!r}")
    return "\n".join(lines)
