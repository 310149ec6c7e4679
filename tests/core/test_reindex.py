"""Re-indexing: only changed documents are read again, nothing stale survives, and a build
that runs, fails or is killed never disturbs the index that is being served.

Real parts throughout: the small corpus of conftest (its embedding cache pre-filled) plus
generated PDF, Word and HTML files, real Chroma, real `livc index` subprocesses, killed
with SIGKILL where the test says so.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import docgen
import pytest
from helpers import PYTHON, ROOT, HashEmbedding, cli_env, require_marker, settings_for, write_small_corpus

from assistant.core import embeddings
from assistant.core.assistant import Assistant
from assistant.core.index import (
    build_index,
    chroma_client,
    collection_names,
    forget_embedded_clients,
    open_index,
    read_manifest,
)
from assistant.ops.cli import main as livc_main

OLD = "De burgemeester nodigt ook de partners uit."
NEW = "De burgemeester kan zich laten vertegenwoordigen door een schepen."


def livc_env(small_corpus) -> dict[str, str]:
    """The environment of a `livc` process on the small corpus, with an empty settings file."""
    require_marker("server", "a livc process")
    return cli_env(
        LIVC_CORPUS_DIR=str(small_corpus.corpus_dir),
        LIVC_INDEX_DIR=str(small_corpus.index_dir),
        LIVC_CONFIG=str(small_corpus.index_dir.parent / "empty-livc.toml"),
    )


def livc_process(*args: str, small_corpus, **popen) -> subprocess.Popen:
    """`livc <args>` on the small corpus, as a user runs it (`popen`: more Popen options)."""
    return subprocess.Popen(
        [PYTHON, "-m", "assistant.ops.cli", *args],
        cwd=ROOT,
        env=livc_env(small_corpus),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def served_texts(small_corpus) -> dict[str, list[str]]:
    """Per document, the passage texts of the served generation (passages.json, BM25 ids and
    both Chroma collections must agree)."""
    store = open_index(small_corpus.settings)
    gen = store.manifest.generation
    client = chroma_client(small_corpus.settings)
    chroma_ids = set(client.get_collection(f"passages_{gen}").get()["ids"])
    assert chroma_ids == {p.id for p in store.passages}
    assert len(store.passages) == len({p.id for p in store.passages}) == store.manifest.passages
    by_doc: dict[str, list[str]] = {}
    for p in store.passages:
        by_doc.setdefault(p.doc, []).append(p.text)
    return by_doc


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def add_official_formats(folder: Path) -> None:
    docgen.simple_pdf(
        folder / "nota.pdf",
        [
            [
                ("Nota over de cel", 18, True),
                ("1. Vergaderingen", 13, True),
                ("De cel vergadert op de eerste maandag van de maand.", 10.5, False),
            ],
            [("2. Verslagen", 13, True), ("Het verslag gaat binnen de week naar alle leden.", 10.5, False)],
        ],
        title="Nota over de cel",
    )
    docgen.sample_docx(folder / "Huishoudelijk reglement é.docx")
    docgen.sample_html(folder / "intranet.html")


@pytest.fixture(scope="module")
def mixed_cache(tmp_path_factory, small_cache, embedder) -> Path:
    """An embedding cache that knows every text of the mixed corpus (one real build)."""
    base = tmp_path_factory.mktemp("mixed-cache")
    write_small_corpus(base / "corpus")
    add_official_formats(base / "corpus")
    (base / "index").mkdir()
    shutil.copyfile(small_cache[0], base / "index" / "embed-cache.sqlite")
    build_index(settings_for(base / "corpus", base / "index"), embedder, progress=False)
    return base / "index" / "embed-cache.sqlite"


@pytest.fixture
def mixed_corpus(small_corpus, mixed_cache):
    """The small corpus plus a PDF, a Word file and an intranet page (their texts in the cache)."""
    add_official_formats(small_corpus.corpus_dir)
    shutil.copyfile(mixed_cache, small_corpus.index_dir / "embed-cache.sqlite")
    return small_corpus


# ---------------------------------------------------------------- only what changed, nothing stale


def test_editing_renaming_deleting_and_replacing_documents_leaves_no_stale_passages(mixed_corpus, embedder):
    settings = mixed_corpus.settings
    first = build_index(settings, embedder, progress=False)
    names = {"gids.md", "vragen.md", "nota.pdf", "Huishoudelijk reglement é.docx", "intranet.html"}
    assert set(first.parsed) == names and first.kept == []
    assert {d["name"] for d in first.manifest.documents} == names
    pdf = next(d for d in first.manifest.documents if d["name"] == "nota.pdf")
    assert (pdf["title"], pdf["format"], pdf["pages"]) == ("Nota over de cel", "pdf", 2)

    # Edit one file: only it is read again, its old sentence is gone everywhere.
    edit(mixed_corpus.guide, OLD, NEW)
    edited = build_index(settings, embedder, progress=False)
    assert edited.parsed == ["gids.md"] and set(edited.kept) == names - {"gids.md"}
    texts = served_texts(mixed_corpus)
    assert not any(OLD in t for t in texts["gids.md"]) and any(NEW in t for t in texts["gids.md"])

    # Rename: the passages move to the new name, nothing is embedded, none stay behind.
    (mixed_corpus.corpus_dir / "vragen.md").rename(mixed_corpus.corpus_dir / "veelgestelde vragen.md")
    renamed = build_index(settings, embedder, progress=False)
    assert renamed.parsed == ["veelgestelde vragen.md"] and renamed.removed == ["vragen.md"]
    assert renamed.embedded == 0
    texts = served_texts(mixed_corpus)
    assert "vragen.md" not in texts and len(texts["veelgestelde vragen.md"]) == 2

    # Delete: its passages leave the served index.
    (mixed_corpus.corpus_dir / "Huishoudelijk reglement é.docx").unlink()
    deleted = build_index(settings, embedder, progress=False)
    assert deleted.parsed == [] and deleted.removed == ["Huishoudelijk reglement é.docx"]
    texts = served_texts(mixed_corpus)
    assert "Huishoudelijk reglement é.docx" not in texts
    assert not any("Jan Claes" in t for doc in texts.values() for t in doc)

    # Replace a file with another version under the same name.
    docgen.simple_pdf(
        mixed_corpus.corpus_dir / "nota.pdf",
        [
            [
                ("Nota over de cel", 18, True),
                ("1. Vergaderingen", 13, True),
                ("De cel vergadert voortaan op de derde dinsdag van de maand.", 10.5, False),
            ]
        ],
        title="Nota over de cel",
    )
    replaced = build_index(settings, embedder, progress=False)
    assert replaced.parsed == ["nota.pdf"]
    texts = served_texts(mixed_corpus)
    assert texts["nota.pdf"] == ["De cel vergadert voortaan op de derde dinsdag van de maand."]
    entry = next(d for d in replaced.manifest.documents if d["name"] == "nota.pdf")
    assert entry["pages"] == 1 and entry["sha256"] != pdf["sha256"]
    # Old generations are cleaned up: only the served one and the one before it remain.
    gens = {p.name.removeprefix("gen-") for p in mixed_corpus.index_dir.glob("gen-*")}
    assert gens == {replaced.manifest.generation, deleted.manifest.generation}
    assert {n.split("_", 1)[1] for n in collection_names(chroma_client(mixed_corpus.settings))} == gens


def test_passages_carry_their_page_and_document_version(mixed_corpus, embedder):
    build_index(mixed_corpus.settings, embedder, progress=False)
    store = open_index(mixed_corpus.settings)
    [second] = [p for p in store.passages if p.doc == "nota.pdf" and p.section == "2. Verslagen"]
    assert (second.page, second.page_end) == (2, 2)
    entry = next(d for d in store.manifest.documents if d["name"] == "nota.pdf")
    assert second.doc_sha256 == entry["sha256"] and second.doc_date == entry["date"]
    assert all(p.page is None for p in store.passages if p.doc.endswith((".md", ".docx", ".html")))


def test_a_forced_build_reads_every_document_again_but_embeds_nothing(small_corpus, embedder):
    build_index(small_corpus.settings, embedder, progress=False)
    forced = build_index(small_corpus.settings, embedder, progress=False, force=True)
    assert forced.changed and sorted(forced.parsed) == ["gids.md", "vragen.md"] and forced.embedded == 0


def test_two_builds_at_once_run_one_after_the_other(small_corpus, embedder):
    build_index(small_corpus.settings, embedder, progress=False)
    edit(small_corpus.guide, OLD, NEW)
    reports = []
    threads = [
        threading.Thread(target=lambda: reports.append(build_index(small_corpus.settings, embedder, progress=False)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.changed for r in reports) == [False, True]
    assert len({r.manifest.generation for r in reports}) == 1


# ---------------------------------------------------------------- serving while building


def test_a_reader_of_the_previous_generation_keeps_answering_after_a_build(small_corpus, embedder):
    reader = Assistant.open(small_corpus.settings, embedder=embedder, build=True)
    old_engine = reader.search_engine
    edit(small_corpus.guide, OLD, NEW)
    build_index(small_corpus.settings, embedder, progress=False)  # another build, as by another process

    # The generation it holds still answers (its Chroma collections were kept) ...
    assert OLD in old_engine.retrieve("Wie nodigt de partners uit?").hits[0].passage.text
    # ... and its next question is answered from the new one.
    answer = reader.ask("Door wie kan de burgemeester zich laten vertegenwoordigen?")
    assert reader.store.manifest.generation == read_manifest(small_corpus.index_dir).generation
    assert any(NEW in c.passage.text for c in answer.citations)


@pytest.mark.server  # a real livc process beside this one
def test_a_running_assistant_serves_what_another_process_indexed(small_corpus, embedder):
    app = Assistant.open(small_corpus.settings, embedder=embedder, build=True)
    before = app.store.manifest.generation
    edit(small_corpus.guide, OLD, NEW)
    result = livc_process("index", "--quiet", small_corpus=small_corpus)
    out, err = result.communicate(timeout=300)
    assert result.returncode == 0, err
    assert "Index built" in out

    answer = app.ask("Door wie kan de burgemeester zich laten vertegenwoordigen?")
    assert app.store.manifest.generation != before
    assert any(NEW in c.passage.text for c in answer.citations)
    assert not app.reload_if_changed()  # nothing new since


def test_a_watching_assistant_loads_and_warms_a_new_generation_before_any_question(small_corpus, embedder):
    app = Assistant.open(small_corpus.settings, embedder=embedder, build=True)
    before = app.store.manifest.generation
    stop = app.watch_index(interval=0.1)
    try:
        edit(small_corpus.guide, OLD, NEW)
        build_index(small_corpus.settings, embedder, progress=False)  # as by `livc index` in another process
        deadline = time.monotonic() + 60
        while app.store.manifest.generation == before:  # switched with no question asked
            assert time.monotonic() < deadline, "the watcher did not pick up the new generation"
            time.sleep(0.05)
        engine = app.search_engine
        assert len(engine.query_vectors) > 0  # warmed: it has searched once already
    finally:
        stop.set()
    answer = app.ask("Door wie kan de burgemeester zich laten vertegenwoordigen?")
    assert app.search_engine is engine and any(NEW in c.passage.text for c in answer.citations)


NEW_DOC = "\n\n".join(
    f"## {n}. Onderwerp {n}\n\nDe cel bespreekt in vergadering {n} het dossier over thema {n * 7} met partner {n * 3}. "
    f"Elke partner brengt voor thema {n * 7} een kort verslag mee en de coördinator noteert de afspraken van ronde {n}."
    for n in range(1, 16)
)


def cached_vectors(index_dir: Path) -> int:
    with sqlite3.connect(index_dir / "embed-cache.sqlite", timeout=30) as db:
        return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]


def wait_for(condition, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the indexer ended before the kill point: {process.communicate()}"
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.005)


KILL_POINTS = {
    # while embedding: the cache has grown, nothing of the new generation is written yet
    "embedding": lambda index_dir, before: cached_vectors(index_dir) > before,
    # while writing the new generation's files and its passage collection
    "writing": lambda index_dir, before: any(index_dir.glob("gen-*.building")),
}


@pytest.mark.server  # a real livc process beside this one
@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_killing_the_indexer_mid_build_leaves_the_old_index_serving(small_corpus, embedder, point):
    first = build_index(small_corpus.settings, embedder, progress=False)
    served = Assistant.open(small_corpus.settings, embedder=embedder)
    (small_corpus.corpus_dir / "rondes.md").write_text(f"# Rondes\n\n{NEW_DOC}\n", encoding="utf-8")
    before = cached_vectors(small_corpus.index_dir)

    indexer = livc_process("index", "--quiet", small_corpus=small_corpus)
    wait_for(lambda: KILL_POINTS[point](small_corpus.index_dir, before), indexer)
    indexer.send_signal(signal.SIGKILL)
    indexer.wait(timeout=30)
    assert indexer.returncode == -signal.SIGKILL

    # The old index is intact and usable, in this process and in a fresh one.
    assert read_manifest(small_corpus.index_dir) == first.manifest
    assert not served.reload_if_changed()
    answer = served.ask("Wie nodigt de partners uit?")
    assert any(OLD in c.passage.text for c in answer.citations)
    fresh = Assistant.open(small_corpus.settings, embedder=embedder)
    assert {p.doc for p in fresh.store.passages} == {"gids.md", "vragen.md"}

    # The next build completes, keeps the vectors embedded before the kill, and clears the debris.
    report = build_index(small_corpus.settings, embedder, progress=False)
    assert report.changed and report.parsed == ["rondes.md"]
    assert report.reused > first.reused if point == "embedding" else True
    gens = {p.name.removeprefix("gen-") for p in small_corpus.index_dir.glob("gen-*")}
    assert gens == {report.manifest.generation, first.manifest.generation}  # no '.building' leftovers
    assert {n.split("_", 1)[1] for n in collection_names(chroma_client(small_corpus.settings))} == gens
    assert "rondes.md" in {p.doc for p in open_index(small_corpus.settings).passages}


@pytest.mark.server  # a real livc process beside this one
def test_index_watch_picks_up_a_change_while_the_app_serves(small_corpus, embedder):
    app = Assistant.open(small_corpus.settings, embedder=embedder, build=True)
    first = app.store.manifest.generation
    watcher = livc_process("index", "--watch", "--interval", "0.3", "--quiet", small_corpus=small_corpus)
    try:
        time.sleep(1.0)
        edit(small_corpus.guide, OLD, NEW)
        wait_for(lambda: read_manifest(small_corpus.index_dir).generation != first, watcher, timeout=120)
        answer = app.ask("Door wie kan de burgemeester zich laten vertegenwoordigen?")
        assert any(NEW in c.passage.text for c in answer.citations)
    finally:
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert out.startswith("Watching ") and "Index built" in out and "Stopped watching." in out


@pytest.mark.server  # a real livc process beside this one
def test_index_watch_stops_on_sigint_after_a_rebuild_even_when_started_with_sigint_ignored(small_corpus, embedder):
    """A CI runner or a script's background job starts programs with SIGINT ignored; the
    watcher still stops on Ctrl+C (SIGINT) after it has rebuilt, within seconds."""
    build_index(small_corpus.settings, embedder, progress=False)
    first = read_manifest(small_corpus.index_dir).generation
    watcher = livc_process(
        "index",
        "--watch",
        "--interval",
        "0.3",
        "--quiet",
        small_corpus=small_corpus,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        edit(small_corpus.guide, OLD, NEW)
        wait_for(lambda: read_manifest(small_corpus.index_dir).generation != first, watcher, timeout=120)
        time.sleep(0.5)
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=20)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert watcher.returncode == 0, err
    assert "Index built" in out and out.rstrip().endswith("Stopped watching.")


# ---------------------------------------------------------------- what the operator sees


def livc_args(command: str, corpus) -> list[str]:
    """`livc <command>` on `corpus` with an empty settings file, as livc's own arguments."""
    config = corpus.index_dir.parent / "empty-livc.toml"
    return [command, "--corpus", str(corpus.corpus_dir), "--index", str(corpus.index_dir), "--config", str(config)]


