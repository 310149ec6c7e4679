"""The benchmark's corpus: the user's documents copied (or sliced, for --quick) and, at
scale k, k - 1 synthetic variants of every text document (`variant_text`)."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from ...core.chunking import ABBREVIATIONS
from .config import BenchError

TEXT_SUFFIXES = (".md", ".html", ".htm")  # formats whose synthetic variants are written as text


def prepare_corpus(source: Path, dest: Path, scale: int, slice_words: int = 0) -> dict:
    """Copy the documents of `source` to `dest` (the first `slice_words` words of each
    Markdown document when given; other formats are then left out) and write `scale` - 1
    synthetic variants of each text document (PDF and Word files are copied once, not
    varied). Returns what the folder holds."""
    from ...core.documents import corpus_files

    files, _ = corpus_files(source)
    dest.mkdir(parents=True, exist_ok=True)
    originals, left_out, not_copied = [], [], []
    for path in files:
        text_like = path.suffix.lower() in TEXT_SUFFIXES
        if slice_words and path.suffix.lower() != ".md":
            left_out.append(path.name)
            continue
        if not text_like and scale > 1:
            not_copied.append(path.name)
        if slice_words:
            (dest / path.name).write_text(
                slice_markdown(path.read_text(encoding="utf-8"), slice_words), encoding="utf-8"
            )
        else:
            shutil.copyfile(path, dest / path.name)
        originals.append(path.name)
        if text_like:
            text = (dest / path.name).read_text(encoding="utf-8")
            for k in range(1, scale):
                (dest / f"{path.stem}--x{k:03d}{path.suffix}").write_text(variant_text(text, k), encoding="utf-8")
    if not originals:
        raise BenchError(f"no documents to benchmark in {source}")
    return {
        "source": str(source),
        "documents": originals,
        "copies_per_document": scale - 1,
        "sliced_to_words": slice_words or None,
        "left_out": left_out,
        "not_copied": not_copied,
    }


def slice_markdown(text: str, words: int) -> str:
    """The start of a Markdown document: its lines until `words` words are reached, then
    up to the next heading, so no section is cut in half."""
    kept, count = [], 0
    for line in text.splitlines():
        if count >= words and line.startswith("#"):
            break
        kept.append(line)
        count += len(line.split())
    return "\n".join(kept) + "\n"


_WORD = re.compile(r"\b[a-z]{5,}\b")
_DIGIT = re.compile(r"\d")
_VOWELS = str.maketrans("aeiou", "eioua")


def variant_text(text: str, k: int) -> str:
    """Copy `k` of a text: digits rotated by k, and the vowels of about a third of the plain
    lower-case words (5+ letters, not abbreviations) rotated. Word by word and independent
    of context, so the variant of a passage is the passage of the variant."""

    def word(m: re.Match) -> str:
        w = m.group(0)
        if w in ABBREVIATIONS or _stable(f"{k}\0{w}") % 3:
            return w
        return w.translate(_VOWELS)

    return _DIGIT.sub(lambda m: str((int(m.group(0)) + k) % 10), _WORD.sub(word, text))


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
