"""The manifest of a generation, the opened generation (`Store`) and opening it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..chunking import Passage
from ..errors import StoreError
from ..followup import Vocabulary
from ..lexical import LexicalIndex, Spelling, own_names, tokenize
from ..privacy import PublicNames
from ..settings import Settings
from .chroma import collection
from .vectors import ChromaVectors, MemoryVectors, passage_vectors, window_vectors

INDEX_FORMAT = 7  # 7: one stem for a verb in -eren (lexical.tokenize); 6: PDF, DOCX and HTML, pages


@dataclass
class Manifest:
    generation: str
    corpus_hash: str
    embedder: str
    dim: int
    chunk_words: int
    documents: list[dict]
    passages: int
    built_at: str
    versions: dict = field(default_factory=dict)
    format: int = INDEX_FORMAT
    ubiquitous_terms: list[str] = field(default_factory=list)  # see lexical.ubiquitous_terms
    skipped: list[dict] = field(default_factory=list)  # files that could not be read: name, sha256, reason
    previous: str | None = None  # the generation served before this one, kept until the next build


@dataclass
class Store:
    """An opened generation: everything retrieval and answering read."""

    manifest: Manifest
    passages: list[Passage]
    lexical: LexicalIndex
    window_vectors: np.ndarray  # one row per passage sentence: its window (see sentence_windows)
    sentence_rows: dict[str, tuple[int, int]]  # passage id -> [start, end) rows of window_vectors
    faq_vectors: np.ndarray  # one row per FAQ passage: its question, embedded as a query
    faq_ids: list[str]
    offtopic_vectors: np.ndarray  # reference passages the guide does not cover (see answer.py)
    passage_search: MemoryVectors | ChromaVectors  # nearest whole passages (ids: passage ids)
    window_search: MemoryVectors | ChromaVectors  # nearest sentence windows (ids: "<passage id>:<sentence>")
    by_id: dict[str, Passage] = field(default_factory=dict)
    # Made from the passages on first use, once per generation (see the properties below).
    _vocabulary: Vocabulary | None = field(default=None, init=False, repr=False, compare=False)
    _public_names: PublicNames | None = field(default=None, init=False, repr=False, compare=False)
    _stems: dict[str, frozenset[str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _own_names: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)
    _spelling: Spelling | None = field(default=None, init=False, repr=False, compare=False)
    _terms: dict[frozenset[str], Passage] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        self.by_id = {p.id: p for p in self.passages}

    @property
    def vocabulary(self) -> Vocabulary:
        """The words of the passages and their headings (follow-ups, the rarity of a question's words)."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.of_passages(self.passages, self.manifest.ubiquitous_terms)
        return self._vocabulary

    @property
    def public_names(self) -> PublicNames:
        """The names and ordinary words of the corpus, which the personal-data guard lets pass."""
        if self._public_names is None:
            texts = (f"{' › '.join(p.section_path)}\n{p.text}" for p in self.passages)
            self._public_names = PublicNames.from_texts(texts)
        return self._public_names

    @property
    def own_names(self) -> dict[str, str]:
        """The foreign abbreviations the corpus gives for its own, {foreign: own} ("CSIL-R": "LIVC-R")."""
        if self._own_names is None:
            self._own_names = own_names([p.text for p in self.passages])
        return self._own_names

    @property
    def spelling(self) -> Spelling:
        """The corpus's words, to read a mistyped word of a question as the corpus spells it."""
        if self._spelling is None:
            self._spelling = Spelling([f"{' '.join(p.section_path)} {p.text}" for p in self.passages])
        return self._spelling

    @property
    def defined_terms(self) -> dict[frozenset[str], Passage]:
        """The passage that opens the section defining each term (`Passage.terms`), by the
        term's stems: {"pge"}, {"potentieel", "gewelddad", "extremist"} -> the PGE entry."""
        if self._terms is None:
            terms: dict[frozenset[str], Passage] = {}
            for p in self.passages:
                for term in p.terms if self.previous_in_section(p) is None else ():
                    if stems := frozenset(tokenize(term)):
                        terms.setdefault(stems, p)
            self._terms = terms
        return self._terms

    def warm(self) -> None:
        """Make now what questions would otherwise make on first use: the vocabulary, the
        public names, the corpus's own names, the stems of every passage and sentence window."""
        _ = self.vocabulary, self.public_names, self.own_names, self.spelling, self.defined_terms
        for p in self.passages:
            self.stems_of(p.embed_text)
            for i in range(len(p.sentences)):
                self.stems_of(p.sentence_pair(i))

    def stems_of(self, text: str) -> frozenset[str]:
        """The stemmed content words of a text of this generation (a passage, a sentence
        window), made on first use and kept with it: never a question's text."""
        stems = self._stems.get(text)
        if stems is None:
            stems = self._stems[text] = frozenset(tokenize(text))
        return stems

    def previous_in_section(self, passage: Passage) -> Passage | None:
        """The passage before `passage` in its section, if any (None: it opens the section)."""
        earlier = self.passages[passage.order - 1] if passage.order > 0 else None
        if earlier and (earlier.doc, earlier.anchor) == (passage.doc, passage.anchor):
            return earlier
        return None

    def next_in_section(self, passage: Passage) -> Passage | None:
        """The passage that continues `passage`'s section, if any."""
        following = self.passages[passage.order + 1] if passage.order + 1 < len(self.passages) else None
        if following and (following.doc, following.anchor) == (passage.doc, passage.anchor):
            return following
        return None


def manifest_stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """What changes when a build switches generations (the manifest is replaced, never
    edited in place): a cheap check for readers."""
    try:
        st = (index_dir / "manifest.json").stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def read_manifest(index_dir: Path) -> Manifest | None:
    path = index_dir / "manifest.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None


def open_index(settings: Settings) -> Store:
    """Open the current generation; raises StoreError when there is none or it is damaged."""
    index_dir = settings.index_dir
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise StoreError(f"no index in {index_dir}: run 'livc index' first")
    if manifest.format != INDEX_FORMAT:
        raise StoreError(f"the index in {index_dir} has an old format: run 'livc index' to rebuild it")
    folder = index_dir / f"gen-{manifest.generation}"
    try:
        passages = [Passage(**d) for d in json.loads((folder / "passages.json").read_text(encoding="utf-8"))]
        with np.load(folder / "vectors.npz") as vectors:
            arrays = {name: vectors[name] for name in ("windows", "faq", "faq_ids", "offtopic")}
        generation, windows = manifest.generation, arrays["windows"]
        return Store(
            manifest=manifest,
            passages=passages,
            lexical=LexicalIndex.load(folder / "bm25"),
            window_vectors=arrays["windows"],
            sentence_rows=_sentence_rows(passages),
            faq_vectors=arrays["faq"],
            faq_ids=[str(i) for i in arrays["faq_ids"]],
            offtopic_vectors=arrays["offtopic"],
            passage_search=passage_vectors(settings, collection(settings, f"passages_{generation}"), passages),
            window_search=window_vectors(settings, collection(settings, f"windows_{generation}"), passages, windows),
        )
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - any damage to the files means the same thing to the user
        raise StoreError(
            f"the index in {index_dir} is damaged ({type(exc).__name__}): run 'livc index --force'"
        ) from None


def _sentence_rows(passages: list[Passage]) -> dict[str, tuple[int, int]]:
    rows, start = {}, 0
    for p in passages:
        rows[p.id] = (start, start + len(p.sentences))
        start += len(p.sentences)
    return rows