def test_livc_documents_lists_titles_versions_and_what_changed(mixed_corpus, embedder, capsys):
    build_index(mixed_corpus.settings, embedder, progress=False)
    args = livc_args("documents", mixed_corpus)
    assert livc_main(args) == 0
    out = capsys.readouterr().out
    assert "5 documents" in out
    assert "- nota.pdf\n    Nota over de cel\n    pdf, 2 pages, 2 passages; version " in out
    assert "Huishoudelijk reglement LIVC-R Sint-Niklaas" in out and "version 2024-03-15" in out

    edit(mixed_corpus.guide, OLD, NEW)
    (mixed_corpus.corpus_dir / "intranet.html").unlink()
    (mixed_corpus.corpus_dir / "nieuw.md").write_text("# Nieuw\n\nNog niet geïndexeerd.\n", encoding="utf-8")
    (mixed_corpus.corpus_dir / "oud.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    assert livc_main(args + ["--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    states = {d["name"]: d["state"] for d in status["documents"] + status["not_indexed"]}
    assert states["gids.md"] == "changed" and states["intranet.html"] == "removed"
    assert states["nieuw.md"] == "new" and states["vragen.md"] == "indexed"
    assert next(d for d in status["not_indexed"] if d["name"] == "oud.doc")["reason"].startswith("unsupported")
    entry = next(d for d in status["documents"] if d["name"] == "nota.pdf")
    assert len(entry["sha256"]) == 64 and entry["date"] and entry["title"] == "Nota over de cel"


def test_livc_index_shows_progress_and_a_summary_with_skipped_files(mixed_corpus, capsys):
    docgen.scanned_pdf(mixed_corpus.corpus_dir / "scan.pdf")
    (mixed_corpus.corpus_dir / "oud.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (mixed_corpus.corpus_dir / "extra.md").write_text("# Extra\n\nDe cel kiest een secretaris.\n", encoding="utf-8")
    args = livc_args("index", mixed_corpus)
    assert livc_main(args) == 0
    captured = capsys.readouterr()
    bars = captured.err
    assert "Documenten" in bars and "nota.pdf" in bars and "Passages" in bars  # per document, overall, embeddings
    lines = captured.out.splitlines()
    assert lines[0].startswith("Index built in ") and "6 documents (2 pages)" in lines[0] and "passages" in lines[0]
    assert "read 6 new or changed document(s) (2 pages)" in lines[1] and "1 texts embedded" in lines[1]
    assert "skipped oud.doc: unsupported file type .doc" in captured.out
    assert "skipped scan.pdf: no text layer" in captured.out and "OCR" in captured.out


# ---------------------------------------------------------------- damaged parts


def livc_run(small_corpus, capsys, *args: str) -> subprocess.CompletedProcess:
    """`livc <args>` on the small corpus, in this process (seconds faster than a new one),
    meeting the index as a new process does: Chroma's per-folder clients forgotten first."""
    forget_embedded_clients()
    code = livc_main([args[0], *livc_args("", small_corpus)[1:], *args[1:]])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(["livc", *args], code, captured.out, captured.err)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip() and "%|" not in line]
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("livc: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_damaged_vector_store_is_named_and_index_force_rebuilds_it(small_corpus, embedder, capsys):
    import os

    build_index(small_corpus.settings, embedder, progress=False)
    store_file = small_corpus.index_dir / "chroma" / "chroma.sqlite3"
    with open(store_file, "r+b") as handle:  # bytes written over the start of the file
        handle.write(os.urandom(4096))
    for args in (["ask", "Wie zit de cel voor?"], ["index", "--quiet"]):
        line = one_error_line(livc_run(small_corpus, capsys, *args))
        assert f"{store_file} is damaged" in line and "livc index --force" in line, line
    rebuilt = livc_run(small_corpus, capsys, "index", "--force", "--quiet")
    assert rebuilt.returncode == 0 and "Index built" in rebuilt.stdout, rebuilt.stderr
    assert "beschadigd" in rebuilt.stderr  # it says what it did
    assert not list(small_corpus.index_dir.glob("chroma.damaged-*"))  # set aside, removed once switched
    answered = livc_run(small_corpus, capsys, "ask", "Wie zit de cel voor?")
    assert answered.returncode == 0 and "burgemeester" in answered.stdout, answered.stderr


def test_a_damaged_embedding_cache_is_named_safe_to_delete_and_index_force_replaces_it(
    small_corpus, embedder, capsys, monkeypatch
):
    build_index(small_corpus.settings, embedder, progress=False)
    # The forced build embeds everything again: the mechanics are tested, so with the fake model.
    monkeypatch.setattr(embeddings, "make_embedder", lambda settings: HashEmbedding())
    cache = small_corpus.index_dir / "embed-cache.sqlite"
    cache.write_bytes(b"\x00garbage, not SQLite" * 200)
    edit(small_corpus.guide, OLD, NEW)  # the next build must embed, so it opens the cache
    line = one_error_line(livc_run(small_corpus, capsys, "index", "--quiet"))
    assert f"the embedding cache {cache} is damaged" in line and "safe to delete" in line, line
    rebuilt = livc_run(small_corpus, capsys, "index", "--force", "--quiet")
    assert rebuilt.returncode == 0 and "Index built" in rebuilt.stdout, rebuilt.stderr
    assert NEW in json.dumps([p.text for p in open_index(small_corpus.settings).passages], ensure_ascii=False)
    with sqlite3.connect(cache) as db:  # a working cache again, holding what was embedded
        assert db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] > 0


def read_only(folder: Path, *command: str) -> list[str]:
    """`command` run in a private mount namespace where `folder` is mounted read-only
    (nothing changes outside that process)."""
    quoted = " ".join(f"'{part}'" for part in command)
    return [
        "unshare",
        "-rm",
        "sh",
        "-c",
        f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}' && exec {quoted}",
    ]


@pytest.mark.server  # a real livc process beside this one
def test_a_read_only_index_folder_is_named_with_what_to_do(small_corpus, embedder):
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"]).returncode != 0:
        pytest.fail("this test needs unshare (util-linux) with user and mount namespaces")
    build_index(small_corpus.settings, embedder, progress=False)
    edit(small_corpus.guide, OLD, NEW)
    env = livc_env(small_corpus)
    for args, words in (
        (["index", "--quiet"], f"cannot write to the index folder {small_corpus.index_dir}"),
        (["ask", "Wie zit de cel voor?"], "needs write access to that folder"),
    ):
        result = subprocess.run(
            read_only(small_corpus.index_dir, PYTHON, "-m", "assistant.ops.cli", *args),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        line = one_error_line(result)
        assert words in line and "build.lock" not in line, line
