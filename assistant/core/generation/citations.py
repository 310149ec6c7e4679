"""What models write, made regular: thinking removed, citation markers in one form, the
reply cut into sentences as they complete in the stream.

Models asked for ``[n]`` write it in many ways: ``[ID:2]``, ``【2】`` or ``【2†bron】``,
``[1, 2]``, ``[1-3]``, ``(2)``, ``[^2]``, ``[bron 2]``, and put it before or after the
full stop. Everything becomes ``[n]`` markers after the sentence's text, and
``<think>…</think>`` (reasoning models) is dropped, also while it is still open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..chunking import split_sentences

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_LABEL = r"(?:ID|id|Id|bron|Bron|source|Source|passage|Passage|ref|nr\.?)?\s*[:=#]?\s*"
_NUMBERS = r"\d{1,2}(?:\s*(?:,|;|-|–|en|and)\s*\d{1,2})*"
_MARKER_FORMS = [
    re.compile(rf"【\s*{_LABEL}({_NUMBERS})(?:\s*†[^】]*)?\s*】"),
    re.compile(rf"\[\^?\s*{_LABEL}({_NUMBERS})\s*\]"),
    # "(2)" or "(bron 2)" only where a marker stands: before punctuation, a line end or
    # another marker, so "lid (2) van" in a sentence stays text.
    re.compile(rf"\(\s*{_LABEL}({_NUMBERS})\s*\)(?=\s*(?:[.!?;,:]|\[|$))", re.MULTILINE),
]
_CANONICAL = re.compile(r"\[(\d{1,2})\]")
# Markers right after the sentence's end move before it, so the sentence splitter keeps
# them with their sentence: "Zin. [1]" -> "Zin [1]."
_AFTER_END = re.compile(r"([.!?…])((?:\s*\[\d{1,2}\])+)")
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)])\s+")
# The start of a sentence that has begun to arrive: a word of two letters, not a marker's label.
_BEGUN = re.compile(r"[^\W\d_]{2,}")
_MARKER_JUNK = re.compile(rf"^[\s\[(【]*{_LABEL}[\d\s,;–\-†\])】]*")
MAX_RANGE = 10  # "[1-40]" cites no more than this many


def strip_thinking(text: str) -> str:
    """`text` without ``<think>…</think>`` blocks (an unclosed one: everything after it)."""
    return _THINK.sub("", text)


def normalise_markers(text: str) -> str:
    """Every citation form a model writes as ``[n]`` markers, one per number."""
    for form in _MARKER_FORMS:
        text = form.sub(lambda m: "".join(f"[{n}]" for n in _numbers(m.group(1))), text)
    return text


def _numbers(spec: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|en|and)\s*", spec.strip()):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            low, high = int(bounds[0]), int(bounds[1])
            out += list(range(low, min(high, low + MAX_RANGE - 1) + 1))
        elif part.isdigit():
            out.append(int(part))
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Sentence:
    """One sentence of a generated reply: its text without markers, the passage numbers it
    cites (as the model wrote them), and whether it was a list item."""

    text: str
    cited: tuple[int, ...]
    bullet: bool = False


def clean(text: str) -> str:
    """A reply as far as it arrived, thinking removed and markers regular."""
    return normalise_markers(strip_thinking(text))


def units(text: str) -> list[str]:
    """The cleaned reply cut into sentences (list items each one), markers kept with
    the sentence they follow."""
    out: list[str] = []
    for line in _AFTER_END.sub(lambda m: m.group(2) + m.group(1), text).split("\n"):
        if line.strip():
            out += split_sentences(line)
    return _attach_loose_markers(out)


def _attach_loose_markers(pieces: list[str]) -> list[str]:
    """A piece that is only markers ("[2]" on a line of its own) belongs to the sentence before."""
    out: list[str] = []
    for piece in pieces:
        if out and not _CANONICAL.sub("", piece).strip(" .;,"):
            out[-1] = f"{out[-1]} {piece.strip()}"
        else:
            out.append(piece)
    return out


def parse(unit: str) -> Sentence:
    """A sentence's text and the numbers it cites."""
    cited = tuple(dict.fromkeys(int(n) for n in _CANONICAL.findall(unit)))
    bullet = bool(_BULLET.match(unit))
    text = _CANONICAL.sub("", _BULLET.sub("", unit))
    text = re.sub(r"\s+([.!?…,;:])", r"\1", re.sub(r"\s+", " ", text)).strip()
    return Sentence(text, cited, bullet)


class SentenceStream:
    """Sentences of a streamed reply as they complete: feed() the text as it arrives and
    take the sentences it finished; finish() gives the rest. A sentence counts as finished
    once the next one has begun, so markers written after its full stop stay with it."""

    def __init__(self) -> None:
        self.raw = ""
        self.given = 0

    def feed(self, delta: str) -> list[Sentence]:
        self.raw += delta
        pieces = units(clean(self.raw))
        done = len(pieces) - 1
        while done > self.given and not _BEGUN.search(_MARKER_JUNK.sub("", pieces[done])):
            done -= 1  # the last piece is only a marker so far: its sentence may not be complete
        return self._take(pieces, done)

    def finish(self) -> list[Sentence]:
        pieces = units(clean(self.raw))
        return self._take(pieces, len(pieces))

    def _take(self, pieces: list[str], upto: int) -> list[Sentence]:
        if upto <= self.given:
            return []
        out = [parse(p) for p in pieces[self.given : upto]]
        self.given = upto
        return [s for s in out if s.text]

    @property
    def text(self) -> str:
        """The reply as far as it arrived, cleaned."""
        return clean(self.raw)
