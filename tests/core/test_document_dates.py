"""Document dates: a citation's "versie van …" is the date the document states about itself
(Markdown front matter, PDF metadata, Word core properties, an HTML meta tag), shown in
Dutch; the file's modification time is used only when the document states none."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import docgen
import pytest
from helpers import CORPUS, FAQ, GUIDE, cli_env, livc_in_process

from assistant.core.chunking import Passage, chunk_sections
from assistant.core.documents import (
    display_date,
    file_date,
    load_corpus,
    load_document,
    load_markdown,
    parse_date,
    parse_markdown,
    split_front_matter,
)
from assistant.core.index import build_index, open_index
from assistant.core.types import Answer, Citation
from assistant.ops.commands import format_answer

CLONE_DAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a file's mtime: the day it was copied

FRONT = "---\ndate: 2021-07\n---\n"
DATED = FRONT + "# Nota over de cel\n\n## 1. Samenstelling\n\nDe burgemeester zit de cel voor.\n"


def touch(path: Path, when: datetime = CLONE_DAY) -> Path:
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


# ---------------------------------------------------------------- reading and showing a date


@pytest.mark.parametrize(
    "text, iso, shown",
    [
        ("2021-07", "2021-07", "juli 2021"),
        ("2021-07-01", "2021-07-01", "1 juli 2021"),
        ("2021-7-1", "2021-07-01", "1 juli 2021"),
        ("2024-03-15T10:00:00+01:00", "2024-03-15", "15 maart 2024"),
        ("15 juli 2021", "2021-07-15", "15 juli 2021"),
        ("Juli 2021", "2021-07", "juli 2021"),
        ("2021", "2021", "2021"),
    ],
)
def test_a_stated_date_is_kept_as_iso_and_shown_in_dutch(text, iso, shown):
    assert parse_date(text) == iso
    assert display_date(iso) == shown


@pytest.mark.parametrize("text", ["", "juli", "2021-13", "2021-02-30", "binnenkort", "Tue, 15 Nov 1994 08:12:31 GMT"])
def test_what_is_no_date_gives_nothing(text):
    assert parse_date(text) == ""


def test_display_passes_through_what_it_cannot_read():
    assert display_date("") == "" and display_date("onbekend") == "onbekend"


# ---------------------------------------------------------------- Markdown front matter


def test_front_matter_gives_its_fields_and_the_text_after_it():
    fields, rest = split_front_matter('---\ndate: "2021-07"\nTitel: Draaiboek\ntags:\n  - livc\n---\n# Kop\n')
    assert fields == {"date": "2021-07", "titel": "Draaiboek", "tags": ""}
    assert rest == "# Kop\n"
    assert split_front_matter("---\ndatum: juli 2021\n...\ntekst") == ({"datum": "juli 2021"}, "tekst")


@pytest.mark.parametrize(
    "text",
    [
        "# Kop\n---\ndate: 2021-07\n---\n",  # not at the top
        "---\n\nEen zin na een horizontale lijn.\n\n---\n# Kop\n",  # a thematic break and prose
        "---\ndate: 2021-07\n# Kop zonder afsluiting\n",  # never closed
    ],
)
def test_text_without_front_matter_comes_back_whole(text):
    assert split_front_matter(text) == ({}, text)


def test_a_front_matter_date_dates_the_document_and_is_in_no_section_or_passage(tmp_path):
    path = tmp_path / "nota.md"
    path.write_text(DATED, encoding="utf-8")
    touch(path)
    document = load_markdown(path)
    assert document.date == "2021-07"
    assert document.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()  # the hash is of the file as it is
    assert document.title == "Nota over de cel"
    assert "date:" not in document.text and not document.text.startswith("---")
    assert [s.heading for s in document.sections] == ["1. Samenstelling"]
    for piece in [
        *(s.text for s in document.sections),
        *(s.heading for s in document.sections),
        *(p.text for p in chunk_sections(list(document.sections))),
    ]:
        assert "2021-07" not in piece and "date" not in piece and "---" not in piece


def test_datum_is_read_too_and_parse_markdown_skips_front_matter_in_raw_text():
    raw = "---\ndatum: 1 juli 2021\n---\nInleiding zonder kop.\n\n# Titel\n\nTekst.\n"
    sections = parse_markdown("nota.md", raw)
    assert sections[0].text == "Inleiding zonder kop." and sections[0].start == raw.index("Inleiding")
    assert all("datum" not in s.text for s in sections)
    assert all(raw[s.start : s.end].strip() for s in sections)


def test_without_a_stated_date_the_file_time_is_used(tmp_path):
    plain = tmp_path / "plain.md"
    plain.write_text("# Nota\n\nTekst.\n", encoding="utf-8")
    undated = tmp_path / "undated.md"
    undated.write_text("---\nauteur: stad\ndate: binnenkort\n---\n# Nota\n\nTekst.\n", encoding="utf-8")
    for path in (touch(plain), touch(undated)):
        assert load_markdown(path).date == "2026-11-30" == file_date(path)
    assert "auteur" not in load_markdown(undated).text


def test_the_shipped_guide_and_qa_sheet_are_dated_july_2021():
    documents, _ = load_corpus(CORPUS)
    assert {d.name: d.date for d in documents} == {GUIDE: "2021-07", FAQ: "2021-07"}
    for d in documents:
        assert (CORPUS / d.name).read_text(encoding="utf-8").startswith(FRONT)
        assert d.title.startswith(("Draaiboek LIVC-R", "Vraag en antwoord"))
        assert not any("date: 2021-07" in s.text for s in d.sections)


# ---------------------------------------------------------------- PDF, Word, web pages


def pdf_with_dates(path: Path, **dates: str) -> Path:
    """A one-page PDF whose metadata carries the given dates (``ModDate``, ``CreationDate``
    as PDF date strings); any other date the generator wrote is removed."""
    from pypdf import PdfReader, PdfWriter

    docgen.simple_pdf(
        path,
        [[("1. Samenstelling", 14, True), ("De burgemeester zit de cel voor.", 10.5, False)]],
        title="Nota over de cel",
    )
    writer = PdfWriter(clone_from=PdfReader(path))
    writer.metadata = {"/Title": "Nota over de cel", **{f"/{key}": value for key, value in dates.items()}}
    with open(path, "wb") as out:
        writer.write(out)
    return touch(path)


def test_a_pdf_is_dated_by_its_metadata(tmp_path):
    modified = pdf_with_dates(tmp_path / "a.pdf", ModDate="D:20210715120000+02'00'", CreationDate="D:20210701090000Z")
    assert load_document(modified).date == "2021-07-15"  # the last modification is the version
    created = pdf_with_dates(tmp_path / "b.pdf", CreationDate="D:20210701090000Z")
    assert load_document(created).date == "2021-07-01"
    undated = pdf_with_dates(tmp_path / "c.pdf")
    assert load_document(undated).date == "2026-11-30"


def test_a_word_file_is_dated_by_its_core_properties(tmp_path):
    path = tmp_path / "reglement.docx"
    docgen.sample_docx(path)  # core properties: modified 15 March 2024
    assert load_document(touch(path)).date == "2024-03-15"


@pytest.mark.parametrize(
    "meta, date",
    [
        ('<meta name="dcterms.date" content="2021-07">', "2021-07"),
        ('<meta name="date" content="2021-07-01">', "2021-07-01"),
        ('<meta name="DC.date" content="niet gekend"><meta name="date" content="2021-07-02">', "2021-07-02"),
        ("", "2026-11-30"),
    ],
)
def test_a_web_page_is_dated_by_its_meta_tag(tmp_path, meta, date):
    path = tmp_path / "pagina.html"
    path.write_text(
        f"<html><head><title>Nota over de cel</title>{meta}</head><body><main><h1>Nota</h1>"
        "<p>De burgemeester zit de cel voor.</p></main></body></html>",
        encoding="utf-8",
    )
    assert load_document(touch(path)).date == date


# ---------------------------------------------------------------- where the date is shown


def passage(date: str) -> Passage:
    return Passage(
        id="p1",
        doc=GUIDE,
        title="Draaiboek LIVC-R",
        section="5.2 De burgemeester",
        section_path=["5. Samenstelling en rollen", "5.2 De burgemeester"],
        anchor="52-de-burgemeester",
        kind="guide",
        text="De burgemeester zit de cel voor.",
        sentences=["De burgemeester zit de cel voor."],
        doc_sha256="ab" * 32,
        doc_date=date,
    )


def test_livc_ask_shows_the_version_as_a_dutch_date():
    p = passage("2021-07")
    answer = Answer(
        question="Wie?",
        text="De burgemeester zit de cel voor. [1]",
        citations=[Citation(1, p, "De burgemeester zit de cel voor.")],
    )
    assert "    versie van juli 2021 (sha256 abababababab)" in format_answer(answer).splitlines()


def test_the_chat_source_tooltip_shows_the_version_as_a_dutch_date():
    from assistant.web.render import version_label

    assert version_label(passage("2021-07-01")) == "Draaiboek LIVC-R (versie van 1 juli 2021, sha256 abababababab)"


def test_the_index_records_the_stated_date_for_the_manifest_passages_and_livc_documents(small_corpus, embedder):
    small_corpus.guide.write_text(FRONT + small_corpus.guide.read_text(encoding="utf-8"), encoding="utf-8")
    touch(small_corpus.guide)
    build_index(small_corpus.settings, embedder, progress=False)
    store = open_index(small_corpus.settings)
    dates = {d["name"]: d["date"] for d in store.manifest.documents}
    assert dates["gids.md"] == "2021-07"
    assert dates["vragen.md"] == parse_date(dates["vragen.md"]) and len(dates["vragen.md"]) == 10  # its file's day
    guide = [p for p in store.passages if p.doc == "gids.md"]
    assert guide and all(p.doc_date == "2021-07" for p in guide)
    assert not any("date:" in p.text or "---" in p.text for p in store.passages)

    config = small_corpus.index_dir.parent / "empty-livc.toml"
    env = cli_env(
        LIVC_CORPUS_DIR=str(small_corpus.corpus_dir),
        LIVC_INDEX_DIR=str(small_corpus.index_dir),
        LIVC_CONFIG=str(config),
    )
    listed = livc_in_process("documents", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "passages; version 2021-07, sha256 " in listed.stdout
    as_json = livc_in_process("documents", "--json", env=env)
    assert {d["name"]: d["date"] for d in json.loads(as_json.stdout)["documents"]}["gids.md"] == "2021-07"
